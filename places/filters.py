import django_filters
from django.utils.translation import gettext_lazy as _

from core.filters import (
    OrderingFilter,
    RecordFilterSet,
    RecordNameFilter,
    all_countries,
    count_by,
)

from .models import Place


class PlaceFilter(RecordFilterSet):
    kind = django_filters.MultipleChoiceFilter(
        label=_("Kind"), choices=Place.Kind.choices, distinct=False
    )
    country = django_filters.MultipleChoiceFilter(
        label=_("Country"), choices=all_countries, distinct=False
    )
    parent = RecordNameFilter(
        label=_("Part of"),
        help_text=_("Any name of the place it lies in directly."),
        queryset=Place.objects.all(),
        method="filter_parent",
    )
    sort = OrderingFilter(
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

    def filter_parent(self, queryset, name, value: str):
        return queryset.filter(parent__in=self.filters["parent"].matching(value))
