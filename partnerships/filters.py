import datetime
import hashlib
from array import array
from collections import Counter
from types import SimpleNamespace

import django_filters
from django.db import connections
from django.db.models import (
    Aggregate,
    Case,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.cache import per_version, read_once
from core.fields import PartialDateFormField
from core.filters import (
    MATCHED_IDS,
    AnyOfFilter,
    CountryChoiceField,
    OrderingFilter,
    RecordFilterSet,
    RecordNameFilter,
    SearchInput,
    all_countries,
    count_by,
    date_input,
    year_input,
)
from core.models import Publication, load_parts
from core.pagination import Merged, Ranked
from core.search import (
    ArrayOf,
    any_of,
    distinct_by_group,
    id_list,
    indexed,
    level_ids,
    levels_below,
)
from core.text import query_terms
from core.translation import Localized, translated, translated_columns
from core.visibility import published_through, viewer
from organisations.models import Organisation
from places.models import Place

from . import facets
from .as_of import kept_year, queryset_as_of
from .models import (
    WITHIN,
    FacetLine,
    FacetValue,
    Participant,
    Partnership,
    Theme,
    ties_within_kept,
)

# How far below a place or organisation named in the search box its parts are found:
# country > province > city > district > below, in one subquery rather than a query per level.
PART_DEPTH = 4


def with_parts(model, records):
    """A subquery of ``records`` and the records up to PART_DEPTH levels below them."""
    # One subquery per level, each an inner join the database walks down from ``records``
    # through the parent index; one outer join of every record to its ancestors, tested
    # with OR, read the whole table, once per use, in every facet of a search.
    path = "parent"
    levels = []
    for _level in range(PART_DEPTH):
        levels.append(model.objects.filter(**{f"{path}__in": records}).values("pk"))
        path += "__parent"
    return any_of(model.objects.filter(pk__in=records).values("pk"), *levels)


def below(model, ids):
    """{pk: parent pk} of the records of ``model`` up to PART_DEPTH levels below ``ids``,
    nearest levels first, in one query (``core.search.levels_below``).

    A record of ``ids`` that lies below another of them is there too, with its parent.
    With ids in hand a search word cost 7 ms at 100,000 partnerships, against 18 ms
    through ``with_parts``: its levels, one subquery each for places and for
    organisations, took 9 ms to build and compile and 11 ms to run.
    """
    ids = list(ids)
    if not ids:
        return {}
    [rows] = levels_below([model.objects.filter(pk__in=level_ids(ids))], PART_DEPTH)
    return _walked(rows)[1]


def part_ids(records):
    """The ids of ``records`` (a queryset) and of the records up to PART_DEPTH levels below
    them: what ``with_parts`` selects, read in one query (``core.search.levels_below``)
    for a caller that keeps them (an organisation's page, the list's ``?organisation=``)."""
    [rows] = levels_below([records], PART_DEPTH)
    return list(dict.fromkeys(pk for pk, _parent, _depth in rows))


def named_below(records, term):
    """[(the ids of the records named ``term``, ``below`` them)] for each queryset of
    ``records`` (places, organisations: those the reader may see), in one query: the names
    and each level below them took one each (five for "wuxi" in places and organisations,
    2 ms on PostgreSQL at 100,000 partnerships, and as much again to build them)."""
    return [
        _walked(rows)
        for rows in levels_below([each.matching([term]) for each in records], PART_DEPTH)
    ]


def _walked(rows):
    """The ids a walk (``levels_below``) started from, and {pk: parent pk} below them."""
    return (
        [pk for pk, _parent, depth in rows if not depth],
        {pk: parent for pk, parent, depth in rows if depth},
    )


def ties_of_named(places, organisations):
    """Subqueries of the partnerships with a participant among ``places`` or
    ``organisations`` (each ``named_below``), for ``any_of``.

    A place's ties include those of the places inside it and of the organisations based
    there, as on its page; an organisation's those of its parts.
    """
    places = id_list({*places[0], *places[1]})
    organisations = id_list({*organisations[0], *organisations[1]})
    return [
        Participant.objects.filter(place__in=places).values("partnership_id"),
        Participant.objects.filter(organisation__in=organisations).values("partnership_id"),
        Participant.objects.filter(organisation__place__in=places).values("partnership_id"),
    ]


def search_matches(terms, walk):
    """The partnerships the search box finds for ``terms``, for ``pk__in=``, and their ids
    (None past MATCHED_IDS), drafts included.

    Their ids when there are few enough, read in one query, so that the count, the page and
    every facet reuse them; otherwise the search as a subquery. ``walk(model, term)`` gives
    the records a term names and those below them (``named_below``).

    Several words: the word naming the fewest places and organisations is read first when
    it names few (NARROW_NAMED), and when it finds few (NARROW_IDS) each other word is
    looked for among those alone. A word such as "province" names thousands of places and
    finds nearly every partnership: "beiwu province" at 100,000 partnerships read both
    words' matches in full, 96 ms on PostgreSQL. Otherwise the ids are those every word's
    UNION holds (INTERSECT); read through the partnership table, PostgreSQL hashed all
    100,000 ids to join the 3,620 of "hai university" to both words' (53 ms, against 42).
    """

    def matches(term, among=None):
        titled = Partnership.objects.filter(search_key__contains=term)
        ties = ties_of_named(walk(Place, term), walk(Organisation, term))
        if among is not None:
            titled = titled.filter(pk__in=among)
            ties = [tie.filter(partnership_id__in=among) for tie in ties]
        return any_of(titled.values("pk"), *ties)

    def named(term):
        return sum(len(part) for model in (Place, Organisation) for part in walk(model, term))

    def read(found):
        return list(found.order_by().values_list("pk", flat=True)[: MATCHED_IDS + 1])

    first, *rest = sorted(terms, key=named)
    if rest and named(first) <= NARROW_NAMED:
        ids = read(matches(first))
        if len(ids) <= min(NARROW_IDS, MATCHED_IDS):
            for term in rest:
                if ids:
                    ids = read(matches(term, among=id_list(ids)))
            return id_list(ids), ids
        # Found more than its few names promised: read as if it had named many.
    found = matches(first)
    if rest:
        found = found.intersection(*(matches(term) for term in rest))
    ids = read(found)
    if len(ids) > MATCHED_IDS:
        return found.values("pk"), None
    return id_list(ids), ids


# ``search_matches`` reads the first of several words alone when it names at most this many
# places and organisations ("wuxi": 79 at 100,000 partnerships, "hai": 944), and looks for
# the others among its matches when it finds at most this many.
NARROW_NAMED = 200
NARROW_IDS = 2000


# The API schema cannot guess what these filters take (a method, callable choices, a
# field of our own); each is one or more strings: '2010', 'DK', a theme's slug.
@extend_schema_field(OpenApiTypes.STR)
class PartialDateFilter(django_filters.Filter):
    field_class = PartialDateFormField


@extend_schema_field(OpenApiTypes.STR)
class StringsFilter(django_filters.MultipleChoiceFilter):
    pass


class CountryCodesFilter(StringsFilter):
    field_class = CountryChoiceField


class SlugsField(django_filters.fields.ModelMultipleChoiceField):
    def clean(self, value):
        cleaned = super().clean(value)
        if isinstance(cleaned, QuerySet) and cleaned.query.is_empty():
            # Nothing chosen: Django gives ``queryset.none()``, which every test of it
            # (``if value``, in django-filter and here) compiled into a query that cannot
            # run, 0.3 ms a list page. Known empty, it holds no rows to read.
            cleaned._result_cache = []
        return cleaned


@extend_schema_field(OpenApiTypes.STR)
class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = SlugsField


class TextInput(SearchInput):
    input_type = "text"


def of_partnerships(queryset, field="partnership"):
    """Rows of ``queryset``'s partnerships; no subquery at all for the whole registry."""
    return {f"{field}__in": ArrayOf(queryset.values("pk"))} if queryset.query.where else {}


# The participant filters, tested on the partnerships' kept values.
PARTICIPANT_FACETS = {"country", "place_kind", "organisation_kind"}
# The facets whose values each partnership keeps in its line (``partnerships.facets``),
# and its start, which the chart counts.
KEPT_VALUES = facets.LINED

UNASKED = object()


class JoinedLines(Aggregate):
    """The texts of the rows in one text, a line each.

    The 1,404 facet lines of a search for "kørborg" at 100,000 partnerships came back in
    4.4 ms as rows on PostgreSQL, 3.7 ms as one text (SQLite 2.6 and 2.0), counted alike.
    """

    function = "STRING_AGG"
    template = "%(function)s(%(expressions)s, chr(10))"
    output_field = TextField()

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler,
            connection,
            function="GROUP_CONCAT",
            template="%(function)s(%(expressions)s, char(10))",
            **extra_context,
        )


def line_counts(names, partnerships, ids=None):
    """{facet: {value: count}} of the kept facets ``names`` over ``partnerships``, added up
    from one line of values per partnership (``FacetLine``): no join to participants,
    places or organisations, and no sort in the database. For several facets at once:
    at 100,000 partnerships, the six of the list over 25,000 of them took 57 ms here and
    215 ms grouped in SQL; one facet alone took 10–20% longer here. ``ids``, when given,
    are those of ``partnerships``: their lines are read by id alone.

    Of ``ids`` (a search's matches), counted once by each worker per counts version and
    set of ids (``read_once``): a line changes only with its partnership's values, and
    the keeper moves the counts version whenever those change (``facets._refresh``). The
    1,500 lines that "wuxi" finds at 100,000 partnerships took 7.4–8.4 ms of each search
    page to read and count on PostgreSQL, after every write."""
    if ids is None:
        rows = FacetLine.objects.filter(**of_partnerships(partnerships, "partnership_id"))
        return _line_counts(names, rows)
    ids = sorted(ids)
    key = ("line-counts", tuple(names), hashlib.sha256(array("q", ids).tobytes()).digest())
    found = read_once(
        "counts",
        key,
        lambda: _line_counts(names, FacetLine.objects.filter(partnership_id__in=id_list(ids))),
        partnerships.db,
    )
    # The callers' own: they take values out and put others in.
    return {name: dict(values) for name, values in found.items()}


def _line_counts(names, rows):
    lines = rows.aggregate(text=JoinedLines("text"))["text"]
    counts = {name: {} for name in names}
    for item, count in Counter(lines.split("\n") if lines else ()).items():
        facet, _, value = item.partition("=")
        if facet in counts:
            counts[facet][value] = count
    return counts


def facet_counter(facet):
    """A facet counter over the participants' kept values (``FacetValue``): one row per
    partnership and value, so no DISTINCT and no join to places or organisations. Of one
    facet alone, the GROUP BY over its own rows took a tenth less than the lines
    (``line_counts``), which hold every facet's values."""

    def counter(filterset, queryset):
        return (
            FacetValue.objects.filter(facet=facet, **of_partnerships(queryset, "partnership_id"))
            .values("value")
            .annotate(count=Count("*"))
            .values_list("value", "count")
        )

    return counter


def count_themes(filterset, queryset):
    return (
        Partnership.themes.through.objects.filter(**of_partnerships(queryset))
        .values("theme__slug")
        .annotate(count=Count("partnership_id"))
        .values_list("theme__slug", "count")
    )


class PartnershipFilter(RecordFilterSet):
    """Partnerships by what they are, who takes part and when.

    The search box also matches the names of the participants and of the places and
    organisations they belong to: 'Jiangsu' finds the ties of Wuxi and Suzhou, after those
    named Jiangsu themselves.
    """

    # Fields of the record itself: no join, so no DISTINCT needed.
    status = AnyOfFilter(label=_("Status"), choices=Partnership.Status.choices, distinct=False)
    kind = AnyOfFilter(label=_("Kind"), choices=Partnership.Kind.choices, distinct=False)
    theme = SlugsFilter(
        label=_("Theme"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        method="filter_theme",
    )
    country = CountryCodesFilter(
        label=_("Country of a participant"), choices=all_countries, method="filter_country"
    )
    place_kind = django_filters.MultipleChoiceFilter(
        label=_("Kind of place taking part"),
        choices=Place.Kind.choices,
        method="filter_place_kind",
    )
    organisation_kind = django_filters.MultipleChoiceFilter(
        label=_("Kind of organisation taking part"),
        choices=Organisation.Kind.choices,
        method="filter_organisation_kind",
    )
    place = RecordNameFilter(
        label=_("Place taking part"),
        help_text=_("Any name of the place; includes the places and organisations in it."),
        queryset=Place.objects.all(),
        method="filter_place",
    )
    organisation = RecordNameFilter(
        label=_("Organisation taking part"),
        help_text=_("Any name or abbreviation of the organisation; includes its parts."),
        queryset=Organisation.objects.all(),
        method="filter_organisation",
    )
    as_of = PartialDateFilter(
        label=_("As of"),
        help_text=_(
            "A year or a month, such as 2010 or 2011-05: what the registry says was "
            "planned, active or ended then."
        ),
        method="filter_as_of",
        widget=TextInput(attrs={"autocomplete": "off", "inputmode": "numeric", "size": 10}),
    )
    start_from = django_filters.NumberFilter(
        label=_("Started in or after"),
        method="filter_start_from",
        min_value=1000,
        max_value=2200,
        widget=year_input(),
    )
    start_to = django_filters.NumberFilter(
        label=_("Started in or before"),
        method="filter_start_to",
        min_value=1000,
        max_value=2200,
        widget=year_input(),
    )
    reviewed_since = django_filters.DateFilter(
        label=_("Reviewed since"),
        field_name="last_reviewed_on",
        lookup_expr="gte",
        widget=date_input(),
    )
    sort = OrderingFilter(
        label=_("Sort by"),
        fields={
            "title": "title",
            "start_on": "start",
            "updated_at": "updated",
            "last_reviewed_on": "reviewed",
        },
        choices=[
            ("title", _("Title, A to Z")),
            ("-title", _("Title, Z to A")),
            ("start", _("Oldest first")),
            ("-start", _("Newest first")),
            ("-updated", _("Recently updated first")),
            ("-reviewed", _("Recently reviewed first")),
        ],
        empty_label=None,
    )

    facets = {
        "status": count_by("status"),
        "kind": count_by("kind"),
        "theme": count_themes,
        "country": facet_counter("country"),
        "place_kind": facet_counter("place_kind"),
        "organisation_kind": facet_counter("organisation_kind"),
    }

    class Meta:
        model = Partnership
        fields = [
            "q",
            "status",
            "kind",
            "theme",
            "country",
            "place_kind",
            "organisation_kind",
            "place",
            "organisation",
            "as_of",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.named = {}
        self.held = {}
        self.read = {}
        self.matches = {}
        self.shares = {}
        self.lacks = {}
        self.rest_ids = None
        self.walks = {}
        self.theme_rows = None
        self.left = UNASKED  # then None or a subquery (``left_out``)
        self.searched = UNASKED  # then None or a list of ids (``searched_ids``)
        self.line_starts = None  # the chart, counted from the lines (``counted_starts``)
        self.broad = False  # whether ``left_out`` leaves out few (``less_the_rest``)
        self.ranks = None  # the search's first two ranks, as conditions (``filter_q``)
        self.every = {}  # {search box value: whether it finds every one (``finds_every``)}

    def found(self, queryset, value):
        if not query_terms(value):
            return queryset
        if self.finds_every(value):
            # The kept counts then stand for what it keeps, as for no search at all
            # ("china" at 100,000: the facets and the chart read 100,000 ids each, 0.3 s).
            return queryset
        return queryset.filter(pk__in=self.matched(value)[0])

    def finds_every(self, value):
        """Whether the search box's ``value`` finds every partnership, drafts too.

        Known without a search when each word names a place that every partnership has a
        tie in, by the kept counts (``WITHIN``), and the search walks down to every place
        below it: "china" in a registry of Danish–Chinese ties, where reading the 100,000
        ids it finds took 105 ms on PostgreSQL. Else from those ids: as many, each once, as
        there are partnerships.
        """
        if value not in self.every:
            terms, using = query_terms(value), self.queryset.db
            every = facets.total(facets.ALL, using)
            if every and all(self._names_every(term, every, using) for term in terms):
                self.every[value] = True
            else:
                ids = self.matched(value)[1]
                self.every[value] = ids is not None and len(ids) == every
        return self.every[value]

    def _names_every(self, term, every, using):
        """Whether ``term`` names a place every one of ``every`` partnerships has a tie in,
        and whose places the search walks down to, every one of them."""
        named, parents = self.walk(Place, term)
        if not named:
            return False
        counts = facets.value_counts(facets.ALL, WITHIN, [str(pk) for pk in named], using)
        return any(
            count == every and walked_whole([int(pk)], parents, under_named({int(pk)}, parents))
            for pk, count in counts.items()
        )

    def matched(self, value):
        """``search_matches`` for the search box's ``value``: the matches and how many.
        Facets apply the search once each; it runs once."""
        if value not in self.matches:
            self.matches[value] = search_matches(query_terms(value), self.walk)
        return self.matches[value]

    # At most this many drafts and records ready for review, read by id, for a search's
    # matches to be told from its ids alone (``searched_ids``).
    FEW_UNPUBLISHED = 1000

    def searched_ids(self):
        """The ids of the partnerships this filter keeps when the search box alone is
        filled and the ids its matches are in hand, less those the reader may not see;
        else None.

        Then the count is their number, and the facets read the lines of these ids: the
        COUNT and the facets each looked up the 1,500 matches of "wuxi" in the partnership
        table again, 3.8 and 4.5 ms on PostgreSQL at 100,000 partnerships.
        """
        if self.searched is UNASKED:
            self.searched = None
            scope = facets.scope_of(self.queryset)
            chosen = self.chosen()
            # A box of punctuation alone searches for nothing and filters nothing.
            query = self.form.cleaned_data.get("q")
            # Every partnership found: the kept counts count them (``found``).
            if (
                scope is not None
                and chosen == {"q"}
                and query_terms(query)
                and not self.finds_every(query)
            ):
                found = self.matched(query)[1]
                if found is not None and scope == facets.ALL:
                    self.searched = found
                elif found is not None:
                    # The few unpublished, by the publication index.
                    unpublished = Partnership.objects.using(self.queryset.db).unpublished()
                    hidden = set(
                        unpublished.order_by().values_list("pk", flat=True)[
                            : self.FEW_UNPUBLISHED + 1
                        ]
                    )
                    if len(hidden) <= self.FEW_UNPUBLISHED:
                        self.searched = [pk for pk in found if pk not in hidden]
        return self.searched

    count_facet = "kind"

    def known_count(self):
        # Every partnership, or every published one: counted as they were written. A
        # search alone: its matches in hand. Any other: the kind facet's counts.
        if not self.is_bound or self.narrowing() == set():
            return facets.kept_total(self.queryset)
        searched = self.searched_ids()
        return len(searched) if searched is not None else super().known_count()

    def walk(self, model, term):
        """``named_below`` of the places and organisations the reader may see, once for
        the search and the groups that explain it. A draft's name finds nothing through
        it for the public, as it names nothing in the place and organisation filters."""
        if term not in self.walks:
            places, organisations = named_below(
                [self.filters["place"].records, self.filters["organisation"].records], term
            )
            self.walks[term] = {Place: places, Organisation: organisations}
        return self.walks[term][model]

    def filter_q(self, queryset, name, value):
        terms = query_terms(value)
        if not terms:
            return queryset
        queryset = self.found(queryset, value)
        # Ties named in their title first, then those of a participant so named
        # (``Partnership.objects.matching``), then those found through a place or
        # organisation inside one so named. The records each word names are those the
        # search walked down from, in hand: rebuilding the rank's subqueries of names took
        # 2.4 ms of the 8.1 that reading a page of "Beiwu" took at 100,000 partnerships.
        title_matches, named, named_first = Q(), Q(), Q()
        for term in terms:
            title_matches &= Q(search_key__contains=term)
            # Two subqueries, each down its own index: PostgreSQL read every participant
            # for one with an OR of the two (34 ms at 100,000 partnerships).
            places = Participant.objects.filter(place__in=id_list(self.walk(Place, term)[0]))
            organisations = Participant.objects.filter(
                organisation__in=id_list(self.walk(Organisation, term)[0])
            )
            titled = Partnership.objects.filter(search_key__contains=term).values("pk")
            places, organisations = (
                places.values("partnership_id"),
                organisations.values("partnership_id"),
            )
            named &= Q(search_key__contains=term) | Q(pk__in=places) | Q(pk__in=organisations)
            # The same, found as those the title and the participants each name: with the
            # OR, finding the few of the second rank read every partnership (84 ms).
            named_first &= Q(pk__in=any_of(titled, places, organisations))
        self.ranks = (title_matches, named_first)
        return queryset.annotate(
            search_rank=Case(
                When(title_matches, then=Value(0)),
                When(named, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        ).order_by("search_rank", *Partnership._meta.ordering, "pk")

    # A search that finds at least RANKED_FROM partnerships and this share of them reads
    # its pages rank by rank, as long as its words name at most FEW_RANKED records and its
    # first two ranks hold at most as many partnerships. Sorting fewer by rank in one
    # query costs less than the ranks' own queries: "university" finds 11,901 of 100,000,
    # and its list took 171 ms sorted, 229 read by rank.
    RANKED_FROM = 5000
    RANKED_SHARE = 0.5
    FEW_RANKED = 1000

    def in_pages(self, rows):
        """A search's matches in its order (``filter_q``), read rank by rank (``Ranked``):
        the few that the title or a participant names by id, and the rest from the front
        of the list's order. A search naming a country finds every partnership, and its
        first page sorted all 100,000 by rank: 134 ms on PostgreSQL. A search that finds
        fewer is sorted by rank in the database, those it titles read first when it finds
        many (``titled_first``).
        """
        if self.ranks is None or rows.query.order_by[:1] != ("search_rank",):
            return self.merged(rows)  # no search, or another order chosen
        query = self.form.cleaned_data["q"]
        every = facets.total(facets.ALL, self.queryset.db)
        if self.finds_every(query):
            found = every
        else:
            ids = self.matched(query)[1]
            found = None if ids is None else len(ids)
        if found is not None and (found < self.RANKED_FROM or found < self.RANKED_SHARE * every):
            return self.titled_first(rows, found)
        # Words that name few records name few partnerships: their ids are read. Others
        # ("a", which names 9,000 places) are read from the front of the list's order,
        # page by page: sorting all 100,000 partnerships that "a" finds by rank took 184
        # ms on PostgreSQL for its first page.
        few = all(
            len(self.walk(Place, term)[0]) + len(self.walk(Organisation, term)[0])
            <= self.FEW_RANKED
            for term in query_terms(query)
        )
        title_matches, named = self.ranks
        # What the title or a participant names, the search found: the first ranks need
        # no test against the ids it found, which took PostgreSQL 24 ms to plan.
        others = self.queryset_without("q").order_by(*Partnership._meta.ordering, "pk")
        first, rest = [], self.kept_rows(rows)
        for ranked, condition in (
            (others.filter(title_matches), title_matches),
            (others.filter(named).exclude(title_matches), named),
        ):
            ranked = ranked.values_list("pk", flat=True)
            ids = list(ranked[: self.FEW_RANKED + 1]) if few else []
            if few and len(ids) <= self.FEW_RANKED:
                first.append(ids)
                rest = rest.exclude(pk__in=id_list(ids))
            else:
                first.append(ranked)
                rest = rest.exclude(condition)
        rest = rest.order_by(*Partnership._meta.ordering, "pk")
        return Ranked(first, rest, others, self.count_of(rows), "search_rank")

    # A search that finds at least this many partnerships, and few enough to sort in the
    # database (``in_pages``), reads those its words title first (``titled_first``).
    TITLED_FIRST_FROM = 1000

    def titled_first(self, rows, found):
        """``rows``, a search's ``found`` matches sorted by rank in one query; when they are
        many, and some are titled with every word, a ``Ranked`` list of the titled, read
        in the list's order, then the rest sorted by rank.

        Sorting by rank reads and ranks the row of every match: the first page of "wuxi"
        (1,500 matches, 308 of them titled so) took 6.4 ms on PostgreSQL at 100,000
        partnerships; its titled, found by the index and sorted, 0.9. Their first ten
        alone (``LIMIT``) made PostgreSQL walk the title index past 45,000 rows for the
        650 titled "kørborg" (35 ms, against 2.3 for all of them).
        """
        terms = query_terms(self.form.cleaned_data["q"])
        if found < self.TITLED_FIRST_FROM or not all(indexed(term) for term in terms):
            return rows  # few to sort, or a word the index cannot find: a scan
        title_matches, _named = self.ranks
        # What the title names, the search found: no test against its ids. Read whole,
        # the database sorts the few the index finds.
        others = self.queryset_without("q").order_by(*Partnership._meta.ordering, "pk")
        titled = list(others.filter(title_matches).values_list("pk", flat=True))
        if not titled:
            return rows
        rest = rows.exclude(pk__in=id_list(titled))
        return Ranked([titled], rest, others, self.count_of(rows), "search_rank", ranked_rest=True)

    def count_of(self, rows):
        """How many ``rows``, what this filter keeps, are: known without a query when the
        kept counts or the search's ids tell (``known_count``)."""
        count = self.known_count()
        return rows.count() if count is None else count

    # At most this many pairs of a kind and a status (for each publication the reader
    # sees) are read as the parts of a list (``merged``).
    MERGED_PARTS = 16

    def merged(self, rows):
        """``rows`` of the kinds and statuses chosen, when they make more than one pair,
        read as the merge of each pair's rows (``Merged``): in title order, each from the
        front of its part of the index on publication, kind, status and title (or start,
        ``partnership_counts_idx``). Else ``rows``; a search's as ``filter_q`` finds them."""
        if self.ranks is not None or not self.is_bound:
            return rows
        chosen = self.form.cleaned_data
        kinds, statuses = chosen.get("kind") or [], chosen.get("status") or []
        scope = facets.scope_of(self.queryset)
        if not kinds or not statuses or len(kinds) * len(statuses) < 2 or scope is None:
            # One part of the index, in order already; or a dimension left open, whose
            # many parts cost more than reading the title index and testing each row: two
            # kinds of any status at 100,000 partnerships took SQLite 9% longer merged.
            return rows
        # Whatever filters the rows (a year as of, a country) leaves each part in order.
        publications = (
            [Publication.PUBLISHED.value] if scope == facets.PUBLISHED else Publication.values
        )
        parts = [
            {"publication": publication, "kind": kind, "status": status}
            for publication in publications
            for kind in kinds
            for status in statuses
        ]
        if len(parts) > self.MERGED_PARTS:
            return rows
        return Merged.of(rows, parts, rows.count)

    def kept_rows(self, rows):
        """``rows``, what this filter keeps (``qs``), in no order; a search alone that finds
        nearly every partnership as every one less the few it leaves out, which the facets
        read anyway (``the_rest``). Tested against the 100,000 ids it found, counting the
        search page's groups for "china" took 241 ms on PostgreSQL."""
        if self.ranks is not None and self.chosen() == {"q"} and self.left_out() is not None:
            self.the_rest()
            if not self.rest_ids:
                return self.queryset.order_by()  # every one: what the kept counts count
            return self.queryset.exclude(pk__in=id_list(self.rest_ids)).order_by()
        return rows.order_by()

    def filter_theme(self, queryset, name, value):
        # The field gives the chosen themes as a list, read once, and an empty queryset
        # when none is chosen: asked whether that is empty, Django compiled it, 0.18 ms
        # of every partnership list, search and API list, up to four times a page.
        if isinstance(value, QuerySet) or not value:
            return queryset
        return queryset.filter(
            pk__in=Partnership.themes.through.objects.filter(theme__in=value).values(
                "partnership_id"
            )
        )

    # A participant's country or kind is tested on the partnerships' kept values
    # (partnerships.facets), not by joining every participant to its place or organisation.
    def filter_country(self, queryset, name, value):
        return self.with_value(queryset, "country", value)

    def filter_place_kind(self, queryset, name, value):
        return self.with_value(queryset, "place_kind", value)

    def filter_organisation_kind(self, queryset, name, value):
        return self.with_value(queryset, "organisation_kind", value)

    # Values held by at most this share of the partnerships count as rare.
    RARE = 0.1

    def with_value(self, queryset, facet, values):
        """Partnerships with one of ``values`` of ``facet``.

        The kept counts say how many partnerships that is, so the database need not
        guess: a rare value's few partnerships are read once, ``IN (…)``; a common one
        ("a participant from Denmark": nearly every partnership here) is tested per
        partnership the other filters leave, ``EXISTS (…)``. Either the other way round
        cost 0.1–0.3 s a query at 100,000 partnerships, and a page with facets runs ten.
        A value every partnership has, by the kept counts, keeps them all: no test at all
        (a registry of Danish ties abroad may well have a Danish participant in every
        one). On SQLite a value nearly every partnership has leaves out the few without
        it, read once by id (``lacking``): testing the others' values took 35 ms of 43
        for a count of the active partnerships by kind, and a page with facets runs five.
        PostgreSQL guessed that such a NOT IN kept half of what it tests, and read all
        2,000,000 kept values instead of those of 10,000 sister cities (158 → 403 ms).
        """
        if (less := self.less_the_rest(queryset)) is not None:
            return less
        using = queryset.db
        share, everyone = self._kept_share(facet, values, using)
        if everyone:
            return queryset
        rows = FacetValue.objects.filter(facet=facet, value__in=sorted(values))
        if share <= self.RARE:
            return queryset.filter(pk__in=rows.values("partnership_id"))
        if share >= self.BROAD and connections[using].vendor == "sqlite":
            return queryset.exclude(pk__in=id_list(self.lacking(facet, values, rows)))
        return queryset.filter(Exists(rows.filter(partnership_id=OuterRef("pk"))))

    def lacking(self, facet, values, rows):
        """The ids of the partnerships (of ``self.queryset``: every one filtered here is
        within it) without any of ``values`` of ``facet``, the ``rows`` that have them;
        read once for the facets, the count and the page alike."""
        key = (facet, tuple(sorted(values)))
        if key not in self.lacks:
            rest = self.queryset.exclude(pk__in=rows.values("partnership_id")).order_by()
            self.lacks[key] = list(rest.values_list("pk", flat=True))
        return self.lacks[key]

    def narrowing(self):
        """``chosen()`` less the filters that keep every partnership (``keeps_every``): the
        kept counts that stand for what the others keep stand for what all of them keep."""
        chosen = self.chosen()
        return None if chosen is None else {name for name in chosen if not self.keeps_every(name)}

    def unfiltered_facets(self):
        # A filter that keeps every partnership narrows no other facet.
        narrowing = self.narrowing() if self.is_bound else set()
        if narrowing is None:
            return super().unfiltered_facets()
        return [name for name in self.facets if not narrowing - {name}]

    def keeps_every(self, name):
        """Whether the participant filter ``name`` keeps every partnership, as the kept
        counts tell: one of its values is every partnership's, so it tests none
        (``with_value``)."""
        values = self.form.cleaned_data.get(name) if self.is_bound else None
        if name not in PARTICIPANT_FACETS or not values:
            return False
        return self._kept_share(name, values, self.queryset.db)[1]

    def _kept_share(self, facet, values, using):
        """The share of the partnerships with one of ``values`` of ``facet``, kept counted,
        and whether one of the values is every partnership's."""
        key = (facet, tuple(sorted(values)))
        if key not in self.shares:
            counts = facets.counts(facets.ALL, [facet, "status"], using=using)
            total = sum(counts["status"].values())
            held = [counts[facet].get(value, 0) for value in values]
            self.shares[key] = (sum(held) / total if total else 0, bool(total) and total in held)
        return self.shares[key]

    # A search that finds at least this share of the partnerships counts as broad.
    BROAD = 0.9

    def left_out(self):
        """The partnerships the filter leaves out, for ``pk__in=``, when they are few; else
        None. Then the kept counts less those of ``the_rest()`` are what it leaves.

        That is when one filter alone is chosen and keeps most partnerships: a common
        participant value ("from Denmark", nearly every partnership here), or a search
        that finds most of them ("China"). Counting what they keep read nearly the whole
        registry once per facet.
        """
        if self.left is UNASKED:
            self.left = self._left_out()
        return self.left

    def chosen(self):
        """The names of the filters chosen (the order aside), or None when the data is not
        valid: what decides which kept counts stand for the records a filter keeps."""
        if not self.is_bound or not self.is_valid():
            return None
        return {name for name, value in self.form.cleaned_data.items() if value and name != "sort"}

    def _left_out(self):
        chosen = self.chosen()
        if not chosen or len(chosen) != 1 or facets.scope_of(self.queryset) is None:
            return None
        cleaned = self.form.cleaned_data
        (name,) = chosen
        using = self.queryset.db
        if name in PARTICIPANT_FACETS:
            share, everyone = self._kept_share(name, cleaned[name], using)
            if share <= self.RARE:
                return None
            self.broad = share >= self.BROAD
            if everyone:
                # None left out, known from the counts: finding that out read every
                # partnership twice (45-70 ms at 100,000).
                self.rest_ids = []
            rows = FacetValue.objects.filter(facet=name, value__in=sorted(cleaned[name]))
            return rows.values("partnership_id")
        if name == "place":
            named = self.named_places(cleaned["place"])
            # Whole countries that many partnerships take part in: their ties are most of
            # those. Counting Denmark's facets from its ties took 1.4 s at 100,000.
            if named and all(kind == Place.Kind.COUNTRY for _, kind, _ in named):
                share, everyone = self.within_share(named)
                if share > self.RARE:
                    self.broad = share >= self.BROAD
                    if everyone:
                        self.rest_ids = []  # as above
                    return Partnership.objects.within(pk for pk, _, _ in named).values("pk")
        if name == "q" and query_terms(cleaned["q"]):
            if self.finds_every(cleaned["q"]):
                # None left out: finding that out read them all again (86 ms at 100,000).
                self.rest_ids = []
                return Partnership.objects.values("pk")
            matches, found = self.matched(cleaned["q"])
            # ``found`` holds drafts too: a guess at which way is cheaper, either is right.
            # Not ``broad``: a search's page is ordered by how each partnership matches, and
            # read through the ids it found took a third as long as less the rest.
            if found is None or len(found) >= self.BROAD * facets.total(facets.ALL, using):
                return matches
        return None

    def less_the_rest(self, queryset):
        """``queryset`` less the few partnerships that the one filter chosen leaves out,
        when it keeps nearly all of them (``left_out`` and ``broad``); else None.

        The same partnerships as that filter keeps, but the database reads the few left out
        once, by id, instead of testing every partnership for a value or a tie: Denmark's
        ties took 0.2–0.3 s to count at 100,000 partnerships, and as long for a page.
        ``queryset`` must be within ``self.queryset``, as every one filtered here is.
        """
        if self.left_out() is None or not self.broad:
            return None
        self.the_rest()
        if not self.rest_ids:
            return queryset  # still itself, so that what is kept counted is read (``scope_of``)
        return queryset.exclude(pk__in=id_list(self.rest_ids))

    def the_rest(self):
        """The few partnerships that the one filter chosen leaves out (``left_out``), by
        id: read once for the facets and the chart of starts alike."""
        if self.rest_ids is None:
            # NOT IN: one pass over what the filter keeps, not a lookup per partnership.
            rest = self.queryset.exclude(pk__in=self.left_out()).order_by()
            self.rest_ids = list(rest.values_list("pk", flat=True))
        return self.queryset.filter(pk__in=id_list(self.rest_ids))

    def shared_counts(self, skip=()):
        # The facets that nothing is chosen in count the same partnerships, and so does
        # one whose filter keeps every partnership (``keeps_every``): leaving it out
        # changes nothing either. "Denmark and China" at 100,000 partnerships counted
        # their countries' values again, apart, for 16 ms of SQL.
        cleaned = self.form.cleaned_data if self.is_bound else {}
        names = [
            name
            for name in self.facets
            if name not in skip and (not cleaned.get(name) or self.keeps_every(name))
        ]
        if len(names) < 2:
            return super().shared_counts(skip)
        searched = self.searched_ids()
        counts = self.value_counts([*names, "started"], self.queryset_without(None), searched)
        # The chart of what the filters keep, from the same lines (``counted_starts``).
        self.line_starts = facets.starts(counts.pop("started"))
        return counts

    def counted_starts(self):
        """The chart's starts of what the filters keep, when this request read them with
        its facets (``shared_counts``); else None. At 100,000 partnerships the chart of
        ``?place_kind=municipality&kind=sister_city`` took 31 ms to count apart."""
        return self.line_starts

    def value_counts(self, names, partnerships, ids=None):
        """{facet name: {value: count}} of the facets ``names`` over ``partnerships``, whose
        ids, when in hand, are ``ids``.

        Those kept as values of each partnership (``KEPT_VALUES``: every facet here) are
        counted together from their lines (``line_counts``), where the record's fields,
        its themes and its participants' values took a query each.
        """
        kept = [name for name in names if name in KEPT_VALUES]
        counts = line_counts(kept, partnerships.order_by(), ids) if kept else {}
        counts = self.with_theme_slugs(counts)
        for name in names:
            if name not in counts:
                counts[name] = dict(self.facets[name](self, partnerships.order_by()))
        return counts

    def with_theme_slugs(self, counts):
        """``counts`` with the theme facet's values, kept as ids, as the slugs it shows."""
        if "theme" in counts:
            themes = self.themes()
            counts["theme"] = {
                themes[int(pk)][0]: count
                for pk, count in counts["theme"].items()
                if int(pk) in themes
            }
        return counts

    def themes(self):
        """{id: (slug, name as the reader sees it)} of every theme, read once for the theme
        facet's values and its labels, which the form's choices read again."""
        if self.theme_rows is None:
            using = self.queryset.db

            def read():
                rows = Theme.objects.using(using).order_by()
                rows = rows.values("pk", "slug", *translated_columns("name"))
                return {
                    row["pk"]: (row["slug"], translated(SimpleNamespace(**row), "name")[0])
                    for row in rows
                }

            # Once per counts version, which the themes move too (core.versioning), in
            # each language: a query on every list, map and network page.
            self.theme_rows = read_once("counts", ("themes", get_language()), read, using)
        return self.theme_rows

    def facet_labels(self, name):
        if name == "theme":
            return dict(self.themes().values())
        return super().facet_labels(name)

    def theme_scope(self, chosen=None):
        """The kept scope (``facets.of_theme``) of what this filter keeps when one theme
        alone is chosen, else None: then its facets and chart of starts are kept counts.
        ``chosen``: of what those filters alone keep, instead of all it narrows by."""
        scope = facets.scope_of(self.queryset)
        if scope is None or (self.narrowing() if chosen is None else chosen) != {"theme"}:
            return None
        (theme, *others) = self.form.cleaned_data["theme"]
        return None if others else facets.of_theme(scope, theme.pk)

    def kinds_and_statuses(self, chosen=None):
        """(the kept scope, the kinds chosen, the statuses chosen, the year as of which)
        when kinds, statuses and a whole year as of (``as_of.kept_year``: 2010, the 2000s,
        not a month) are all that is chosen, one of them at least; else None. Then the kept
        counts of those kinds and statuses (``facets.within``) listed as of that year
        (``facets.dated``) are those of what this filter keeps. ``chosen``: of what those
        filters alone keep, instead of all it narrows by."""
        scope = facets.scope_of(self.queryset)
        chosen = self.narrowing() if chosen is None else chosen
        if scope is None or not chosen or not chosen <= {"kind", "status", "as_of"}:
            return None
        cleaned = self.form.cleaned_data
        year = kept_year(cleaned["as_of"]) if "as_of" in chosen else None
        if "as_of" in chosen and year is None:
            return None
        return scope, cleaned.get("kind") or [], cleaned.get("status") or [], year

    def kept_starts(self):
        """The chart's starts, as ``facets.started`` gives them, of what this filter keeps
        when the writes keep them (one theme alone, or kinds and statuses alone); else
        None."""
        using = self.queryset.db
        if (themed := self.theme_scope()) is not None:
            return facets.started(themed, using=using)
        if (kept := self.kinds_and_statuses()) is not None:
            scope, kinds, statuses, year = kept
            return facets.started_within(scope, kinds, statuses, using=using, year=year)
        return None

    def kept_for_chosen(self, skip=()):
        # One theme alone chosen: the writes keep the other facets counted per theme
        # (``facets.BY_THEME``); the theme facet itself counts every partnership.
        if (themed := self.theme_scope()) is not None:
            names = [name for name in self.facets if name in facets.BY_THEME - set(skip)]
            return facets.counts(themed, names, using=self.queryset.db)
        # Only kind and status chosen: the writes keep the other facets counted per kind
        # and status (``facets.BY_KIND_STATUS``), and the pairs of the two themselves.
        # Counting the participants' values of the 2,519 published active sister cities at
        # 100,000 partnerships took 19 ms of SQL.
        if (kept := self.kinds_and_statuses()) is None:
            return self.kept_each_alone(skip)
        scope, kinds, statuses, year = kept
        using = self.queryset.db
        names = [name for name in self.facets if name in facets.BY_KIND_STATUS - set(skip)]
        counts = facets.counts_within(scope, kinds, statuses, names, using, year=year)
        counts = self.with_theme_slugs(counts)
        # Each of the two narrowed by the other alone, the usual faceting rule (and by the
        # year as of which, when one is chosen).
        if year is None:
            pairs = facets.counts(scope, ["kind_status"], using=using)["kind_status"]
        else:
            # Nothing else is asked of the whole registry as of the year. Read with the
            # rest of its facets, the pairs of 32 years at 10,000 partnerships took SQLite
            # 1.6 ms (380 sums), and alone 0.39 (30).
            pairs = facets.counts_as_of(scope, year, ["kind_status"], using, alone=True)
            pairs = pairs["kind_status"]
        for name, other in (("kind", statuses), ("status", kinds)):
            if name in skip or name not in self.facets:
                continue
            counts[name] = {}
            for pair, count in pairs.items():
                kind, status = pair.split("|")
                mine, theirs = (kind, status) if name == "kind" else (status, kind)
                if not other or theirs in other:
                    counts[name][mine] = counts[name].get(mine, 0) + count
        return counts

    def kept_each_alone(self, skip=()):
        """{facet: {value: count}} of the chosen facets not in ``skip`` whose counts the
        writes keep: a facet's counts are those of what the other filters keep, and when
        that is one theme, kinds and statuses, or one value of a participant facet, they
        are kept counts (``_kept_without``).

        ``?place_kind=municipality&kind=sister_city`` at 100,000 partnerships counted the
        kinds of every partnership with a municipality (73 ms on PostgreSQL) and the kinds
        of place of every sister city (29 ms).
        """
        narrowing = self.narrowing()
        scope = facets.scope_of(self.queryset)
        if not narrowing or scope is None:
            return {}
        found = {}
        for name in narrowing:
            if name in skip or name not in self.facets:
                continue
            counts = self._kept_without(scope, name, narrowing - {name})
            if counts is not None:
                found[name] = counts
        return self.with_theme_slugs(found)

    def _kept_without(self, scope, name, rest):
        """The kept counts of facet ``name`` over what the filters ``rest`` keep, or None
        when the writes keep none such."""
        cleaned, using = self.form.cleaned_data, self.queryset.db
        if name in facets.BY_THEME and (themed := self.theme_scope(rest)) is not None:
            return facets.counts(themed, [name], using=using)[name]
        if name in facets.BY_KIND_STATUS and (kept := self.kinds_and_statuses(rest)):
            scope, kinds, statuses, year = kept
            return facets.counts_within(scope, kinds, statuses, [name], using, year=year)[name]
        if len(rest) != 1 or (other := next(iter(rest))) not in PARTICIPANT_FACETS:
            return None
        if len(cleaned[other]) != 1:
            return None
        # Values of two facets at once: the counts of the participant value, kept per
        # kind and status or per theme. Several values would count a partnership with
        # two of them twice.
        if name in ("kind", "status", "theme"):
            return facets.counts_by(
                scope, other, cleaned[other][0], name, themes=self.themes(), using=using
            )
        return None

    def kept_less_the_rest(self, skip=()):
        # One filter chosen that leaves out few (``left_out``): each other facet's count is
        # the kept one less that of the few partnerships left out.
        if self.left_out() is None:
            return {}
        chosen = self.form.cleaned_data
        names = [name for name in self.facets if not chosen.get(name) and name not in skip]
        if not names:
            return {}
        kept = self.kept_counts(names)  # every partnership, or every published one
        rest = self.the_rest()
        if not self.rest_ids:
            return kept  # none left out: counting their values read nothing
        less = self.value_counts(names, rest)
        return {
            name: {
                value: count - less[name].get(value, 0)
                for value, count in kept[name].items()
                if count > less[name].get(value, 0)
            }
            for name in names
        }

    def filter_place(self, queryset, name, value: str):
        if (less := self.less_the_rest(queryset)) is not None:
            return less
        named = self.named_places(value)
        if self.within_share(named)[1]:
            return queryset  # one of them takes part in every partnership
        if value not in self.read:  # once, for the list and each facet
            held, total = self.held_within(named)
            ids = [pk for pk, _, _ in named]
            self.read[value] = ties_within_kept(ids, sum(held) if total else None)
        return queryset.filter(pk__in=self.read[value])

    def within_share(self, named):
        """The share of ``self.queryset`` that the places ``named`` have ties in (more than
        the share if their ties overlap), and whether one of them has ties in all of it."""
        held, total = self.held_within(named)
        return (sum(held) / total if total else 0), bool(total) and total in held

    def held_within(self, named):
        """How many of ``self.queryset`` each of the places ``named`` has ties in, and how
        many it holds, from the kept counts; ([], 0) when it is not what they count."""
        key = tuple(sorted(pk for pk, _, _ in named))
        if key not in self.held:
            scope = facets.scope_of(self.queryset)
            if scope is None:
                return [], 0
            using = self.queryset.db
            held = [facets.count(scope, WITHIN, str(pk), using) for pk in key]
            self.held[key] = held, facets.total(scope, using)
        return self.held[key]

    def named_places(self, value):
        """(id, kind, country) of the places ``value`` names: looked up once, as facets
        apply the filter once each, and kept per places version, as no other write
        changes what a name names."""
        if value not in self.named:
            places = self.filters["place"].records
            self.named[value] = per_version(
                "named-places",
                [places, value],
                lambda: list(
                    self.filters["place"].matching(value).values_list("pk", "kind", "country")
                ),
                of=("places",),
            )
        return self.named[value]

    def filter_organisation(self, queryset, name, value: str):
        # The organisations the value names and their parts, kept per organisations
        # version and sent as one parameter, as on an organisation's page.
        parts = per_version(
            "named-organisations",
            [self.filters["organisation"].records, value],
            lambda: part_ids(self.filters["organisation"].matching(value)),
            of=("organisations",),
        )
        return queryset.for_organisations(id_list(parts))

    def search_groups(self, query, records):
        return search_groups(self, query, records)

    # The filters that keep a partnership by one of its values kept by the facet keeper
    # (``partnerships.facets``): its kind, status and themes, its participants' countries
    # and kinds, and the places it lies in (by name: the places version). Not the search
    # box, an organisation (a second Danish university taking part adds no value), a
    # start's years or a review date: those test what no kept value holds.
    COUNTED = frozenset(
        {"status", "kind", "theme", "country", "place_kind", "organisation_kind", "place"}
    )

    def counted_from(self):
        # Any write that changes what those filters keep moves a kept value, and with it
        # the counts version: the facets of what they keep outlive every other write. So
        # does "as of" a whole year, which keeps a partnership by the first year as of
        # which it is listed (``facets.AS_OF_FROM``); not a month.
        if not self.is_bound:
            return ("counts",)
        chosen = self.chosen()
        if chosen is None or not chosen <= self.COUNTED | {"as_of"}:
            return ()
        if "as_of" in chosen and kept_year(self.form.cleaned_data["as_of"]) is None:
            return ()
        return ("counts", "places")

    def kept_counts(self, names):
        # Every partnership, or every published one, with nothing chosen in the other
        # facets: the counts partnerships.facets keeps as records are written.
        scope = facets.scope_of(self.queryset)
        if scope is None or not names:
            return {}
        return self.with_theme_slugs(facets.counts(scope, names, using=self.queryset.db))

    def filter_as_of(self, queryset, name, value):
        return queryset_as_of(queryset, value)

    # A vague start counts by the first year it may mean: '1980s' starts in 1980.
    def filter_start_from(self, queryset, name, value):
        return queryset.filter(start_on__gte=datetime.date(int(value), 1, 1))

    def filter_start_to(self, queryset, name, value):
        return queryset.filter(start_on__lte=datetime.date(int(value), 12, 31))


# The search page explains the ties found through the parts of this many named records.
GROUPS = 5


def search_groups(filterset, query, records):
    """Label the ties found through the parts of a named place or organisation.

    Returns groups such as "in Jiangsu: Wuxi (3), Suzhou (2)", and sets ``found_via`` on
    each of ``records`` found that way. A fixed number of queries: the named records, the
    walk down from them (the search's own, for a query of one word), then for places the
    ties through each part and the parts' names, for organisations one GROUP BY of the
    matching ties by the organisation taking part.
    """
    matches = filterset.kept_rows(filterset.qs)
    # Every partnership, or every published one: their ties in a place are counted.
    scope = facets.scope_of(matches)
    matches = matches.values("pk")
    terms = query_terms(query)
    user = viewer(filterset.request)

    def parents(model, ids):
        # One word: the search walked down from every record it names, these among them.
        return filterset.walk(model, terms[0])[1] if len(terms) == 1 else below(model, ids)

    # Only what the reader may see is named: a draft place or organisation neither heads a
    # group nor is counted as a part, though ties found through it are still listed.
    visible_places = filterset.filters["place"].records
    visible_organisations = filterset.filters["organisation"].records
    groups, via, via_place = [], {}, {}
    places = list(visible_places.search(query).order_by(Localized("name").asc(), "pk")[:GROUPS])
    if places:
        ids = {place.pk for place in places}
        counts, via_place, parts = _place_parts(
            ids, parents(Place, ids), matches, visible_places, scope
        )
        groups += _groups(places, parts, counts, "place", via)
    organisations = list(
        visible_organisations.search(query).order_by(Localized("name").asc(), "pk")[:GROUPS]
    )
    if organisations:
        ids = {organisation.pk for organisation in organisations}
        named = under_named(ids, parents(Organisation, ids))
        # An organisation's part is each one below it that takes part, however deep.
        named = {pk: above for pk, (above, _part) in named.items() if pk not in ids}
        ties = Participant.objects.filter(partnership__in=matches, organisation__in=id_list(named))
        if (published := published_through("organisation", Organisation, user)) is not None:
            ties = ties.filter(published)
        rows = (
            ties.values("organisation_id")
            .annotate(
                label=Localized("organisation__name"),
                count=Count("partnership_id", distinct=True),
            )
            .values_list("organisation_id", "label", "count")
            .order_by()
            if named
            else []
        )
        counts = {part: count for part, _label, count in rows}
        parts = [(part, label, named[part]) for part, label, _count in rows]
        groups += _groups(organisations, parts, counts, "organisation", via)
    for record in records:
        if getattr(record, "search_rank", 0) < 2:
            continue
        load_parts((record,))  # read with those of the page, if left for later
        for participant in record.participants_shown:  # as its card lists them
            where = participant.place_id or participant.organisation_place_id
            found = via.get(("organisation", participant.organisation_id)) or via.get(
                ("place", via_place.get(where))
            )
            if found:
                record.found_via = found
                break
    return groups


def under_named(ids, parents):
    """{record below one of ``ids``: (the nearest of ``ids`` above it, the record right
    below that one on the way up)}, from ``parents`` ({pk: parent pk} of records below
    some named ones, as ``below`` gives it, so that every walk up ends)."""
    found = {}
    for pk in parents:
        part, above, seen = pk, parents[pk], {pk}
        while above not in ids and above in parents and above not in seen:
            seen.add(above)
            part, above = above, parents[above]
        if above in ids:
            found[pk] = (above, part)
    return found


def walked_whole(ids, parents, named_under):
    """Whether the walk down from the places ``ids`` (``parents``, of which ``named_under``
    is ``under_named``) holds every place below each: none of them lies below another,
    and none lies as deep as the walk goes, where places below it would be left out."""
    if any(pk in parents for pk in ids):
        return False
    depth = dict.fromkeys(ids, 0)
    for pk in named_under:
        chain = []
        while pk not in depth:
            chain.append(pk)
            pk = parents[pk]
        level = depth[pk]
        for below in reversed(chain):
            level += 1
            depth[below] = level
            if level >= PART_DEPTH:
                return False
    return True


def _place_parts(ids, parents, matches, visible, scope=None):
    """The places just below the named ``ids`` through which ``matches`` were found.

    Returns {part: number of ties}, {place of a tie: part} and the parts, as ``_groups``
    takes them, of the parts among ``visible`` only. Gusu district counts for Suzhou
    below Jiangsu. The walk down from the
    named places (``parents``) says which part each place below them is in; reading the
    chain of parents of every place the ties have read a thousand rows for a province.
    ``scope``: the kept counts' scope (``facets.scope_of``) when ``matches`` are every
    partnership or every published one, else None.
    """
    named_under = under_named(ids, parents)
    via_place = {
        pk: (part, above)
        for pk, (above, part) in named_under.items()
        # A named place right below another is no part of it.
        if not (pk == part and pk in ids)
    }
    counts = {}
    if via_place and scope is not None and walked_whole(ids, parents, named_under):
        # Every partnership found: a part's ties are those in it at any depth, counted as
        # they were written (``facets.WITHIN``). Counting them from the 275,000
        # participants of "china" took 166 ms on PostgreSQL at 100,000 partnerships.
        parts = {part for part, _named in via_place.values()}
        within = facets.value_counts(scope, WITHIN, [str(part) for part in parts], matches.db)
        counts = {int(part): count for part, count in within.items()}
    elif via_place:
        ties = Participant.objects.filter(partnership__in=matches).annotate(
            where=Coalesce("place_id", "organisation__place_id")
        )
        # How many matches are tied to a place in each part, counted in the database.
        counts = distinct_by_group(
            ties,
            "where",
            "partnership_id",
            {where: part for where, (part, _named) in via_place.items()},
        )
    named_above = dict(via_place.values())
    labels = {}
    if counts:
        parts = visible.filter(pk__in=list(counts))
        labels = dict(parts.values_list("pk", Localized("name")))
    parts = [(part, labels[part], named_above[part]) for part in sorted(counts) if part in labels]
    via_place = {where: part for where, (part, _named) in via_place.items() if part in labels}
    return counts, via_place, parts


def _groups(named, parts, counts, kind, via):
    """Groups of ``parts``, (part, its name, the named record it lies below) each, by the
    ``named`` records; the label of each part is set in ``via``."""
    named_by_pk = {record.pk: record for record in named}
    members = {record.pk: [] for record in named}
    for part, label, ancestor in parts:
        members[ancestor].append((label, counts[part]))
        via.setdefault(
            (kind, part),
            _("in %(named)s: %(part)s") % {"named": named_by_pk[ancestor], "part": label},
        )
    return [
        {
            "named": named_by_pk[pk],
            "kind": kind,
            "parts": sorted(found, key=lambda pair: (-pair[1], pair[0])),
        }
        for pk, found in members.items()
        if found
    ]
