import json
import re

from django.conf import settings
from django.http import HttpResponseBadRequest, JsonResponse
from django.utils.translation import gettext as _

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
        if self._has_control_characters(request):
            message = _(
                "The request contains a control character (such as NUL) in its address, "
                "query or form data. Remove it and try again."
            )
            if request.path.startswith("/api/") or request.content_type == "application/json":
                return JsonResponse({"detail": message}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

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
            for key, values in request.POST.lists():
                if _CONTROL.search(key) or any(map(_CONTROL.search, values)):
                    return True
        return False


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
