"""Search keys on an index: "the key contains this term" without reading every key.

SQLite answers from an FTS5 table with the trigram tokenizer beside each searched table,
PostgreSQL from a pg_trgm GIN index on the key itself (its LIKE '%term%' uses it as is).
Both hold every three-character run of the key, so a term of three characters or more is
looked up, never scanned for; the results are those of the plain ``LIKE`` they replace.
"""

import json

from django.core.exceptions import EmptyResultSet
from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.migrations.operations.base import Operation
from django.db.models.expressions import Col, RawSQL
from django.db.models.fields.related_lookups import RelatedIn
from django.db.models.lookups import Contains, In
from django.utils.translation import get_language

from .text import KEY_SEPARATOR, is_cjk_pair, rekeyed

# A trigram index holds nothing shorter: a shorter term has no trigram to look up, so it
# is scanned for, as before; few terms are that short, but for the names of Chinese
# cities (南京, 苏州), which the keys hold as names of their own (``core.text._key``).
INDEXED_LENGTH = 3


def indexed(term):
    """Whether the index finds the keys holding ``term`` (a folded search term)."""
    return len(term) >= INDEXED_LENGTH or is_cjk_pair(term)


def fts_table(db_table):
    return f"{db_table}_search"


class SearchKeyContains(Contains):
    """``search_key__contains``, looked up in the FTS5 trigram table on SQLite.

    Two Chinese or Japanese characters are looked for as a whole name of the key
    ("|南京|"), which every such pair in a name is (``core.text._key``): the key holds
    them wherever a name holds them, and the term, now four characters long, is found on
    the index. At 100,000 partnerships PostgreSQL read every partnership's key to count
    and page what "南宁" finds (90 ms, now 6).
    """

    def get_prep_lookup(self):
        term = super().get_prep_lookup()
        if isinstance(term, str) and is_cjk_pair(term):
            return f"{KEY_SEPARATOR}{term}{KEY_SEPARATOR}"
        return term

    def as_sqlite(self, compiler, connection):
        model = self.lhs.target.model if isinstance(self.lhs, Col) else None
        if not (
            getattr(model, "search_indexed", False)
            and isinstance(self.rhs, str)
            and len(self.rhs) >= INDEXED_LENGTH
        ):
            return self.as_sql(compiler, connection)
        quote = connection.ops.quote_name
        fts = quote(fts_table(model._meta.db_table))
        pk = f"{compiler.quote_name_unless_alias(self.lhs.alias)}.{quote(model._meta.pk.column)}"
        # A quoted FTS5 string is one phrase of trigrams, whatever it holds (AND, NEAR, *,
        # ^, a column name): the term is searched for literally, never parsed as a query.
        phrase = '"' + self.rhs.replace('"', '""') + '"'
        return f"{pk} IN (SELECT rowid FROM {fts} WHERE {fts} MATCH %s)", [phrase]


class SearchKeyField(models.TextField):
    """The folded names of a record (``core.text.search_key``), found through an index."""

    def deconstruct(self):
        # Migrations see a plain TextField: the lookup changes queries, not the column, and
        # a changed field class would make SQLite rebuild the tables, dropping the triggers
        # that keep the index in step.
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.TextField", args, kwargs


SearchKeyField.register_lookup(SearchKeyContains)


def _sqlite_statements(table, pk):
    fts = fts_table(table)
    # External content: the index stores trigrams only and reads keys from the table.
    # Triggers, not the ORM, keep it in step, so that every write path (save, bulk_create,
    # update(), loaddata, raw SQL, a restore) does.
    delete = (
        f'INSERT INTO "{fts}"("{fts}", rowid, search_key) '
        f"VALUES ('delete', old.\"{pk}\", old.search_key);"
    )
    insert = f'INSERT INTO "{fts}"(rowid, search_key) VALUES (new."{pk}", new.search_key);'
    return [
        f'CREATE VIRTUAL TABLE "{fts}" USING fts5(search_key, content="{table}", '
        f"content_rowid=\"{pk}\", tokenize='trigram')",
        f'INSERT INTO "{fts}"("{fts}") VALUES (\'rebuild\')',
        f'CREATE TRIGGER "{fts}_insert" AFTER INSERT ON "{table}" BEGIN {insert} END',
        f'CREATE TRIGGER "{fts}_delete" AFTER DELETE ON "{table}" BEGIN {delete} END',
        f'CREATE TRIGGER "{fts}_update" AFTER UPDATE OF "{pk}", search_key ON "{table}" '
        f"BEGIN {delete} {insert} END",
    ], [
        f'DROP TRIGGER "{fts}_update"',
        f'DROP TRIGGER "{fts}_delete"',
        f'DROP TRIGGER "{fts}_insert"',
        f'DROP TABLE "{fts}"',
    ]


def _postgresql_statements(table, pk):
    index = f"{table}_search_key_trgm"
    return [
        # Trusted since PostgreSQL 13: the database's owner may create it.
        "CREATE EXTENSION IF NOT EXISTS pg_trgm",
        f'CREATE INDEX "{index}" ON "{table}" USING gin (search_key gin_trgm_ops)',
    ], [
        # The extension stays: other indexes may use it, and it costs nothing idle.
        f'DROP INDEX "{index}"'
    ]


STATEMENTS = {"sqlite": _sqlite_statements, "postgresql": _postgresql_statements}


class IndexSearchKey(Operation):
    """Migration operation: index the search keys of ``model_name`` for the database in use.

    The model must say ``search_indexed = True`` so that queries use the index.
    """

    reversible = True

    def __init__(self, model_name):
        self.model_name = model_name

    def deconstruct(self):
        return self.__class__.__qualname__, [self.model_name], {}

    def state_forwards(self, app_label, state):
        pass

    def _run(self, app_label, schema_editor, state, forwards):
        statements = STATEMENTS.get(schema_editor.connection.vendor)
        if statements is None:
            return
        model = state.apps.get_model(app_label, self.model_name)
        create, drop = statements(model._meta.db_table, model._meta.pk.column)
        for statement in create if forwards else drop:
            schema_editor.execute(statement, params=None)

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, to_state, forwards=True)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        self._run(app_label, schema_editor, from_state, forwards=False)

    def describe(self):
        return f"Index the search keys of {self.model_name}"

    @property
    def migration_name_fragment(self):
        return f"{self.model_name}_search_index"


def rekey(app_label, model_name):
    """A migration's function (``RunPython``): the search keys of ``model_name`` written
    as ``core.text.search_key`` writes them now (``rekeyed``), those that change alone.
    Undone, the keys stay as they are: a key with the pairs finds what one without did.
    """

    def run(apps, schema_editor):
        model = apps.get_model(app_label, model_name)
        records = model._default_manager.using(schema_editor.connection.alias)
        changed = []
        for pk, key in records.values_list("pk", "search_key").iterator(chunk_size=2000):
            if key != (new := rekeyed(key)):
                changed.append(model(pk=pk, search_key=new))
        records.bulk_update(changed, ["search_key"], batch_size=500)

    return run


class RestoreSearchTriggers(IndexSearchKey):
    """Migration operation, last in a migration that rebuilds ``model_name``'s table on
    SQLite (adding a NOT NULL column, altering a column's default): the rebuild drops the
    old table's triggers, so the index would stop following the search keys."""

    reversible = True

    def _run(self, app_label, schema_editor, state, forwards):
        if not forwards or schema_editor.connection.vendor != "sqlite":
            return
        model = state.apps.get_model(app_label, self.model_name)
        table = model._meta.db_table
        create, _drop = _sqlite_statements(table, model._meta.pk.column)
        fts = fts_table(table)
        for trigger in ("insert", "delete", "update"):
            schema_editor.execute(f'DROP TRIGGER IF EXISTS "{fts}_{trigger}"', params=None)
        # The rebuild, then the three triggers (the virtual table itself survived).
        for statement in create[1:]:
            schema_editor.execute(statement, params=None)

    def describe(self):
        return f"Restore the search index triggers of {self.model_name}"


def any_of(*querysets):
    """One subquery of the ids that any of ``querysets`` (each of one column) selects.

    For ``pk__in=``: PostgreSQL answers each part from its own index, where an OR of
    ``IN`` subqueries makes it read the whole table and test every row against each.
    """
    first, *rest = (queryset.order_by() for queryset in querysets)
    return first.union(*rest)


# Levels of a walk this short go as plain values (``level_ids``).
SHORT_LEVEL = 100


def level_ids(ids):
    """``ids`` for ``parent__in=`` (``pk__in=`` on the way up) in a walk through a
    hierarchy, a level at a time.

    A short level goes as plain values: PostgreSQL walks the index for ``IN (1, 2, 3)``,
    where it joined a short ``unnest`` to a scan of every row (a search's walk down 10,000
    places: 1.5 ms a level, against 0.3). A long one, such as a country's provinces'
    cities, goes as one parameter (``id_list``).
    """
    ids = list(ids)
    return ids if len(ids) <= SHORT_LEVEL else id_list(ids)


# A walk down a hierarchy as one recursive query, in the database. UNION (not UNION ALL)
# drops a row met twice, so a walk ends even where a bulk update has made parents loop.
# The walk starts from the rows the seed selects, read as the seed reads them: as ``id
# IN (seed)`` PostgreSQL joined the seed to a scan of the whole table when it expected
# many. At 100,000 partnerships the walk down from the places and organisations named
# "hai" took 10.9 ms so, against 4.7; from those named "university", 11.8 against 7.0.
_SUBTREE_SQL = (
    "{name} (id) AS (SELECT seed.* FROM ({seed}) seed UNION SELECT child.{pk} FROM {children})"
)
_LEVELS_SQL = (
    "{name} (id, parent_id, depth) AS ("
    "SELECT seed.*, 0 FROM ({seed}) seed "
    "UNION SELECT child.{pk}, child.{parent}, {name}.depth + 1 FROM {children} "
    "WHERE {name}.depth < %s)"
)
# The children of the records walked so far. PostgreSQL cannot tell how many those are,
# and joined them to a scan of the whole table at each level: at 100,000 partnerships a
# city's walk took 1.4 ms so, and 0.2 ms looked up by the parent index, which LATERAL
# (kept a subquery by OFFSET 0) makes it do. SQLite looks them up by the index anyway.
_CHILDREN_SQL = {
    "postgresql": (
        "{name}, LATERAL (SELECT {pk}, {parent} FROM {table} "
        "WHERE {parent} = {name}.id OFFSET 0) child"
    ),
}
_JOINED_CHILDREN_SQL = "{table} child JOIN {name} ON child.{parent} = {name}.id"


def _walks(template, columns, seeds, params=(), order_by=None, seed_fields=("pk",)):
    """Rows (the seed's position, then ``columns``) of ``template`` walking down
    ``parent`` from the records each of ``seeds`` selects, as one statement; ``params``
    are the template's own, for each seed; ``seed_fields`` those the seeds' rows start
    the walk with.

    A query per level cost a round trip each, and sent each level's ids back as the next
    one's parameter: a country's 5,000 places below it took 14.3 ms on PostgreSQL at
    100,000 partnerships that way, 9.0 ms as one query (SQLite 8.2 against 6.8), and a
    province's 20 places 1.07 ms against 0.72 (SQLite 0.47 against 0.24).
    """
    using = seeds[0].db
    connection = connections[using]
    quote = connection.ops.quote_name
    children = _CHILDREN_SQL.get(connection.vendor, _JOINED_CHILDREN_SQL)
    walks, selects, all_params = [], [], []
    for position, seed in enumerate(seeds):
        meta = seed.model._meta
        table, pk = quote(meta.db_table), quote(meta.pk.column)
        names = {
            "name": f"walk{position}",
            "table": table,
            "pk": pk,
            "parent": quote(meta.get_field("parent").column),
        }
        try:
            compiler = seed.order_by().values(*seed_fields).query.get_compiler(using)
            seed_sql, seed_params = compiler.as_sql()
        except EmptyResultSet:  # such as .none(): a walk from nothing
            read = ", ".join(names[field] for field in seed_fields)
            seed_sql, seed_params = f"SELECT {read} FROM {table} WHERE 1 = 0", ()
        walks.append(template.format(seed=seed_sql, children=children.format(**names), **names))
        selects.append(f"SELECT {position}, {columns} FROM {names['name']}")
        all_params += [*seed_params, *params]
    sql = f"WITH RECURSIVE {', '.join(walks)} {' UNION ALL '.join(selects)}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    with connection.cursor() as cursor:
        cursor.execute(sql, all_params)
        return cursor.fetchall()


def subtree(seed):
    """The ids of the records ``seed`` (a QuerySet) selects and of every record below
    them, in no particular order, in one query."""
    return [pk for _position, pk in _walks(_SUBTREE_SQL, "id", [seed])]


def levels_below(seeds, levels):
    """[(id, parent id, depth)] for each QuerySet of ``seeds``: the records it selects
    (depth 0) and those up to ``levels`` below them, nearest first, every seed in one
    query. A record below two of them, or below one and one of them itself, comes once
    for each."""
    found = [[] for _seed in seeds]
    rows = _walks(
        _LEVELS_SQL,
        "id, parent_id, depth",
        seeds,
        [levels],
        order_by="depth",
        seed_fields=("pk", "parent"),
    )
    for position, *row in rows:
        found[position].append(tuple(row))
    return found


# How each database reads a list sent as one parameter (``id_list``, ``text_list``).
ID_LIST_SQL = {
    "postgresql": "SELECT unnest(%s::{array_type}[])",
    "sqlite": "SELECT value FROM json_each(%s)",
}


class IdList(RawSQL):
    """What ``id_list`` gives: a subquery of ids sent as one parameter."""

    array_type = "bigint"
    # Whether PostgreSQL's planner sees the values (``InIdList``).
    weighed = True

    @classmethod
    def sending(cls, parameter, vendor, weighed=True):
        """The subquery reading ``parameter`` on a database of ``ID_LIST_SQL``."""
        found = cls(ID_LIST_SQL[vendor].format(array_type=cls.array_type), (parameter,))
        found.weighed = weighed
        return found


class TextList(IdList):
    """What ``text_list`` gives: a subquery of texts sent as one parameter."""

    array_type = "text"


def id_list(ids):
    """``ids`` for ``pk__in=``, as a single parameter.

    The SQL stays the same short text for any number of ids: no thousands of placeholders
    to build, send and parse. On PostgreSQL, ``field__in=`` takes it as ``field =
    ANY(array)`` (``InIdList``).
    """
    if connection.vendor not in ID_LIST_SQL:
        return list(ids)
    return IdList.sending(id_list_parameter(ids, connection.vendor), connection.vendor)


def text_list(values, weighed=True):
    """``values`` (texts) for ``field__in=``, as a single parameter, as ``id_list`` sends
    ids: the map asks for the partnerships of 1,406 ties at 1,000 partnerships, and
    building, sending and parsing a placeholder each took longer than the query.

    ``weighed=False`` keeps the values from PostgreSQL's planner, for many values of a
    column it keeps statistics of, looked up by index (``InIdList``)."""
    if connection.vendor not in ID_LIST_SQL:
        return list(values)
    parameter = text_list_parameter(values, connection.vendor)
    return TextList.sending(parameter, connection.vendor, weighed)


class InIdList(In):
    """``field__in=``, written ``field = ANY(%s::bigint[])`` on PostgreSQL for an
    ``id_list`` (``text[]`` for a ``text_list``), rather than ``field IN (SELECT
    unnest(…))``.

    PostgreSQL takes the array's length for the number of rows the test lets through; of
    the subquery it guesses 200 distinct ids, and may read the whole table to join them.
    A province's first twenty partnerships, among its 561, took 2.6 ms at 10,000
    partnerships so, and 1.3 ms by index as ``= ANY``. Any other ``__in=`` is Django's.

    A list sent ``weighed=False`` is written ``= ANY(ARRAY(SELECT unnest(…)))``: the
    array is made when the query runs, so the planner does not weigh each value against
    the column's statistics, and looks them up by index. The map's 1,313 single ties at
    1,000 partnerships took 3.4 ms to plan and 0.4 to run sent as ``= ANY(%s)`` (4.5 ms
    in all), and 2.8 ms in all this way; 1,400 ties at 100,000, 8.1 and 3.8 ms. Not
    for every list: unweighed, the places whose ties the map leaves out (``NOT … =
    ANY``) left the planner guessing how many ties remain, and it read the map's ties at
    100,000 partnerships in 34 ms instead of 4.
    """

    def as_postgresql(self, compiler, connection):
        if isinstance(self.rhs, ArrayOf):
            lhs_sql, lhs_params = self.process_lhs(compiler, connection)
            rhs_sql, rhs_params = compiler.compile(self.rhs)
            return f"{lhs_sql} = ANY(ARRAY{rhs_sql})", (*lhs_params, *rhs_params)
        if not isinstance(self.rhs, IdList):
            return self.as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        array = f"%s::{self.rhs.array_type}[]"
        if not self.rhs.weighed:
            array = f"ARRAY(SELECT unnest({array}))"
        return f"{lhs_sql} = ANY({array})", (*lhs_params, *self.rhs.params)


class ArrayOf(models.Subquery):
    """The ids a subquery gives, for ``field__in=ArrayOf(records.values("pk"))``: written
    ``field = ANY(ARRAY(SELECT …))`` on PostgreSQL, Django's ``IN (SELECT …)`` elsewhere.

    The subquery runs once and its ids are looked up by index. For ``IN`` PostgreSQL
    guesses how many ids come, and for a few thousand it hashed them and read the other
    table whole: the facet lines of the faceted list's 3,634 partnerships as of 2010, at
    100,000 partnerships, took 24 ms so and 11 ms as an array. For most of the registry
    the two took the same.
    """


class RelatedInIdList(InIdList, RelatedIn):
    """``InIdList`` for a foreign key: ``partnership__in=id_list(…)``."""


def id_list_parameter(ids, vendor):
    if vendor == "postgresql":
        # Sent as the array's text, made at once: psycopg adapts a list item by item in
        # Python, and a country's partnership list (its 5,000 places and the partnerships
        # it leaves out, in several queries) took 71 ms of CPU so, against 59.
        return "{" + ",".join(map(str, map(int, ids))) + "}"
    return json.dumps(list(ids))


def text_list_parameter(values, vendor):
    if vendor == "postgresql":
        # The array's text, each value quoted, its backslashes and double quotes escaped:
        # psycopg adapts a list item by item, 2 ms for the map's 1,406 single ties.
        quoted = (value.replace("\\", "\\\\").replace('"', '\\"') for value in values)
        return "{" + ",".join(f'"{value}"' for value in quoted) + "}"
    return json.dumps(list(values))


# Where the ids go among a query's parameters, compiled once (``compiled_by_ids``).
_IDS = object()


def compiled_by_ids(build, using=DEFAULT_DB_ALIAS):
    """``build(ids)`` (a queryset, with ``ids`` where ``pk__in=`` takes them) compiled for
    the database ``using`` of ``ID_LIST_SQL``, to run with any ids (``run_by_ids``):
    (its compiler, its SQL, its parameters, the converters of its columns)."""
    vendor = connections[using].vendor
    compiler = build(IdList.sending(_IDS, vendor)).query.get_compiler(using)
    sql, params = compiler.as_sql()
    converters = compiler.get_converters([column for column, *_ in compiler.select])
    return compiler, sql, list(params), list(converters.items())


def run_by_ids(compiled, ids, using=DEFAULT_DB_ALIAS):
    """The rows of a query ``compiled_by_ids`` for ``ids``, as tuples, each value converted
    as Django converts it (a decimal on SQLite)."""
    _compiler, sql, params, converters = compiled
    connection = connections[using]
    parameter = id_list_parameter(ids, connection.vendor)
    with connection.cursor() as cursor:
        cursor.execute(sql, [parameter if value is _IDS else value for value in params])
        rows = cursor.fetchall()
    if not converters:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for position, (functions, expression) in converters:
            for function in functions:
                row[position] = function(row[position], expression, connection)
        converted.append(tuple(row))
    return converted


class RowsById:
    """The rows of a ``values_list()`` query of records by id, its SQL compiled once per
    database and language and then run with other ids.

    ``build(ids)`` makes the query, with ``ids`` where ``pk__in=`` takes them. Django
    builds and compiles a query each time it runs one: 0.4-0.5 ms of the 0.7-1.4 ms that
    reading the participants or the themes of twenty cards took at 10,000 partnerships.
    Rows come as tuples, as ``run_by_ids`` gives them.
    """

    def __init__(self, build, by_vendor=None):
        """``by_vendor``: {vendor: build} for a database that reads the same rows faster
        through another query."""
        self.build = build
        self.by_vendor = by_vendor or {}
        self._compiled = {}

    def rows(self, ids, using=DEFAULT_DB_ALIAS):
        vendor = connections[using].vendor
        if vendor not in ID_LIST_SQL:
            return list(self.build(list(ids)).using(using))
        key = (using, get_language())
        if key not in self._compiled:
            build = self.by_vendor.get(vendor, self.build)
            self._compiled[key] = compiled_by_ids(build, using)
        return run_by_ids(self._compiled[key], ids, using)


# A {key: group} mapping sent as one JSON parameter, read as rows (key, group).
GROUPS_SQL = {
    "postgresql": "SELECT key::bigint AS key, value::bigint AS grp FROM json_each_text(%s::json)",
    "sqlite": "SELECT CAST(key AS INTEGER) AS key, value AS grp FROM json_each(%s)",
}


def distinct_by_group(rows, key, counted, groups):
    """{group: how many distinct ``counted`` values the ``rows`` (a queryset) have whose
    ``key`` ``groups`` ({key: group}) maps to it}, counted in the database.

    The search page counts, for each place just below a place it names, the matching
    partnerships tied to a place inside it. Read as (partnership, place) pairs and
    grouped in Python, a country named by a search that matched all 100,000 partnerships
    sent 275,000 rows, and made PostgreSQL spill its DISTINCT to disk (0.34 s).
    """
    if not groups:
        return {}
    db = connections[rows.db]
    sql, params = rows.values(key, counted).order_by().query.get_compiler(rows.db).as_sql()
    quote = db.ops.quote_name
    mapping = json.dumps({str(int(k)): int(group) for k, group in groups.items()})
    with db.cursor() as cursor:
        cursor.execute(
            f"WITH m AS MATERIALIZED ({GROUPS_SQL[db.vendor]}) "
            f"SELECT m.grp, COUNT(DISTINCT r.{quote(counted)}) FROM ({sql}) r "
            f"JOIN m ON m.key = r.{quote(key)} GROUP BY m.grp",
            (mapping, *params),
        )
        return dict(cursor.fetchall())
