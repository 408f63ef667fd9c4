"""Who sees drafts: the one rule every public page, feed and API answer follows.

The rule itself is ``RecordQuerySet.visible_to``; these helpers apply it to a request
and to a single record's link.
"""

import functools

from django.apps import apps
from django.conf import settings
from django.db.models import OuterRef, Q, Subquery
from django.db.models.lookups import Exact

from .models import Publication, Publishable, sees_every


def viewer(request):
    """Who reads the page, for ``visible_to``: None (the public) when no session cookie came.

    Without the cookie there is no login to find, and reading the session would mark every
    public page ``Vary: Cookie``, which keeps it out of the page cache (core.middleware).
    """
    if hasattr(request, "successful_authenticator"):
        # An API request (DRF's): a token signs staff in without any cookie.
        return request.user
    if request is None or settings.SESSION_COOKIE_NAME not in request.COOKIES:
        return None
    return request.user


def sees_drafts(model, user):
    """Whether ``user`` sees ``model``'s drafts: the rule is ``RecordQuerySet.visible_to``'s
    (``sees_every``), asked without building its queryset: four times for each map drawn,
    building them took 0.3 ms."""
    return not hasattr(model, "publication") or sees_every(model, user)


def published_through(path, model, user):
    """The condition that the ``model`` record reached through ``path`` is one ``user``
    may see, tested on the join, or None when they see every one. ``visible_to`` used
    across a relation is an ``IN (subquery)`` of every published record, which led
    SQLite to read every row of the table filtered."""
    if sees_drafts(model, user):
        return None
    return Q(**{f"{path}__publication": Publication.PUBLISHED})


def published_looked_up(field, model, user):
    """``published_through`` for a few rows whose ``model`` record is the foreign key
    ``field``: each row's record looked up by its key, not joined. PostgreSQL joined the
    200 events a country's page reads first to every partnership by hashing all 10,000
    (2.1 ms of the page at 10,000 partnerships, 0.4 ms so); a lookup in a subquery is
    never turned into a join."""
    if sees_drafts(model, user):
        return None
    # In no order: in its model's, PostgreSQL sorted each row's one record by title.
    publication = model._base_manager.filter(pk=OuterRef(field)).order_by().values("publication")
    return Exact(Subquery(publication), Publication.PUBLISHED)


def linkable(record, user):
    """Whether a link to ``record`` leads ``user`` to a page (a draft's is 404 for others)."""
    return getattr(record, "is_published", True) or sees_drafts(type(record), user)


@functools.cache
def _publishable():
    return tuple(model for model in apps.get_models() if issubclass(model, Publishable))


def drafts_seen(user):
    """The types of record whose drafts ``user`` sees (their labels): what links to drafts
    depend on, for HTML kept for more than one reader (``core.detail``)."""
    if user is None:
        return ()
    return tuple(model._meta.label for model in _publishable() if sees_drafts(model, user))
