"""Partnership pieces for other apps' pages, and partnership dates as people write them.

The place and organisation pages show partnerships through these tags: places and
organisations sit below partnerships and never import it, while the templates, which
belong to the whole site, may compose sections from every app.
"""

import functools
from urllib.parse import urlencode

from django import template
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from core.cache import per_version
from core.search import ArrayOf, any_of, id_list
from core.translation import Localized
from core.views import SECTION_SIZE, first_page
from core.visibility import published_looked_up, published_through, viewer
from organisations.models import Organisation

from .. import facets
from ..cards import kept_cards, partnership_card, partnership_dates, timeline
from ..filters import part_ids
from ..models import WITHIN, Event, Partnership, ties_within_kept, timeline_events

register = template.Library()


register.filter("partnership_dates", partnership_dates)
register.simple_tag(partnership_card)
register.simple_tag(kept_cards, name="partnership_cards")
register.simple_tag(timeline)


# A place with thousands of ties shows the latest few and links to the full, filterable
# list, so that its page costs the same whatever the size of the registry.
TIMELINE_SIZE = 20

# A section whose ties are most of the registry (a country's) reads its first cards and
# its latest events from the front of the registry's order, at least FRONT_ROWS records
# and at most FRONT_MOST, testing only those for ties. Past FRONT_MOST, or with no more
# ties than FRONT_ROWS, it collects every tie and orders them: as cheap, or cheaper.
FRONT_ROWS = 200
FRONT_MOST = 2000


def _front_rows(total, user):
    """How many records to read from the front for ``total`` ties among the partnerships
    ``user`` sees: enough to hold some three times a section's ties if they are spread
    evenly; None when no fewer than reading every tie."""
    if total <= FRONT_ROWS:
        return None
    scope = facets.scope_of(Partnership.objects.visible_to(user))
    if scope is None:
        return None
    rows = max(FRONT_ROWS, 3 * SECTION_SIZE * facets.total(scope) // total)
    return rows if rows <= min(FRONT_MOST, total) else None


def _front(records, field, ties_among, rows, size):
    """The ids of the ties among the first ``rows`` of ``records``, latest ``field`` first,
    dated after the last one read, when there are at least ``size``; else None.

    Every record dated after the last one read has been read, so those ties come before any
    other in the section's order (``field``, latest first, then its own tie-break); the
    last date read may go on past the rows read. ``ties_among(among=ids)`` are the ties
    among ``ids``. At 100,000 partnerships a country's ties took 0.1–0.2 s to collect, and
    as long again for its cards and for its events, each to order them.
    """
    if rows is None:
        return None
    read = list(
        records.filter(**{f"{field}__isnull": False})
        .order_by(f"-{field}")
        .values_list("pk", field)[:rows]
    )
    if not read:
        return None
    among = id_list([pk for pk, _ in read])
    # A set of ids, in no order: in their model's, PostgreSQL sorted them by title.
    ties = set(ties_among(among=among).order_by().values_list("pk", flat=True))
    every = len(read) < rows
    last = read[-1][1]
    found = [pk for pk, when in read if pk in ties and (every or when > last)]
    # Fewer: the undated, or more of the last day read, may come next.
    return found if len(found) >= size else None


def _either(parts):
    """The events of any of ``parts`` (querysets of events), as one queryset."""
    first, *rest = parts
    if not rest:
        return first
    return Event.objects.filter(pk__in=any_of(*(part.values("pk") for part in parts)))


def _latest(parts, size):
    """The ids of the latest ``size`` events of any of ``parts``, latest first.

    Several parts are ordered as one ``UNION`` of (id, date), not as the events whose ids
    the union holds: PostgreSQL read every event again to join them to it, 3.7 ms of a
    province's page at 10,000 partnerships and 15 at 100,000, against 2.7 and 9.7."""
    first, *rest = (part.order_by().values_list("pk", "date_on") for part in parts)
    found = first.union(*rest) if rest else first
    found = found.order_by(F("date_on").desc(nulls_last=True), F("pk").desc())
    return [pk for pk, _date in found[:size]]


def _cards(partnerships):
    """``partnerships`` in a section's order, with what their cards show."""
    return (
        partnerships.with_card_parts()
        .parts_on_demand()
        .order_by(F("start_on").desc(nulls_last=True), Localized("title").asc(), "pk")
    )


def _section(ties, events, user, context_object, empty_text, list_query, total=None, kept=()):
    """A record's partnerships section: ``ties(among=None)`` are its partnerships and
    ``events(among=None)`` its events, as a list of querysets whose events together are
    them, each limited to ``among`` (ids or a subquery of them) when given; ``total``, how
    many ties, when known already. ``kept``: the parts of the registry whose versions
    decide which events those are (``core.versioning.PART_MODELS``), if known: the ids of
    the latest are kept under them (``per_version``)."""
    partnerships = None
    if total is None:
        # Its first cards and how many ties it has, in one query: a COUNT first took 1 ms
        # of an organisation's page. The database sorts every tie to count them in the
        # window; an organisation in thousands of ties would be better read from the
        # front, as its events are, but none here comes near (15 at 100,000).
        partnerships, total = first_page(_cards(ties()), SECTION_SIZE)
    rows = _front_rows(total, user)
    if partnerships is None:
        first = _front(Partnership.objects.visible_to(user), "start_on", ties, rows, SECTION_SIZE)
        partnerships = (
            ties() if first is None else Partnership.objects.filter(pk__in=id_list(first))
        )
        partnerships = list(_cards(partnerships)[:SECTION_SIZE])

    def parts():
        front = _front(
            Event.objects.all(),
            "date_on",
            lambda among: _either(events(among=among)),
            rows,
            TIMELINE_SIZE,
        )
        return events() if front is None else [Event.objects.filter(pk__in=id_list(front))]

    if kept:
        # The ids of the latest events: ordering a province's 561 ties' events took 4.2 ms
        # of its page on PostgreSQL at 10,000 partnerships, after any write.
        shown = per_version(
            "timeline",
            [
                context_object._meta.label,
                context_object.pk,
                Partnership.objects.visible_to(user),
            ],
            lambda: _latest(parts(), TIMELINE_SIZE),
            of=kept,
        )
    elif total > TIMELINE_SIZE:
        # The latest ids first, then their rows: sorting a province's 561 events with
        # their partnerships and places joined took PostgreSQL 7 ms at 10,000
        # partnerships, and the two queries 4.3. A few events are read at once.
        shown = _latest(parts(), TIMELINE_SIZE)
    else:
        shown = None
    if shown is not None:
        found = {event.pk: event for event in timeline_events(shown)}
        latest = [found[pk] for pk in shown if pk in found]
    else:
        latest = _either(parts()).order_by(F("date_on").desc(nulls_last=True), "-pk")
        latest = timeline_events(latest[:TIMELINE_SIZE])
    return {
        "partnerships": partnerships,
        "total": total,
        # Always offered: the list adds facets, "as of" and the CSV download.
        "more_url": f"{reverse('partnerships:partnership-list')}?{urlencode(list_query)}"
        if total
        else "",
        "events": latest[::-1],
        "events_cut": len(latest) == TIMELINE_SIZE,
        "context_object": context_object,
        "empty_text": empty_text,
    }


def _events_among(among):
    """Every event, or those ``among`` (ids or a subquery of them)."""
    return Event.objects.all() if among is None else Event.objects.filter(pk__in=among)


def _events_of(ties, among=None, elsewhere=None):
    """The events of the partnerships ``ties(among=...)`` and the events ``elsewhere``,
    limited to the events ``among`` when given, as the parts ``_section`` takes."""
    events = _events_among(among)
    partnerships = ties(among=None if among is None else events.values("partnership_id"))
    # The partnerships' ids as an array, their events looked up by index: as ``IN``,
    # PostgreSQL hashed a province's 561 and read all 10,000 events to join them. In no
    # order: sorting them by title took a tenth of the query.
    events = events.filter(partnership__in=ArrayOf(partnerships.order_by().values("pk")))
    if elsewhere is None:
        return [events]
    if among is not None:
        elsewhere = elsewhere.filter(pk__in=among)
    # Each part read from its own index (events by partnership, events by place): an OR
    # of the two made SQLite test every event of the registry.
    return [events, elsewhere]


@register.inclusion_tag("includes/_partnerships_section.html", takes_context=True)
def place_partnerships(context, place, place_ids):
    """Ties of the place and of the places and organisations inside it, with their events."""
    user = viewer(context.get("request"))

    # Counted as the records were written, where counting a country's ties took 0.1-0.2 s.
    scope = facets.scope_of(Partnership.objects.visible_to(user))
    total = None if scope is None else facets.count(scope, WITHIN, str(place.pk))

    published = published_through("partnership", Partnership, user)
    if total and total == facets.total(scope):
        # In every partnership the reader sees, as Denmark and China are in this registry:
        # each is a tie, and its events are every event the reader sees. Testing the first
        # 200 partnerships and events for ties joined all 10,000 of a country's at 10,000
        # partnerships (4.8 ms of the page's 31 on PostgreSQL).
        def ties(among=None):
            visible = Partnership.objects.visible_to(user)
            return visible if among is None else visible.filter(pk__in=among)

        def events(among=None):
            if published is None:
                return [_events_among(among)]
            if among is None:
                return [Event.objects.filter(published)]
            # The few read from the front: each one's partnership looked up.
            looked_up = published_looked_up("partnership_id", Partnership, user)
            return [Event.objects.filter(pk__in=among).filter(looked_up)]

    else:
        # Made once, for its cards and its events alike: a place with few ties has their
        # ids read at once.
        every_tie = functools.cache(lambda: ties_within_kept([place.pk], total))

        def ties(among=None):
            visible = Partnership.objects.visible_to(user)
            if among is None:
                return visible.filter(pk__in=every_tie())
            return visible.within([place.pk], among=among)

        # A country's thousands of places as one parameter.
        at_places = Event.objects.filter(place_id__in=id_list(place_ids))
        if published is not None:
            at_places = at_places.filter(published)

        def events(among=None):
            return _events_of(ties, among, at_places)

    return _section(
        ties,
        events,
        user,
        place,
        _("No partnership of %(name)s or of a place in it is recorded yet.") % {"name": place},
        {"place": place.slug},
        total,
        # Which partnerships lie in the place and which the reader sees, as the counts
        # keep them; the places in it; and their events (not an organisation's page,
        # whose ties are its participations, which no kept value names).
        kept=("counts", "places", "events"),
    )


@register.inclusion_tag("includes/_partnerships_section.html", takes_context=True)
def organisation_partnerships(context, organisation):
    user = viewer(context.get("request"))
    # Its parts' ties too, as the list's ?organisation= filter finds them. The parts are
    # read once per organisations version and sent as one parameter: as a subquery in
    # each of the section's queries they were built, compiled and run three times.
    parts = id_list(
        per_version(
            "organisation-parts",
            [organisation.pk],
            lambda: part_ids(Organisation.objects.filter(pk=organisation.pk)),
            of=("organisations",),
        )
    )

    def ties(among=None):
        return Partnership.objects.visible_to(user).for_organisations(parts, among=among)

    return _section(
        ties,
        lambda among=None: _events_of(ties, among),
        user,
        organisation,
        _("No partnership of %(name)s is recorded yet.") % {"name": organisation},
        {"organisation": organisation.slug},
    )
