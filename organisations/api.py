from core.api import RecordViewSet

from .filters import OrganisationFilter
from .serializers import OrganisationSerializer, organisation_queryset


class OrganisationViewSet(RecordViewSet):
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    # An organisation's shows the place it is based in: places and organisations alone.
    kept_under = ("places", "organisations")
    ordering_fields = ["name", "kind", "country", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        return organisation_queryset(self.listed_only)
