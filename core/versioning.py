"""The registry version: one number that every write to the registry moves, in its own
transaction, so that a page cached under a version is never older than that version.

``bump()`` increments it; ``current()`` reads it. Public responses are cached under the
version (``core.middleware.PublicCacheMiddleware``): a write makes every cached page a miss,
and a reader never sees a version without the data written with it (both commit together).

Writes reach it in the model layer, whatever path makes them: ``post_save``,
``post_delete`` and ``m2m_changed`` for every model of the registry's apps (``watch()``,
from ``CoreConfig.ready``), and ``VersionedQuerySet`` for the bulk paths that send no
signal. A bulk write to an automatic many-to-many table (``Model.field.through``) or raw
SQL sends none either: call ``bump()`` in the same transaction. ``migrate`` and ``flush``
bump too, and ``restore`` moves the version past the one it replaced.

Five more numbers, the places, organisations, map, counts and events versions, move only
with writes to the places, to the organisations, to the counts the map draws, to any kept
count, or to the events (``PART_MODELS``; each also with every write of unknown kind).
What is worked out from those alone is kept under them and outlives every other write:
the map's layout and drawing (``atlas.explore``), a place's own parts of its page
(``places.views``), an organisation's, the first organisations of a place
(``organisations``), the facets of a list filtered only by what the counts keep
(``core.filters``), and which events a place's timeline shows. The counts are written
by their keeper (``partnerships.facets``), which moves the counts version when one of
them changes, and the map version when one of the map's does, or the kind or status of
a partnership on the map.

``bulk_written`` tells the model layer's other keepers (the partnership facet counts,
``partnerships.facets``) what a bulk path wrote, since it sends no per-row signal;
``batch()`` lets them do their work once for many such writes.
"""

import functools
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.db.models.functions import Greatest
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .search import RowsById
from .text import tidy, tidy_fields
from .translation import PlainRowsQuerySet

# The apps whose rows the public site shows.
REGISTRY_APPS = ("core", "places", "organisations", "partnerships")
# Rows of those apps that no public page shows: an import's bookkeeping (its records are
# written, and so bump, in the same transaction), the API's creates kept by their key
# (likewise), staff's "not a duplicate" decisions and the version itself.
UNWATCHED = {
    "core.idempotentrequest",
    "core.importbatch",
    "core.importbatchitem",
    "core.notduplicate",
    "core.registryversion",
}

ROW = 1

# Writes to these move a part's version too: the places, the organisations, and what the
# pages of each show of them (other names, figures, sources).
PART_MODELS = {
    "places": frozenset(
        {
            "places.place",
            "places.placename",
            "places.placefigure",
            "places.place_sources",
            "core.source",
        }
    ),
    "organisations": frozenset(
        {
            "organisations.organisation",
            "organisations.organisationname",
            "organisations.organisation_sources",
            "core.source",
        }
    ),
    # The partnerships counted on the map's places and ties, kept by
    # ``partnerships.facets``, which bumps with this model when one of them moves.
    "map": frozenset({"partnerships.facetcount"}),
    # Every partnership's kept facet values and counts, moved by the same keeper when any
    # of them changes (``partnerships.facets``), and the themes they name by id: what the
    # facets of a list count from those alone is kept under it
    # (``core.filters.RecordFilterSet.counted_from``), across writes that move no count.
    "counts": frozenset(
        {"partnerships.facetcount", "partnerships.facetvalue", "partnerships.theme"}
    ),
    # The partnerships' events: with the counts (which partnerships lie in a place, and
    # which the public sees) and the places, they decide which events a place's
    # timeline shows (``partnerships.templatetags.partnership_tags``).
    "events": frozenset({"partnerships.event"}),
}
PARTS = tuple(PART_MODELS)


def _columns(part):
    return f"{part}_value", f"{part}_changed_at"


# Sent after a bulk write that sends no per-row signal, inside its transaction, only to
# receivers of its model: ``QuerySet.update()`` (``pks``, the rows it matched, read before
# the update, and ``fields``), ``bulk_create()`` and the import's own inserts (``objs``,
# with their primary keys). Raw writers send it themselves with ``written()``.
bulk_written = Signal()


# Sent when the outermost ``batch()`` ends without an error, inside its transaction.
batch_finished = Signal()


@contextmanager
def batch(using=DEFAULT_DB_ALIAS):
    """Many bulk writes as one, such as an import's: keepers of what is derived from the
    records (``partnerships.facets``) note what each write touched and do their work once,
    on ``batch_finished``, instead of after every write."""
    connection = connections[using]
    outer = not getattr(connection, "atlas_batch", False)
    connection.atlas_batch = True
    try:
        yield
    finally:
        if outer:
            connection.atlas_batch = False
    if outer:
        batch_finished.send(sender=None, using=using)


def in_batch(using=DEFAULT_DB_ALIAS):
    return getattr(connections[using], "atlas_batch", False)


def written(model, using=DEFAULT_DB_ALIAS, pks=None, objs=None, fields=None):
    """After a bulk write to ``model`` that sent no signal: bump, and tell the keepers."""
    bump(using, model=model)
    bulk_written.send(sender=model, using=using, pks=pks, objs=objs, fields=fields)


class RegistryVersion(models.Model):
    """The one row holding the registry version (``core.versioning``)."""

    value = models.BigIntegerField(_("version"), default=1)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    # The version and the moment of the last write to the places, and to the
    # organisations (PART_MODELS).
    places_value = models.BigIntegerField(_("places version"), default=1)
    places_changed_at = models.DateTimeField(_("places changed"), default=timezone.now)
    organisations_value = models.BigIntegerField(_("organisations version"), default=1)
    organisations_changed_at = models.DateTimeField(
        _("organisations changed"), default=timezone.now
    )
    # And of the last write to the map's counts.
    map_value = models.BigIntegerField(_("map version"), default=1)
    map_changed_at = models.DateTimeField(_("map changed"), default=timezone.now)
    # And of the last write to any kept count.
    counts_value = models.BigIntegerField(_("counts version"), default=1)
    counts_changed_at = models.DateTimeField(_("counts changed"), default=timezone.now)
    # And of the last write to an event.
    events_value = models.BigIntegerField(_("events version"), default=1)
    events_changed_at = models.DateTimeField(_("events changed"), default=timezone.now)

    class Meta:
        verbose_name = _("registry version")
        constraints = [
            models.CheckConstraint(condition=models.Q(id=ROW), name="registry_version_one_row")
        ]

    def __str__(self):
        return str(self.value)


# The version the page cache read for the request being served (PublicCacheMiddleware sets
# it for an anonymous GET, which writes nothing), so that values kept per version
# (core.cache.per_version) are keyed by it without a second query.
request_version = ContextVar("atlas_request_version", default=None)
# And the versions of the parts ({part: (value, changed_at)}), read in the same query
# (``current(parts=True)``).
request_part_versions = ContextVar("atlas_request_part_versions", default=None)


def current(using=DEFAULT_DB_ALIAS, parts=False):
    """``(value, changed_at)`` of the registry as this connection sees it: one query by
    primary key (the row is created again if a ``flush`` removed it). With ``parts``, the
    versions of the parts too, in the same query: ``((value, changed_at), {part: (value,
    changed_at)})``."""
    if not parts:
        return _read(using, "value", "changed_at")
    found = _read(using, "value", "changed_at", *(c for part in PARTS for c in _columns(part)))
    return found[:2], {part: found[2 + 2 * i : 4 + 2 * i] for i, part in enumerate(PARTS)}


def part_version(part, using=DEFAULT_DB_ALIAS):
    """``(value, changed_at)`` of the last write to ``part`` ("places", "organisations",
    "map", "counts", "events"): the request's, while a public page is served, else read
    as ``current()`` reads the registry's."""
    return part_versions([part], using)[0]


def part_versions(parts, using=DEFAULT_DB_ALIAS):
    """[``part_version(part)`` of each of ``parts``]: the request's, or read in one
    query."""
    if using == DEFAULT_DB_ALIAS and (found := request_part_versions.get()) is not None:
        return [found[part] for part in parts]
    found = _read(using, *(column for part in parts for column in _columns(part)))
    return [found[2 * i : 2 * i + 2] for i in range(len(parts))]


def places_version(using=DEFAULT_DB_ALIAS):
    """``part_version("places")``: the version the map's layout is kept under."""
    return part_version("places", using)


def _read(using, *columns):
    # A reader may cache pages under this version: the next write must move it again,
    # even inside the transaction that moved it last (see bump()).
    connections[using].atlas_pending_bump = None
    found = _reader(columns).rows([ROW], using)
    if not found:
        version, _created = RegistryVersion.objects.using(using).get_or_create(pk=ROW)
        return tuple(getattr(version, column) for column in columns)
    return found[0]


@functools.cache
def _reader(columns):
    """The row's ``columns``, read by SQL compiled once: every cached page, hit or miss,
    reads the version, and building the query took 0.57 ms of CPU on PostgreSQL and
    0.27 on SQLite, against 0.22 and 0.04 so."""
    return RowsById(lambda ids: RegistryVersion.objects.filter(pk__in=ids).values_list(*columns))


class _Pending:
    """Sits in the connection's on-commit list while a bump is uncommitted: Django drops it
    when the transaction, or the savepoint that made the bump, rolls back. ``parts``: the
    parts whose versions the bump moved too."""

    def __init__(self, parts):
        self.parts = parts

    def __call__(self):
        pass


def bump(using=DEFAULT_DB_ALIAS, at_least=0, model=None, parts=None):
    """Move the version on, inside the caller's transaction; a part's version too when
    ``model`` is one of its PART_MODELS, and every part's when ``model`` is not given (a
    raw write, a restore, a migration). ``parts``: the parts to move instead, by name,
    for a keeper that knows which (a partnership renamed moves the map alone).

    One UPDATE per transaction: later writes in the same transaction skip theirs, unless
    the version was read (``current()``) since, as a page rendered inside the transaction
    would have been cached under it, or unless they write a part the first did not.
    ``at_least`` moves it past a value, for a ``restore`` that brings back an older one.
    """
    connection = connections[using]
    if parts is not None:
        parts = frozenset(parts)
    else:
        label = model._meta.label_lower if model is not None else None
        parts = frozenset(
            p for p, labels in PART_MODELS.items() if label is None or label in labels
        )
    pending = getattr(connection, "atlas_pending_bump", None)
    # A bump of this transaction still to commit (not rolled back with a savepoint).
    if pending is not None and not any(e[1] is pending for e in connection.run_on_commit):
        pending = None
    if pending is not None and parts <= pending.parts:
        return
    now = timezone.now()
    versions = RegistryVersion.objects.using(using).filter(pk=ROW)
    value = Greatest(models.F("value"), at_least) + 1 if at_least else models.F("value") + 1
    moved = {"value": value, "changed_at": now}
    for part in parts:
        moved.update(dict(zip(_columns(part), (value, now), strict=True)))
    if not versions.update(**moved):
        # Created again after a flush or a restore of a database without it: the new
        # changed_at is part of every cache key, so no page cached before can match.
        defaults = {"value": at_least + 1, "changed_at": now}
        for part in PARTS:
            defaults.update(dict(zip(_columns(part), (at_least + 1, now), strict=True)))
        versions.get_or_create(pk=ROW, defaults=defaults)
    if connection.in_atomic_block:
        # What this transaction moved so far: a later bump of it moves only the value and
        # what this one did not, and still counts as moving those.
        if pending is not None:
            parts |= pending.parts
        connection.atlas_pending_bump = _Pending(parts)
        connection.on_commit(connection.atlas_pending_bump)


class VersionedQuerySet(PlainRowsQuerySet):
    """Bulk writes bump the version in their own transaction; ``save()`` and ``delete()``
    reach ``bump()`` through signals. ``bulk_update()`` runs through ``update()``."""

    def update(self, **kwargs):
        if getattr(self.model, "tidy_text", False):
            kwargs = {name: tidy(value) for name, value in kwargs.items()}
        derives = self.derives_from(kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            # Which rows, read only when a keeper listens or fields derived from those
            # written must be derived again: after the update the filter may no longer
            # match them.
            pks = (
                list(self.order_by().values_list("pk", flat=True))
                if derives or bulk_written.has_listeners(self.model)
                else None
            )
            rows = super().update(**kwargs)
            if rows:
                if derives:
                    # Before the keepers hear of it: they read what is derived.
                    self.derive_again(pks)
                written(self.model, self.db, pks=pks, fields=set(kwargs))
        return rows

    def derives_from(self, fields):
        """Whether fields of the rows are derived from any of ``fields`` (core.models)."""
        return False

    def derive_again(self, pks):
        """Derive those fields again for the rows of ``pks``."""

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        if getattr(self.model, "tidy_text", False):
            for obj in objs:
                tidy_fields(obj)
        with transaction.atomic(using=self.db, savepoint=False):
            created = super().bulk_create(objs, *args, **kwargs)
            if created:
                written(self.model, self.db, objs=created)
        return created


def changed(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    bump(using, model=sender)


def links_changed(sender, action, using=DEFAULT_DB_ALIAS, **kwargs):
    if action in ("post_add", "post_remove", "post_clear"):
        bump(using, model=sender)


def migrated(sender, using=DEFAULT_DB_ALIAS, apps=None, **kwargs):
    """After ``migrate`` (a deploy: templates and code may have changed) and ``flush``."""
    if apps is not None:  # migrate passes the state it reached; flush passes none
        try:
            apps.get_model("core", "RegistryVersion")
        except LookupError:
            return  # migrated back to before it existed
    bump(using)


def watched_models():
    """Every model of the registry apps whose writes move the version; history tables and
    models marked ``derived`` (counts kept from the records) are written together with
    their records and left out."""
    from django.apps import apps
    from simple_history.models import HistoricalChanges

    for label in REGISTRY_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if (
                model._meta.label_lower in UNWATCHED
                or issubclass(model, HistoricalChanges)
                or getattr(model, "derived", False)
            ):
                continue
            yield model


def watch(core_config):
    post_migrate.connect(migrated, sender=core_config, dispatch_uid="core.versioning.migrated")
    for model in watched_models():
        uid = f"core.versioning:{model._meta.label_lower}"
        post_delete.connect(changed, sender=model, dispatch_uid=uid)
        if model._meta.auto_created:
            m2m_changed.connect(links_changed, sender=model, dispatch_uid=uid)
        else:
            post_save.connect(changed, sender=model, dispatch_uid=uid)
