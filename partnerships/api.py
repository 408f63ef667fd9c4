from core.api import RecordViewSet
from core.rest import LocalizedOrdering

from . import facets, revisions
from .filters import PartnershipFilter
from .models import Theme
from .serializers import PartnershipSerializer, ThemeSerializer, partnership_queryset


class PartnershipViewSet(RecordViewSet):
    serializer_class = PartnershipSerializer
    filterset_class = PartnershipFilter
    # A partnership's representation shows its participants' places and organisations;
    # it is kept under its own revision besides (``kept``).
    kept_under = ("places", "organisations")
    ordering_fields = ["title", "kind", "status", "start_on", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        return partnership_queryset(self.listed_only)

    def known_count(self, queryset):
        # Every partnership, or every published one, left so by the filters: counted as
        # they were written (core.rest.PageNumberPagination asks).
        return facets.kept_total(queryset)

    def kept(self, page, build, address):
        # Kept as the cards are (``cards.kept_cards``): under each partnership's revision
        # and the places' and organisations' versions, per language and address, for the
        # day. Serializing twenty with their participants, themes, events and sources took
        # 3.7 ms at 10,000 partnerships on PostgreSQL, and reading those relations about 5.
        return revisions.kept("partnership-representations", page, build, address)


class ThemeViewSet(RecordViewSet):
    queryset = Theme.objects.all()
    serializer_class = ThemeSerializer
    # Themes are a short managed list without a folded search key.
    filter_backends = [LocalizedOrdering]
    ordering_fields = ["name", "slug"]
