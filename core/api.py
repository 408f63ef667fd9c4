import datetime
import hashlib
import json

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language
from django.utils.translation.trans_real import parse_accept_lang_header
from rest_framework import status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from . import versioning
from .cache import per_version
from .models import IdempotentRequest, Source, load_parts, locked_stamp, stored_version
from .serializers import SourceSerializer, unknown_language
from .translation import DEFAULT_LANGUAGE, LANGUAGES, content_language

LANGUAGE_PARAMETER = "lang"


class InUse(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Other records still refer to this one; change or delete them first."
    default_code = "in_use"


class ChangedSinceRead(APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = (
        "The record changed since the version named in If-Match. Read it again (its ETag "
        "names the current version) and send your change made on that."
    )
    default_code = "changed_since_read"


class KeyReused(APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = (
        "This Idempotency-Key was sent before with another request. Use a new key for a new record."
    )
    default_code = "idempotency_key_reused"


# How long an Idempotency-Key is remembered: a client's retries come within minutes.
IDEMPOTENCY_HOURS = 24
IDEMPOTENCY_HEADER = "Idempotency-Key"


def version_etag(updated_at):
    """The ETag of a record's version: the admin's, the import's and the merge's
    (``core.models.stored_version``), which every save moves, in any language the record
    is read in."""
    return quote_etag(stored_version(updated_at))


def requested_language(request):
    """``?lang=``, else the first content language in Accept-Language, else English.

    Not the language cookie LocaleMiddleware also reads: a shared cache keeps an API
    response for its address and its Accept-Language (``Vary``), nothing else.
    """
    code = request.query_params.get(LANGUAGE_PARAMETER, "")
    if code:
        if code not in LANGUAGES:
            raise ValidationError({LANGUAGE_PARAMETER: [unknown_language([code])]})
        return code
    for code, _quality in parse_accept_lang_header(request.headers.get("Accept-Language", "")):
        if code == "*":
            break
        if (language := code.split("-")[0]) in LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


class ContentLanguageMixin:
    """Records and messages in the language the request asks for (``requested_language``)."""

    def dispatch(self, request, *args, **kwargs):
        # Restored afterwards: the page cache (core.middleware) looked the response up
        # under the language LocaleMiddleware chose, and must store it under the same key.
        with translation.override(translation.get_language()):
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        translation.activate(requested_language(request))

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        response["Content-Language"] = content_language()
        patch_vary_headers(response, ["Accept-Language"])
        return response


class RecordViewSet(ContentLanguageMixin, viewsets.ModelViewSet):
    """Anyone reads; staff with the model permission write (see ``REST_FRAMEWORK``)."""

    lookup_field = "slug"
    # The public pages' <slug:...>; the schema states it, so clients (and schemathesis) know
    # that any other address under /api/ is no record's.
    lookup_value_regex = "[-a-zA-Z0-9_]+"

    # The FilterSet of the request, once filtered (``core.rest.RecordFilterBackend``).
    filterset = None
    # The parts of the registry ("places", "organisations") whose records alone make a
    # record's representation: then the public's pages of the list keep theirs per
    # version of those parts, language and address (``list``), and a write to anything
    # else, a partnership, leaves them, as a place's page keeps what it shows of the
    # place (``core.detail.RecordDetailView.kept_under``).
    kept_under = ()

    def filter_queryset(self, queryset):
        # Lists and single records alike (DRF's get_object filters through here too):
        # drafts only for staff who may view the type, also with a token. Before the
        # filters, so that what they count and page is what the reader may see.
        if hasattr(queryset, "visible_to") and hasattr(queryset.model, "publication"):
            queryset = queryset.visible_to(self.request.user)
        return super().filter_queryset(queryset)

    def paginate_queryset(self, queryset):
        # The filters' own records, neither searched (?search=) nor sorted (?ordering=)
        # since: read as the public list reads its pages (a search's, rank by rank).
        if self.filterset is not None and queryset is self.filterset.qs:
            queryset = self.filterset.in_pages(queryset)
        return super().paginate_queryset(queryset)

    def list(self, request, *args, **kwargs):
        if not self.kept_under:
            return super().list(request, *args, **kwargs)
        # Their relations read only for the representations not kept.
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset().parts_on_demand()))

        def build():
            return self.get_serializer(load_parts(page), many=True).data

        # Kept for the public only, as the page cache keeps its answers: staff, who may see
        # drafts, have them serialized each time.
        if versioning.request_version.get() is None:
            return self.get_paginated_response(build())
        return self.get_paginated_response(self.kept(page, build, request.build_absolute_uri("/")))

    def kept(self, page, build, address):
        """``build()``, the representations of ``page``, kept under the versions of
        ``kept_under``, the language and ``address`` (where the API's links point).
        Serializing twenty places with their names, figures and sources, and reading
        those, took 11 ms of the 15 of the API's place list at 10,000 partnerships on
        PostgreSQL, after every write."""
        return per_version(
            f"{self.basename}-representations",
            [get_language(), address, [record.pk for record in page]],
            build,
            of=self.kept_under,
        )

    @property
    def listed_only(self):
        """Whether the request only reads, so that the records' relations may be read as
        lists (``core.serializers.with_listed``)."""
        return self.request.method in SAFE_METHODS

    def create(self, request, *args, **kwargs):
        """With ``Idempotency-Key``: a create sent again with the same key (a retry after an
        answer that got lost) gets the first answer, and makes no second record."""
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if key is None:
            return super().create(request, *args, **kwargs)
        if not 0 < len(key) <= 255 or not key.isprintable():
            raise ValidationError({IDEMPOTENCY_HEADER: ["Send 1 to 255 printable characters."]})
        fingerprint = hashlib.sha256(
            json.dumps(
                [request.get_full_path(), request.data], sort_keys=True, default=str
            ).encode()
        ).hexdigest()
        IdempotentRequest.objects.filter(
            created_at__lt=timezone.now() - datetime.timedelta(hours=IDEMPOTENCY_HOURS)
        ).delete()
        try:
            with transaction.atomic():
                earlier = IdempotentRequest.objects.filter(user=request.user, key=key).first()
                if earlier is not None:
                    return self.replayed(earlier, fingerprint)
                response = super().create(request, *args, **kwargs)
                # The record and its key commit together, or neither does.
                IdempotentRequest.objects.create(
                    user=request.user,
                    key=key,
                    fingerprint=fingerprint,
                    status=response.status_code,
                    location=response.get("Location", ""),
                    response=json.loads(JSONRenderer().render(response.data)),
                )
                return response
        except IntegrityError:
            # The same key in a request that committed first, while this one wrote: its
            # record is undone with this transaction, and its answer is this one's.
            earlier = IdempotentRequest.objects.filter(user=request.user, key=key).first()
            if earlier is None:
                raise
            return self.replayed(earlier, fingerprint)

    def replayed(self, earlier, fingerprint):
        if earlier.fingerprint != fingerprint:
            raise KeyReused()
        headers = {"Idempotent-Replayed": "true"}
        if earlier.location:
            headers["Location"] = earlier.location
        return Response(earlier.response, status=earlier.status, headers=headers)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        response["ETag"] = version_etag(self.record.updated_at)
        return response

    def update(self, request, *args, **kwargs):
        # One transaction: the record is locked from the If-Match check to the save.
        with transaction.atomic():
            response = super().update(request, *args, **kwargs)
            if 200 <= response.status_code < 300:
                self.record.refresh_from_db(fields=["updated_at"])
                response["ETag"] = version_etag(self.record.updated_at)
            return response

    def destroy(self, request, *args, **kwargs):
        with transaction.atomic():
            return super().destroy(request, *args, **kwargs)

    def get_object(self):
        self.record = record = super().get_object()
        if self.request.method not in SAFE_METHODS:
            self.check_if_match(record)
        return record

    def check_if_match(self, record):
        """``If-Match``: a change made on a version read earlier is refused (412) if the
        record was saved since, where it would silently undo that save. Without the
        header, as before. Weak tags match too: the gzip middleware weakens the ETag of
        a compressed response, not the version it names."""
        header = self.request.headers.get("If-Match")
        if not header:
            return
        wanted = {tag.removeprefix("W/") for tag in parse_etags(header)}
        if "*" in wanted:
            return
        current = locked_stamp(record)
        if current is None or version_etag(current["updated_at"]) not in wanted:
            raise ChangedSinceRead()

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
