import datetime
import hashlib
import io
import json
import re
import secrets
from gzip import FNAME

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.middleware import gzip
from django.utils import timezone
from django.utils.cache import (
    get_cache_key,
    get_conditional_response,
    has_vary_header,
    learn_cache_key,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date, quote_etag
from django.utils.text import StreamingBuffer
from django.utils.translation import gettext as _
from rest_framework.request import Request
from zlib_ng import gzip_ng

from . import versioning

# C0 controls and DEL. Tab, line feed and carriage return are ordinary text in a form field.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_IN_ADDRESS = re.compile(r"[\x00-\x1f\x7f]")


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class RejectControlCharactersMiddleware:
    """A request whose address, query or form/JSON body holds a control character gets 400.

    No name, slug or search holds one; letting NUL through ends in a 500 from PostgreSQL
    ("cannot contain NUL") and in garbage in SQLite. Uploaded files are not read here:
    the importer checks their cells.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            refused = self._has_control_characters(request)
        except RecursionError:
            # Python's JSON decoder recurses once per level, and some thousand nested
            # lists overflow it: DRF's parser would end there too, in a server error. No
            # record's JSON nests more than a few levels.
            return self._refuse(request, _("The JSON body is nested too deeply to read."))
        if refused:
            return self._refuse(
                request,
                _(
                    "The request contains a control character (such as NUL) in its address, "
                    "query or form data. Remove it and try again."
                ),
            )
        return self.get_response(request)

    def _refuse(self, request, message):
        if request.path.startswith("/api/") or request.content_type == "application/json":
            return JsonResponse({"detail": message}, status=400)
        return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")

    def _has_control_characters(self, request):
        if _CONTROL_IN_ADDRESS.search(request.path):
            return True
        for key, values in request.GET.lists():
            if _CONTROL_IN_ADDRESS.search(key) or any(map(_CONTROL.search, values)):
                return True
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return False
        if request.content_type == "application/json":
            try:
                data = json.loads(request.body or b"null")
            except ValueError:
                return False  # the view reports malformed JSON itself
            return any(map(_CONTROL.search, _strings(data)))
        if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            for key, values in _form_data(request).lists():
                if _CONTROL.search(key) or any(map(_CONTROL.search, values)):
                    return True
        return False


def _form_data(request):
    """The form fields of a POST, and of a PUT or PATCH, which Django leaves unparsed (the
    API parses them itself, after this middleware)."""
    if request.method == "POST":
        return request.POST
    try:
        if request.content_type == "multipart/form-data":
            return request.parse_file_upload(request.META, io.BytesIO(request.body))[0]
        return QueryDict(request.body, encoding=request.encoding)
    except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent):
        return QueryDict()  # the view reports a malformed or oversized body itself


# zlib-ng's level for the answers (``GZipMiddleware``).
GZIP_LEVEL = 5


def gzipped(data):
    """``data`` gzipped as ``GZipMiddleware`` gzips an answer, before it pads the header:
    for a body kept to be sent many times (``core.rest.Written``)."""
    return gzip_ng.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's gzip middleware, compressing through zlib-ng, in half to two thirds of
    zlib's time. A cache miss of the map's GeoJSON at 10,000 partnerships spent 4.3 ms
    compressing 620 KB with zlib and 2.9 with zlib-ng, a list page 0.91 and 0.56. The
    network's GEXF at 100,000 partnerships, 187 MB streamed, took 8.2 s to send through
    Django's and 7.7 through this. Hits send the stored bytes, compressed once.

    At level 5, not Django's 6: zlib-ng's sixth level searched longer for 1–4% smaller
    answers. At 10,000 partnerships the network's 526 KB of JSON took 2.15 ms at 6 and
    1.42 at 5 (31.1 and 31.8 KB), the map's 620 KB 2.88 and 1.73 (46.0 and 46.8 KB), the
    network page 1.14 and 0.78 (20.7 and 21.6 KB), a list page 0.55 and 0.45 (12.6 KB
    each). Below 5 the answers grew by a tenth and more.

    As Django's, with its padding against BREACH (a random file name in the gzip header,
    ``max_random_bytes``). An asynchronous stream, which no view here gives, is left to
    Django's.

    An answer whose body was kept gzipped with what it shows (``response.gzipped``: the
    body and its ``gzipped()`` form, set by ``core.rest.JSONRenderer`` from a
    ``core.rest.Written``) is sent so, padded anew: the map's GeoJSON, kept across every
    write that does not move it, took 1.7 ms to compress at each miss at 10,000
    partnerships and 4 at 100,000.
    """

    level = GZIP_LEVEL

    def process_response(self, request, response):
        # Taken off the answer: the page cache would keep it with the answer's bytes.
        kept = response.__dict__.pop("gzipped", None)
        if response.streaming and response.is_async:
            return super().process_response(request, response)
        if not response.streaming and len(response.content) < 200:
            return response
        if response.has_header("Content-Encoding"):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        if not gzip.re_accepts_gzip.search(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            return response
        if response.streaming:
            response.streaming_content = self.compress_sequence(response.streaming_content)
            del response.headers["Content-Length"]  # not known until it is all sent
        else:
            if kept is not None and kept[0] == response.content:
                compressed = self.padded(kept[1])
            else:
                compressed = self.compress(response.content)
            if len(compressed) >= len(response.content):
                return response
            response.content = compressed
            response.headers["Content-Length"] = str(len(compressed))
        etag = response.get("ETag")
        if etag and etag.startswith('"'):
            response.headers["ETag"] = "W/" + etag  # as Django's: RFC 9110, 8.8.1
        response.headers["Content-Encoding"] = "gzip"
        return response

    def padding(self):
        """The file name that pads the gzip header, as Django's."""
        return b"a" * secrets.randbelow(self.max_random_bytes) if self.max_random_bytes else b""

    def compress(self, data):
        """``django.utils.text.compress_string``'s output, from zlib-ng."""
        return self.padded(gzipped(data))

    def padded(self, compressed):
        """``compressed`` (gzip, with a plain header) padded against BREACH."""
        if not self.max_random_bytes:
            return compressed
        header = bytearray(compressed[:10])
        header[3] = FNAME  # a file name follows the header
        return bytes(header) + self.padding() + b"\x00" + compressed[10:]

    def compress_sequence(self, sequence):
        """``django.utils.text.compress_sequence``'s output, from zlib-ng."""
        buffer = StreamingBuffer()
        with gzip_ng.GzipNGFile(
            filename=self.padding() or None,
            mode="wb",
            compresslevel=self.level,
            fileobj=buffer,
            mtime=0,
        ) as compressing:
            yield buffer.read()  # the header
            for item in sequence:
                compressing.write(item)
                if data := buffer.read():
                    yield data
        yield buffer.read()


class SecurityHeadersMiddleware:
    """Permissions-Policy and Cross-Origin-Opener-Policy on every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response["Permissions-Policy"] = settings.ATLAS_PERMISSIONS_POLICY
        # drf-spectacular's Swagger view asks for "unsafe-none"; nothing here needs it.
        response["Cross-Origin-Opener-Policy"] = settings.SECURE_CROSS_ORIGIN_OPENER_POLICY
        return response


def not_cached(view):
    """Keep a view's responses out of ``PublicCacheMiddleware``: pages that read nothing
    from the registry (so need no version) and service endpoints."""
    view.atlas_not_cached = True
    return view


class PublicCacheMiddleware:
    """Whole responses of anonymous GETs, cached under the registry version.

    The key is Django's cache-middleware key (``django.utils.cache``: full URL, language,
    the request headers the response varies on) with the registry version, the moment it
    last changed and today's date as its prefix. Every write moves the version in its own
    transaction (``core.versioning``), so a page is never served older than the registry,
    and nothing needs invalidating; today's date, because pages say what is stale or
    unconfirmed as of today. Django's UpdateCacheMiddleware/FetchFromCacheMiddleware take
    one fixed key prefix, would cache staff and token requests, and answer no conditional
    GET from the version, hence this middleware, built from the same pieces.

    It looks the page up in ``process_view``, once LocaleMiddleware has chosen the
    language and the URL is resolved; a hit skips the view, the session is never read,
    and the version is the only query. An API hit still counts against the view's
    throttles. Bypassed: other methods, a session cookie (staff) or an Authorization
    header (tokens), the admin, views marked ``not_cached``, long query strings. Stored:
    200 responses that set no cookie, do not vary on Cookie, are not streamed and carry
    no Cache-Control of their own.
    """

    # Longer queries are no search a person typed; each would only push pages out.
    MAX_QUERY_LENGTH = 1000

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request._atlas_cache = settings.ATLAS_CACHE_PAGES and self._may_cache(request)
        try:
            response = self.get_response(request)
        finally:
            if tokens := getattr(request, "_atlas_version_tokens", None):
                versioning.request_version.reset(tokens[0])
                versioning.request_part_versions.reset(tokens[1])
        if not isinstance(request._atlas_cache, tuple) or not self._may_store(response):
            return response
        prefix, last_modified = request._atlas_cache
        patch_cache_control(response, public=True, max_age=0, s_maxage=settings.ATLAS_CACHE_SECONDS)
        response["Last-Modified"] = http_date(last_modified)
        cache = caches[settings.CACHE_MIDDLEWARE_ALIAS]
        if request.method == "GET":
            key = learn_cache_key(request, response, key_prefix=prefix, cache=cache)
            response["ETag"] = _etag(key)
            cache.set(key, _stored(response), settings.CACHE_MIDDLEWARE_SECONDS)
        response["X-Cache"] = "MISS"
        return get_conditional_response(
            request, response.get("ETag"), last_modified, response=response
        )

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request._atlas_cache:
            return None
        if getattr(view_func, "atlas_not_cached", False) or (
            "admin" in request.resolver_match.namespaces
        ):
            request._atlas_cache = False
            return None
        (value, changed_at), parts = versioning.current(parts=True)
        request._atlas_version_tokens = (
            versioning.request_version.set((value, changed_at)),
            versioning.request_part_versions.set(parts),
        )
        today = timezone.localdate()
        prefix = (
            f"{settings.CACHE_MIDDLEWARE_KEY_PREFIX}atlas.{value}.{changed_at.timestamp()}.{today}"
        )
        midnight = datetime.datetime.combine(
            today, datetime.time(), timezone.get_current_timezone()
        )
        last_modified = int(max(changed_at, midnight).timestamp())
        request._atlas_cache = (prefix, last_modified)
        cache = caches[settings.CACHE_MIDDLEWARE_ALIAS]
        key = get_cache_key(request, key_prefix=prefix, cache=cache)
        response = cache.get(key) if key else None
        if response is None or _throttled(request, view_func):
            return None
        request._atlas_cache = None  # nothing to store
        response["X-Cache"] = "HIT"
        return get_conditional_response(
            request, response.get("ETag"), last_modified, response=response
        )

    def _may_cache(self, request):
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "HTTP_AUTHORIZATION" not in request.META
            and len(request.META.get("QUERY_STRING", "")) <= self.MAX_QUERY_LENGTH
        )

    def _may_store(self, response):
        return (
            response.status_code == 200
            and not response.streaming
            and not response.cookies
            and not response.has_header("Cache-Control")
            and not has_vary_header(response, "Cookie")
        )


def _stored(response):
    """What the cache keeps of a response: DRF's ``Response`` pickles the data it rendered
    beside the bytes, and its links hold the model instances they point to; loading those
    again made a cache hit of the API place list cost more than the whole of ``/about/``."""
    if not hasattr(response, "data"):
        return response
    return HttpResponse(response.content, status=response.status_code, headers=response.headers)


def _etag(key):
    return quote_etag(hashlib.md5(key.encode(), usedforsecurity=False).hexdigest())


def _throttled(request, view_func):
    """Whether an API view's throttles refuse this request; the view then answers 429."""
    view_class = getattr(view_func, "cls", None)
    if view_class is None:
        return False
    view = view_class(**getattr(view_func, "initkwargs", {}))
    anonymous = Request(request)
    return not all(throttle.allow_request(anonymous, view) for throttle in view.get_throttles())
