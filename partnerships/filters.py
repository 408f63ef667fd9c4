import datetime

import django_filters
from django.db.models import Case, Count, Exists, F, IntegerField, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from core.fields import PartialDateFormField
from core.filters import (
    MATCHED_IDS,
    OrderingFilter,
    RecordFilterSet,
    RecordNameFilter,
    SearchInput,
    all_countries,
    count_by,
    date_input,
    id_list,
    year_input,
)
from core.search import any_of
from core.text import query_terms
from core.translation import Localized
from organisations.models import Organisation
from places.models import Place

from . import facets
from .as_of import queryset_as_of
from .models import FacetValue, Participant, Partnership, Theme

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


def ties_of_named(term):
    """Ids of partnerships with a participant named ``term``, or inside one so named.

    A place's ties include those of the places inside it and of the organisations based
    there, as on its page; an organisation's those of its parts.
    """
    places = with_parts(Place, Place.objects.matching([term]).values("pk"))
    organisations = with_parts(Organisation, Organisation.objects.matching([term]).values("pk"))
    return any_of(
        Participant.objects.filter(place__in=places).values("partnership_id"),
        Participant.objects.filter(organisation__in=organisations).values("partnership_id"),
        Participant.objects.filter(organisation__place__in=places).values("partnership_id"),
    )


def search_matches(terms):
    """The partnerships the search box finds for ``terms``, for ``pk__in=``.

    Their ids when there are few enough, read in one query, so that the count, the page and
    every facet reuse them; otherwise the search as a subquery.
    """
    found = Partnership.objects.all()
    for term in terms:
        titled = Partnership.objects.filter(search_key__contains=term).values("pk")
        found = found.filter(pk__in=any_of(titled, ties_of_named(term)))
    ids = list(found.order_by().values_list("pk", flat=True)[: MATCHED_IDS + 1])
    return id_list(ids) if len(ids) <= MATCHED_IDS else found.values("pk")


# The API schema cannot guess what these filters take (a method, callable choices, a
# field of our own); each is one or more strings: '2010', 'DK', a theme's slug.
@extend_schema_field(OpenApiTypes.STR)
class PartialDateFilter(django_filters.Filter):
    field_class = PartialDateFormField


@extend_schema_field(OpenApiTypes.STR)
class StringsFilter(django_filters.MultipleChoiceFilter):
    pass


@extend_schema_field(OpenApiTypes.STR)
class SlugsFilter(django_filters.ModelMultipleChoiceFilter):
    pass


class TextInput(SearchInput):
    input_type = "text"


def of_partnerships(queryset, field="partnership"):
    """Rows of ``queryset``'s partnerships; no subquery at all for the whole registry."""
    return {f"{field}__in": queryset.values("pk")} if queryset.query.where else {}


# The participant filters, tested on the partnerships' kept values.
PARTICIPANT_FACETS = {"country", "place_kind", "organisation_kind"}


def facet_counter(facet):
    """A facet counter over the participants' kept values (``FacetValue``): one row per
    partnership and value, so no DISTINCT and no join to places or organisations."""

    def counter(filterset, queryset):
        return (
            FacetValue.objects.filter(facet=facet, **of_partnerships(queryset, "partnership_id"))
            .values("value")
            .annotate(count=Count("pk"))
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
    status = django_filters.MultipleChoiceFilter(
        label=_("Status"), choices=Partnership.Status.choices, distinct=False
    )
    kind = django_filters.MultipleChoiceFilter(
        label=_("Kind"), choices=Partnership.Kind.choices, distinct=False
    )
    theme = SlugsFilter(
        label=_("Theme"),
        queryset=Theme.objects.all(),
        to_field_name="slug",
        method="filter_theme",
    )
    country = StringsFilter(
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
        self.subtrees = {}
        self.matches = {}
        self.rare = {}
        self.rest_ids = None

    def found(self, queryset, value):
        terms = query_terms(value)
        if not terms:
            return queryset
        # Facets apply this filter once each; the search runs once.
        if value not in self.matches:
            self.matches[value] = search_matches(terms)
        return queryset.filter(pk__in=self.matches[value])

    def filter_q(self, queryset, name, value):
        terms = query_terms(value)
        if not terms:
            return queryset
        queryset = self.found(queryset, value)
        # Ties named in their title first, then those of a participant so named, then
        # those found through a place or organisation inside one so named.
        title_matches = Q()
        for term in terms:
            title_matches &= Q(search_key__contains=term)
        named = Partnership.objects.matching(terms).values("pk")
        return queryset.annotate(
            search_rank=Case(
                When(title_matches, then=Value(0)),
                When(pk__in=named, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        ).order_by("search_rank", *Partnership._meta.ordering)

    def filter_theme(self, queryset, name, value):
        if not value:
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
        """
        rows = FacetValue.objects.filter(facet=facet, value__in=sorted(values))
        if self.is_rare(facet, values, queryset.db):
            return queryset.filter(pk__in=rows.values("partnership_id"))
        return queryset.filter(Exists(rows.filter(partnership_id=OuterRef("pk"))))

    def is_rare(self, facet, values, using):
        """Whether at most RARE of the partnerships have one of ``values`` of ``facet``."""
        key = (facet, tuple(sorted(values)))
        if key not in self.rare:
            counts = facets.counts(facets.ALL, [facet, "status"], using=using)
            total = sum(counts["status"].values())
            chosen = sum(counts[facet].get(value, 0) for value in values)
            self.rare[key] = chosen <= self.RARE * total
        return self.rare[key]

    def common_value(self):
        """The participant facet whose one common value is all that is chosen, if any:
        then the kept counts less those of ``the_rest()`` are what the filter leaves."""
        if not self.is_bound or not self.is_valid():
            return None
        cleaned = self.form.cleaned_data
        chosen = [name for name, value in cleaned.items() if value and name != "sort"]
        if len(chosen) != 1 or chosen[0] not in PARTICIPANT_FACETS:
            return None
        if facets.scope_of(self.queryset) is None:
            return None
        if self.is_rare(chosen[0], cleaned[chosen[0]], self.queryset.db):
            return None
        return chosen[0]

    def the_rest(self):
        """The few partnerships that the common value chosen leaves out, by id: read once
        for the facets and the chart of starts alike."""
        if self.rest_ids is None:
            facet = self.common_value()
            values = sorted(self.form.cleaned_data[facet])
            rows = FacetValue.objects.filter(facet=facet, value__in=values)
            # NOT IN: one pass over the value's rows, not a lookup per partnership.
            rest = self.queryset.exclude(pk__in=rows.values("partnership_id")).order_by()
            self.rest_ids = list(rest.values_list("pk", flat=True))
        return self.queryset.filter(pk__in=id_list(self.rest_ids))

    def kept_less_the_rest(self, skip=()):
        # One common participant value chosen and nothing else ("from Denmark": nearly
        # every partnership here): each other facet's count is the kept one less that of
        # the few partnerships without the value. Counting those that have it read
        # nearly the whole registry once per facet.
        facet = self.common_value()
        names = [name for name in self.facets if name != facet and name not in skip]
        if facet is None or not names:
            return {}
        kept = self.kept_counts(names)  # every partnership, or every published one
        rest = self.the_rest()
        counts = {}
        for name in names:
            less = dict(self.facets[name](self, rest.order_by()))
            counts[name] = {
                value: count - less.get(value, 0)
                for value, count in kept[name].items()
                if count > less.get(value, 0)
            }
        return counts

    def filter_place(self, queryset, name, value: str):
        # Facets apply this filter once each; the place's subtree is looked up once.
        if value not in self.subtrees:
            places = self.filters["place"].matching(value).values_list("pk", flat=True)
            self.subtrees[value] = Place.subtree_ids(places)
        return queryset.for_places(self.subtrees[value])

    def filter_organisation(self, queryset, name, value: str):
        named = self.filters["organisation"].matching(value).values("pk")
        return queryset.for_organisations(with_parts(Organisation, named))

    def search_groups(self, query, records):
        return search_groups(self, query, records)

    def kept_counts(self, names):
        # Every partnership, or every published one, with nothing chosen in the other
        # facets: the counts partnerships.facets keeps as records are written.
        scope = facets.scope_of(self.queryset)
        if scope is None or not names:
            return {}
        found = facets.counts(scope, names, using=self.queryset.db)
        if "theme" in found:
            slugs = dict(Theme.objects.using(self.queryset.db).values_list("pk", "slug"))
            found["theme"] = {
                slugs[int(pk)]: count for pk, count in found["theme"].items() if int(pk) in slugs
            }
        return found

    def filter_as_of(self, queryset, name, value):
        return queryset_as_of(queryset, value)

    # A vague start counts by the first year it may mean: '1980s' starts in 1980.
    def filter_start_from(self, queryset, name, value):
        return queryset.filter(start_on__gte=datetime.date(int(value), 1, 1))

    def filter_start_to(self, queryset, name, value):
        return queryset.filter(start_on__lte=datetime.date(int(value), 12, 31))


# The search page explains the ties found through the parts of this many named records.
GROUPS = 5


def chain(prefix=""):
    """Expressions for a record's parent, grandparent… up to PART_DEPTH, as up1, up2…"""
    return {
        f"up{level}": F(f"{prefix}{'parent__' * (level - 1)}parent_id")
        for level in range(1, PART_DEPTH + 1)
    }


def search_groups(filterset, query, records):
    """Label the ties found through the parts of a named place or organisation.

    Returns groups such as "in Jiangsu: Wuxi (3), Suzhou (2)", and sets ``found_via`` on
    each of ``records`` found that way. A fixed number of queries: the named records, then
    for places the chains of parents of the ties' places and the ties through each part,
    for organisations one GROUP BY of the matching ties by part.
    """
    matches = filterset.qs.order_by().values("pk")
    groups, via, via_place = [], {}, {}
    places = list(Place.objects.search(query).order_by(Localized("name").asc(), "pk")[:GROUPS])
    if places:
        counts, via_place, parts = _place_parts(places, matches)
        groups += _groups(places, parts, counts, "place", via)
    organisations = list(
        Organisation.objects.search(query).order_by(Localized("name").asc(), "pk")[:GROUPS]
    )
    if organisations:
        ids = [organisation.pk for organisation in organisations]
        parts = list(
            Participant.objects.filter(
                partnership__in=matches, organisation__in=with_parts(Organisation, ids)
            )
            .exclude(organisation__in=ids)
            .values(
                part=F("organisation_id"),
                label=Localized("organisation__name"),
                **chain("organisation__"),
            )
            .annotate(count=Count("partnership_id", distinct=True))
        )
        counts = {part["part"]: part["count"] for part in parts}
        groups += _groups(organisations, parts, counts, "organisation", via)
    for record in records:
        if getattr(record, "search_rank", 0) < 2:
            continue
        for participant in record.participants.all():
            organisation = participant.organisation
            where = participant.place_id or (organisation and organisation.place_id)
            found = via.get(("organisation", participant.organisation_id)) or via.get(
                ("place", via_place.get(where))
            )
            if found:
                record.found_via = found
                break
    return groups


def _place_parts(places, matches):
    """The places just below a named one through which ``matches`` were found.

    Returns {part: number of ties}, {place of a tie: part} and the parts with their chains
    of parents, as ``_groups`` takes them. Gusu district counts for Suzhou below Jiangsu.
    The ties' few places are read first, then the hierarchy above just those: one query
    joining every participant to PART_DEPTH levels of parents reads all participants on
    PostgreSQL before it narrows them down to the search's.
    """
    ids = {place.pk for place in places}
    ties = Participant.objects.filter(partnership__in=matches).order_by()
    # Each participant's place; an organisation's: where it is based.
    wheres = any_of(ties.values("place_id"), ties.values("organisation__place_id"))
    paths = [f"{'parent__' * level}" for level in range(PART_DEPTH + 1)]
    chains = Place.objects.filter(pk__in=wheres).values_list(
        *(f"{path}id" for path in paths), *(Localized(f"{path}name") for path in paths[:-1])
    )
    via_place, parts = {}, {}
    for row in chains:
        up, names = row[: PART_DEPTH + 1], row[PART_DEPTH + 1 :]
        level = next((level for level in range(1, PART_DEPTH + 1) if up[level] in ids), None)
        if level is None or up[level - 1] in ids:
            continue
        child = up[level - 1]
        via_place[up[0]] = child
        parents = (*up[level:], *(None,) * (level - 1))
        parts[child] = {
            "part": child,
            "label": names[level - 1],
            **{f"up{number}": parents[number - 1] for number in range(1, PART_DEPTH + 1)},
        }
    found = {}
    if via_place:
        pairs = (
            ties.annotate(where=Coalesce("place_id", "organisation__place_id"))
            .filter(where__in=id_list(via_place))
            .values_list("partnership_id", "where")
            .distinct()
        )
        for partnership, where in pairs:
            found.setdefault(via_place[where], set()).add(partnership)
    counts = {child: len(partnerships) for child, partnerships in found.items()}
    return counts, via_place, [parts[child] for child in counts]


def _groups(named, parts, counts, kind, via):
    named_by_pk = {record.pk: record for record in named}
    members = {record.pk: [] for record in named}
    for part in parts:
        ancestor = next(
            (
                part[f"up{level}"]
                for level in range(1, PART_DEPTH + 1)
                if part[f"up{level}"] in named_by_pk
            ),
            None,
        )
        if ancestor is None:
            continue
        members[ancestor].append((part["label"], counts[part["part"]]))
        via.setdefault(
            (kind, part["part"]),
            _("in %(named)s: %(part)s") % {"named": named_by_pk[ancestor], "part": part["label"]},
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
