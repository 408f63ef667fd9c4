"""Addresses of records by slug, reversed once per URL and language instead of per record.

An API list page links every record and participant two ways (its API address and its
public page); ``reverse()`` for each was a fifth of the page's time. The address differs
between records only in the slug, so it is reversed once with a placeholder.
"""

from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils import translation
from django.utils.translation import get_language

# Fits the <slug:...> converter; no real address part looks like it.
PLACEHOLDER = "0-slug-placeholder-0"


def _where():
    """What else an address depends on: the language, the script prefix, the URLconf."""
    return get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF


# Each address is made in the language it is kept for, which an ``Addresses`` made
# earlier may no longer have active.
@lru_cache(maxsize=256)
def _view_address(view_name, where, kwarg="slug"):
    with translation.override(where[0]):
        return reverse(view_name, kwargs={kwarg: PLACEHOLDER})


@lru_cache(maxsize=256)
def _plain_address(view_name, where):
    with translation.override(where[0]):
        return reverse(view_name)


class Addresses:
    """Addresses under one language, script prefix and URLconf, absolute for one request
    (relative without one): what the records of one API response are linked with. A list
    of twenty partnerships makes some 260 links; each looked up the three (thread-locals
    behind locks) and parsed its path again to make it absolute."""

    def __init__(self, request=None):
        self.where = _where()
        # As request.build_absolute_uri(path) makes it for the paths reverse() gives.
        self.origin = request.build_absolute_uri("/")[:-1] if request is not None else ""

    def _fill(self, address, value):
        start, _placeholder, end = address.rpartition(PLACEHOLDER)
        return f"{self.origin}{start}{value}{end}"

    def slug(self, view_name, slug):
        """``slug_url(view_name, slug)``."""
        return self._fill(_view_address(view_name, self.where), slug)

    def lookup(self, view_name, kwarg, value):
        """``reverse(view_name, kwargs={kwarg: value})``: a source's API address by its id."""
        return self._fill(_view_address(view_name, self.where, kwarg), value)

    def view(self, view_name):
        """``reverse(view_name)`` of an address that takes no arguments, such as a list's."""
        return self.origin + _plain_address(view_name, self.where)

    def record(self, record):
        """``record.get_absolute_url()``, of a model whose address depends only on its slug."""
        return self._fill(_record_address(type(record), self.where), record.slug)


@lru_cache(maxsize=256)
def _record_address(model, where):
    with translation.override(where[0]):
        return model(slug=PLACEHOLDER).get_absolute_url()


def _fill(address, slug, request):
    start, _placeholder, end = address.rpartition(PLACEHOLDER)
    path = f"{start}{slug}{end}"
    return request.build_absolute_uri(path) if request is not None else path


def slug_url(view_name, slug, request=None):
    """``reverse(view_name, kwargs={"slug": slug})``, absolute when a request is given."""
    if not slug:  # as reverse() says it: a record not saved yet has no address
        raise NoReverseMatch(f"{view_name} needs a slug")
    return _fill(_view_address(view_name, _where()), slug, request)
