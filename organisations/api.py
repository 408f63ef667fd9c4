from core.api import RecordViewSet

from .filters import OrganisationFilter
from .serializers import OrganisationSerializer, organisation_queryset


class OrganisationViewSet(RecordViewSet):
    serializer_class = OrganisationSerializer
    filterset_class = OrganisationFilter
    ordering_fields = ["name", "kind", "country", "updated_at", "last_reviewed_on"]

    def get_queryset(self):
        return organisation_queryset(self.listed_only)
