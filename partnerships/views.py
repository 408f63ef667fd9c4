from django.db.models import Prefetch
from django.utils.translation import gettext_lazy as _

from core.detail import RecordDetailView
from core.translation import translated_columns
from core.views import CSVExportMixin, RecordListView

from .filters import PartnershipFilter
from .models import Event, Participant, Partnership, Theme
from .resources import PartnershipResource

# What a partnership's card reads of its participants' places and organisations and of
# its themes. Read in full, with their descriptions in every language, the parties and
# themes of a page of twenty cards took 9 ms to load at 100,000 partnerships; 6 ms so.
CARD_FIELDS = ["slug", "kind", "country", "publication", *translated_columns("name")]


# Cards read their participants and themes as plain lists (``to_attr``): a prefetch into
# the related managers built a filtered queryset per partnership for each, to hold what was
# read, and the card another manager for each: 2 ms of a page of twenty cards.


def participants_with_parties():
    """The participants a card lists (``participants_shown``), with the place or
    organisation each is."""
    return Prefetch(
        "participants",
        queryset=Participant.objects.select_related("place", "organisation").only(
            "partnership_id",
            "place_id",
            "organisation_id",
            *(f"place__{name}" for name in CARD_FIELDS),
            *(f"organisation__{name}" for name in CARD_FIELDS),
            "organisation__place_id",
        ),
        to_attr="participants_shown",
    )


def card_themes():
    """The themes a card lists (``themes_shown``)."""
    return Prefetch(
        "themes",
        queryset=Theme.objects.only("slug", *translated_columns("name")),
        to_attr="themes_shown",
    )


class PartnershipListView(RecordListView):
    search_label = _("Search partnerships or their participants")
    filterset_class = PartnershipFilter
    export_url_name = "partnerships:partnership-export"

    def records(self):
        return Partnership.objects.prefetch_related(participants_with_parties(), card_themes())


class PartnershipExportView(CSVExportMixin, PartnershipListView):
    resource_class = PartnershipResource
    filename_prefix = "partnerships"


class PartnershipDetailView(RecordDetailView):
    def records(self):
        return Partnership.objects.prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("place__parent", "organisation__place"),
            ),
            "themes",
            "sources",
            Prefetch("events", queryset=Event.objects.select_related("place", "source")),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Events cite sources too; the page lists each source once.
        sources = list(self.object.sources.all())
        for event in self.object.events.all():
            if event.source and event.source not in sources:
                sources.append(event.source)
        context["sources"] = sources
        return context
