"""Partnership pieces for other apps' pages, and partnership dates as people write them.

The place and organisation pages show partnerships through these tags: places and
organisations sit below partnerships and never import it, while the templates, which
belong to the whole site, may compose sections from every app.
"""

from urllib.parse import urlencode

from django import template
from django.db.models import F
from django.urls import reverse
from django.utils.translation import gettext as _

from core.dates import DECADE
from core.search import any_of
from core.translation import Localized
from core.views import SECTION_SIZE
from core.visibility import published_through, viewer
from organisations.models import Organisation

from ..filters import with_parts
from ..models import Event, Partnership
from ..views import card_themes, participants_with_parties

register = template.Library()


@register.filter
def partnership_dates(partnership):
    """'since the 1980s', '2007–', '2007–2011', 'c. 2008', 'planned', 'dates unknown'."""
    start, end = partnership.start, partnership.end
    planned = partnership.status == Partnership.Status.PLANNED
    if start and end:
        return _("%(start)s–%(end)s") % {"start": start.display(), "end": end.display()}
    if end:
        return _("until %(end)s") % {"end": end.display()}
    if start and planned:
        return _("planned for %(start)s") % {"start": start.display()}
    if start and partnership.status == Partnership.Status.ACTIVE:
        if start.precision == DECADE:
            if start.circa:
                return _("since about the %(decade)ss") % {"decade": start.year}
            return _("since the %(decade)ss") % {"decade": start.year}
        return _("%(start)s–") % {"start": start.display()}
    if start:
        # Ended or unknown without an end: all we know is when it began.
        return start.display()
    if planned:
        return _("planned")
    return _("dates unknown")


# A place with thousands of ties shows the latest few and links to the full, filterable
# list, so that its page costs the same whatever the size of the registry.
TIMELINE_SIZE = 20


def _section(partnerships, events, context_object, empty_text, list_query):
    total = partnerships.count()
    partnerships = list(
        partnerships.prefetch_related(participants_with_parties(), card_themes()).order_by(
            F("start_on").desc(nulls_last=True), Localized("title").asc()
        )[:SECTION_SIZE]
    )
    latest_events = list(
        events.select_related("partnership", "place").order_by(
            F("date_on").desc(nulls_last=True), "-pk"
        )[:TIMELINE_SIZE]
    )
    return {
        "partnerships": partnerships,
        "total": total,
        # Always offered: the list adds facets, "as of" and the CSV download.
        "more_url": f"{reverse('partnerships:partnership-list')}?{urlencode(list_query)}"
        if total
        else "",
        "events": latest_events[::-1],
        "events_cut": len(latest_events) == TIMELINE_SIZE,
        "context_object": context_object,
        "empty_text": empty_text,
    }


@register.inclusion_tag("includes/_partnerships_section.html", takes_context=True)
def place_partnerships(context, place, place_ids):
    """Ties of the place and of the places and organisations inside it, with their events."""
    user = viewer(context.get("request"))
    partnerships = Partnership.objects.visible_to(user).for_places(place_ids)
    at_places = Event.objects.filter(place_id__in=place_ids)
    published = published_through("partnership", Partnership, user)
    if published is not None:
        at_places = at_places.filter(published)
    # Each part read from its own index (events by partnership, events by place): an OR
    # of the two made SQLite test every event of the registry.
    events = Event.objects.filter(
        pk__in=any_of(
            Event.objects.filter(partnership__in=partnerships.values("pk")).values("pk"),
            at_places.values("pk"),
        )
    )
    return _section(
        partnerships,
        events,
        place,
        _("No partnership of %(name)s or of a place in it is recorded yet.") % {"name": place},
        {"place": place.slug},
    )


@register.inclusion_tag("includes/_partnerships_section.html", takes_context=True)
def organisation_partnerships(context, organisation):
    # Its parts' ties too, as the list's ?organisation= filter finds them.
    partnerships = Partnership.objects.visible_to(viewer(context.get("request"))).for_organisations(
        with_parts(Organisation, [organisation.pk])
    )
    events = Event.objects.filter(partnership__in=partnerships.values("pk"))
    return _section(
        partnerships,
        events,
        organisation,
        _("No partnership of %(name)s is recorded yet.") % {"name": organisation},
        {"organisation": organisation.slug},
    )
