"""A timeline of events (``partnerships.cards.timeline``), as a partnership's page and the
place and organisation pages show it: written in Python, as the cards are."""

import pytest
from django.utils import translation

from partnerships.cards import timeline
from tests.factories import EventFactory, PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def rows(html):
    """The text of each ``<li>``, whitespace folded."""
    return [" ".join(row.split("</li>")[0].split()) for row in html.split("<li>")[1:]]


def test_each_event_with_its_date_kind_text_and_place():
    wuxi = PlaceFactory(name_en="Wuxi", name_da="Wuxi")
    signed = PartnershipFactory(title_en="Bycirklen–Wuxi", title_da="Bycirklen–Wuxi")
    events = [
        EventFactory(partnership=signed, date="2011-05-03", kind="visit", text_en="Delegation"),
        EventFactory(partnership=signed, date="c. 2008", kind="agreement", text_en="Signed"),
        EventFactory(partnership=signed, date="", text_en="Some time", place=wuxi),
    ]
    with translation.override("en"):
        html = timeline(events)
    assert html.startswith('<ol class="timeline">') and html.endswith("</ol>")
    assert rows(html) == [
        '<span class="when"><time datetime="2011-05-03">May 3, 2011</time></span> '
        '<span class="what"><strong>Visit</strong>: Delegation </span>',
        '<span class="when"><time datetime="2008-01-01">c. 2008</time></span> '
        '<span class="what"><strong>Agreement</strong>: Signed </span>',
        '<span class="when">undated</span> <span class="what"><strong>Conference</strong>: '
        'Some time <span class="meta">(Wuxi)</span> </span>',
    ]
    with translation.override("da"):
        danish = rows(timeline(events))
    # Danish dates and kinds; the text only in English, and marked so.
    assert danish[0].startswith(
        '<span class="when"><time datetime="2011-05-03">3. maj 2011</time></span>'
    )
    assert (
        '<span lang="en">Delegation</span> <small class="lang-note">kun på engelsk</small>'
        in (danish[0])
    )
    assert danish[2].startswith('<span class="when">udateret</span>')


def test_a_place_or_organisation_timeline_links_each_partnership():
    signed = PartnershipFactory(title_en="Aarhus & <Harbin>", slug="aarhus-harbin")
    event = EventFactory(partnership=signed, text_en="<script>alert(1)</script>")
    with translation.override("en"):
        plain, linked = timeline([event]), timeline([event], show_partnership=True)
    assert "aarhus-harbin" not in plain
    assert (
        '<span class="meta">— <a href="/en/partnerships/aarhus-harbin/">Aarhus &amp; '
        "&lt;Harbin&gt;</a></span>"
    ) in linked
    assert "<script>" not in linked and "&lt;script&gt;alert(1)&lt;/script&gt;" in linked


def test_no_events():
    with translation.override("da"):
        assert (
            timeline([]) == '<p class="muted">Der er endnu ikke registreret nogen begivenheder.</p>'
        )
    with translation.override("en"):
        assert timeline([]) == '<p class="muted">No events are recorded yet.</p>'
