"""A partnership's card, as the lists, the search and the place and organisation pages
show it (``core.cards``), and a timeline of events. A card's participants and themes are
those the page prefetched (``participants_shown``, ``themes_shown``).
"""

from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from core import cards
from core.dates import DECADE
from core.links import slug_url
from core.models import load_parts

from . import revisions
from .models import Partnership
from .templatetags.explore_tags import partnership_status

# A partnership's page: a timeline's events may be plain rows (``timeline_events``).
PAGE = "partnerships:partnership-detail"
# What a card calls its lists of participants and themes (``cards.Reader.words``).
CARD_WORDS = (gettext_noop("Participants"), gettext_noop("Themes"))
BETWEEN = '<span aria-hidden="true"> ↔ </span><span class="visually-hidden">, </span>'


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


def partnership_card(partnership, as_of=None):
    """The card; ``as_of``, a partial date: the status as of then (a list "as of" a year)."""
    # Read with those of its page if its query left them for later (``kept_cards``).
    load_parts((partnership,))
    reader = cards.Reader(CARD_WORDS)
    participants, themes_label = reader.words
    parties = BETWEEN.join(
        f'<span class="party">{reader.content(party, "name")} '
        f'<span class="country">({reader.country(party)})</span></span>'
        for party in (participant.party for participant in partnership.participants_shown)
    )
    html = (
        f'<li class="card">\n  <h3><a href="{escape(partnership.get_absolute_url())}">'
        f"{reader.content(partnership, 'title')}</a></h3>\n"
        f'  <p class="meta">\n    {partnership_status(partnership, as_of)}\n'
        f"    {reader.kind(partnership)} · {escape(partnership_dates(partnership))}\n  </p>\n"
        f'  <p class="parties"><span class="visually-hidden">{participants}: '
        f"</span>\n    {parties}\n  </p>"
    )
    if partnership.found_via:
        html += f'\n  <p class="found-via">{escape(partnership.found_via)}</p>'
    if themes := partnership.themes_shown:
        tags = "".join(
            f'<span class="tag">{reader.content(theme, "name")}</span>' for theme in themes
        )
        html += (
            f'\n  <p class="themes"><span class="visually-hidden">{themes_label}: </span>{tags}</p>'
        )
    return mark_safe(f"{html}\n</li>\n")


def kept_cards(partnerships, as_of=None):
    """The cards of ``partnerships``, as one piece of HTML.

    For the public, kept under each partnership's revision (``Partnership.revision``) and
    the places' and organisations' versions, in each language, as of each date, for the
    day: a write to one partnership leaves the cards of every other page as they were,
    and the page built after it reads none of their participants and themes
    (``RecordQuerySet.parts_on_demand``). Why a search found each (``found_via``) is part
    of the key. Staff, who may see drafts, have theirs built each time.
    """
    partnerships = list(partnerships)

    def build():
        load_parts(partnerships)
        return "".join(partnership_card(partnership, as_of) for partnership in partnerships)

    return mark_safe(revisions.kept("partnership-cards", partnerships, build, str(as_of)))


def timeline(events, show_partnership=False):
    """The events, oldest first, as a list; ``show_partnership``: each names its
    partnership, linked (a place's or an organisation's timeline, whose events are plain
    rows, ``models.timeline_events``). Written here, as the
    cards are: through an included template, twenty events took 1.4 ms of a place's page.
    """
    if not events:
        # Outside the f-string, where makemessages would not find it.
        none = escape(_("No events are recorded yet."))
        return mark_safe(f'<p class="muted">{none}</p>')
    reader = cards.Reader()
    undated = escape(_("undated"))
    rows = []
    for event in events:
        if date := event.date:
            when = (
                f'<time datetime="{date.earliest.isoformat()}">{escape(str(date.display()))}</time>'
            )
        else:
            when = undated
        row = (
            f'<li>\n<span class="when">{when}</span>\n<span class="what"><strong>'
            f"{reader.kind(event)}</strong>: {reader.content(event, 'text')}"
        )
        if show_partnership:
            partnership = event.partnership
            row += (
                f'\n<span class="meta">— <a href="{escape(slug_url(PAGE, partnership.slug))}">'
                f"{reader.content(partnership, 'title')}</a></span>"
            )
        if event.place:
            row += f'\n<span class="meta">({reader.content(event.place, "name")})</span>'
        rows.append(f"{row}\n</span>\n</li>\n")
    return mark_safe(f'<ol class="timeline">\n{"".join(rows)}</ol>')
