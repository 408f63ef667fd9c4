from core.api import RecordViewSet
from core.rest import LocalizedOrdering

from . import facets
from .filters import PartnershipFilter
from .models import Theme
from .serializers import PartnershipSerializer, ThemeSerializer, partnership_queryset


class PartnershipViewSet(RecordViewSet):
    serializer_class = PartnershipSerializer
    filterset_class = PartnershipFilter
    ordering_fields = ["title", "kind", "status", "start_on", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        return partnership_queryset(self.listed_only)

    def known_count(self, queryset):
        # Every partnership, or every published one, left so by the filters: counted as
        # they were written (core.rest.PageNumberPagination asks).
        return facets.kept_total(queryset)


class ThemeViewSet(RecordViewSet):
    queryset = Theme.objects.all()
    serializer_class = ThemeSerializer
    # Themes are a short managed list without a folded search key.
    filter_backends = [LocalizedOrdering]
    ordering_fields = ["name", "slug"]
