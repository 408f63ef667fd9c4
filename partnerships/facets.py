"""The partnership counts that need no filter, kept up to date by the writes themselves.

The partnership list, map and network show facets (status, kind, theme, countries, kinds of
place and of organisation taking part), and the list and the home page chart starts per
year and count kinds by status. Without a filter, each of those counts the whole registry:
0.2–0.6 s a facet at 100,000 partnerships, paid again after every write. Here a write
recomputes the facet values of just the partnerships it touched and moves the counts by
the difference, in its own transaction: ``FacetValue`` holds each partnership's values as
last counted, ``FacetCount`` the counts, for everyone and for the public. A page without
a filter reads a few hundred rows instead of the registry; the participant filters test a
partnership's values in ``FacetValue`` too.

Every write path reaches ``refresh()`` in the model layer (``connect()``): ``post_save``,
``post_delete`` and ``m2m_changed`` for single writes, and ``core.versioning.bulk_written``
for ``update()``, ``bulk_create()`` and the import's own inserts. A place's or
organisation's country or kind counts too, for the partnerships it takes part in.
``recount()`` rebuilds everything from the records (the migration that made the tables,
``manage.py recount_facets``, a generated benchmark registry).
"""

from collections import Counter
from contextlib import contextmanager

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import BooleanField, Case, Value, When
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save

from core.filters import id_list
from core.models import Publication
from core.versioning import batch_finished, bulk_written, in_batch
from organisations.models import Organisation
from places.models import Place

from .models import FacetCount, FacetValue, Participant, Partnership, Theme

Themes = Partnership.themes.through

ALL, PUBLISHED = "all", "published"
# What a change to a partnership's fields must recount (the import's writer of its themes
# names them); other fields change no facet.
OWN_FIELDS = {"publication", "kind", "status", "start", "start_on", "themes"}
PARTY_FIELDS = {"country", "kind"}
CHUNK = 5000


def compute(ids, using=DEFAULT_DB_ALIAS):
    """{partnership id: frozenset of (facet, value)} for the partnerships of ``ids`` that
    exist, read from the records in three queries."""
    ids = list(ids)
    found = {}
    for pk, publication, kind, status, decade, start_on in (
        Partnership.objects.using(using)
        .filter(pk__in=id_list(ids))
        # A decade ("1980s") told apart in SQL: reading the start itself parses it.
        .annotate(
            decade=Case(
                When(start__endswith="s", then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .values_list("pk", "publication", "kind", "status", "decade", "start_on")
        .order_by()
    ):
        values = {
            ("publication", publication),
            ("status", status),
            ("kind", kind),
            ("kind_status", f"{kind}|{status}"),
        }
        if start_on is not None:
            # As the chart counts them: a decade apart, the rest by year.
            values.add(("started", "decade" if decade else f"{start_on.year}|{kind}"))
        found[pk] = values
    if not found:
        return {}
    chosen = id_list(list(found))
    for pk, theme in (
        Themes.objects.using(using)
        .filter(partnership_id__in=chosen)
        .values_list("partnership_id", "theme_id")
        .order_by()
    ):
        found[pk].add(("theme", str(theme)))
    for pk, place_country, place_kind, organisation_country, organisation_kind in (
        Participant.objects.using(using)
        .filter(partnership_id__in=id_list(list(found)))
        .values_list(
            "partnership_id",
            "place__country",
            "place__kind",
            "organisation__country",
            "organisation__kind",
        )
        .order_by()
    ):
        values = found[pk]
        if place_kind is not None:
            values.update({("country", place_country), ("place_kind", place_kind)})
        else:
            values.update(
                {("country", organisation_country), ("organisation_kind", organisation_kind)}
            )
    return {pk: frozenset(values) for pk, values in found.items()}


PUBLISHED_VALUE = ("publication", Publication.PUBLISHED)


def _tally(deltas, values, sign):
    published = PUBLISHED_VALUE in values
    for facet, value in values:
        deltas[(ALL, facet, value)] += sign
        if published:
            deltas[(PUBLISHED, facet, value)] += sign


@contextmanager
def recounted_after(using=DEFAULT_DB_ALIAS):
    """Write a registry's worth of records without refreshing each write, then recount
    everything once, in one transaction: for generators and bulk loads."""
    connection = connections[using]
    with transaction.atomic(using=using):
        connection.atlas_facets_paused = True
        try:
            yield
        finally:
            connection.atlas_facets_paused = False
        recount(using)


def refresh(ids, using=DEFAULT_DB_ALIAS):
    """Recount the facet values of the partnerships of ``ids`` (deleted ones included), and
    move the counts by the difference, in the caller's transaction."""
    connection = connections[using]
    if getattr(connection, "atlas_facets_paused", False):
        return
    ids = {pk for pk in ids if pk is not None}
    if not ids:
        return
    if in_batch(using):
        # Once, when the batch ends (_batch_finished).
        connection.atlas_facets_pending = getattr(connection, "atlas_facets_pending", set())
        connection.atlas_facets_pending |= ids
        return
    ordered = sorted(ids)
    with transaction.atomic(using=using, savepoint=False):
        for start in range(0, len(ordered), CHUNK):
            _refresh(ordered[start : start + CHUNK], using)


def _refresh(ids, using):
    # Locked, on PostgreSQL, so that two transactions touching one partnership cannot both
    # take its old values off the counts.
    stored = {}
    for pk, partnership, facet, value in (
        FacetValue.objects.using(using)
        .select_for_update()
        .filter(partnership_id__in=id_list(ids))
        .values_list("pk", "partnership_id", "facet", "value")
    ):
        stored.setdefault(partnership, {})[(facet, value)] = pk
    now = compute(ids, using)
    deltas = Counter()
    added, removed = [], []
    for pk in ids:
        before = stored.get(pk, {})
        after = now.get(pk, frozenset())
        if before.keys() == after:
            continue
        _tally(deltas, before.keys(), -1)
        _tally(deltas, after, +1)
        removed += [row for key, row in before.items() if key not in after]
        added += [(pk, facet, value) for facet, value in after - before.keys()]
    if removed:
        FacetValue.objects.using(using).filter(pk__in=id_list(removed)).delete()
    _insert(added, using)
    _apply(deltas, using)


def _insert(rows, using):
    """(partnership id, facet, value) rows, in one statement per 900."""
    if not rows:
        return
    connection = connections[using]
    table = connection.ops.quote_name(FacetValue._meta.db_table)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 900):  # 2,700 parameters, under every limit
            chunk = rows[start : start + 900]
            cursor.execute(
                f"INSERT INTO {table} (partnership_id, facet, value) VALUES "
                + ", ".join(["(%s, %s, %s)"] * len(chunk)),
                [item for row in chunk for item in row],
            )


def _apply(deltas, using):
    """Move each count by its delta: one upsert per changed value, on either database."""
    rows = [(*key, delta) for key, delta in deltas.items() if delta]
    if not rows:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(FacetCount._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (scope, facet, value, {quote('count')}) VALUES (%s, %s, %s, %s) "
            f"ON CONFLICT (scope, facet, value) DO UPDATE "
            f"SET {quote('count')} = {table}.{quote('count')} + excluded.{quote('count')}",
            rows,
        )


def recount(using=DEFAULT_DB_ALIAS):
    """Every partnership's facet values and every count, rebuilt from the records."""
    with transaction.atomic(using=using):
        FacetValue.objects.using(using).all().delete()
        FacetCount.objects.using(using).all().delete()
        ids = list(Partnership.objects.using(using).order_by("pk").values_list("pk", flat=True))
        deltas = Counter()
        for start in range(0, len(ids), CHUNK):
            found = compute(ids[start : start + CHUNK], using)
            _insert([(pk, *value) for pk, values in found.items() for value in values], using)
            for values in found.values():
                _tally(deltas, values, +1)
        _apply(deltas, using)


# Reading --------------------------------------------------------------------------------


def scope_of(queryset):
    """``ALL`` or ``PUBLISHED`` when ``queryset`` holds every partnership, or every
    published one, and nothing narrower: what the kept counts count. None otherwise."""
    sql = _sql(queryset)
    if sql is None:
        return None
    for scope, whole in (
        (ALL, Partnership.objects.all()),
        (PUBLISHED, Partnership.objects.published()),
    ):
        if sql == _sql(whole.using(queryset.db)):
            return scope
    return None


def _sql(queryset):
    from django.core.exceptions import EmptyResultSet

    try:
        return str(queryset.order_by().values("pk").query)
    except EmptyResultSet:
        return None


def counts(scope, facets, using=DEFAULT_DB_ALIAS):
    """{facet: {value: count}} of ``facets`` for ``scope``, values counted at least once."""
    found = {facet: {} for facet in facets}
    for facet, value, count in (
        FacetCount.objects.using(using)
        .filter(scope=scope, facet__in=list(facets), count__gt=0)
        .values_list("facet", "value", "count")
    ):
        found[facet][value] = count
    return found


def started(scope, using=DEFAULT_DB_ALIAS):
    """({year: {kind: count}}, decade-only starts), as ``started_per_year`` counts them."""
    per_year, decade_only = {}, 0
    for value, count in counts(scope, ["started"], using)["started"].items():
        if value == "decade":
            decade_only += count
            continue
        year, kind = value.split("|", 1)
        per_year.setdefault(int(year), {})[kind] = count
    return per_year, decade_only


# Keeping --------------------------------------------------------------------------------


def connect():
    """Have every write path refresh the partnerships it touched (``PartnershipsConfig``)."""
    uid = "partnerships.facets"
    post_save.connect(_own_saved, sender=Partnership, dispatch_uid=uid)
    post_delete.connect(_own_saved, sender=Partnership, dispatch_uid=uid)
    post_save.connect(_participant_written, sender=Participant, dispatch_uid=uid)
    post_delete.connect(_participant_written, sender=Participant, dispatch_uid=uid)
    # Rows of the themes table send no post_save or post_delete of their own: adding,
    # removing and clearing send m2m_changed; deleting a theme takes its rows along.
    m2m_changed.connect(_themes_changed, sender=Themes, dispatch_uid=uid)
    pre_delete.connect(_theme_deleting, sender=Theme, dispatch_uid=uid)
    post_delete.connect(_theme_deleted, sender=Theme, dispatch_uid=uid)
    for party in (Place, Organisation):
        pre_save.connect(_party_saving, sender=party, dispatch_uid=uid)
        post_save.connect(_party_saved, sender=party, dispatch_uid=uid)
        bulk_written.connect(_parties_written, sender=party, dispatch_uid=uid)
    bulk_written.connect(_own_written, sender=Partnership, dispatch_uid=uid)
    bulk_written.connect(_participants_written, sender=Participant, dispatch_uid=uid)
    batch_finished.connect(_batch_finished, dispatch_uid=uid)


def _batch_finished(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    connection = connections[using]
    pending, connection.atlas_facets_pending = (
        getattr(connection, "atlas_facets_pending", ()),
        set(),
    )
    refresh(pending, using)


def _own_saved(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    refresh([instance.pk], using)


def _participant_written(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    refresh([instance.partnership_id], using)


def _themes_changed(sender, instance, action, reverse, pk_set, using=DEFAULT_DB_ALIAS, **kwargs):
    if not reverse:  # partnership.themes.add(…): the one partnership
        if action in ("post_add", "post_remove", "post_clear"):
            refresh([instance.pk], using)
    elif action in ("post_add", "post_remove"):  # theme.partnerships.add(…)
        refresh(pk_set, using)
    elif action == "pre_clear":
        _theme_deleting(sender, instance, using)
    elif action == "post_clear":
        _theme_deleted(sender, instance, using)


def _theme_deleting(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    # Which partnerships had the theme, read before its rows go.
    instance._facet_partnerships = list(
        Themes.objects.using(using)
        .filter(theme_id=instance.pk)
        .values_list("partnership_id", flat=True)
    )


def _theme_deleted(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    refresh(getattr(instance, "_facet_partnerships", ()), using)


def _party_saving(sender, instance, raw=False, using=DEFAULT_DB_ALIAS, **kwargs):
    # What the country and kind were, to recount the place's partnerships only when
    # either changed: a place with thousands of ties is saved for a new name, too.
    instance._facet_before = (
        sender._base_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("country", "kind")
        .first()
        if instance.pk is not None
        else None
    )


def _party_saved(sender, instance, created, using=DEFAULT_DB_ALIAS, **kwargs):
    before = getattr(instance, "_facet_before", None)
    if created or before is None or before == (str(instance.country or ""), instance.kind):
        return
    _refresh_parties(sender, [instance.pk], using)


def _parties_written(sender, using=DEFAULT_DB_ALIAS, pks=None, fields=None, **kwargs):
    # New places and organisations take part in nothing yet: only updates count.
    if pks and fields and fields & PARTY_FIELDS:
        _refresh_parties(sender, pks, using)


def _refresh_parties(model, pks, using):
    party = "place" if model._meta.model_name == "place" else "organisation"
    refresh(
        Participant.objects.using(using)
        .filter(**{f"{party}_id__in": id_list(pks)})
        .values_list("partnership_id", flat=True),
        using,
    )


def _own_written(sender, using=DEFAULT_DB_ALIAS, pks=None, objs=None, fields=None, **kwargs):
    if objs is not None:
        if any(obj.pk is None for obj in objs):  # bulk_create(ignore_conflicts=True)
            recount(using)
        else:
            refresh([obj.pk for obj in objs], using)
    elif pks and (fields is None or fields & OWN_FIELDS):
        refresh(pks, using)


def _participants_written(
    sender, using=DEFAULT_DB_ALIAS, pks=None, objs=None, fields=None, **kwargs
):
    if objs is not None:
        refresh([obj.partnership_id for obj in objs], using)
    elif pks and fields and fields & {"partnership", "partnership_id"}:
        # Moved to another partnership: the ones they left are no longer known.
        recount(using)
    elif pks:
        refresh(
            sender.objects.using(using)
            .filter(pk__in=id_list(pks))
            .values_list("partnership_id", flat=True),
            using,
        )
