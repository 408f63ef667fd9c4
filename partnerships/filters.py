import datetime

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.filters import (
    RecordFilterSet,
    RecordNameFilter,
    country_choices,
    date_input,
    year_input,
)
from organisations.models import Organisation
from places.models import Place

from .models import Participant, Partnership, Theme


class PartnershipFilter(RecordFilterSet):
    """Partnerships by what they are and by who takes part.

    The search box also matches the names of the participants (see
    ``PartnershipQuerySet.matching``), so 'Wutshi' finds every tie of Wuxi.
    """

    kind = django_filters.ChoiceFilter(
        label=_("Kind"), choices=Partnership.Kind.choices, empty_label=_("Any kind")
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Partnership.Status.choices, empty_label=_("Any status")
    )
    theme = django_filters.ModelChoiceFilter(
        label=_("Theme"),
        field_name="themes",
        queryset=Theme.objects.all(),
        to_field_name="slug",
        empty_label=_("Any theme"),
    )
    country = django_filters.ChoiceFilter(
        label=_("Country of a participant"),
        choices=country_choices(
            Participant.objects.all(), "place__country", "organisation__country"
        ),
        method="filter_country",
        empty_label=_("Any country"),
    )
    place = RecordNameFilter(
        label=_("Place taking part"),
        help_text=_("Any name of the place; includes the places and organisations in it."),
        queryset=Place.objects.all(),
        method="filter_place",
    )
    organisation = RecordNameFilter(
        label=_("Organisation taking part"),
        help_text=_("Any name or abbreviation of the organisation."),
        queryset=Organisation.objects.all(),
        method="filter_organisation",
    )
    start_from = django_filters.NumberFilter(
        label=_("Started in or after"),
        method="filter_start_from",
        min_value=1000,
        max_value=2200,
        widget=year_input(),
    )
    start_to = django_filters.NumberFilter(
        label=_("Started in or before"),
        method="filter_start_to",
        min_value=1000,
        max_value=2200,
        widget=year_input(),
    )
    reviewed_since = django_filters.DateFilter(
        label=_("Reviewed since"),
        field_name="last_reviewed_on",
        lookup_expr="gte",
        widget=date_input(),
    )
    sort = django_filters.OrderingFilter(
        label=_("Sort by"),
        fields={
            "title": "title",
            "start_on": "start",
            "updated_at": "updated",
            "last_reviewed_on": "reviewed",
        },
        choices=[
            ("title", _("Title, A to Z")),
            ("-title", _("Title, Z to A")),
            ("start", _("Oldest first")),
            ("-start", _("Newest first")),
            ("-updated", _("Recently updated first")),
            ("-reviewed", _("Recently reviewed first")),
        ],
        empty_label=None,
    )

    class Meta:
        model = Partnership
        fields = ["q", "kind", "status", "theme", "country", "place", "organisation"]

    def filter_country(self, queryset, name, value: str):
        return queryset.filter(
            pk__in=Participant.objects.filter(
                Q(place__country=value) | Q(organisation__country=value)
            ).values("partnership_id")
        )

    def filter_place(self, queryset, name, value: str):
        places = self.filters["place"].matching(value).values_list("pk", flat=True)
        return queryset.for_places(Place.subtree_ids(places))

    def filter_organisation(self, queryset, name, value: str):
        return queryset.for_organisations(self.filters["organisation"].matching(value))

    # A vague start counts by the first year it may mean: '1980s' starts in 1980.
    def filter_start_from(self, queryset, name, value):
        return queryset.filter(start_on__gte=datetime.date(int(value), 1, 1))

    def filter_start_to(self, queryset, name, value):
        return queryset.filter(start_on__lte=datetime.date(int(value), 12, 31))
