"""The OpenAPI schema says what the API really does: who may call it and how it answers."""

from drf_spectacular import openapi
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.utils import OpenApiParameter
from rest_framework import permissions

from .api import LANGUAGE_PARAMETER, ContentLanguageMixin, RecordViewSet
from .translation import LANGUAGES

ERROR = {
    "type": "object",
    "additionalProperties": True,
    "description": "Messages keyed by field, or 'detail'.",
}


# core.api.ContentLanguageMixin: which language records (and messages) come in.
LANGUAGE_PARAMETERS = [
    OpenApiParameter(
        LANGUAGE_PARAMETER,
        str,
        enum=list(LANGUAGES),
        description=(
            "The language to read and write records in: da (Danish) or en (English). "
            "Without it, the first of these in Accept-Language, else English. A text the "
            "record lacks in it comes in the other language (see each `…_language` field)."
        ),
    ),
    OpenApiParameter(
        "Accept-Language",
        str,
        location=OpenApiParameter.HEADER,
        description="Used when `lang` is not given, e.g. `da, en;q=0.8`.",
    ),
    OpenApiParameter(
        "Content-Language",
        str,
        location=OpenApiParameter.HEADER,
        response=[200, 201],
        enum=list(LANGUAGES),
        description="The language of the response; it varies by Accept-Language (Vary).",
    ),
]


# core.api.RecordViewSet.check_if_match: a change made on the version read.
IF_MATCH = OpenApiParameter(
    "If-Match",
    str,
    location=OpenApiParameter.HEADER,
    description=(
        "The ETag of the record as read (a GET of it, or the answer to a change). If the "
        "record was saved since, the change is refused with 412 instead of undoing that "
        "save. Without it, the change is made whatever was saved since."
    ),
)


# core.api.RecordViewSet.create: a retry gets the first answer, not a second record.
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    location=OpenApiParameter.HEADER,
    description=(
        "Any unique text of 1 to 255 printable characters, such as a UUID, new for each "
        "record to create. Sent again with the same request within 24 hours (a retry after "
        "an answer that got lost), it gets the first answer, with `Idempotent-Replayed: "
        "true`, and no second record is made. Sent with another request, 422."
    ),
)


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if isinstance(self.view, ContentLanguageMixin):
            parameters = [*parameters, *LANGUAGE_PARAMETERS]
        if self._changes_a_record():
            parameters = [*parameters, IF_MATCH]
        if self._creates_a_record():
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _creates_a_record(self):
        return (
            isinstance(self.view, RecordViewSet) and self.method == "POST" and "{" not in self.path
        )

    def _changes_a_record(self):
        return (
            isinstance(self.view, RecordViewSet)
            and self.method in ("PUT", "PATCH", "DELETE")
            and "{" in self.path
        )

    def get_auth(self):
        auths = super().get_auth()
        anonymous_reads = any(
            isinstance(permission, permissions.DjangoModelPermissionsOrAnonReadOnly)
            for permission in self.view.get_permissions()
        )
        if anonymous_reads and self.method in permissions.SAFE_METHODS and {} not in auths:
            auths.append({})
        return auths

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        errors = {}
        if self.method not in permissions.SAFE_METHODS:
            errors["401"] = "Not signed in (send 'Authorization: Token ...'), or an unknown token."
            errors["403"] = "Signed in without the model permission for this change."
        else:
            errors["401"] = "An unknown token (reading needs none)."
        # core.throttling: the anonymous rate per client address, and the lockout of an
        # address after repeated unknown tokens; Retry-After says when to try again.
        errors["429"] = "Too many requests from this address; see the Retry-After header."
        # Any request may carry a control character (core.middleware refuses it).
        errors["400"] = (
            "Invalid data, an invalid filter or ordering value, or a control character "
            "(such as NUL) in the address, query or body."
        )
        if "{" in self.path:
            errors["404"] = "No such record."
            if self.method == "DELETE":
                errors["409"] = "Other records still refer to this one."
            if self._changes_a_record():
                errors["412"] = "The record was saved since the version named in If-Match."
        elif self._is_list_view():
            errors["404"] = "No such page."
        if self._creates_a_record():
            errors["422"] = "The Idempotency-Key was sent before with another request."
        for code, description in errors.items():
            responses.setdefault(
                code,
                {
                    "description": description,
                    "content": {"application/json": {"schema": ERROR}},
                },
            )
        return responses


class SessionCookieScheme(SessionScheme):
    target_class = "core.rest.SessionCookieAuthentication"
