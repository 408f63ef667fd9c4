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
from places.models import Place

from .models import Organisation


class OrganisationFilter(RecordFilterSet):
    kind = AnyOfFilter(label=_("Kind"), choices=Organisation.Kind.choices, distinct=False)
    country = CountriesFilter(label=_("Country"), choices=all_countries, distinct=False)
    place = RecordNameFilter(
        label=_("Based in"),
        help_text=_("Any name of the place; includes the places inside it."),
        queryset=Place.objects.all(),
        method="filter_place",
    )
    parent = RecordNameFilter(
        label=_("Part of"),
        help_text=_("Any name or abbreviation of the organisation it belongs to."),
        queryset=Organisation.objects.all(),
        method="filter_parent",
    )
    sort = OrderingFilter(
        label=_("Sort by"),
        fields={"name": "name", "updated_at": "updated", "last_reviewed_on": "reviewed"},
        choices=[
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("-updated", _("Recently updated first")),
            ("-reviewed", _("Recently reviewed first")),
        ],
        empty_label=None,
    )

    facets = {"kind": count_by("kind"), "country": count_by("country")}
    count_facet = "kind"

    class Meta:
        model = Organisation
        fields = ["q", "kind", "country", "place", "parent"]

    def counted_from(self):
        # Organisations, narrowed by the names of places and where those lie: a write to a
        # partnership leaves the facets (and the count of the list) as they were.
        return ("places", "organisations")

    def filter_place(self, queryset, name, value: str):
        places = self.filters["place"].matching(value).values_list("pk", flat=True)
        return queryset.in_places(places)

    def filter_parent(self, queryset, name, value: str):
        return queryset.filter(parent__in=self.filters["parent"].matching(value))
