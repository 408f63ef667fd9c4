"""The partnership counts that need no filter, kept up to date by the writes themselves.

The partnership list, map and network show facets (status, kind, theme, countries, kinds of
place and of organisation taking part), and the list and the home page chart starts per
year and count kinds by status. Without a filter, each of those counts the whole registry:
0.2–0.6 s a facet at 100,000 partnerships, paid again after every write. Here a write
recomputes the facet values of just the partnerships it touched and moves the counts by
the difference, in its own transaction: ``FacetValue`` holds each partnership's values as
last counted, ``FacetCount`` the counts, for everyone and for the public. A page without
a filter reads a few hundred rows instead of the registry; the participant filters test a
partnership's values in ``FacetValue`` too. The map is kept the same way: the places
each partnership is drawn at, its ties between them and between their regions (``Drawn``).
So are the places it lies in at any depth (``WITHIN``), for a place's page and the list's
place filter, and the first year as of which it is listed (``AS_OF_FROM``), for a list
as of a year. Some counts are also kept narrower: per kind and status (``within``), per
theme (``of_theme``) and per that first year (``dated``).

Every write path reaches ``refresh()`` in the model layer (``connect()``): ``post_save``,
``post_delete`` and ``m2m_changed`` for single writes, and ``core.versioning.bulk_written``
for ``update()``, ``bulk_create()`` and the import's own inserts. A place's or
organisation's fields that facets read count too (``PARTY_FIELDS``), for the partnerships
it takes part in, and a place's parent or kind for those of the places below it.
``recount()`` rebuilds everything from the records (the migration that made the tables,
``manage.py recount_facets``, a generated benchmark registry).
"""

import functools
from collections import Counter
from contextlib import contextmanager
from itertools import combinations

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import BooleanField, Case, Count, Q, Sum, Value, When
from django.db.models.functions import Substr
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.db.models.sql.where import WhereNode
from django.utils import timezone

from core.cache import read_once, records_sql, whole_sql
from core.models import Publication, subtree_ids
from core.search import id_list, text_list
from core.translation import translated_columns, untranslated
from core.versioning import (
    batch_finished,
    bulk_written,
    bump,
    in_batch,
    request_part_versions,
)
from organisations.models import Organisation
from places.models import CHAIN_DEPTH, Place, lineages, region_in

from .as_of import UNCONFIRMED_PLAN, first_year_as_of
from .models import (
    WITHIN,
    FacetCount,
    FacetLine,
    FacetValue,
    Participant,
    Partnership,
    Theme,
)
from .revisions import BEFORE, partnerships_touched, remember_partnership

Themes = Partnership.themes.through

ALL, PUBLISHED = "all", "published"
# What a change to a partnership's fields must recount (the import's writer of its themes
# names them); other fields change no facet.
OWN_FIELDS = {
    "publication",
    "kind",
    "status",
    "start",
    "start_on",
    "themes",
    # The years "as of" which a partnership is listed (``AS_OF_FROM``).
    "status_as_of",
    "status_as_of_on",
    "end",
    "end_on",
}
# What a map's line of one partnership shows of it (``atlas.explore._named``): the map is
# kept named under the map version, which a write to any of these moves too, and only
# that version (``_own_saved``, ``_own_written``). Renames are rare; reading the names at
# every answer took a third of the filtered map's at 100,000 partnerships.
NAMED_FIELDS = ("slug", *translated_columns("title"))
# What a change to a place or an organisation must recount, for the partnerships it takes
# part in: its country and kind are facets, its publication decides who sees it on the
# map, and where it lies where the map draws it.
PARTY_FIELDS = {
    Place: ("country", "kind", "publication", "parent"),
    Organisation: ("country", "kind", "publication", "place"),
}
# A place's parent and kind decide the regions of the places below it too.
REGION_FIELDS = {"parent", "kind"}
CHUNK = 5000
# The facets of the partnership list and the search, whose values each partnership also
# keeps as one line of text (``FacetLine``), for counting what a filter keeps.
LISTED = {"status", "kind", "theme", "country", "place_kind", "organisation_kind"}
# What each partnership's line holds: the list's facets and its start as the chart counts
# it, so that a filtered list draws its chart from the lines its facets read.
LINED = LISTED | {"started"}
VALUE_COLUMNS = ("partnership_id", "facet", "value")
LINE_COLUMNS = ("partnership_id", "text")


def compute(ids, using=DEFAULT_DB_ALIAS):
    """{partnership id: frozenset of (facet, value)} for the partnerships of ``ids`` that
    exist, read from the records in three queries."""
    ids = list(ids)
    found = {}
    for pk, publication, kind, status, decade, circa, start_on, confirmed_on, end_on in (
        Partnership.objects.using(using)
        .filter(pk__in=id_list(ids))
        # A decade ("1980s") and a circa start ("c. 2008") told apart in SQL, as the as-of
        # filter tells the second: reading the start itself parses it.
        .annotate(
            decade=Case(
                When(start__endswith="s", then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
            circa=Case(
                When(start__startswith="c. ", then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            ),
        )
        .values_list(
            "pk",
            "publication",
            "kind",
            "status",
            "decade",
            "circa",
            "start_on",
            "status_as_of_on",
            "end_on",
        )
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
        first = first_year_as_of(status, circa, start_on, confirmed_on, end_on)
        if first is not None:
            values.add((AS_OF_FROM, _as_of_value(first)))
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
    drawn = {pk: Drawn() for pk in found}
    for (
        pk,
        place_id,
        place_country,
        place_kind,
        place_publication,
        organisation_country,
        organisation_kind,
        organisation_publication,
        based_in,
    ) in (
        Participant.objects.using(using)
        .filter(partnership_id__in=id_list(list(found)))
        .values_list(
            "partnership_id",
            "place_id",
            "place__country",
            "place__kind",
            "place__publication",
            "organisation__country",
            "organisation__kind",
            "organisation__publication",
            "organisation__place_id",
        )
        .order_by()
    ):
        values = found[pk]
        if place_kind is not None:
            values.update({("country", place_country), ("place_kind", place_kind)})
            drawn[pk].add(place_id, place_publication == Publication.PUBLISHED)
        else:
            values.update(
                {("country", organisation_country), ("organisation_kind", organisation_kind)}
            )
            drawn[pk].add(based_in, organisation_publication == Publication.PUBLISHED)
    lines = lineages({pk for one in drawn.values() for pk in one.everyone}, using)
    regions = {pk: region_in(pk, line[1 : CHAIN_DEPTH + 1]) for pk, line in lines.items()}
    for pk, one in drawn.items():
        found[pk].update(one.values(regions))
        found[pk].update(
            (WITHIN, str(ancestor))
            for place in one.everyone
            for ancestor, _kind in lines.get(place, ())
        )
    return {pk: frozenset(values) for pk, values in found.items()}


PUBLISHED_VALUE = ("publication", Publication.PUBLISHED)

# The map's facets (``atlas.explore``: mapped, place, tie, region_tie, unplaced). The
# plain ones count what the public sees, the parties that are published; each ``draft_``
# one what staff see besides, so that staff's count of a value is the sum of the two. A
# partnership counts once in each.
DRAFT = "draft_"
MAPPED = frozenset({"mapped", "place", "tie", "region_tie", "unplaced"})


def pair(a, b):
    """A tie's value: its two ends' ids, the lower first, zero-padded so that the values
    sort as the pairs of numbers do (the map ranks ties by count, then by ends)."""
    return f"{a:012d}|{b:012d}" if a < b else f"{b:012d}|{a:012d}"


def ends(value):
    """A tie's two ends' ids, from its value (``pair``)."""
    a, b = value.split("|")
    return int(a), int(b)


def _with_drafts(names, drafts):
    """The map's facets ``names``, and with ``drafts`` their ``draft_`` ones besides."""
    return [*names, *(DRAFT + name for name in names)] if drafts else list(names)


def _ties(ids):
    ordered = sorted(ids)
    return {pair(a, b) for a, b in combinations(ordered, 2)}


class Drawn:
    """Where a partnership is on the map: the places of its parties (a place itself, an
    organisation where it is based), those of published parties apart."""

    def __init__(self):
        self.public, self.everyone = set(), set()
        self.public_unplaced = self.unplaced = 0
        self.any_public = self.any = False

    def add(self, place_id, published):
        self.any = True
        self.any_public |= published
        if place_id is None:
            self.unplaced += 1
            self.public_unplaced += published
            return
        self.everyone.add(place_id)
        if published:
            self.public.add(place_id)

    def values(self, regions):
        found = set()

        def both(facet, public, everyone):
            found.update((facet, value) for value in public)
            found.update((DRAFT + facet, value) for value in everyone - public)

        if self.any_public:
            found.add(("mapped", "1"))
        elif self.any:
            found.add((DRAFT + "mapped", "1"))
        both("place", {str(pk) for pk in self.public}, {str(pk) for pk in self.everyone})
        both("tie", _ties(self.public), _ties(self.everyone))
        both(
            "region_tie",
            _ties({regions[pk] for pk in self.public}),
            _ties({regions[pk] for pk in self.everyone}),
        )
        # How many participants have no place, as a value: the map says how many in all.
        if self.public_unplaced:
            found.add(("unplaced", str(self.public_unplaced)))
        if self.unplaced - self.public_unplaced:
            found.add((DRAFT + "unplaced", str(self.unplaced - self.public_unplaced)))
        return found


# The facets also kept per kind and status of the partnership, in the scope
# ``within(ALL or PUBLISHED, kind, status)``: a list filtered by status or kind alone
# adds those up instead of counting every participant of the partnerships it keeps, and
# takes its chart of starts from them instead of grouping the partnerships it keeps.
BY_KIND_STATUS = frozenset({"country", "place_kind", "organisation_kind", "theme", "started"})


def within(scope, kind, status):
    """The scope of the partnerships of ``scope`` of one kind and status."""
    return f"{scope}:{kind}|{status}"


# The facets and the chart of starts also kept per theme, in the scope
# ``of_theme(ALL or PUBLISHED, theme id)``: a list of one theme reads them instead of
# counting the values of a quarter of the registry (0.25 s at 100,000 partnerships).
BY_THEME = {"country", "place_kind", "organisation_kind", "kind", "status", "started"}


def of_theme(scope, theme):
    """The scope of the partnerships of ``scope`` with the theme of id ``theme``."""
    return f"{scope}~{theme}"


# The years as of which a partnership is listed (``as_of.queryset_as_of`` of a whole year):
# a value of each partnership, the first of them (``as_of.first_year_as_of``), four digits.
# The list's facets, its chart and its kinds by status are also kept per first year, in
# the scope ``dated(ALL or PUBLISHED, year)``, and the facets of ``BY_KIND_STATUS`` per
# kind, status and first year, in ``dated(within(…), year)``: a list as of a year adds up
# those of the years up to it instead of counting the partnerships it keeps (at 100,000
# partnerships the faceted list as of 2010 counted 3,634 of them, 19 ms of SQL).
AS_OF_FROM = "as_of_from"
BY_AS_OF = frozenset(LISTED | {"started", "kind_status"})


def _as_of_value(first):
    return first if first == UNCONFIRMED_PLAN else f"{first:04d}"


def dated(scope, first):
    """The scope of the partnerships of ``scope`` listed as of the year ``first`` (its
    ``AS_OF_FROM`` value) and after."""
    return f"{scope}@{first}"


def _tally(deltas, values, sign):
    scopes = [ALL, PUBLISHED] if PUBLISHED_VALUE in values else [ALL]
    kind_status = next((value for facet, value in values if facet == "kind_status"), None)
    narrow = [within(scope, *kind_status.split("|")) for scope in scopes] if kind_status else []
    themed = [
        of_theme(scope, value) for facet, value in values if facet == "theme" for scope in scopes
    ]
    first = next((value for facet, value in values if facet == AS_OF_FROM), None)
    listed_from = [dated(scope, first) for scope in scopes] if first else []
    narrow_from = [dated(scope, first) for scope in narrow] if first else []
    for facet, value in values:
        for scope in scopes:
            deltas[(scope, facet, value)] += sign
        if facet in BY_KIND_STATUS:
            for scope in (*narrow, *narrow_from):
                deltas[(scope, facet, value)] += sign
        if facet in BY_THEME:
            for scope in themed:
                deltas[(scope, facet, value)] += sign
        if facet in BY_AS_OF:
            for scope in listed_from:
                deltas[(scope, facet, value)] += sign


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
    mapped = False  # whether the map version moves (``_moves_the_map``)
    relisted = {}  # {id: facet values} of those whose listed values changed
    for pk in ids:
        before = stored.get(pk, {})
        after = now.get(pk, frozenset())
        if before.keys() == after:
            continue
        _tally(deltas, before.keys(), -1)
        _tally(deltas, after, +1)
        removed += [row for key, row in before.items() if key not in after]
        added += [(pk, facet, value) for facet, value in after - before.keys()]
        mapped = mapped or _moves_the_map(before.keys(), after)
        if _lined(before.keys()) != _lined(after):
            relisted[pk] = after
    if removed:
        FacetValue.objects.using(using).filter(pk__in=id_list(removed)).delete()
    _insert(FacetValue, VALUE_COLUMNS, added, using)
    _write_lines(relisted, using)
    if added or removed:
        # The values moved, if no count did (two partnerships that swapped their themes
        # in one batch): what is read of them is kept under the counts version too (the
        # lines a search counts, ``filters.line_counts``; the ties within a place).
        bump(using, model=FacetValue)
    if mapped:
        # Even with every count as it was: the map names a line's one partnership by the
        # ids kept with it, and keeps a map of some kinds and statuses (``atlas.explore``).
        # Its counts move with publication too, which no map value holds (``_apply``).
        bump(using, model=FacetCount)
    _apply(deltas, using)


def _insert(model, columns, rows, using):
    """``rows`` of ``columns`` into ``model``'s table, in one statement per 900."""
    if not rows:
        return
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = ", ".join(quote(column) for column in columns)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 900):  # 2,700 parameters at most, under every limit
            chunk = rows[start : start + 900]
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES " + ", ".join([placeholders] * len(chunk)),
                [item for row in chunk for item in row],
            )


def _lined(values):
    return {(facet, value) for facet, value in values if facet in LINED}


def line(values):
    """The ``FacetLine`` text of a partnership's facet ``values``: those of ``LINED``, one
    ``facet=value`` a line, sorted; empty for a partnership that is gone."""
    return "\n".join(sorted(f"{facet}={value}" for facet, value in _lined(values)))


def _line_rows(found):
    """The ``FacetLine`` rows of ``found`` ({partnership id: facet values}), none for the
    partnerships that are gone."""
    return [(pk, text) for pk, values in found.items() if (text := line(values))]


def _write_lines(lines, using):
    """Replace the ``FacetLine`` of each partnership of ``lines`` ({id: facet values})."""
    if lines:
        FacetLine.objects.using(using).filter(pk__in=id_list(lines)).delete()
        _insert(FacetLine, LINE_COLUMNS, _line_rows(lines), using)


# A partnership's values whose change moves the map version besides the map's own: the
# map of some kinds and statuses alone is kept under that version too (``atlas.explore``).
MAP_FILTERS = frozenset({"kind", "status"})
ON_MAP = frozenset({("mapped", "1"), (DRAFT + "mapped", "1")})


def _moves_the_map(before, after):
    """Whether the change of a partnership's values from ``before`` to ``after`` changes a
    map: a value of its own (a tie passed from one partnership to another, its count as
    it was), or the kind or status of a partnership with a party on the map."""
    changed = {facet.removeprefix(DRAFT) for facet, _value in before ^ after}
    if changed & MAPPED:
        return True
    return bool(changed & MAP_FILTERS) and not ON_MAP.isdisjoint(before | after)


# The map's facets whose number of values is kept besides, for the public: at 100,000
# partnerships counting the 106,292 ties between regions took 12-19 ms of the map's miss on
# PostgreSQL, to say how many it leaves out. Kept as the count of the value ``""`` of the
# facet ``values:<facet>``; staff, who see the values of drafts besides, count theirs.
NUMBERED = frozenset({"place", "region_tie"})
NUMBER = "values:"


def _apply(deltas, using):
    """Move each count by its delta: one upsert per changed value, on either database; and
    the number of values of each ``NUMBERED`` facet by those that came or went."""
    rows = sorted((*key, delta) for key, delta in deltas.items() if delta)
    if not rows:
        return
    # What is worked out from the counts alone is kept until they move: the facets of a
    # list (``core.filters``) until any does (the counts version), and what the map draws
    # (``atlas.explore``) until one of its own does (the map version, and the counts'
    # with it). In the transaction that moves them, as the registry version moves.
    if any(facet.removeprefix(DRAFT) in MAPPED for _scope, facet, _value, _delta in rows):
        bump(using, model=FacetCount)
    else:
        bump(using, model=FacetValue)
    connection = connections[using]
    quote = connection.ops.quote_name
    table = quote(FacetCount._meta.db_table)
    counted = quote("count")
    upsert = (
        f"INSERT INTO {table} (scope, facet, value, {counted}) VALUES {{}} "
        f"ON CONFLICT (scope, facet, value) DO UPDATE "
        f"SET {counted} = {table}.{counted} + excluded.{counted}"
    )
    numbered = [row for row in rows if row[1] in NUMBERED]
    plain = [row for row in rows if row[1] not in NUMBERED]
    with connection.cursor() as cursor:
        if plain:
            cursor.executemany(upsert.format("(%s, %s, %s, %s)"), plain)
        # A value came when its count rose from 0, and went when it fell to 0: the counts
        # after the upsert, as it returns them under the row's lock, say which, however
        # many transactions move the value at once.
        moved = Counter()
        for start in range(0, len(numbered), 500):  # 2,000 parameters at most
            chunk = numbered[start : start + 500]
            delta = {(scope, facet, value): d for scope, facet, value, d in chunk}
            sql = upsert.format(", ".join(["(%s, %s, %s, %s)"] * len(chunk)))
            params = [item for row in chunk for item in row]
            if connection.features.can_return_rows_from_bulk_insert:
                cursor.execute(sql + f" RETURNING scope, facet, value, {counted}", params)
                after = cursor.fetchall()
            else:
                # SQLite before 3.35 returns nothing; its writers take turns, so the
                # counts read first and moved here are those the upsert leaves.
                after = [(*key, count + delta[key]) for key, count in _counts_of(delta, using)]
                cursor.execute(sql, params)
            for scope, facet, value, count in after:
                before = count - delta[(scope, facet, value)]
                moved[(scope, NUMBER + facet, "")] += (count > 0) - (before > 0)
        if numbers := [(*key, change) for key, change in sorted(moved.items()) if change]:
            cursor.executemany(upsert.format("(%s, %s, %s, %s)"), numbers)


def _counts_of(keys, using):
    """((scope, facet, value), count) of each of ``keys``, 0 for one not counted yet."""
    found = dict.fromkeys(keys, 0)
    rows = FacetCount.objects.using(using).filter(
        scope__in={scope for scope, _facet, _value in keys},
        facet__in={facet for _scope, facet, _value in keys},
        value__in=text_list({value for _scope, _facet, value in keys}),
    )
    for scope, facet, value, count in rows.values_list("scope", "facet", "value", "count"):
        if (scope, facet, value) in found:
            found[(scope, facet, value)] = count
    return found.items()


def recount(using=DEFAULT_DB_ALIAS, lines=True):
    """Every partnership's facet values and every count, rebuilt from the records.

    The migrations before ``FacetLine``'s table recount with ``lines=False``; the one that
    made it writes the lines (``write_lines``)."""
    with transaction.atomic(using=using):
        FacetValue.objects.using(using).all().delete()
        if lines:
            FacetLine.objects.using(using).all().delete()
        FacetCount.objects.using(using).all().delete()
        bump(using, model=FacetCount)  # every count, the map's too, counted again
        ids = list(Partnership.objects.using(using).order_by("pk").values_list("pk", flat=True))
        deltas = Counter()
        for start in range(0, len(ids), CHUNK):
            found = compute(ids[start : start + CHUNK], using)
            rows = [(pk, *value) for pk, values in found.items() for value in values]
            _insert(FacetValue, VALUE_COLUMNS, rows, using)
            if lines:
                _insert(FacetLine, LINE_COLUMNS, _line_rows(found), using)
            for values in found.values():
                _tally(deltas, values, +1)
        _apply(deltas, using)


def number_values(apps, schema_editor):
    """Keep the number of values of each ``NUMBERED`` facet from the counts (a migration)."""
    counts = apps.get_model("partnerships", "FacetCount")
    using = schema_editor.connection.alias
    counts.objects.using(using).filter(facet__startswith=NUMBER).delete()
    numbers = (
        counts.objects.using(using)
        .filter(facet__in=NUMBERED, count__gt=0)
        .values("scope", "facet")
        .annotate(values=Count("pk"))
        .order_by()
    )
    counts.objects.using(using).bulk_create(
        counts(scope=row["scope"], facet=NUMBER + row["facet"], value="", count=row["values"])
        for row in numbers
    )


def write_lines(apps, schema_editor):
    """For the migrations that made ``FacetLine`` and added to what it holds: every
    partnership's line, from the values it keeps already."""
    using = schema_editor.connection.alias
    FacetLine.objects.using(using).all().delete()
    found = {}
    rows = FacetValue.objects.using(using).filter(facet__in=sorted(LINED)).order_by()
    for pk, facet, value in rows.values_list("partnership_id", "facet", "value").iterator(
        chunk_size=CHUNK
    ):
        found.setdefault(pk, set()).add((facet, value))
    _insert(FacetLine, LINE_COLUMNS, _line_rows(found), using)


# Reading --------------------------------------------------------------------------------


def scope_of(queryset):
    """``ALL`` or ``PUBLISHED`` when ``queryset`` holds every partnership, or every
    published one, and nothing narrower: what the kept counts count. None otherwise.

    Told once per queryset, and each whole one's SQL once per database: a list page
    asks four times, and writing out the SQL took 0.2 ms each time.
    """
    try:
        return queryset.__dict__["_facet_scope"]
    except KeyError:
        pass
    query = queryset.query
    # A query of more tests than the whole ones make (their publication at most) holds
    # fewer partnerships: told without writing out its SQL (0.5 ms for a search). A test
    # that holds every row adds no SQL, and is taken for one all the same: the
    # partnerships are then counted, not read from the kept counts.
    narrower = query.is_sliced or query.combinator or _tests(query.where) > _whole_tests()
    sql = None if narrower else records_sql(queryset)
    scope = None
    if sql is not None:
        wholes = whole_sql(Partnership, queryset.db)
        scope = next((scope for scope in (ALL, PUBLISHED) if sql == wholes[scope]), None)
    # Filtering or slicing clones the queryset, so what is told here stays true of it.
    queryset.__dict__["_facet_scope"] = scope
    return scope


def _tests(where):
    """How many tests the ``where`` of a query makes, the nested ones counted."""
    return sum(_tests(child) if isinstance(child, WhereNode) else 1 for child in where.children)


@functools.cache
def _whole_tests():
    """The most tests a whole registry's query makes (``core.cache.whole_sql``)."""
    records = Partnership._default_manager
    return max(_tests(whole.query.where) for whole in (records.all(), records.published()))


# The kept counts a public page reads of a scope: the total and the lists' facets (the
# statuses), the starts (the chart) and the kinds by status (the home page). A page asks
# for them in two to four parts; they are read together.
READ_TOGETHER = frozenset(LISTED | {"started", "kind_status", AS_OF_FROM})


def _kept_read(key, read, using):
    """``read()``, the rows of a query of the kept counts that ``key`` names, read once
    per counts version by this process while a public page is served
    (``core.cache.read_once``): every write that changes a kept count moves that version
    (``_apply``). The lists, the map and the network read the same few scopes with every
    request: a list filtered by two countries read them three times, 1–2 ms each on
    PostgreSQL at 10,000 partnerships, after any write, though few writes change a
    count."""
    return read_once("counts", key, lambda: tuple(read()), using)


def counts(scope, facets, using=DEFAULT_DB_ALIAS):
    """{facet: {value: count}} of ``facets`` for ``scope``, values counted at least once.

    While a public page is served, the ``READ_TOGETHER`` facets of a scope come from one
    query (``_kept_read``): the partnership list asked three times, 1.6 ms on PostgreSQL
    at 10,000 partnerships, against 0.8 ms at once.
    """
    return _together([scope], facets, READ_TOGETHER, using)


def _together(scopes, facets, together, using):
    """``_counted(scopes, facets)``, read with the rest of ``together`` while a public
    page is served (``counts``)."""
    if request_part_versions.get() is None or not together.issuperset(facets):
        return _counted(scopes, facets, using)
    found = _counted(scopes, together, using)
    return {facet: found[facet] for facet in facets}


def _counted(scopes, facets, using):
    """{facet: {value: count}} of ``facets``, added up over ``scopes``; new dicts, which
    the caller may change."""
    found = {facet: {} for facet in facets}
    # Many scopes (one per year up to a year as of, or per kind of a status chosen) are
    # added up in SQL: the faceted list as of 2010 at 10,000 partnerships read 3,500 rows
    # of 94 scopes as 460 sums, 3 ms less of PostgreSQL's answer to read and add (no
    # change on SQLite, which adds up in the same process). A few scopes send few rows.
    read = _read_counts if len(scopes) <= SUMMED_FROM else _read_sums
    key = (read.__name__, using, tuple(sorted(facets)), tuple(scopes))
    for facet, value, count in _kept_read(
        key, lambda: read(using, list(facets), list(scopes)), using
    ):
        found[facet][value] = found[facet].get(value, 0) + count
    return found


# How many scopes the database adds up instead of sending each row (``_counted``).
SUMMED_FROM = 8


def _read_counts(using, facets, scopes):
    """The rows (facet, value, count) of ``facets`` in ``scopes``, counted at least once."""

    def build(facets, scopes):
        rows = FacetCount.objects.using(using).filter(facet__in=facets, count__gt=0)
        rows = rows.filter(scope=scopes[0]) if len(scopes) == 1 else rows.filter(scope__in=scopes)
        return rows.values_list("facet", "value", "count")

    return _compiled(using, "counts", build, facets, scopes)


def _read_sums(using, facets, scopes):
    """The rows (facet, value, sum of the counts over ``scopes``) of ``facets``."""

    def build(facets, scopes):
        rows = FacetCount.objects.using(using).filter(
            facet__in=facets, scope__in=scopes, count__gt=0
        )
        rows = rows.values("facet", "value").annotate(total=Sum("count")).order_by()
        return rows.values_list("facet", "value", "total")

    return _compiled(using, "sums", build, facets, scopes)


def count(scope, facet, value, using=DEFAULT_DB_ALIAS):
    """How many partnerships of ``scope`` have one value of a facet."""

    def build(scopes, facets, values):
        found = FacetCount.objects.using(using)
        found = found.filter(scope=scopes[0], facet=facets[0], value=values[0])
        return found.values_list("count").order_by("pk")[:1]

    key = ("count", using, scope, facet, value)
    rows = _kept_read(
        key, lambda: _compiled(using, "count", build, [scope], [facet], [value]), using
    )
    return rows[0][0] if rows else 0


# Texts that stand for the values of a query while it is compiled (``_compiled``), and
# the compiled queries, {(database, name, how many texts of each list): (sql, params)}: a
# few dozen, one per number of scopes a filter adds up.
_MARK = "\x00atlas-{}-{}\x00"
_COMPILED = {}


def _compiled(using, name, build, *texts):
    """The rows of ``build(*texts)``, a query of kept counts by texts (lists of them),
    compiled once per database and number of texts in each list, then run with others.

    Every public page reads kept counts, and Django built and compiled their query each
    time: 0.84 ms to read a list's 515 counts on PostgreSQL at 10,000 partnerships, where
    the query itself took 0.43. The texts are passed as parameters, as Django would.
    """
    if not all(texts):
        return []  # IN () matches nothing
    key = (using, name, tuple(len(values) for values in texts))
    if key not in _COMPILED:
        marked = [[_MARK.format(i, j) for j in range(size)] for i, size in enumerate(key[2])]
        sql, params = build(*marked).query.get_compiler(using).as_sql()
        _COMPILED[key] = sql, tuple(params)
    sql, params = _COMPILED[key]
    values = {
        _MARK.format(i, j): value for i, found in enumerate(texts) for j, value in enumerate(found)
    }
    with connections[using].cursor() as cursor:
        cursor.execute(sql, [values.get(param, param) for param in params])
        return cursor.fetchall()


def value_counts(scope, facet, values, using=DEFAULT_DB_ALIAS):
    """{value: count} of the partnerships of ``scope`` with each of ``values`` of ``facet``,
    for the values counted at least once."""
    rows = FacetCount.objects.using(using).filter(
        scope=scope, facet=facet, value__in=text_list(values), count__gt=0
    )
    return dict(rows.values_list("value", "count"))


def total(scope, using=DEFAULT_DB_ALIAS):
    """How many partnerships ``scope`` (ALL or PUBLISHED) holds: each has one status."""
    return sum(counts(scope, ["status"], using)["status"].values())


def kept_total(queryset):
    """How many partnerships ``queryset`` holds, from the kept counts when it holds every
    one or every published one (``scope_of``); None when only a COUNT can tell. A list's
    pages take it instead of a COUNT that reads 100,000 rows (5 ms)."""
    scope = scope_of(queryset)
    return None if scope is None else total(scope, queryset.db)


def counts_within(scope, kinds, statuses, facets, using=DEFAULT_DB_ALIAS, year=None):
    """{facet: {value: count}} of ``facets`` (of BY_KIND_STATUS) for the partnerships of
    ``scope`` with one of ``kinds`` and one of ``statuses`` (every one when empty), and
    with a ``year``, those listed as of that year (``AS_OF_FROM``)."""
    if year is not None and not kinds and not statuses:
        return counts_as_of(scope, year, facets, using)
    kinds = kinds or Partnership.Kind.values
    statuses = statuses or Partnership.Status.values
    scopes = [within(scope, kind, status) for kind in kinds for status in statuses]
    if year is not None:
        scopes = _dated_scopes(scope, scopes, year, using)
    # The list's facets and its chart, asked apart, are read together.
    return _together(scopes, facets, BY_KIND_STATUS, using)


def counts_as_of(scope, year, facets, using=DEFAULT_DB_ALIAS, alone=False):
    """{facet: {value: count}} of ``facets`` (of ``BY_AS_OF``) for the partnerships of
    ``scope`` (ALL or PUBLISHED) listed as of ``year``; with ``alone``, read by
    themselves, for a page that asks nothing else of them."""
    scopes = _dated_scopes(scope, [scope], year, using)
    if alone:
        return _counted(scopes, facets, using)
    # Its facets, its chart and its kinds by status, asked apart, are read together.
    return _together(scopes, facets, BY_AS_OF, using)


def _dated_scopes(scope, scopes, year, using):
    """The dated scopes of ``scopes`` (``scope`` or narrower) whose partnerships are
    listed as of ``year``: of each first year up to it that the registry has
    partnerships of, and of the plans nobody has confirmed from the current year on."""
    # Every partnership's first years, a scope of none of which holds nothing: read with
    # the rest of the whole registry's counts, which the participant filters read too
    # (``PartnershipFilter.keeps_every``).
    firsts = counts(ALL, [AS_OF_FROM], using)[AS_OF_FROM]
    now = timezone.localdate().year
    kept = [
        first
        for first in firsts
        if (first == UNCONFIRMED_PLAN and now <= year)
        or (first != UNCONFIRMED_PLAN and int(first) <= year)
    ]
    return [dated(narrow, first) for narrow in scopes for first in sorted(kept)]


def counts_by(scope, facet, value, by, themes=(), using=DEFAULT_DB_ALIAS):
    """{kind, status or theme id (``by``): how many partnerships of ``scope`` have
    ``value`` of ``facet``}, from the counts kept per kind and status (``within``) or per
    theme (``of_theme``, for each id of ``themes``): counts of two filters' values at once.
    """
    if by == "theme":
        scopes = {of_theme(scope, theme): str(theme) for theme in themes}
    else:
        scopes = {
            within(scope, kind, status): kind if by == "kind" else status
            for kind in Partnership.Kind.values
            for status in Partnership.Status.values
        }
    found = {}
    for name, count in (
        FacetCount.objects.using(using)
        .filter(scope__in=list(scopes), facet=facet, value=value, count__gt=0)
        .values_list("scope", "count")
    ):
        found[scopes[name]] = found.get(scopes[name], 0) + count
    return found


@contextmanager
def streaming(using=DEFAULT_DB_ALIAS):
    """Where the streams of ``drawn`` and ``ranked`` are read: on PostgreSQL, in one
    transaction that sees one snapshot (REPEATABLE READ), so that the slices each stream
    reads (``_stream``) and every stream of the map agree, whatever is written meanwhile.
    A stream in no order is read through a cursor, which PostgreSQL works out as it is
    asked only inside a transaction. SQLite is left alone: its cursors are read as they
    are asked, and a transaction there would take the write lock (``transaction_mode``
    IMMEDIATE)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.get_autocommit():
        yield
        return
    with transaction.atomic(using=using):
        with connection.cursor() as cursor:
            # Before the first query, where the snapshot is taken. No parallel workers:
            # the slices read a few thousand rows of an index, and PostgreSQL, which
            # expects fewer to pass the map's filter than do, started two to read the
            # 2,001 ties at 100,000 partnerships: 6.2 ms, 3.6 of them before the first row.
            cursor.execute(
                "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ;"
                " SET LOCAL max_parallel_workers_per_gather = 0"
            )
        yield


def _stream(key, build, size, using, ordered=True):
    """The rows of the queryset ``build()`` (kept as SQL under ``key``, ``_sql``), read
    ``size`` at a time, as a stream; ``ordered``: whether it orders them.

    On PostgreSQL, rows in an order are read ``size`` at a time with LIMIT and OFFSET
    (in ``streaming``, so that the slices agree): a server-side cursor took three round
    trips (DECLARE, FETCH, CLOSE), and outside a transaction it worked out every row
    before the first (for the map at 100,000 partnerships, all 256,696 ties, 235 ms, to
    draw 2,000). The 2,001 ties of the map at 10,000 partnerships took 1.4 ms, against
    2.1 through a cursor. Rows in no order have no slices to read twice alike, and are
    read through a cursor; SQLite reads one as it is asked, in the process."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        sql, params = _sql(key, build, using)
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            while rows := cursor.fetchmany(size):
                yield from rows
        return
    if not ordered:
        yield from build().iterator(chunk_size=size)
        return
    start = 0
    while True:
        found = _read((*key, size, start), lambda start=start: build()[start : start + size], using)
        yield from found
        if len(found) < size:
            return
        start += size


def _read(key, build, using):
    """Every row of the queryset ``build()``, its SQL kept under ``key`` (``_sql``), read
    through the cursor: Django's rows of values took 0.9 ms more for 2,001 ties."""
    sql, params = _sql(key, build, using)
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# The SQL of the map's reads of its kept counts (``_sql``): {key: (sql, params)}.
_SQL = {}
# At most this many are kept; then they are dropped together.
SQL_KEPT = 256


def _sql(key, build, using):
    """The SQL and parameters of the queryset ``build()``, built once for ``key``, which
    names the database and everything the query depends on.

    The map reads its kept counts with four or five queries, which Django built and
    compiled at every drawing: 1.4 ms of the 14 it took to draw at 10,000 partnerships
    on PostgreSQL, with the 52 places it cannot place left out of the ties in SQL.
    """
    found = _SQL.get(key)
    if found is None:
        if len(_SQL) >= SQL_KEPT:
            _SQL.clear()
        found = _SQL[key] = build().query.get_compiler(using).as_sql()
    return found


def _kept_rows(scope, names, using, leaving_out=()):
    """The counted rows of the map's facets ``names`` for ``scope``; ``leaving_out``: the
    ids of places whose ties (values written by ``pair``) they leave out."""
    rows = FacetCount.objects.using(using).filter(scope=scope, facet__in=names, count__gt=0)
    if leaving_out:
        # One parameter, not a placeholder for each of 500 places twice: building and
        # parsing those took longer than reading the ties.
        padded = text_list(sorted(f"{pk:012d}" for pk in leaving_out))
        rows = (
            rows.alias(first=Substr("value", 1, 12), second=Substr("value", 14, 12))
            .exclude(first__in=padded)
            .exclude(second__in=padded)
        )
    return rows


def drawn(scope, names, drafts, using=DEFAULT_DB_ALIAS, leaving_out=(), chunk=5000):
    """(facet, value, count) of the map's facets ``names`` for ``scope``, as a stream: the
    public's counts, and with ``drafts`` staff's besides, each under its plain name (a
    value may come twice; add them up). ``leaving_out``: the ids of places whose ties
    (values written by ``pair``) the query leaves out. ``chunk``: how many rows the
    database works out at a time; None for every row at once (a few)."""

    def build():
        rows = _kept_rows(scope, _with_drafts(names, drafts), using, leaving_out)
        return rows.values_list("facet", "value", "count")

    key = ("drawn", using, scope, tuple(names), drafts, frozenset(leaving_out))
    if chunk is None:
        rows = _read(key, build, using)
    else:
        rows = _stream(key, build, chunk, using, ordered=False)
    for facet, value, count in rows:
        yield facet.removeprefix(DRAFT), value, count


def at_most(scope, facet, number, using=DEFAULT_DB_ALIAS, leaving_out=()):
    """(value, count) of the public's counts of one of the map's facets for ``scope``,
    less those that ``leaving_out`` leaves out (as for ``drawn``), when there are at most
    ``number`` of them; else None.

    The database reads the index to the one past ``number`` (a ``LIMIT``) and sends what
    it read. Until 6 December 2026 it sent only the first row when there were more,
    counted by window functions over what it read. Measured then in the map's
    transaction: at 10,000 partnerships (more than 2,000 ties) that took 3.4 ms on SQLite
    and the plain ``LIMIT`` 2.2, on PostgreSQL the same either way; at 1,000 (1,854
    ties) 4.4 and 3.2 ms, against 2.2 and 2.5. Read the fewest first: at 100,000
    partnerships, the ties of the 500 provinces and regions without coordinates came first
    in the index's own order, and SQLite read 19,410 rows past them, not 2,000; the
    public's ties with the fewest partnerships are those of cities, most often."""

    def build():
        rows = _kept_rows(scope, [facet], using, leaving_out).order_by("count", "-value")
        return rows.values_list("value", "count")[: number + 1]

    found = _read(("at_most", using, scope, facet, number, frozenset(leaving_out)), build, using)
    return None if len(found) > number else found


def ranked(scope, facet, drafts, using=DEFAULT_DB_ALIAS):
    """A stream of (value, count) of one of the map's facets for ``scope``, with the most
    partnerships first, then by value; ranked in SQL, which at 100,000 partnerships is a
    tenth of the time Python takes, and from the index alone for the public."""

    def build():
        rows = _kept_rows(scope, _with_drafts([facet], drafts), using)
        if drafts:  # a value may be counted under both names: add them up
            rows = rows.values("value").annotate(total=Sum("count")).order_by("-total", "value")
            return rows.values_list("value", "total")
        return rows.order_by("-count", "value").values_list("value", "count")

    # 2,000 rows at a time: the map reads about as many (``MAX_POINTS``, ``MAX_LINES``),
    # in one round trip instead of up to five: at 10,000 partnerships reading the places
    # and the regional ties took 0.6-0.7 ms less each.
    return _stream(("ranked", using, scope, facet, drafts), build, 2000, using)


def distinct(scope, facet, drafts, using=DEFAULT_DB_ALIAS):
    """How many values of one of the map's facets ``scope`` has: for the public, as kept
    for the ``NUMBERED`` facets; with ``drafts``, for staff, counted from the index."""
    if not drafts and facet in NUMBERED:
        return count(scope, NUMBER + facet, "", using)
    rows = _kept_rows(scope, _with_drafts([facet], drafts), using)
    if drafts:
        return rows.values("value").distinct().count()
    return rows.count()


def drawn_by(facet, values, drafts, using=DEFAULT_DB_ALIAS):
    """{value: partnership ids} of the partnerships holding ``values`` of a map facet."""
    names = _with_drafts([facet], drafts)
    found = {}
    if not values:
        return found
    for value, pk in (
        FacetValue.objects.using(using)
        .filter(facet__in=names, value__in=text_list(values, weighed=False))
        .values_list("value", "partnership_id")
    ):
        found.setdefault(value, set()).add(pk)
    return found


def started(scope, using=DEFAULT_DB_ALIAS):
    """({year: {kind: count}}, decade-only starts), as ``started_per_year`` counts them."""
    return starts(counts(scope, ["started"], using)["started"])


def started_within(scope, kinds, statuses, using=DEFAULT_DB_ALIAS, year=None):
    """``started`` of the partnerships of ``scope`` with one of ``kinds`` and one of
    ``statuses`` (every one when empty), listed as of ``year`` when given."""
    found = counts_within(scope, kinds, statuses, ["started"], using, year=year)
    return starts(found["started"])


def starts(values):
    """The chart's starts, as ``started`` gives them, from the counts of the ``started``
    values."""
    per_year, decade_only = {}, 0
    for value, count in values.items():
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
    pre_save.connect(_own_saving, sender=Partnership, dispatch_uid=uid)
    post_save.connect(_own_saved, sender=Partnership, dispatch_uid=uid)
    post_delete.connect(_own_saved, sender=Partnership, dispatch_uid=uid)
    pre_save.connect(remember_partnership, sender=Participant, dispatch_uid=BEFORE)
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


def _own_saving(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    # What a map's line shows of it, to move the map version when that changes.
    instance._named_before = _named_fields(instance.pk, using)


def _own_saved(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    """A partnership saved or deleted: its values recounted, and the map version moved
    when a map's line of it would show it otherwise (``NAMED_FIELDS``)."""
    refresh([instance.pk], using)
    before = instance.__dict__.pop("_named_before", None)
    if before is not None and before != _named_fields(instance.pk, using):
        bump(using, parts=["map"])


def _named_fields(pk, using):
    if pk is None:
        return None
    rows = Partnership._base_manager.using(using).filter(pk=pk)
    return rows.values_list(*NAMED_FIELDS).first()


def _participant_written(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    # Saved into another partnership, the one it left is recounted too.
    refresh({pk for pk in partnerships_touched(instance) if pk is not None}, using)


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
    # What the fields the facets read were, to recount the party's partnerships only when
    # one changed: a place with thousands of ties is saved for a new name, too.
    instance._facet_before = _party_fields(sender, instance.pk, using)


def _party_saved(sender, instance, created, using=DEFAULT_DB_ALIAS, **kwargs):
    before = getattr(instance, "_facet_before", None)
    if created or before is None:
        return
    after = _party_fields(sender, instance.pk, using)
    changed = {
        name
        for name, old, new in zip(PARTY_FIELDS[sender], before, after, strict=True)
        if old != new
    }
    if changed:
        _refresh_parties(sender, [instance.pk], using, changed)


def _party_fields(model, pk, using):
    if pk is None:
        return None
    return model._base_manager.using(using).filter(pk=pk).values_list(*PARTY_FIELDS[model]).first()


def _parties_written(sender, using=DEFAULT_DB_ALIAS, pks=None, fields=None, **kwargs):
    # New places and organisations take part in nothing yet: only updates count.
    changed = {name.removesuffix("_id") for name in fields or ()} & set(PARTY_FIELDS[sender])
    if pks and changed:
        _refresh_parties(sender, pks, using, changed)


def _refresh_parties(model, pks, using, changed):
    participants = Participant.objects.using(using)
    if model is Organisation:
        participants = participants.filter(organisation_id__in=id_list(pks))
    elif changed & REGION_FIELDS:
        # The places below move too, with their regions and the places they lie in, and
        # with them every partnership there, through a place or an organisation based in one.
        below = id_list(subtree_ids(Place, pks, using))
        participants = participants.filter(Q(place__in=below) | Q(organisation__place__in=below))
    else:
        participants = participants.filter(place_id__in=id_list(pks))
    refresh(participants.values_list("partnership_id", flat=True), using)


def _own_written(sender, using=DEFAULT_DB_ALIAS, pks=None, objs=None, fields=None, **kwargs):
    if objs is not None:
        if any(obj.pk is None for obj in objs):  # bulk_create(ignore_conflicts=True)
            recount(using)
        else:
            refresh([obj.pk for obj in objs], using)
    elif pks and (fields is None or fields & OWN_FIELDS):
        refresh(pks, using)
    if pks and (fields is None or {untranslated(name) for name in fields} & {"slug", "title"}):
        bump(using, parts=["map"])  # renamed: see NAMED_FIELDS


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
