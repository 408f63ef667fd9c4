"""Pages of long lists that cost about the same at any depth: the admin's changelists, the
public lists and the API's, and the search's ranked lists."""

from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import F, OrderBy


def ends_in_key(queryset):
    """Whether ``queryset``'s order ends in its primary key, so that it is a total order
    and the reversed order holds the same rows the other way round."""
    order = queryset.query.order_by or (
        queryset.model._meta.ordering if queryset.query.default_ordering else ()
    )
    last = order[-1] if order else None
    return isinstance(last, str) and last.lstrip("-") in ("pk", queryset.model._meta.pk.name)


def with_tie_break(queryset):
    """``queryset`` in its own order, its ties by the primary key ascending: one order for
    every page of a list, read from an index on the sort column that ends in the key."""
    if not isinstance(queryset, models.QuerySet) or not queryset.ordered:
        return queryset
    if ends_in_key(queryset):
        return queryset
    order = queryset.query.order_by or queryset.model._meta.ordering
    return queryset.order_by(*order, "pk")


class EitherEndPaginator(Paginator):
    """Reads a page in the second half of a list from the far end, reversed, and a page
    past the first by its ids first.

    An OFFSET makes the database step over every row before the page: the last page of
    100,000 partnerships cost 80× a page without queries in the admin, and 0.4 s on the
    public list. From the nearer end no page steps over more than half the list. That
    takes a total order, which the paginator gives any list (``with_tie_break``): the
    reversed order then holds the same rows the other way round.

    Stepping over rows costs least where only their ids are read: the page is the rows
    whose ids a subquery reads, in the list's order. With an index that holds what the
    order and the filter need (``localized_indexes(covering=True)``), the database reads
    those ids from the index alone; for the admin's middle page of 100,000 partnerships
    on PostgreSQL, 51 ms became 11.
    """

    def __init__(self, object_list, *args, **kwargs):
        # Every list it pages, the admin's, the public's and the API's, in a total order.
        super().__init__(with_tie_break(object_list), *args, **kwargs)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        rows = self.object_list
        if isinstance(rows, Merged):
            # The count the view knows (``known_count``), not the list's own COUNT.
            return self._get_page(rows.between(self.count, bottom, top), number, self)
        if not isinstance(rows, models.QuerySet) or not rows.ordered:
            return super().page(number)
        return self._get_page(rows_between(rows, self.count, bottom, top), number, self)


def rows_between(rows, count, start, stop):
    """Rows ``start`` to ``stop`` of ``rows``, an ordered queryset ``count`` long, read
    from the nearer end (``EitherEndPaginator``)."""
    reverse = start > count - stop and ends_in_key(rows)
    ordered, first, last = (
        (rows.reverse(), count - stop, count - start) if reverse else (rows, start, stop)
    )
    # The first rows cost nothing to reach. The ids of a DISTINCT query would need the
    # columns it orders by beside them.
    if first and not rows.query.distinct:
        return rows.filter(pk__in=ordered.values("pk")[first:last])
    if not reverse:
        return rows[start:stop]
    page = list(ordered[first:last])
    page.reverse()
    return page


class ReadInPages:
    """A list that reads only the rows asked for: ``list[start:stop]`` calls
    ``between(len(list), start, stop)``."""

    def __len__(self):
        return self.count()

    def __getitem__(self, key):
        if not isinstance(key, slice):
            found = self[key : key + 1]
            if not found:
                raise IndexError(key)
            return found[0]
        total = self.count()
        start, stop, step = key.indices(total)
        if step != 1:
            raise ValueError(f"{type(self).__name__} lists are read in order.")
        return self.between(total, start, stop)


class Merged(ReadInPages):
    """A list in its own order, read a page at a time as the merge of its parts, each read
    in that order from the front (or the far end) of an index that leads with the fields
    that tell the parts apart.

    ``rows`` is the list: a queryset ordered (by its own order or its model's) by fields
    and expressions, without NULLS FIRST or LAST. ``parts`` are {field: value} of the
    same fields, and between them hold every row of the list once; ``count`` is how many
    rows it holds, or a function that tells.

    A list of two kinds of partnership sorted every row it held for each page: the active
    sister cities and cooperations as of 2010, 4,958 of 100,000 partnerships, took SQLite
    6.9 ms to sort for the first page; read from the front of each kind's part of the
    index on kind, status and title, and merged, 0.14 ms. The parts are one query,
    compiled once with marks for their values, and run together as a UNION ALL.
    """

    _MARK = "\x00atlas-merged-{}\x00"
    # A shorter list is sorted whole: faster than a second query, and the parts' query
    # built and compiled. The 500 of the list above at 10,000 partnerships took 0.8 ms
    # more to read merged.
    MERGED_FROM = 2000
    # The databases whose planner sorts every row of such a list. PostgreSQL read the
    # first page of the 4,958 above in 0.6 ms, and merged its pages took 1.4–1.7 ms
    # longer: a second query, and the parts' built and compiled.
    VENDORS = frozenset({"sqlite"})

    def __init__(self, rows, parts, count):
        self.rows = with_tie_break(rows)
        self.parts = parts
        self._count = count

    def count(self):
        if callable(self._count):
            self._count = self._count()
        return self._count

    def between(self, total, start, stop):
        """Rows ``start`` to ``stop`` of the list, ``total`` long."""
        if total < self.MERGED_FROM:
            return rows_between(self.rows, total, start, stop)
        if start >= stop:
            return []
        # From the nearer end, as ``rows_between``: the order ends in the key.
        reverse = start > total - stop
        ids = self._ids(total - stop, total - start, reverse) if reverse else self._ids(start, stop)
        if reverse:
            ids.reverse()
        records = {record.pk: record for record in self.rows.filter(pk__in=ids).order_by()}
        return [records[pk] for pk in ids if pk in records]  # deleted meanwhile

    def _ids(self, first, last, reverse=False):
        """The ids of rows ``first`` to ``last`` of the list, or of its reverse."""
        order = [(expression, descending != reverse) for expression, descending in self.order()]
        keys = {f"_merged_{i}": term for i, term in enumerate(order)}
        fields = list(self.parts[0])
        marks = {self._MARK.format(i): field for i, field in enumerate(fields)}
        part = (
            self.rows.filter(**{field: mark for mark, field in marks.items()})
            .annotate(**{name: expression for name, (expression, _d) in keys.items()})
            .order_by(*(OrderBy(F(name), descending=d) for name, (_e, d) in keys.items()))
            .values_list(*keys)
        )
        sql, params = part.query.get_compiler(self.rows.db).as_sql()
        arms, values = [], []
        for i, found in enumerate(self.parts):
            arms.append(f"SELECT * FROM ({sql} LIMIT {int(last)}) AS merged_{i}")
            values += [found[marks[p]] if isinstance(p, str) and p in marks else p for p in params]
        columns = ", ".join(f"{i}{' DESC' if d else ''}" for i, (_e, d) in enumerate(order, 1))
        query = (
            f"{' UNION ALL '.join(arms)} ORDER BY {columns} "
            f"LIMIT {int(last - first)} OFFSET {int(first)}"
        )
        with connections[self.rows.db].cursor() as cursor:
            cursor.execute(query, values)
            return [row[-1] for row in cursor.fetchall()]  # the order ends in the key

    def order(self):
        """[(expression, descending)] of the list's order, or None when it has another
        kind of term."""
        query = self.rows.query
        terms = query.order_by or (self.rows.model._meta.ordering if query.default_ordering else ())
        order = []
        for term in terms:
            if isinstance(term, str):
                order.append((F(term.lstrip("-")), term.startswith("-")))
            elif isinstance(term, OrderBy) and not (term.nulls_first or term.nulls_last):
                order.append((term.expression, term.descending))
            else:
                return None
        return order

    @classmethod
    def of(cls, rows, parts, count):
        """``Merged(rows, parts, count)``, or ``rows`` when its order is not one it reads
        (``order``) or its rows are not each a row of the table (DISTINCT, GROUP BY)."""
        merged = cls(rows, parts, count)
        query = merged.rows.query
        if (
            connections[rows.db].vendor not in cls.VENDORS
            or not parts
            or not merged.rows.ordered
            or not ends_in_key(merged.rows)
            or query.distinct
            or query.group_by is not None
            or merged.order() is None
        ):
            return rows
        return merged


class Ranked(ReadInPages):
    """A list in order of rank, then in its own order within a rank, read rank by rank.

    ``first`` holds the first ranks in the list's order: each the list of its ids when
    few, or else their ids as a queryset in a total order, read from its front; ``rest``
    is the last rank, a queryset in a total order (``with_tie_break``); ``records`` reads
    the records of a page by id; ``count`` is how many the list holds. Each record read
    is given its rank as ``attribute``. With ``ranked_rest``, ``rest`` holds the last
    ranks sorted by rank, each row's rank annotated as ``attribute``.

    Ordered by rank in the database, a search naming a country sorted all 100,000
    partnerships it found for its first page (112 ms on PostgreSQL). Here the first ranks
    are read by id, and the last from the nearer end of an index in its own order; a page
    then reads its records in one query, wherever its ranks begin and end.
    """

    def __init__(self, first, rest, records, count, attribute, ranked_rest=False):
        self.first = first
        self.rest = rest
        self.records = records
        self.total = count
        self.attribute = attribute
        self.ranked_rest = ranked_rest
        self.counts = {}  # {rank: how many} of the first ranks read from their front

    def count(self):
        return self.total

    def between(self, total, start, stop):
        ranked, offset = [], 0
        for rank, ids in enumerate(self.first):
            begin, end = max(start - offset, 0), max(stop - offset, 0)
            if begin >= end:
                return self._page(ranked)  # the page ended before this rank
            if isinstance(ids, list):
                ranked += [(pk, rank) for pk in ids[begin:end]]
                offset += len(ids)
                continue
            read = list(ids[begin:end])
            ranked += [(pk, rank) for pk in read]
            if len(read) == end - begin:
                return self._page(ranked)  # the page ends in this rank
            offset += self._rank_count(rank, ids, begin, read)
        left = self.total - offset
        start, stop = max(start - offset, 0), min(stop - offset, left)
        if start < stop:
            if self.ranked_rest:
                rest = self.rest.values_list("pk", self.attribute)
                ranked += rows_between(rest, left, start, stop)
            else:
                rest = rows_between(self.rest.values_list("pk", flat=True), left, start, stop)
                ranked += [(pk, len(self.first)) for pk in rest]
        return self._page(ranked)

    def _rank_count(self, rank, ids, begin, read):
        """How many a rank read from its front holds, the page having read past its end
        from ``begin``: told by what it read, else counted."""
        if rank not in self.counts:
            self.counts[rank] = begin + len(read) if read or not begin else ids.count()
        return self.counts[rank]

    def _page(self, ranked):
        if not ranked:
            return []
        records = self.records.filter(pk__in=[pk for pk, _rank in ranked]).order_by()
        records = {record.pk: record for record in records}
        page = []
        for pk, rank in ranked:
            if (record := records.get(pk)) is not None:  # deleted meanwhile
                setattr(record, self.attribute, rank)
                page.append(record)
        return page
