from django.db.models import F
from django.utils.translation import gettext_lazy as _

from core.filters import (
    AnyOfFilter,
    CountriesFilter,
    OrderingFilter,
    RecordFilterSet,
    RecordNameFilter,
    all_countries,
    count_by,
)

from .models import Place


class PlaceOrdering(OrderingFilter):
    """Sorting by population or area reads each place's current figures
    (``with_current_figures``), annotated then unless the list has them already: four
    subqueries a place, which the API's list, showing none, paid for on every page.
    Places without the figure come last either way, on PostgreSQL as on SQLite."""

    FIGURES = {"population", "area"}

    def filter(self, qs, value):
        sorted_by = {term.lstrip("-") for term in value or ()}
        if sorted_by & self.FIGURES and "current_population" not in qs.query.annotations:
            qs = qs.with_current_figures()
        return super().filter(qs, value)

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        if param.lstrip("-") not in self.FIGURES:
            return value
        figure = F(value.lstrip("-"))
        return (
            figure.desc(nulls_last=True) if value.startswith("-") else figure.asc(nulls_last=True)
        )


class PlaceFilter(RecordFilterSet):
    kind = AnyOfFilter(label=_("Kind"), choices=Place.Kind.choices, distinct=False)
    country = CountriesFilter(label=_("Country"), choices=all_countries, distinct=False)
    parent = RecordNameFilter(
        label=_("Part of"),
        help_text=_("Any name of the place it lies in directly."),
        queryset=Place.objects.all(),
        method="filter_parent",
    )
    sort = PlaceOrdering(
        label=_("Sort by"),
        fields={
            "name": "name",
            "current_population": "population",
            "current_area": "area",
            "updated_at": "updated",
            "last_reviewed_on": "reviewed",
        },
        choices=[
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("-population", _("Population, largest first")),
            ("-area", _("Area, largest first")),
            ("-updated", _("Recently updated first")),
            ("-reviewed", _("Recently reviewed first")),
        ],
        empty_label=None,
    )

    facets = {"kind": count_by("kind"), "country": count_by("country")}
    count_facet = "kind"

    class Meta:
        model = Place
        fields = ["q", "kind", "country", "parent"]

    def counted_from(self):
        # Places alone, searched and narrowed by their names and where they lie: a write
        # to a partnership leaves the facets (and the count of the list) as they were.
        return ("places",)

    def filter_parent(self, queryset, name, value: str):
        return queryset.filter(parent__in=self.filters["parent"].matching(value))
