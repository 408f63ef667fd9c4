from django.utils.translation import gettext_lazy as _

from core.detail import RecordDetailView
from core.models import ListedById
from core.views import CSVExportMixin, RecordListView

from .filters import PartnershipFilter
from .models import Participant, Partnership
from .resources import PartnershipResource
from .serializers import EVENTS

# What a partnership's page shows of its participants; its events are read as the API
# reads them, each with its place and source.
PARTICIPANTS = ListedById(
    Partnership,
    "participants",
    lambda: Participant.objects.select_related("place__parent", "organisation__place"),
)


class PartnershipListView(RecordListView):
    search_label = _("Search partnerships or their participants")
    filterset_class = PartnershipFilter
    export_url_name = "partnerships:partnership-export"

    def records(self):
        # Read only for the cards not kept (``cards.kept_cards``).
        return Partnership.objects.with_card_parts().parts_on_demand()


class PartnershipExportView(CSVExportMixin, PartnershipListView):
    resource_class = PartnershipResource
    filename_prefix = "partnerships"


class PartnershipDetailView(RecordDetailView):
    def records(self):
        relations = [PARTICIPANTS, "themes", "sources", EVENTS]
        return Partnership.objects.with_listed(*relations, into_managers=True)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Events cite sources too; the page lists each source once.
        sources = list(self.object.sources.all())
        for event in self.object.events.all():
            if event.source and event.source not in sources:
                sources.append(event.source)
        context["sources"] = sources
        return context
