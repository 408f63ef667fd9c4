from core.api import RecordViewSet
from core.models import load_parts
from core.rest import LocalizedOrdering

from . import facets, revisions
from .filters import PartnershipFilter
from .models import Theme
from .serializers import PartnershipSerializer, ThemeSerializer, partnership_queryset


class PartnershipViewSet(RecordViewSet):
    serializer_class = PartnershipSerializer
    filterset_class = PartnershipFilter
    ordering_fields = ["title", "kind", "status", "start_on", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        queryset = partnership_queryset(self.listed_only)
        if self.action == "list":
            # Their relations read only for the representations not kept (``list``).
            queryset = queryset.parts_on_demand()
        return queryset

    def known_count(self, queryset):
        # Every partnership, or every published one, left so by the filters: counted as
        # they were written (core.rest.PageNumberPagination asks).
        return facets.kept_total(queryset)

    def list(self, request, *args, **kwargs):
        # For the public, the representations are kept as the cards are
        # (``cards.kept_cards``): under each partnership's revision and the places' and
        # organisations' versions, per language and address, for the day. Serializing
        # twenty with their participants, themes, events and sources took 3.7 ms at
        # 10,000 partnerships on PostgreSQL, and reading those relations about 5.
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))

        def build():
            return self.get_serializer(load_parts(page), many=True).data

        address = request.build_absolute_uri("/")
        data = revisions.kept("partnership-representations", page, build, address)
        return self.get_paginated_response(data)


class ThemeViewSet(RecordViewSet):
    queryset = Theme.objects.all()
    serializer_class = ThemeSerializer
    # Themes are a short managed list without a folded search key.
    filter_backends = [LocalizedOrdering]
    ordering_fields = ["name", "slug"]
