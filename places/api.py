from core.api import RecordViewSet

from .filters import PlaceFilter
from .serializers import PlaceSerializer, place_queryset


class PlaceViewSet(RecordViewSet):
    serializer_class = PlaceSerializer
    filterset_class = PlaceFilter
    # A place's representation shows its parent, names, figures and sources: places alone.
    kept_under = ("places",)
    ordering_fields = ["name", "kind", "country", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        # The FilterSet's 'sort' annotates the current figures when it orders by them.
        return place_queryset(self.listed_only)
