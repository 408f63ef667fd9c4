"""The registry as a map and as a network, for /map/, /network/, their API and downloads.

Both start from the partnership list's FilterSet, so they show exactly what the list
shows for the same query string. Each reads the registry in a fixed number of queries
(participants, then the places and organisations they name) and aggregates in memory.

Where a party is on the map: a place at its own coordinates (or, without any, at those
of the nearest place it lies in); an organisation at the place it is based in. So a
place's count is the number of partnerships it takes part in directly or through an
organisation based there.
"""

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations
from operator import itemgetter

import orjson
from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db.models import F, FloatField, Q
from django.db.models.functions import Cast
from django.urls import reverse
from django.utils.translation import get_language

from core import versioning
from core.cache import by_revision, per_version, records_sql
from core.exports import csv_text
from core.middleware import gzipped
from core.rest import JSONRenderer, Written, separators_escaped
from core.search import ArrayOf, RowsById, id_list
from core.translation import LANGUAGES, Localized, fallback_order, localized_field
from core.visibility import sees_drafts, viewer
from organisations.models import Organisation
from partnerships import facets
from partnerships.filters import PartnershipFilter
from partnerships.models import WITHIN, Participant, Partnership, ties_within_kept
from partnerships.revisions import kept_under
from places.models import CHAIN, CHAIN_DEPTH, Place, region_in

# More distinct lines than this and the map joins them up to regions (the places just
# below a country), which keeps the GeoJSON for 10,000 partnerships well under 1 MB.
MAX_LINES = 2000
# The places with the most partnerships drawn as points; the page says how many are not.
# 9,500 points at 100,000 partnerships made 3 MB that no reader could tell apart.
MAX_POINTS = 2000
# Up to this many places the map cannot place, their ties are left out in SQL.
UNLOCATED_IN_SQL = 2000
# Partnerships a graph in the browser can show and lay out; downloads have no limit.
NETWORK_LIMIT = 300
MAX_STEPS = 3


class ExploreFilter(PartnershipFilter):
    """The partnership list's filters; the list's order means nothing on a map or graph."""


# Out of the class, so that the form, the API and its schema all go without it.
ExploreFilter.base_filters.pop("sort", None)


def filter_partnerships(params, request=None):
    """The bound FilterSet for ``params``; check ``is_valid()`` before using ``qs``."""
    partnerships = Partnership.objects.visible_to(viewer(request))
    return ExploreFilter(params, queryset=partnerships, request=request)


def visible_participants(user):
    """Participants whose party the reader may see: a draft party stays off the map.

    A draft party is left out as one of the few unpublished records, as ``_participants``
    leaves it out, not by joining each participant to its place and organisation: for
    the 6,937 participants of the published active sister cities at 100,000 partnerships,
    PostgreSQL looked up each one's place by index to test it: 22 ms, against 14 (SQLite
    13 and 11).
    """
    hidden = _hidden(user)
    # Built once for each of the four views of drafts, with the SQL that what the map
    # and the network keep of them is kept under (``core.cache.records_sql``): building
    # the two exclusions took 0.9 ms of each map drawn, their SQL 0.7 more. Each reader
    # gets a copy, which nothing it does can change the one kept.
    built = _VISIBLE.get(hidden)
    if built is None:
        participants = _participants_seen(hidden)
        built = _VISIBLE[hidden] = (participants, records_sql(participants))
    participants, sql = built
    copy = participants.all()
    copy.__dict__["_records_sql"] = sql
    return copy


PARTIES = (("place", Place), ("organisation", Organisation))
# {the kinds of party whose drafts the reader may not see (``_hidden``): (the
# participants they see, their SQL)}, for ``visible_participants``.
_VISIBLE = {}


def _hidden(user):
    """The kinds of party ("place", "organisation") whose drafts ``user`` may not see."""
    return frozenset(party for party, model in PARTIES if not sees_drafts(model, user))


def _participants_seen(hidden):
    """The participants whose party a reader may see who may not see the draft parties of
    the kinds ``hidden``."""
    participants = Participant.objects.all()
    for party, model in PARTIES:
        if party in hidden:
            unpublished = model.objects.unpublished().values("pk")
            participants = participants.exclude(**{f"{party}__in": unpublished})
    return participants


class Urls:
    """Public addresses built from one reversed pattern each, not a reverse per record."""

    names = {
        "place": "places:place-detail",
        "organisation": "organisations:organisation-detail",
        "partnership": "partnerships:partnership-detail",
    }

    def __init__(self, request=None):
        self.patterns = {}
        for kind, name in self.names.items():
            path = reverse(name, kwargs={"slug": "slug-here"})
            if request is not None:
                path = request.build_absolute_uri(path)
            self.patterns[kind] = path.replace("slug-here", "{}")

    def __call__(self, kind, slug):
        return self.patterns[kind].format(slug)


def _columns(field):
    """A translated field's column in every language, for ``values()``."""
    return [localized_field(field, code) for code in LANGUAGES]


def _shown(row, field, order):
    """Set a ``values()`` row's ``field`` to the text the reader sees, and say which
    language it is in (``<field>_language``), so that a page can mark the other one.
    ``order`` is the reader's ``fallback_order()``, looked up once for all the rows."""
    for code in order:
        if value := row[localized_field(field, code)]:
            row[field], row[f"{field}_language"] = value, code
            return row
    row[field], row[f"{field}_language"] = "", None
    return row


def _coordinates(latitude, longitude):
    return [round(longitude, 4), round(latitude, 4)]


class _Place(tuple):
    """What the map shows of a place it draws or ends a line at (``_Layout.places``)."""

    __slots__ = ()
    pk = property(itemgetter(0))
    slug = property(itemgetter(1))
    kind = property(itemgetter(2))
    country = property(itemgetter(3))
    NAMES = 4  # then one column per language

    def name(self, order):
        """The name in the first language of ``order`` (indexes into LANGUAGES) that has
        one, and that language."""
        return _first_text(self, self.NAMES, order)


def _first_text(row, start, order):
    """Of ``row``'s texts in each language of LANGUAGES from ``start`` on, the first in
    ``order`` (indexes into LANGUAGES) that is not empty, and its language."""
    for index in order:
        if text := row[start + index]:
            return text, LANGUAGES[index]
    return "", None


class _Layout:
    """Where each place is on the map, which region it is in and what it is called:
    worked out from the places alone, so kept under the places version (``_layout``).

    Every place is read in one query, and each one's ancestors walked here when it is
    first asked for. At 100,000 partnerships the map counts 9,998 places: reading them
    and their ancestors a level a query took 25 ms on PostgreSQL, walking them 30 ms
    more, and reading the names of the 4,000 it draws or ends lines at 10-17 ms, on every
    map after every write.
    """

    def __init__(self, using, version=None):
        self.version = version
        self.rows = {}  # id: (parent id, kind, [longitude, latitude] or None)
        self.places = {}  # id: _Place
        rows = (
            Place.objects.using(using)
            .order_by()
            .values_list(
                "pk",
                "parent_id",
                "kind",
                _float("latitude"),
                _float("longitude"),
                "slug",
                "country",
                *_columns("name"),
            )
        )
        for pk, parent, kind, latitude, longitude, slug, country, *names in rows:
            position = None if latitude is None else _coordinates(latitude, longitude)
            self.rows[pk] = (parent, kind, position)
            self.places[pk] = _Place((pk, slug, kind, country, *names))
        self.positions, self.regions, self.region_positions = {}, {}, {}
        self.region_ties = {}  # value of a tie between regions: its ends drawn, or None
        self._pieces = {}

    def chain(self, pk):
        """The ancestors of ``pk``, nearest first, as (id, kind): CHAIN_DEPTH at most."""
        chain, rows = [], self.rows
        parent = rows[pk][0]
        while parent and len(chain) < CHAIN_DEPTH and parent in rows:
            above, kind, _position = rows[parent]
            chain.append((parent, kind))
            parent = above
        return chain

    def position(self, pk):
        """[longitude, latitude]: the place's own coordinates, else those of the nearest
        place it lies in; None without any."""
        try:
            return self.positions[pk]
        except KeyError:
            pass
        found = None
        for up in (pk, *(above for above, _kind in self.chain(pk))):
            if (found := self.rows[up][2]) is not None:
                break
        self.positions[pk] = found
        return found

    def region(self, pk):
        try:
            return self.regions[pk]
        except KeyError:
            found = self.regions[pk] = region_in(pk, self.chain(pk))
            return found

    def pieces(self, order, urls):
        """The map's features written a piece at a time (``_Pieces``) in the reader's
        ``order`` of languages with ``urls``' addresses, kept with the layout."""
        key = (tuple(order), urls.patterns["place"])
        try:
            return self._pieces[key]
        except KeyError:
            found = self._pieces[key] = _Pieces(self, order, urls)
            return found

    def locates(self, pk):
        """Whether the map can place the place of id ``pk``."""
        return pk in self.located

    @cached_property
    def located(self):
        """The ids of the places the map can place, found once with the layout: the map
        asked whether it could place each end of its 1,854 ties at 1,000 partnerships,
        a walk up each end's places every time."""
        return frozenset(pk for pk in self.rows if self.position(pk) is not None)

    @cached_property
    def unlocated(self):
        """The ids of the places the map cannot place: no coordinates of their own or of
        any place they lie in."""
        return frozenset(self.rows.keys() - self.located)

    def region_position(self, region):
        """[longitude, latitude] where the map draws a region when it joins lines up to
        regions: its own coordinates; without any, the middle of the places in it that
        have theirs; without those, where the place it lies in is (``position``); None
        with none of these, and the map leaves it off with its ties.

        Worked out from every place, not only those in the partnerships drawn, so that a
        region stays where it is whatever the filters, and is kept with the layout, as
        is each answer: the map at 10,000 partnerships asks for the ends of 2,450 ties."""
        try:
            return self.region_positions[region]
        except KeyError:
            found = self.region_positions[region] = self._region_position(region)
            return found

    def region_tie(self, value):
        """The ends of the tie between regions written as ``value`` (``facets.pair``), or
        None when the map cannot place one of them. Kept with the layout by the tallies
        that ask (``region_ties``): the 1,225 the map read at 10,000 partnerships took
        1 ms to take apart and place at each drawing."""
        a, b = facets.ends(value)
        return (a, b) if self.region_position(a) and self.region_position(b) else None

    def _region_position(self, region):
        if region not in self.rows:
            return None
        own = self.rows[region][2]
        if own is not None:
            return own
        return self._middles.get(region) or self.position(region)

    @cached_property
    def _middles(self):
        spots = defaultdict(list)
        for pk, (_parent, _kind, position) in self.rows.items():
            if position is not None:
                spots[self.region(pk)].append(position)
        return {
            region: [
                round(math.fsum(spot[0] for spot in found) / len(found), 4),
                round(math.fsum(spot[1] for spot in found) / len(found), 4),
            ]
            for region, found in spots.items()
        }


# The layout last read for each database, under its places version (core.versioning).
_layouts = {}


def _layout(place_ids, using):
    """The layout of every place, read again only when a place has been written since
    (or one of ``place_ids`` was written after it was read). Off with the page cache,
    as values kept per version are (``core.cache.per_version``)."""
    if not settings.ATLAS_CACHE_PAGES:
        return _Layout(using)
    version = versioning.places_version(using)
    layout = _layouts.get(using)
    if layout is None or layout.version != version or not layout.rows.keys() >= place_ids:
        layout = _layouts[using] = _Layout(using, version)
    return layout


def _float(field):
    return Cast(field, FloatField())


def _name_order():
    """The reader's fallback order of languages, as indexes into LANGUAGES."""
    return [LANGUAGES.index(code) for code in fallback_order()]


# The places and the lines the map page lists, those with the most partnerships; the
# rest are on the map and in the downloads.
TABLE_ROWS = 200


def map_drawing(partnerships, user=None, filters=None):
    """What the map page shows of the map of ``partnerships`` as ``user`` sees it:
    {"meta": what it counts; "places" and "lines": the properties of the first
    ``TABLE_ROWS`` of each}. ``filters``: the valid ``ExploreFilter`` that narrowed the
    partnerships to ``partnerships``, if nothing else did.

    Without a filter the counts are those the writes keep (``partnerships.facets``);
    with one, every participant of the partnerships is read and counted here.

    The page writes none of the map's features: the browser reads them from the API
    (``map_geojson``), which draws and keeps its own. Until 7 December 2026 the two
    shared one drawing, so that the page, after a write that moved the map, waited for
    2,000 points and 1,225 lines written that it never sent: at 10,000 partnerships
    19-23 ms of CPU for the page, 14.5-16 so.

    Drawn from the kept counts, it is kept until they move or a place changes (the map
    and places versions, ``core.versioning``), across every other write: a theme, an
    event, an organisation's name. A line of one partnership names it (``_named``), and
    is kept named: the counts' keeper moves the map version when a tie passes from one
    partnership to another, the counts as they were, and when a partnership is renamed
    or given another address (``partnerships.facets.NAMED_FIELDS``). Until 7 December
    2026 such a map was kept with the partnership's id, and each answer read the names
    and wrote them in: at 100,000 partnerships, 8.3 ms of the 23 of an answer of the
    published active sister cities (878 partnerships named), in one process.

    A map of some kinds and statuses alone is counted here but kept the same way: the
    keeper also moves the map version when a partnership on the map changes kind or
    status. At 100,000 partnerships the published active sister cities' took 70 ms of CPU
    to draw, after every write.
    """
    return per_version(*_drawing(partnerships, user, filters, Urls(), features=False))


def _drawing(partnerships, user, filters, urls, features=True):
    """What a map is kept under, and drawn with: (name, parts, draw, of),
    ``core.cache.per_version``'s arguments. ``urls``: the addresses it writes;
    ``features``: whether it writes its points and lines (``_map_data``)."""
    participants = visible_participants(user)
    kept_scope = _kept_scope(partnerships, user)
    by_kind_and_status = filters is not None and _by_kind_and_status(filters)

    def drawn():
        """The map written, its lines of one partnership named."""
        with facets.streaming(partnerships.db):
            if kept_scope is not None:
                # The kept counts' lines are named among the partnerships the reader sees.
                tally = _Kept(*kept_scope, titles=partnerships)
            else:
                tally = _Counted(partnerships, participants)
            drawing = _map_data(tally, urls, features)
            return _named(_written(drawing, features), tally.titles, urls)

    # Named anew when what is kept changes, so that no entry kept before is read as one.
    parts = [partnerships, participants, urls.patterns, get_language()]
    of = ("map", "places") if kept_scope is not None or by_kind_and_status else ()
    return ("map-drawn-named" if features else "map-listed"), parts, drawn, of


def _by_kind_and_status(filters):
    """Whether ``filters`` choose kinds or statuses and nothing else that narrows."""
    kept = filters.kinds_and_statuses()
    if kept is None:
        return False
    _scope, _kinds, _statuses, year = kept
    return year is None


def map_data(partnerships, user=None, filters=None):
    """GeoJSON: a point per place with its count, a line per pair of places with theirs,
    drawn as ``map_geojson`` draws it but with the site's own addresses, read."""
    return orjson.loads(per_version(*_drawing(partnerships, user, filters, Urls()))["geojson"])


def map_geojson(partnerships, request, user=None, filters=None):
    """The map of ``partnerships`` as ``user`` sees it, as the API gives it
    (``core.rest.Written``): its GeoJSON written with absolute addresses, and gzipped
    once. ``filters``: as for ``map_drawing``.

    Kept as the page's drawing is (``map_drawing``), and by each process for its next
    answers (``per_version``, ``local``). Written with the addresses as the request
    names the site, under which it is kept: until 7 December 2026 it was written with the
    site's own and made absolute afterwards, and kept twice, drawn and as sent: at
    10,000 partnerships an answer after a write that moved the map took 18-19 ms of CPU,
    14-15.5 so."""
    _name, parts, drawn, of = _drawing(partnerships, user, filters, Urls(request))

    def written():
        geojson = drawn()["geojson"]
        return Written(geojson, gzipped(geojson))

    return per_version("map-geojson", parts, written, of=of, local=True)


class _Counted:
    """The map's counts, from every participant of ``partnerships``."""

    def __init__(self, partnerships, participants):
        # The partnerships' ids as an array, looked up by index: as ``IN`` PostgreSQL
        # hashed them and read every participant, 33 ms for the 2,519 published active
        # sister cities at 100,000 partnerships. In no order: a tie of one partnership
        # knows it whatever the order, and the rest are counted.
        rows = (
            participants.filter(partnership__in=ArrayOf(partnerships.order_by().values("pk")))
            .order_by()
            .values_list("partnership_id", "place_id", "organisation__place_id")
        )
        self.by_partnership = defaultdict(set)
        self.unplaced = 0
        for partnership_id, place_id, based_in in rows:
            ids = self.by_partnership[partnership_id]
            if place_id or based_in:
                ids.add(place_id or based_in)
            else:
                self.unplaced += 1
        self.partnerships = len(self.by_partnership)
        self.counts = Counter(pk for ids in self.by_partnership.values() for pk in ids)
        # The partnerships its lines name are among those it counted: named from every
        # partnership, without the filters again.
        self.titles = Partnership.objects.using(partnerships.db)
        self.using = partnerships.db

    def places(self, layout_for, listed=MAX_POINTS):
        """({place id: count} of the places the map may draw, the layout that places them,
        how many places are counted in all, how many of them the map draws or None to
        count those it may draw, MAX_POINTS at most): here, every place counted."""
        return self.counts, layout_for(self.counts.keys()), len(self.counts), None

    def ties(self, layout):
        """Each tie between located places: [how many partnerships, the first of them],
        or None past MAX_LINES, where the map joins them up to regions."""
        located = layout.located.intersection(self.counts)
        pairs = {}
        for partnership_id, ids in self.by_partnership.items():
            ids = ids & located
            if len(ids) > 1:
                _tally(pairs, ids, partnership_id)
                if len(pairs) > MAX_LINES:
                    return None
        return pairs

    def region_ties(self, layout):
        """The ties between regions that the map can draw, ranked, at most MAX_LINES of
        them; and how many ties there are in all."""
        region_of = {pk: layout.region(pk) for pk in self.counts}
        placed = {region for region in set(region_of.values()) if layout.region_position(region)}
        # Counted from each partnership's regions, so that one with several places in a
        # region counts once on its tie.
        regional = {}
        for partnership_id, ids in self.by_partnership.items():
            regions = {region_of[pk] for pk in ids}
            if len(regions) > 1:
                _tally(regional, regions, partnership_id)
        drawable = [(p, tie) for p, tie in regional.items() if p[0] in placed and p[1] in placed]
        return sorted(drawable, key=_rank)[:MAX_LINES], len(regional)

    def firsts(self, level, pairs):
        return {}  # every tie knows its first partnership already


class _Kept:
    """The map's counts as the writes keep them, for every partnership or every published
    one: it reads the places and ties it draws, ranked by an index, and counts the rest
    there, at 100,000 partnerships instead of every participant."""

    def __init__(self, scope, drafts, titles):
        self.scope, self.drafts, self.titles = scope, drafts, titles
        self.using = titles.db
        self.partnerships = self.unplaced = 0
        for facet, value, count in self.drawn("mapped", "unplaced", chunk=None):
            if facet == "mapped":
                self.partnerships += count
            else:
                self.unplaced += int(value) * count

    def drawn(self, *names, **options):
        return facets.drawn(self.scope, names, self.drafts, self.using, **options)

    def places(self, layout_for, listed=MAX_POINTS):
        """The places with the most partnerships, read until MAX_POINTS of them are
        located and the next has fewer partnerships than the last of those: at 100,000
        partnerships 2,000 of the 9,998 counted (11 ms of the map's 53 on PostgreSQL).

        With fewer ``listed`` (the page's table, ``map_drawing``), read until that many
        are located, the same way, when so many places are counted that the map draws
        MAX_POINTS of them, whichever they are: more than MAX_POINTS besides the places
        the layout cannot place. At 100,000 partnerships reading 2,000 took 4.4 ms of the
        map page's 24 on SQLite, after a write that moved the map."""
        layout = layout_for(set())
        counted = drawable = None
        if listed < MAX_POINTS:
            counted = facets.distinct(self.scope, "place", self.drafts, self.using)
            if counted - len(layout.unlocated) >= MAX_POINTS:
                drawable = MAX_POINTS
            else:  # the map may draw fewer: read them as it does
                listed = MAX_POINTS
        counts, located, least = {}, 0, None
        for value, count in facets.ranked(self.scope, "place", self.drafts, self.using):
            if least is not None and count < least:
                if counted is None:
                    counted = facets.distinct(self.scope, "place", self.drafts, self.using)
                return counts, layout, counted, drawable
            pk = int(value)
            if pk not in layout.rows:  # written since the layout was read
                layout = layout_for({pk})
            counts[pk] = count
            if least is None and layout.locates(pk):
                located += 1
                if located == listed:
                    least = count
        return counts, layout, len(counts), drawable

    def ties(self, layout):
        # The query leaves out the ties of places the map cannot place (``at_most``
        # says in which order it reads the rest).
        unlocated = layout.unlocated
        in_sql = len(unlocated) <= UNLOCATED_IN_SQL
        if in_sql and not self.drafts:
            # Each row a tie between two places the map can place, none twice: past
            # MAX_LINES rows the map joins lines up to regions.
            found = facets.at_most(self.scope, "tie", MAX_LINES, self.using, unlocated)
            if found is None:
                return None
            rows = (("tie", value, count) for value, count in found)
        else:
            rows = self.drawn("tie", leaving_out=unlocated if in_sql else ())
        pairs, located = {}, layout.located
        for _facet, value, count in rows:
            a, b = facets.ends(value)
            if a not in located or b not in located:
                continue
            tie = pairs.get((a, b))
            if tie is None:
                pairs[(a, b)] = [count, None]
                if len(pairs) > MAX_LINES:
                    return None
            else:
                tie[0] += count
        return pairs

    def region_ties(self, layout):
        ranked, read = [], 0
        drawable = layout.region_ties
        for value, count in facets.ranked(self.scope, "region_tie", self.drafts, self.using):
            read += 1
            try:
                pair = drawable[value]
            except KeyError:
                pair = drawable[value] = layout.region_tie(value)
            if pair is not None:
                ranked.append((pair, [count, None]))
                if len(ranked) == MAX_LINES:
                    total = facets.distinct(self.scope, "region_tie", self.drafts, self.using)
                    return ranked, total
        return ranked, read

    def firsts(self, level, pairs):
        """{pair: ids of the partnerships that have it}, the one counted among them."""
        facet = "tie" if level == "place" else "region_tie"
        found = facets.drawn_by(facet, [facets.pair(*p) for p in pairs], self.drafts, self.using)
        return {p: found.get(facets.pair(*p), set()) for p in pairs}


def _kept_scope(partnerships, user):
    """(The scope of the kept counts, whether ``user`` sees drafts) when ``partnerships``
    is what they count and ``user`` sees either every party or only the published ones;
    None otherwise."""
    scope = facets.scope_of(partnerships)
    hidden = _hidden(user)
    if scope is None or len(hidden) == 1:
        return None
    return scope, not hidden


def _kept_tally(partnerships, user):
    """The kept counts of ``partnerships`` as ``user`` sees them (``_kept_scope``), or None."""
    kept = _kept_scope(partnerships, user)
    return None if kept is None else _Kept(*kept, titles=partnerships)


def _map_data(tally, urls, features=True):
    """The map of ``tally``: {"data": its GeoJSON, the features written (``_Pieces``), or
    none without ``features``; "places" and "lines": the properties of the first
    ``TABLE_ROWS`` of each; "ids": the ids of the partnerships its lines of one
    partnership may be, of those it writes}."""
    # Without features, the page lists the first TABLE_ROWS places and counts the rest.
    listed = MAX_POINTS if features else min(TABLE_ROWS, MAX_POINTS)
    counts, layout, counted, drawable = tally.places(lambda ids: _layout(ids, tally.using), listed)
    order = _name_order()
    located = layout.located.intersection(counts)
    if drawable is None:
        drawable = min(MAX_POINTS, len(located))
    # The places with the most partnerships; those that tie with the last one drawn are
    # named too, since the name decides between them.
    candidates = sorted(located, key=counts.__getitem__, reverse=True)
    if len(candidates) > listed:
        least = counts[candidates[listed - 1]]
        candidates = [pk for pk in candidates if counts[pk] >= least]

    level = "place"
    pairs = tally.ties(layout)
    if pairs is not None:
        ranked, ties = sorted(pairs.items(), key=_rank), len(pairs)
    else:
        level = "region"
        ranked, ties = tally.region_ties(layout)

    places = layout.places
    names = {pk: places[pk].name(order) for pk in candidates}
    drawn = sorted(
        candidates,
        # Two places of one name (two Suzhous) in one order, however they were read.
        key=lambda pk: (-counts[pk], names[pk][0], pk),
    )[:listed]
    pieces = layout.pieces(order, urls)
    # A line of one partnership names it (``_named``): here, its id.
    written = ranked if features else ranked[:TABLE_ROWS]
    singles = {pair: {first} for pair, (count, first) in written if count == 1}
    singles.update(tally.firsts(level, [pair for pair, ids in singles.items() if None in ids]))
    singles = {pair: sorted(ids - {None}) for pair, ids in singles.items()}
    points, lines = [], []
    if features:
        # A region is drawn where the lines joined up to it end.
        at_region = {pk for pair, _tie in ranked for pk in pair} if level == "region" else ()
        points = [pieces.point(pk, counts[pk], pk in at_region) for pk in drawn]
        lines = [pieces.line(pair, count, level, singles.get(pair)) for pair, (count, _) in ranked]
    return {
        "data": {
            "type": "FeatureCollection",
            "meta": {
                "partnerships": tally.partnerships,
                "places": drawable,
                # Places not drawn: past MAX_POINTS, or without coordinates of their own
                # or of any place they lie in.
                "places_omitted": counted - drawable,
                "lines": len(ranked),
                "line_level": level,
                # Ties not drawn: past MAX_LINES, or between regions the map cannot place.
                "lines_omitted": ties - len(ranked),
                "participants_without_place": tally.unplaced,
                "place_url": urls.patterns["place"].replace("{}", "{slug}"),
            },
            "features": points + lines,
        },
        # What the map page lists, as the features' properties say it.
        "places": [pieces.point_properties(pk, counts[pk]) for pk in drawn[:TABLE_ROWS]],
        "lines": [
            pieces.line_properties(pair, count, singles.get(pair))
            for pair, (count, _first) in ranked[:TABLE_ROWS]
        ],
        "ids": sorted({pk for ids in singles.values() for pk in ids}),
    }


class _Pieces:
    """The map's features written as JSON a piece at a time, each place's pieces kept
    with the layout (``_Layout.pieces``) for one order of languages and one set of
    addresses: a map drawn again after a write that moves its counts writes again only
    the counts. A point's pieces are cut from what orjson writes of the whole feature; a
    line is written around its ends' values as orjson writes them. The features go into
    the map as written (``orjson.Fragment``): the same bytes as the renderer writes.

    At 10,000 partnerships the map draws 2,000 points and 1,225 lines: made as
    dictionaries and written at each drawing, they took a sixth of the GeoJSON's answer
    after such a write (23.5 ms of CPU, 20.0 so) and a fifth of the map page's (28.5,
    23.2). The pieces of a place are made the first time it is drawn, as the features
    were.
    """

    # A count no feature has, where a point's pieces are cut.
    CUT = -1

    def __init__(self, layout, order, urls):
        self.layout, self.order, self.urls = layout, order, urls
        self.points = {}  # (id, drawn at its region): (before the count, after it)
        self.ends = {}  # id: (slug, name, the name's language) of a line's end
        self.line_ends = {}  # (id, level): a line's end written (``_line_end``)

    def point_properties(self, pk, count):
        place = self.layout.places[pk]
        name, language = place.name(self.order)
        return {
            "slug": place.slug,
            "name": name,
            "name_language": language,
            "kind": place.kind,
            "country": place.country,
            "count": count,
            "url": self.urls("place", place.slug),
        }

    def point(self, pk, count, at_region):
        try:
            before, after = self.points[pk, at_region]
        except KeyError:
            before, after = self.points[pk, at_region] = self._point(pk, at_region)
        return orjson.Fragment(b"%b%d%b" % (before, count, after))

    def _point(self, pk, at_region):
        layout = self.layout
        written = orjson.dumps(
            {
                "type": "Feature",
                "id": f"place:{layout.places[pk].slug}",
                "geometry": {
                    "type": "Point",
                    "coordinates": (
                        layout.region_position(pk) if at_region else layout.position(pk)
                    ),
                },
                "properties": self.point_properties(pk, self.CUT),
            }
        )
        # A text holds a quote as \", so the cut is where the count is.
        before, after = written.split(b',"count":%d,"url":' % self.CUT)
        return before + b',"count":', b',"url":' + after

    def line_properties(self, pair, count, partnership):
        (a_slug, a_name, a_language), (b_slug, b_name, b_language) = map(self._end, pair)
        properties = {
            "from": a_slug,
            "to": b_slug,
            "from_name": a_name,
            "from_name_language": a_language,
            "to_name": b_name,
            "to_name_language": b_language,
            "count": count,
        }
        if count == 1:
            properties["partnership"] = partnership
        return properties

    def _end(self, pk):
        try:
            return self.ends[pk]
        except KeyError:
            place = self.layout.places[pk]
            found = self.ends[pk] = (place.slug, *place.name(self.order))
            return found

    def line(self, pair, count, level, partnership):
        a, b = pair
        a_at, a_from, _a_to, a_names_from, _a_names_to = self._line_end(a, level)
        b_at, _b_from, b_to, _b_names_from, b_names_to = self._line_end(b, level)
        named = b',"partnership":%b' % orjson.dumps(partnership) if count == 1 else b""
        return orjson.Fragment(
            b'{"type":"Feature","geometry":{"type":"LineString","coordinates":[%b,%b]},'
            b'"properties":{%b%b%b%b,"count":%d%b}}'
            % (a_at, b_at, a_from, b_to, a_names_from, b_names_to, count, named)
        )

    def _line_end(self, pk, level):
        """A line's end written: where it is, and its slug and name as the line's
        "from" and as its "to" (``line_properties``)."""
        try:
            return self.line_ends[pk, level]
        except KeyError:
            pass
        layout = self.layout
        position = layout.region_position(pk) if level == "region" else layout.position(pk)
        slug, name, language = (orjson.dumps(text) for text in self._end(pk))
        found = self.line_ends[pk, level] = (
            orjson.dumps(position),
            b'"from":' + slug,
            b',"to":' + slug,
            b',"from_name":%b,"from_name_language":%b' % (name, language),
            b',"to_name":%b,"to_name_language":%b' % (name, language),
        )
        return found


def _written(drawn, features=True):
    """``drawn`` (``_map_data``) written once: {"geojson": written, or None until its
    lines of one partnership are named (``_named``), or without ``features``; "pieces":
    the GeoJSON cut where such a line holds the ids of the partnerships it may be, and
    those ids, in turns; "meta": what it counts; "places" and "lines": the properties of
    the first ``TABLE_ROWS`` of each; "ids": every id in "pieces" and in "lines"}."""
    data, ids = drawn["data"], drawn["ids"]
    listed = {"meta": data["meta"], "places": drawn["places"], "lines": drawn["lines"], "ids": ids}
    if not features:
        return {"geojson": None, "pieces": None, **listed}
    geojson = JSONRenderer().render(data)
    return {
        "geojson": None if ids else geojson,
        "pieces": WRITTEN_IDS.split(geojson) if ids else None,
        **listed,
    }


# A line's ids of the partnership it may be, as ``_written`` writes them: the last of its
# properties. JSON writes a quote within a text as \", so no text can be taken for them.
WRITTEN_IDS = re.compile(rb',"partnership":\[([0-9,]*)\]')


def _named(written, partnerships, urls):
    """``written`` (``_written``) with each line of one partnership naming it: its title
    and address, read from ``partnerships`` (the tally's ``titles``) in one query, and
    written in where its ids stood. At 100,000 partnerships the map of the published
    active sister cities names 880 partnerships on 1,800 lines: its answer took 34 ms of
    CPU with the kept map read back, named and written whole, 21 so. A line whose
    partnership the reader cannot see names none."""
    if not written["ids"]:
        return written
    order = _name_order()
    titles = {
        # As tuples (pk, slug, a title per language), as the layout reads places: as
        # dictionaries (``values()``), the 878 partnerships the filtered map names at
        # 100,000 took a millisecond more.
        row[0]: row
        # One parameter for the ids: a filtered map names up to MAX_LINES partnerships,
        # and a placeholder each took 12 ms to build and parse at 100,000 (2,000 of them).
        for row in partnerships.filter(pk__in=id_list(written["ids"]))
        .order_by()
        .values_list("pk", "slug", *_columns("title"))
    }
    named = {}

    def partnership(ids):
        """What a line of one of ``ids`` says of its partnership, None if none is left."""
        pk = next((pk for pk in ids if pk in titles), None)
        if pk is not None and pk not in named:
            row = titles[pk]
            title, language = _first_text(row, 2, order)
            named[pk] = {
                "slug": row[1],
                "title": title,
                "title_language": language,
                "url": urls("partnership", row[1]),
            }
        return named.get(pk)

    named_written = {}
    if written["pieces"] is not None:
        pieces = written["pieces"][:]
        written_for = {}  # {ids as written: what stands for them}
        for at in range(1, len(pieces), 2):
            ids = pieces[at]
            if ids not in written_for:
                found = partnership(int(pk) for pk in ids.split(b",") if pk)
                # Its texts written as the renderer writes them (``core.rest``).
                written_for[ids] = (
                    b""
                    if found is None
                    else b',"partnership":' + separators_escaped(orjson.dumps(found))
                )
            pieces[at] = written_for[ids]
        named_written = {"geojson": b"".join(pieces), "pieces": None}
    lines = []
    for line in written["lines"]:
        if "partnership" in line:
            ids, line = line["partnership"], {**line}
            del line["partnership"]
            if (found := partnership(ids)) is not None:
                line["partnership"] = found
        lines.append(line)
    return {**written, **named_written, "lines": lines}


def _rank(item):
    """Ties with the most partnerships first, then in the order of their ends' ids."""
    pair, (count, _first) = item
    return -count, pair


def _tally(ties, ends, partnership_id):
    """Count one partnership on the tie between each two of ``ends``."""
    if len(ends) == 2:  # most partnerships: no sort, no combinations
        a, b = ends
        tied = [(a, b) if a < b else (b, a)]
    else:
        tied = combinations(sorted(ends), 2)
    for pair in tied:
        tie = ties.get(pair)
        if tie is None:
            ties[pair] = [1, partnership_id]
        else:
            tie[0] += 1


@dataclass
class Network:
    nodes: dict = field(default_factory=dict)
    edges: list = field(default_factory=list)
    partnerships: int = 0
    truncated: bool = False
    around: str = ""
    steps: int = 0

    def as_json(self):
        return {
            "meta": {
                "partnerships": self.partnerships,
                "truncated": self.truncated,
                "around": self.around or None,
                "steps": self.steps,
                "nodes": len(self.nodes),
                "edges": len(self.edges),
            },
            "nodes": list(self.nodes.values()),
            "edges": self.edges,
        }


# The ids of the places one, two and three levels above a place, as ``values()`` names them.
PARENT_COLUMNS = [f"{p}__pk" for p in CHAIN[:3]]
NODE_COLUMNS = ["id", "type", "label", "kind", "country", "status", "start", "end", "url"]
EDGE_COLUMNS = ["source", "target", "relation", "role", "kind", "status", "start", "end"]


def node_id(kind, slug):
    return f"{kind}:{slug}"


def network(partnerships, around=None, steps=1, limit=None, request=None, user=None):
    """The partnerships, their parties and where the organisations are based, as a graph.

    Without ``around``, every partnership that ``partnerships`` holds (the newest
    ``limit`` of them, if given). With a place, organisation or partnership as ``around``, the
    graph grows from it: each step adds the partnerships of the parties found so far
    (that pass the filters) and their parties. A place starts with its sub-places and
    the organisations based in them, as its page does.
    """
    user = user or viewer(request)
    reach = _reach(partnerships, around, steps, limit, user)
    return _grown(reach, around, steps, Urls(request), user)


def network_written(partnerships, around=None, steps=1, limit=None, request=None, user=None):
    """``network()`` as the API writes it (``core.rest.Written``), kept for the public
    (``_kept``). At 10,000 partnerships the network around a province read its 300
    partnerships and their 840 participants again after any write, made its 1,440 nodes
    and edges and wrote 500 KB of JSON: 11 of its 17 ms."""
    user = user or viewer(request)
    reach = _reach(partnerships, around, steps, limit, user)
    urls = Urls(request)

    def write():
        written = JSONRenderer().render(_grown(reach, around, steps, urls, user).as_json())
        # Gzipped with it: 1.4 ms of each answer's 526 KB at 10,000 partnerships.
        return Written(written, gzipped(written))

    key = [_around_id(around), steps, reach.truncated]
    return _kept("network-written-gzipped", reach, reach.ids, urls, user, write, *key)


def _kept(name, reach, ids, urls, user, build, *key):
    """``build()``, what the partnerships of ``ids`` (of ``reach``) show with their
    participants, as the graph and its table show them: for the public, kept as cards
    are (``partnerships.revisions.kept_under``), with the addresses, the kinds of party
    whose drafts ``user`` may not see, and ``key``. What a partnership shows of itself
    and its participants moves its revision, what a party shows the places' and
    organisations' versions; only which partnerships are shown is read at each answer.
    Kept by the process too: nothing changes what it returns."""
    shown = [(pk, reach.revision_of[pk]) for pk in ids]
    return kept_under(name, shown, build, urls.patterns, sorted(_hidden(user)), *key, local=True)


def _grown(reach, around, steps, urls, user):
    """The graph of ``reach`` (``_reach``) grown ``steps`` out from ``around``."""
    graph = _graph(reach.ids, reach.parties(user), around, urls, reach.revision_of)
    graph.truncated = reach.truncated
    graph.steps = steps if around is not None else 0
    return graph


@dataclass
class NetworkTable:
    """A page of the network's partnerships with their parties: the table on the network
    page, beside the graph the browser draws from ``/api/network/``."""

    partnerships: int
    truncated: bool
    around: str
    page: Page
    rows: list


# The network page's table shows its partnerships a page at a time, as every section of
# a page shows a page of its records: the 300 of the whole network with their 843
# parties made 170 KB of HTML and took a third of the page at 10,000 partnerships.
NETWORK_TABLE_ROWS = 50


def network_table(
    partnerships, around=None, steps=1, limit=None, page=None, request=None, user=None
):
    """Page ``page`` (``Paginator.get_page``: the first for anything but a whole number,
    the last for a number past the end or below 1) of the partnerships that ``network()``
    shows for the same arguments, in its order, each with who takes part
    (``network_table_rows``)."""
    user = user or viewer(request)
    reach = _reach(partnerships, around, steps, limit, user)
    page = Paginator(reach.ids, NETWORK_TABLE_ROWS).get_page(page)
    shown = page.object_list
    urls = Urls(request)
    return NetworkTable(
        partnerships=len(reach.ids),
        truncated=reach.truncated,
        around=_around_id(around),
        page=page,
        rows=_kept(
            "network-table",
            reach,
            shown,
            urls,
            user,
            lambda: _table_rows(shown, reach.parties(user, shown), urls, reach.revision_of),
        ),
    )


@dataclass
class Reach:
    """How far a network reached (``_reach``): the ids of its partnerships in its order
    and their revisions, whether a limit left some out, and the participants read of
    those a step grew from (``_participants``). The participants of the last step's
    partnerships are read only if asked for (``parties``): a graph kept written needs
    none, a table a page of them."""

    ids: list = field(default_factory=list)
    revision_of: dict = field(default_factory=dict)
    truncated: bool = False
    participants: list = field(default_factory=list)
    unread: list = field(default_factory=list)

    def add(self, rows):
        """Add the (id, revision) ``rows`` of partnerships found; their ids."""
        found = [pk for pk, _revision in rows]
        self.ids += found
        self.revision_of.update(rows)
        return found

    def parties(self, user, of=None):
        """The participants of the partnerships of ``of`` (ids; all of them if None), in
        the order of the steps, then of the partnerships' ids and their own."""
        wanted = None if of is None else set(of)
        unread = [pk for pk in self.unread if wanted is None or pk in wanted]
        read = [row for row in self.participants if wanted is None or row[0] in wanted]
        return read + _participants(unread, user, self.revision_of) if unread else read


def _reach(partnerships, around, steps, limit, user):
    """How far the network of ``partnerships`` around ``around`` reaches in ``steps``
    (``Reach``): up to ``limit`` partnerships, if given."""
    reach = Reach()
    if around is None:
        rows = _newest(partnerships, limit + 1 if limit else None)
        if limit and len(rows) > limit:
            rows, reach.truncated = rows[:limit], True
        reach.unread = reach.add(rows)
        return reach
    tied = None
    if isinstance(around, Partnership):
        reach.add([(around.pk, around.revision)])
        reach.participants = _participants(reach.ids, user, reach.revision_of)
        steps -= 1
        place_ids, organisation_ids = _parties(reach.participants)
    elif isinstance(around, Place):
        # The first step's partnerships are those within the place, as the writes keep
        # them (``facets.WITHIN``): of it or a place in it at any depth, or of an
        # organisation based in one of those. Collecting a province's places and their
        # organisations to find their partnerships took PostgreSQL 4 ms at 10,000
        # partnerships, reading every partnership to join them.
        every = facets.scope_of(Partnership.objects.all())
        held = None if every is None else facets.count(every, WITHIN, str(around.pk))
        tied = ties_within_kept([around.pk], held)
    else:
        place_ids, organisation_ids = set(), {around.pk}
    for step in range(steps):
        room = None if not limit else limit - len(reach.ids)
        if room is not None and room <= 0:
            reach.truncated = True
            break
        if tied is None:
            tied = Participant.objects.filter(
                # Each sent as one parameter: a country's 5,000 places and 10,000
                # organisations were as many placeholders to build and parse.
                Q(place_id__in=id_list(place_ids))
                | Q(organisation_id__in=id_list(organisation_ids))
            ).values("partnership_id")
        rows = list(
            partnerships.filter(pk__in=tied)
            .exclude(pk__in=reach.ids)
            .order_by(F("start_on").desc(nulls_last=True), "pk")
            .values_list("pk", "revision")[: room + 1 if room is not None else None]
        )
        if room is not None and len(rows) > room:
            rows, reach.truncated = rows[:room], True
        if not rows:
            break
        found = reach.add(rows)
        if step == steps - 1:
            # No step grows from them.
            reach.unread = found
            break
        new = _participants(found, user, reach.revision_of)
        reach.participants += new
        place_ids, organisation_ids = _parties(new)
        tied = None
    return reach


def _newest(partnerships, limit=None):
    """(id, revision) of ``partnerships``, the latest to start first, then the undated, each in
    the order of their ids: ``limit`` of them, or all.

    Read as the dated, then (if there is room) the undated: in one query ordered with
    NULLS LAST, which no index holds, PostgreSQL sorted every partnership to find the
    newest 301 (36 ms at 100,000), where the index of starts gives them in order (1.5 ms).
    """
    dated = partnerships.filter(start_on__isnull=False).order_by("-start_on", "pk")
    rows = list(dated.values_list("pk", "revision")[:limit])
    if limit is None or len(rows) < limit:
        undated = partnerships.filter(start_on__isnull=True).order_by("pk")
        room = None if limit is None else limit - len(rows)
        rows += undated.values_list("pk", "revision")[:room]
    return rows


def _participants(partnership_ids, user=None, revisions=None):
    """(partnership id, place id, organisation id, role) of the partnerships' participants
    whose party ``user`` may see, in the order of the partnerships' ids and their own.

    A draft party is left out as one of the few unpublished records, not by joining each
    participant to its place and organisation (``visible_participants``): for those of
    300 partnerships, PostgreSQL read and hashed all 10,000 places and 20,000
    organisations to join them (15 ms at 100,000 partnerships). The query is compiled
    once for each kind of reader (``RowsById``): built and compiled at each call, it took
    as long as PostgreSQL took to run it.

    With the partnerships' ``revisions`` ({id: revision}), each worker keeps those of
    each partnership for a public page under its revision, who may be seen and the
    places' and organisations' versions (``core.cache.by_revision``): after a write to
    one of a network's partnerships, its graph is made again with only that one's read.
    """
    hidden = _hidden(user)
    query = _PARTICIPANTS[hidden]
    if revisions is None or versioning.request_part_versions.get() is None:
        # Not kept (``by_revision``), and no versions to read for its key.
        return query.rows(partnership_ids)

    def read(ids):
        found = {pk: [] for pk in ids}
        for row in query.rows(ids):
            found[row[0]].append(row)
        return found

    key = (hidden, *versioning.part_versions(("places", "organisations")))
    ids = sorted(set(partnership_ids))
    found = by_revision("graph-participants", {pk: (revisions[pk], key) for pk in ids}, read)
    return [row for pk in ids for row in found[pk]]


def _participants_query(hidden):
    """``_participants``' query for a reader who may not see the draft parties of the
    kinds ``hidden``."""

    def build(ids):
        participants = _participants_seen(hidden).filter(partnership_id__in=ids)
        return participants.order_by("partnership_id", "pk").values_list(
            "partnership_id", "place_id", "organisation_id", "role"
        )

    return RowsById(build)


_PARTICIPANTS = {
    frozenset(hidden): _participants_query(frozenset(hidden))
    for hidden in ((), ("place",), ("organisation",), ("place", "organisation"))
}


def _parties(participants):
    places = {place for _p, place, _o, _r in participants if place}
    organisations = {organisation for _p, _pl, organisation, _r in participants if organisation}
    return places, organisations


def _graph(partnership_ids, participants, around, urls, revisions=None):
    graph = Network(partnerships=len(partnership_ids))
    partnerships = _partnership_nodes(partnership_ids, urls, revisions)
    place_ids, organisation_ids = _parties(participants)
    if isinstance(around, Place):
        place_ids.add(around.pk)
    if isinstance(around, Organisation):
        organisation_ids.add(around.pk)
    parties = _parties_drawn(place_ids, organisation_ids, urls)
    keys = {}
    for kind in ("place", "organisation"):
        for pk, node in parties[kind]:
            graph.nodes[node["id"]] = node
            keys[kind, pk] = node["id"]
    role_labels = _labels(Participant.Role)
    for pk in partnership_ids:
        node = partnerships[pk]
        graph.nodes[node["id"]] = node
    for partnership_id, place_id, organisation_id, role in participants:
        node = partnerships[partnership_id]
        graph.edges.append(
            {
                "source": keys["place", place_id]
                if place_id
                else keys["organisation", organisation_id],
                "target": node["id"],
                "relation": "participant",
                "role": role,
                "role_label": role_labels.get(role, role),
                "kind": node["kind"],
                "status": node["status"],
                "start": node["start"],
                "end": node["end"],
            }
        )
    graph.edges += parties["edges"]
    graph.around = _around_id(around)
    return graph


def _around_id(around):
    """The node id of the record a network grows around; "" for the whole registry's."""
    return "" if around is None else node_id(around._meta.model_name, around.slug)


def _partnership_nodes(partnership_ids, urls, revisions=None):
    """{id: node} of the partnerships ``partnership_ids`` as the graph and its table show
    them, read in one query compiled once; any deleted meanwhile are not there. With
    their ``revisions`` ({id: revision}), each worker keeps each node for a public page
    under its revision, the language and the kind of address (``core.cache.by_revision``),
    as ``_participants`` keeps the participants: reading and making the 300 nodes of a
    network took 3 ms at 10,000 partnerships."""
    if revisions is None:
        return _read_partnership_nodes(partnership_ids, urls)
    key = (get_language(), urls.patterns["partnership"])
    return by_revision(
        "graph-partnerships",
        {pk: (revisions[pk], key) for pk in partnership_ids},
        lambda ids: _read_partnership_nodes(ids, urls),
    )


def _read_partnership_nodes(partnership_ids, urls):
    """``_partnership_nodes``, read."""
    order = fallback_order()
    kind_labels = _labels(Partnership.Kind)
    status_labels = _labels(Partnership.Status)
    nodes = {}
    for row in _GRAPH_PARTNERSHIPS.rows(partnership_ids):
        row = _dates_as_text(
            _shown(dict(zip(GRAPH_PARTNERSHIP_COLUMNS, row, strict=True)), "title", order)
        )
        nodes[row["pk"]] = _node(
            "partnership",
            row,
            "title",
            kind_labels,
            urls,
            status=row["status"],
            status_label=status_labels.get(row["status"], row["status"]),
            start=row["start"],
            end=row["end"],
        )
    return nodes


GRAPH_PARTNERSHIP_COLUMNS = ["pk", "slug", *_columns("title"), "kind", "status", "start", "end"]
# Compiled once (``RowsById``), as ``_participants``.
_GRAPH_PARTNERSHIPS = RowsById(
    lambda ids: Partnership.objects.filter(pk__in=ids).values_list(*GRAPH_PARTNERSHIP_COLUMNS)
)


def _parties_drawn(place_ids, organisation_ids, urls):
    """The graph's places and organisations: {"place": [(id, node)], "organisation": [(id,
    node)], each in the order of their names in the reader's language, and "edges": which
    organisation is based in which place, which place lies in which} for the places
    ``place_ids``, the organisations ``organisation_ids`` and the places those are based in.

    Kept for each set of them until places or organisations change: a write to a
    partnership leaves a graph's places as they were. Reading the 800 places of the
    network at 100,000 partnerships, each with the places above it, took PostgreSQL
    1.6–3 ms a miss, and making their nodes 2–3 ms more."""

    def draw():
        order = fallback_order()
        organisations = {
            row["pk"]: _shown(row, "name", order)
            for row in _party_rows(Organisation, organisation_ids, "kind", "country", "place_id")
        }
        based_in = {row["place_id"] for row in organisations.values() if row["place_id"]}
        places = {
            row["pk"]: _shown(row, "name", order)
            for row in _party_rows(Place, place_ids | based_in, "kind", "country", *PARENT_COLUMNS)
        }
        drawn = {"place": [], "organisation": [], "edges": []}
        keys = {}
        for kind, model, rows in (
            ("place", Place, places),
            ("organisation", Organisation, organisations),
        ):
            kind_labels = _labels(model.Kind)
            for pk, row in rows.items():
                node = _node(kind, row, "name", kind_labels, urls)
                drawn[kind].append((pk, node))
                keys[kind, pk] = node["id"]
        for pk, row in organisations.items():
            if ("place", row["place_id"]) in keys:
                drawn["edges"].append(
                    _context_edge(
                        keys["organisation", pk], keys["place", row["place_id"]], "based_in"
                    )
                )
        for pk, row in places.items():
            # Each place hangs from the nearest place above it that is in the graph too.
            parent = next((row[c] for c in PARENT_COLUMNS if ("place", row[c]) in keys), None)
            if parent:
                drawn["edges"].append(
                    _context_edge(keys["place", pk], keys["place", parent], "part_of")
                )
        return drawn

    # Kept in the process too (``local``): nothing changes the drawing it returns; the
    # graph and the table take its nodes and edges as they are.
    return per_version(
        "graph-parties",
        [sorted(place_ids), sorted(organisation_ids), get_language(), urls.patterns],
        draw,
        of=("places", "organisations"),
        local=True,
    )


def _party_rows(model, ids, *columns):
    """The graph's rows of ``model`` records of ``ids`` (slug, name in every language and
    ``columns``), in the order of their names in the reader's language. Two of one name
    (two Suzhous) come in the order of their ids: the database gave them in any order,
    and a graph's nodes came out in another order from one read to the next."""
    records = model.objects.filter(pk__in=id_list(ids)).order_by(Localized("name").asc(), "pk")
    return records.values("pk", "slug", *_columns("name"), *columns)


def _node(kind, row, field, kind_labels, urls, **extra):
    """A node of the graph: a ``kind`` of record, its ``row`` with its ``field`` shown
    (``_shown``) and the labels of its kinds in the reader's language."""
    key = node_id(kind, row["slug"])
    return {
        "id": key,
        "type": kind,
        "label": row[field],
        "label_language": row[f"{field}_language"],
        "kind": row["kind"],
        "kind_label": kind_labels.get(row["kind"], row["kind"]),
        "country": str(row.get("country") or ""),
        **extra,
        "url": urls(kind, row["slug"]),
    }


def _dates_as_text(row):
    """A partnership's start and end as the graph writes them, once for the partnership
    and every edge to it: a date writes itself in 1 µs, 1,443 times for 300
    partnerships."""
    row["start"], row["end"] = str(row["start"] or ""), str(row["end"] or "")
    return row


def _labels(choices):
    return {value: str(label) for value, label in choices.choices}


def _context_edge(source, target, relation):
    return {
        "source": source,
        "target": target,
        "relation": relation,
        "role": "",
        "role_label": "",
        "kind": "",
        "status": "",
        "start": "",
        "end": "",
    }


# Downloads: what Gephi, networkx and spreadsheets read.

GEXF_NS = "http://www.gexf.net/1.2draft"

# The XML downloads are written as text, a node or an edge at a time, and sent as they are
# written: built as one ElementTree and then written out, the GEXF of the whole registry at
# 100,000 partnerships (129,520 nodes, 304,062 edges, 187 MB) took 13.7 s and 1.9 GB of
# memory in one worker. The text is what ElementTree wrote, indented by
# ``ElementTree.indent``, byte for byte (``tests/explore/test_network_downloads.py``).
INDENT = "  "
# Text is sent in pieces of about this many characters.
PIECE = 1 << 16


# What ElementTree escapes in text, and in an attribute's value besides, in this order.
TEXT_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"))
ATTRIBUTE_ESCAPES = (
    *TEXT_ESCAPES,
    ('"', "&quot;"),
    ("\r", "&#13;"),
    ("\n", "&#10;"),
    ("\t", "&#09;"),
)


def _escaped(value, escapes):
    for character, entity in escapes:
        if character in value:
            value = value.replace(character, entity)
    return value


def _start(tag, attributes):
    return f"<{tag}" + "".join(
        f' {name}="{_escaped(value, ATTRIBUTE_ESCAPES)}"' for name, value in attributes
    )


def _element(tag, attributes=(), children=(), text=None, level=0):
    """An element as ElementTree writes it indented, at ``level``: ``children`` are its
    child elements written at ``level + 1``."""
    start = _start(tag, attributes)
    if children:
        inner = "".join("\n" + INDENT * (level + 1) + child for child in children)
        return f"{start}>{inner}\n{INDENT * level}</{tag}>"
    if text:
        return f"{start}>{_escaped(text, TEXT_ESCAPES)}</{tag}>"
    return f"{start} />"


def _streamed(tag, attributes, children, level):
    """``_element`` as a stream, for an element with many ``children``, each written at
    ``level + 1``."""
    start = _start(tag, attributes)
    empty = True
    for child in children:
        if empty:
            yield start + ">"
            empty = False
        yield "\n" + INDENT * (level + 1) + child
    yield f"{start} />" if empty else f"\n{INDENT * level}</{tag}>"


def _in_pieces(texts):
    """``texts`` joined into pieces of about ``PIECE`` characters, for sending."""
    piece, size = [], 0
    for text in texts:
        piece.append(text)
        size += len(text)
        if size >= PIECE:
            yield "".join(piece)
            piece, size = [], 0
    if piece:
        yield "".join(piece)


NODE_ATTRIBUTES = [column for column in NODE_COLUMNS if column not in ("id", "label")]
EDGE_ATTRIBUTES = [column for column in EDGE_COLUMNS if column not in ("source", "target")]


def _attvalues(record, columns, level):
    values = [
        _element("attvalue", [("for", column), ("value", record[column])])
        for column in columns
        if record.get(column)
    ]
    return _element("attvalues", children=values, level=level)


def gexf(graph):
    """The graph as GEXF 1.2 (Gephi), a stream of text."""

    def declared(kind, columns):
        attributes = [
            _element("attribute", [("id", column), ("title", column), ("type", "string")])
            for column in columns
        ]
        return _element("attributes", [("class", kind)], attributes, level=2)

    def nodes():
        for node in graph.nodes.values():
            yield _element(
                "node",
                [("id", node["id"]), ("label", node["label"])],
                [_attvalues(node, NODE_ATTRIBUTES, level=4)],
                level=3,
            )

    def edges():
        for number, edge in enumerate(graph.edges):
            yield _element(
                "edge",
                [
                    ("id", str(number)),
                    ("source", edge["source"]),
                    ("target", edge["target"]),
                    ("label", edge["relation"]),
                ],
                [_attvalues(edge, EDGE_ATTRIBUTES, level=4)],
                level=3,
            )

    def texts():
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield _start("gexf", [("xmlns", GEXF_NS), ("version", "1.2")]) + ">"
        creator = _element("creator", text="Partnership Atlas")
        yield "\n" + INDENT + _element("meta", children=[creator], level=1)
        yield "\n" + INDENT + _start("graph", [("defaultedgetype", "directed"), ("mode", "static")])
        yield ">\n" + INDENT * 2 + declared("node", NODE_ATTRIBUTES)
        yield "\n" + INDENT * 2 + declared("edge", EDGE_ATTRIBUTES)
        yield "\n" + INDENT * 2
        yield from _streamed("nodes", (), nodes(), level=2)
        yield "\n" + INDENT * 2
        yield from _streamed("edges", (), edges(), level=2)
        yield f"\n{INDENT}</graph>\n</gexf>"

    return _in_pieces(texts())


def graphml(graph):
    """The graph as GraphML (networkx, yEd), a stream of text."""

    def data(kind, record, columns):
        return [
            _element("data", [("key", f"{kind}_{column}")], text=record[column])
            for column in columns
            if record.get(column)
        ]

    def keys():
        for kind, columns in (("node", ["label", *NODE_ATTRIBUTES]), ("edge", EDGE_ATTRIBUTES)):
            for column in columns:
                yield _element(
                    "key",
                    [
                        ("id", f"{kind}_{column}"),
                        ("for", kind),
                        ("attr.name", column),
                        ("attr.type", "string"),
                    ],
                )

    def items():
        for node in graph.nodes.values():
            yield _element(
                "node",
                [("id", node["id"])],
                data("node", node, ["label", *NODE_ATTRIBUTES]),
                level=2,
            )
        for edge in graph.edges:
            yield _element(
                "edge",
                [("source", edge["source"]), ("target", edge["target"])],
                data("edge", edge, EDGE_ATTRIBUTES),
                level=2,
            )

    def texts():
        yield '<?xml version="1.0" encoding="UTF-8"?>\n'
        yield _start("graphml", [("xmlns", "http://graphml.graphdrawing.org/xmlns")]) + ">"
        for key in keys():
            yield "\n" + INDENT + key
        yield "\n" + INDENT
        yield from _streamed(
            "graph", [("id", "partnerships"), ("edgedefault", "directed")], items(), level=1
        )
        yield "\n</graphml>"

    return _in_pieces(texts())


def nodes_csv(graph):
    return csv_text(
        NODE_COLUMNS,
        ([node.get(column, "") for column in NODE_COLUMNS] for node in graph.nodes.values()),
    )


def edges_csv(graph):
    return csv_text(
        EDGE_COLUMNS, ([edge[column] for column in EDGE_COLUMNS] for edge in graph.edges)
    )


def find_around(value, user=None):
    """The record that ``place:wuxi``, ``organisation:dtu`` or ``partnership:x`` names."""
    kind, _, slug = (value or "").partition(":")
    model = {"place": Place, "organisation": Organisation, "partnership": Partnership}.get(kind)
    if model is None or not slug:
        return None
    # get(), not first(): a slug names one record, and ordering by id to take the first
    # cost a quarter of the lookup.
    try:
        return model.objects.visible_to(user).get(slug=slug)
    except model.DoesNotExist:
        return None


def _table_rows(partnership_ids, participants, urls, revisions=None):
    """Each of the partnerships ``partnership_ids`` with who takes part, in that order:
    what ``network_table_rows`` writes. Read as the graph reads them (``_graph``), without
    making the graph's nodes and edges, which the browser draws from the API."""
    role_labels = _labels(Participant.Role)
    drawn = _parties_drawn(*_parties(participants), urls)
    nodes = {(kind, pk): node for kind in ("place", "organisation") for pk, node in drawn[kind]}
    by_key = {node["id"]: node for node in nodes.values()}
    based_in = {
        edge["source"]: by_key[edge["target"]]
        for edge in drawn["edges"]
        if edge["relation"] == "based_in"
    }
    parties = defaultdict(list)
    for partnership_id, place_id, organisation_id, role in participants:
        node = nodes["place", place_id] if place_id else nodes["organisation", organisation_id]
        parties[partnership_id].append(
            {
                "node": node,
                "role": role_labels.get(role, role),
                "based_in": based_in.get(node["id"]),
            }
        )
    partnerships = _partnership_nodes(partnership_ids, urls, revisions)
    # Less any deleted meanwhile.
    return [
        {"partnership": partnerships[pk], "parties": parties[pk]}
        for pk in partnership_ids
        if pk in partnerships
    ]
