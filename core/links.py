"""Addresses of records by slug, reversed once per URL and language instead of per record.

An API list page links every record and participant two ways (its API address and its
public page); ``reverse()`` for each was a fifth of the page's time. The address differs
between records only in the slug, so it is reversed once with a placeholder.
"""

from functools import lru_cache

from django.conf import settings
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language

# Fits the <slug:...> converter; no real address part looks like it.
PLACEHOLDER = "0-slug-placeholder-0"


def _where():
    """What else an address depends on: the language, the script prefix, the URLconf."""
    return get_language(), get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF


@lru_cache(maxsize=256)
def _view_address(view_name, where):
    return reverse(view_name, kwargs={"slug": PLACEHOLDER})


@lru_cache(maxsize=256)
def _record_address(model, where):
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


def record_url(record, request=None):
    """``record.get_absolute_url()`` of a model whose address depends only on its slug."""
    return _fill(_record_address(type(record), _where()), record.slug, request)
