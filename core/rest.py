"""The API's defaults, named in ``REST_FRAMEWORK``: kept free of views to avoid import cycles."""

import orjson
from django.conf import settings
from django.db.models import QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import authentication, filters, pagination, permissions, renderers
from rest_framework.exceptions import ValidationError
from zlib_ng import gzip_ng

from .pagination import EitherEndPaginator
from .text import search_query_error
from .translation import Localized


class RecordFilterBackend(DjangoFilterBackend):
    """django-filter's backend, which leaves the FilterSet on the view: its pages may be
    read its own way (``RecordFilterSet.in_pages``)."""

    def get_filterset(self, request, queryset, view):
        view.filterset = super().get_filterset(request, queryset, view)
        return view.filterset


class RecordSearch(filters.SearchFilter):
    """``?search=`` through the folding search of the public site (``core.text``)."""

    search_description = "Any name or spelling, with or without accents: Wuxi, Wutshi, 无锡."

    def filter_queryset(self, request, queryset, view):
        query = request.query_params.get(self.search_param, "")
        if message := search_query_error(query):
            raise ValidationError({self.search_param: [message]})
        return queryset.search(query) if query.strip() else queryset

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.search_param,
                "required": False,
                "in": "query",
                "description": self.search_description,
                "schema": {"type": "string"},
            }
        ]


class LocalizedOrdering(filters.OrderingFilter):
    """``?ordering=name`` sorts by the name the reader sees: in their language, else the
    other. Plain ``order_by("name")`` would sort by the reader's language's column only."""

    def filter_queryset(self, request, queryset, view):
        # Not at the top: DRF imports this module while its own views module loads.
        from .serializers import translated_fields

        ordering = self.get_ordering(request, queryset, view)
        if not ordering:
            return queryset
        translated = translated_fields(queryset.model)
        return queryset.order_by(*(self.localized(term, translated) for term in ordering))

    @staticmethod
    def localized(term, translated):
        if not isinstance(term, str) or term.removeprefix("-") not in translated:
            return term
        name = Localized(term.removeprefix("-"))
        return name.desc() if term.startswith("-") else name.asc()


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100
    view = None

    def paginate_queryset(self, queryset, request, view=None):
        self.view = view
        return super().paginate_queryset(queryset, request, view)

    def django_paginator_class(self, queryset, page_size):
        """Any page from the nearer end, by ids read from an index (core.pagination),
        of as many records as the view knows its list holds (``known_count(queryset)``,
        None when it does not), or a COUNT says."""
        paginator = EitherEndPaginator(queryset, page_size)
        known = getattr(self.view, "known_count", None)
        if not isinstance(queryset, QuerySet):
            known = None  # a list that knows its length (``core.pagination.Ranked``)
        if known is not None and (count := known(queryset)) is not None:
            paginator.count = count
        return paginator


class SessionCookieAuthentication(authentication.SessionAuthentication):
    """Session login for staff in a browser, looked up only when a session cookie came.

    Reading the session marks the response ``Vary: Cookie``, which would keep every
    anonymous API response out of shared caches (core.middleware.PublicCacheMiddleware).
    """

    def authenticate(self, request):
        if settings.SESSION_COOKIE_NAME not in request.COOKIES:
            return None
        return super().authenticate(request)


class ModelPermissionsOrAnonReadOnly(permissions.DjangoModelPermissionsOrAnonReadOnly):
    """DRF's, told the model by the view's serializer: DRF builds the view's whole queryset
    only to learn its model, and the place list's (four subqueries of figures) took 2 ms."""

    def _queryset(self, view):
        serializer = getattr(view, "serializer_class", None)
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is None:
            return super()._queryset(view)
        return model._default_manager.none()


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """The API in a browser, its writes offered as JSON only.

    For a reader who may write, DRF draws an HTML form of the serializer's fields. Ours
    nest (participants, names in two languages, a parent shown as an object), which such
    a form cannot hold, and drawing one for a relation shown as an object was a server
    error ("unhashable type: 'dict'") for any staff member who opened a place, an
    organisation or a partnership in a browser. The raw form, JSON in a text box, stays,
    as do the DELETE and OPTIONS buttons.
    """

    def get_rendered_html_form(self, data, view, method, request):
        if method in ("POST", "PUT", "PATCH"):
            return None
        return super().get_rendered_html_form(data, view, method, request)

    def render(self, data, accepted_media_type=None, renderer_context=None):
        # The page's own styles policy, as django-csp's csp_replace() sets it on a view's
        # answer: the same view's JSON keeps the site's strict policy. Replaced, not
        # added to: beside a hash, browsers ignore 'unsafe-inline'.
        renderer_context = renderer_context or {}
        if (response := renderer_context.get("response")) is not None:
            response._csp_replace = settings.ATLAS_BROWSABLE_API_CSP
        return super().render(data, accepted_media_type, renderer_context)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson: the same bytes (compact, UTF-8, U+2028 and U+2029
    escaped; only a float below 0.0001 reads 0.00001 for 1e-05), four times as fast. The
    map's GeoJSON at 100,000 partnerships (1.1 MB) took 15.3 ms through ``json.dumps``,
    and takes 3.8.

    What orjson does not write itself (lazy translations, dates and times, decimals,
    querysets) it hands to DRF's encoder, so those come out as DRF writes them; indented
    output (``Accept: application/json; indent=2``, the browsable API), and anything
    orjson refuses, go through DRF's own ``render``. A NaN, which DRF's strict JSON
    refuses, would be written ``null``; the registry holds none."""

    # Keys as json writes them ("1", "null"); dates, times and dataclasses to DRF's
    # encoder, which writes a UTC time with a "Z".
    OPTIONS = (
        orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
    )

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        compact = not (
            self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        )
        if isinstance(data, Written):
            if compact:
                response = (renderer_context or {}).get("response")
                if data.gzipped is not None and response is not None:
                    response.gzipped = (data.content, data.gzipped)
                return data.content
            data = orjson.loads(data.content)
        if not compact:
            return super().render(data, accepted_media_type, renderer_context)
        try:
            written = orjson.dumps(data, default=self.encoder_class().default, option=self.OPTIONS)
        except orjson.JSONEncodeError:
            return super().render(data, accepted_media_type, renderer_context)
        return separators_escaped(written)


# U+2028 and U+2029 in UTF-8, which DRF's JSON escapes (JavaScript strings could not hold
# them), and the byte they start with.
_SEPARATORS = ("\u2028".encode(), "\u2029".encode())
_SEPARATOR_START = _SEPARATORS[0][:1]


def separators_escaped(written):
    """``written`` with U+2028 and U+2029 escaped as DRF writes them.

    Their first byte is looked for (``memchr``), each place it stands checked: searching
    the whole answer for each three-byte sequence, as ``bytes.replace`` does, took 0.79 ms
    of the network's 545 KB at 100,000 partnerships, where looking past its 300 en dashes
    takes 0.05."""
    at = written.find(_SEPARATOR_START)
    # Other characters of U+2000 to U+2FFF (the en dash of "Aarhus–Qingdao", typographic
    # quotes) start with that byte too. Each costs a look; past one per 128 bytes, the
    # looks would cost as much as the replacing.
    for _look in range(len(written) // 128 + 1):
        if at == -1:
            return written
        if written[at : at + 3] in _SEPARATORS:
            break
        at = written.find(_SEPARATOR_START, at + 1)
    return written.replace(_SEPARATORS[0], b"\\u2028").replace(_SEPARATORS[1], b"\\u2029")


class Written:
    """A response's data written already by ``JSONRenderer``, compact: sent as it is, or read
    back and written as asked (indented, in ASCII). For what is kept written: the map's
    GeoJSON at 100,000 partnerships took 5.8 ms to pickle for the cache and 3.9 to write
    again from its 4,000 features for each answer. ``gzipped``: the content as
    ``core.middleware.gzipped`` gzips it, kept with it, for the answers sent as written
    (``core.middleware.GZipMiddleware``)."""

    def __init__(self, content, gzipped=None):
        self.content = content
        self.gzipped = gzipped

    def __reduce__(self):
        # Kept by a cache as its gzipped form alone, when it has one: the map's GeoJSON at
        # 10,000 partnerships is 47 KB so, against 620, which the file cache took 1.2 ms
        # to compress. Read back, the content is that form unzipped (0.4 ms).
        if self.gzipped is None:
            return (Written, (self.content,))
        return (_unzipped, (self.gzipped,))


def _unzipped(gzipped):
    return Written(gzip_ng.decompress(gzipped), gzipped)
