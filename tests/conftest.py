import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.utils import translation

from core import cache as site_cache
from core.permissions import EDITORS, VIEWERS
from core.templatetags import atlas as atlas_tags

from .factories import UserFactory


def _staff_in(group_name):
    user = UserFactory(username=group_name.lower(), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture(autouse=True)
def _private_cache(settings):
    # Throttle counts and token lockouts live in the cache: each test starts with an empty
    # one of its own process, never the site's shared file cache.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    cache.clear()
    # Nor a value another test's process kept for itself (``per_version(local=True)``,
    # ``read_once``): each test's registry starts at the same versions.
    site_cache.forget_local()
    # Nor a filter form written by another test (``filter_form``).
    atlas_tags._FORMS.clear()
    # Views are tested as they render, their queries counted; the ``page_cache`` fixture
    # turns the page cache on.
    settings.ATLAS_CACHE_PAGES = False


@pytest.fixture
def page_cache(_private_cache, settings):
    """The page cache on, as in production (``pytest.mark.usefixtures("page_cache")``)."""
    settings.ATLAS_CACHE_PAGES = True


@pytest.fixture(autouse=True)
def _site_language(settings):
    # A request to a /da/ page leaves Danish active in the thread; every test starts in the
    # site's default language, as a new request or command would.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def editor(db):
    return _staff_in(EDITORS)


@pytest.fixture
def viewer(db):
    return _staff_in(VIEWERS)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
