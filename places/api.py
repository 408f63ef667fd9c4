from core.api import RecordViewSet

from .filters import PlaceFilter
from .serializers import PlaceSerializer, place_queryset


class PlaceViewSet(RecordViewSet):
    serializer_class = PlaceSerializer
    filterset_class = PlaceFilter
    ordering_fields = ["name", "kind", "country", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        # The FilterSet's own 'sort' orders by the current figures, so annotate them.
        return place_queryset(self.listed_only).with_current_figures()
