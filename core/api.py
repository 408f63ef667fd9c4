from django.db.models import ProtectedError, RestrictedError
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException

from .models import Source
from .serializers import SourceSerializer


class InUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other records still refer to this one; change or delete them first."
    default_code = "in_use"


class RecordViewSet(viewsets.ModelViewSet):
    """Anyone reads; staff with the model permission write (see ``REST_FRAMEWORK``)."""

    lookup_field = "slug"
    # The public pages' <slug:...>; the schema states it, so clients (and schemathesis) know
    # that any other address under /api/ is no record's.
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    def perform_destroy(self, instance):
        instance._history_user = self.request.user
        try:
            instance.delete()
        except (ProtectedError, RestrictedError):
            raise InUse() from None


class SourceViewSet(RecordViewSet):
    queryset = Source.objects.all()
    serializer_class = SourceSerializer
    lookup_field = "pk"
    # DRF's default again: the schema then types the id from the model, as an integer.
    lookup_value_regex = "[^/.]+"
    ordering_fields = ["title", "updated_at", "last_reviewed_on"]
