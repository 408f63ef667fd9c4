"""A record with most of the registry's ties (a country) reads its section from the front.

Its first cards and its latest events come from the first partnerships and events of the
whole registry, tested for ties, instead of from every tie collected and ordered. The
sections are made small here, so that a few dozen partnerships are "most of a registry".
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from organisations.models import Organisation
from partnerships.models import Event, Partnership
from partnerships.templatetags import partnership_tags
from places.models import Place
from tests.factories import EventFactory, OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

SIZE = 3


@pytest.fixture
def small_sections(monkeypatch):
    """Sections of three cards and three events, read from the front from four rows on;
    and what each read from the front returned."""
    monkeypatch.setattr(partnership_tags, "SECTION_SIZE", SIZE)
    monkeypatch.setattr(partnership_tags, "TIMELINE_SIZE", SIZE)
    monkeypatch.setattr(partnership_tags, "FRONT_ROWS", 4)
    fronts = []
    front = partnership_tags._front

    def spy(*args, **kwargs):
        fronts.append(front(*args, **kwargs))
        return fronts[-1]

    monkeypatch.setattr(partnership_tags, "_front", spy)
    return fronts


@pytest.fixture
def denmark():
    """Denmark, a region in it with a municipality, and a university based there."""
    country = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    region = PlaceFactory(name="Region Midtjylland", kind=Place.Kind.REGION, parent=country)
    aarhus = PlaceFactory(name="Aarhus", kind=Place.Kind.MUNICIPALITY, parent=region, country="DK")
    OrganisationFactory(name="Aarhus University", place=aarhus)
    return country


def tie(title, start, **fields):
    """A partnership of a Danish municipality, or of a university based in one, with a
    Chinese city."""
    aarhus = Place.objects.get(name="Aarhus")
    danish = aarhus if len(title) % 2 else Organisation.objects.get(place=aarhus)
    partnership = PartnershipFactory(
        title=title, start=start, parties=[danish, PlaceFactory()], **fields
    )
    if start:
        EventFactory(partnership=partnership, date=start, text_en=f"{title} signed")
    return partnership


def expected(client_sees_drafts):
    """The section's ties and events as the page orders them, worked out here."""
    aarhus = Place.objects.get(name="Aarhus")
    ties = [
        partnership
        for partnership in Partnership.objects.all()
        if any(
            participant.place == aarhus
            or (participant.organisation and participant.organisation.place == aarhus)
            for participant in partnership.participants.all()
        )
        and (client_sees_drafts or partnership.publication == Publication.PUBLISHED)
    ]
    ties.sort(key=lambda p: (-(p.start_on or datetime.date.min).toordinal(), p.title, p.pk))
    ties.sort(key=lambda p: p.start_on is None)  # undated last
    events = [
        event
        for event in Event.objects.all()
        if event.partnership in ties
        or (event.place == aarhus and visible(event, client_sees_drafts))
    ]
    events.sort(
        key=lambda e: (e.date_on is None, -(e.date_on or datetime.date.min).toordinal(), -e.pk)
    )
    return [p.title for p in ties], [e.text_en for e in events[:SIZE]][::-1]


def visible(event, sees_drafts):
    return sees_drafts or event.partnership.publication == Publication.PUBLISHED


def section(client, place):
    """The titles of the cards of ``place``'s partnerships section, the number in its
    heading, and the texts of its timeline."""
    response = client.get(url("places:place-detail", slug=place.slug))
    assert response.status_code == 200
    heading = response.content.decode().split('id="partnerships-heading"', 1)[1]
    count = heading.split('<span class="count">', 1)[1].split("<", 1)[0]
    return (
        [p.title for p in response.context["partnerships"]],
        int(count),
        [event.text_en for event in response.context["events"]],
    )


def fill():
    """Twenty Danish ties from 2000 on, the latest a draft, two sharing 2010; later
    Chinese partnerships that are not ties, one of them with an event in Aarhus."""
    for year in range(2000, 2020):
        tie(
            f"Tie {year}" + ("b" if year == 2010 else ""),
            str(year),
            publication=Publication.DRAFT if year == 2019 else Publication.PUBLISHED,
        )
    tie("Tie 2010a", "2010")
    for year in (2021, 2022):
        other = PartnershipFactory(title=f"Chinese {year}", start=str(year))
        EventFactory(partnership=other, date=str(year), text_en=f"Chinese {year} signed")
    EventFactory(
        partnership=Partnership.objects.get(title="Chinese 2021"),
        place=Place.objects.get(name="Aarhus"),
        date="2021",
        text_en="Delegation in Aarhus",
    )


def test_a_country_reads_its_first_ties_and_latest_events_from_the_front(
    client, admin_client, small_sections, denmark
):
    fill()
    titles, events = expected(False)
    shown = section(client, denmark)
    assert shown == (titles[:SIZE], len(titles), events)
    assert shown[0] == ["Tie 2018", "Tie 2017", "Tie 2016"]
    assert shown[2] == ["Tie 2017 signed", "Tie 2018 signed", "Delegation in Aarhus"]
    # Both came from the front, not from every tie collected.
    assert len(small_sections) == 2 and None not in small_sections
    # Staff see the draft, first.
    titles, events = expected(True)
    assert section(admin_client, denmark) == (titles[:SIZE], len(titles), events)
    assert titles[0] == "Tie 2019"


def test_ties_on_the_last_day_read_are_all_weighed(client, small_sections, denmark):
    """More ties start in 2020 than are read from the front: which of them come first
    depends on those not read, so the section collects every tie instead."""
    for letter in "hgfedcba":
        tie(f"Tie 2020 {letter}", "2020")
    fill()
    titles, events = expected(False)
    assert section(client, denmark) == (titles[:SIZE], len(titles), events)
    assert titles[:SIZE] == ["Tie 2020 a", "Tie 2020 b", "Tie 2020 c"]
    assert small_sections == [None, None]


def test_undated_ties_come_after_the_dated_ones(client, small_sections, denmark):
    fill()
    Partnership.objects.filter(title__startswith="Tie").exclude(
        title__in=["Tie 2003", "Tie 2001"]
    ).update(start="", start_on=None)
    Event.objects.filter(partnership__title__startswith="Tie").update(date="", date_on=None)
    titles, events = expected(False)
    shown = section(client, denmark)
    assert shown == (titles[:SIZE], len(titles), events)
    assert shown[0][:2] == ["Tie 2003", "Tie 2001"]
    # Too few dated: both sections fell back to collecting every tie.
    assert small_sections == [None, None]


def test_a_small_place_collects_its_ties(client, small_sections, denmark):
    """A place with few of the registry's ties never reads from the front."""
    fill()
    odense = PlaceFactory(name="Odense", kind=Place.Kind.MUNICIPALITY, country="DK")
    PartnershipFactory(title="Odense–Suzhou", start="2005", parties=[odense, PlaceFactory()])
    assert section(client, odense)[:2] == (["Odense–Suzhou"], 1)
    assert small_sections == [None, None]


def test_an_organisation_in_most_ties_reads_its_events_from_the_front(client, small_sections):
    """An organisation's ties include those of its parts, as its page always showed. Its
    first cards are read with how many ties it has, in one query with no COUNT."""
    ministry = OrganisationFactory(name="Ministry of Education")
    department = OrganisationFactory(name="Department of Schools", parent=ministry)
    for year in range(2000, 2012):
        party = ministry if year % 2 else department
        signed = PartnershipFactory(title=f"Tie {year}", start=str(year), parties=[party])
        EventFactory(partnership=signed, date=str(year), text_en=f"Tie {year} signed")
    PartnershipFactory(title="Elsewhere", start="2020")
    with CaptureQueriesContext(connection) as context:
        response = client.get(url("organisations:organisation-detail", slug=ministry.slug))
    assert [p.title for p in response.context["partnerships"]] == [
        "Tie 2011",
        "Tie 2010",
        "Tie 2009",
    ]
    assert response.context["total"] == 12
    assert "All 12 partnerships" in response.text
    assert [event.text_en for event in response.context["events"]] == [
        "Tie 2009 signed",
        "Tie 2010 signed",
        "Tie 2011 signed",
    ]
    assert len(small_sections) == 1 and None not in small_sections
    assert not [q for q in context.captured_queries if "COUNT(*) AS" in q["sql"]]


def section_reading(client, place):
    """``section(client, place)``, and whether answering it read the kept values of the
    places partnerships lie in (``within``), which tell ties from other partnerships."""
    with CaptureQueriesContext(connection) as context:
        shown = section(client, place)
    return shown, any("partnerships_facetvalue" in q["sql"] for q in context.captured_queries)


def test_a_country_in_every_partnership_tests_none_for_ties(
    client, admin_client, small_sections, denmark
):
    """Denmark takes part in every partnership, as it does in this registry: each one the
    reader sees is a tie, and each event one of its events, with nothing to test."""
    for year in range(2000, 2012):
        tie(
            f"Tie {year}",
            str(year),
            publication=Publication.DRAFT if year == 2011 else Publication.PUBLISHED,
        )
    EventFactory(
        partnership=Partnership.objects.get(title="Tie 2004"),
        place=Place.objects.get(name="Aarhus"),
        date="2010",
        text_en="Delegation in Aarhus",
    )
    titles, events = expected(False)
    shown, read_ties = section_reading(client, denmark)
    assert shown == (titles[:SIZE], len(titles), events)
    assert shown[2] == ["Tie 2009 signed", "Tie 2010 signed", "Delegation in Aarhus"]
    assert not read_ties
    # Staff see the draft too: every partnership of the registry is Denmark's.
    titles, events = expected(True)
    shown, read_ties = section_reading(admin_client, denmark)
    assert shown == (titles[:SIZE], len(titles), events) and titles[0] == "Tie 2011"
    assert not read_ties

    # A draft elsewhere: the public's partnerships are all Denmark's, staff's are not.
    elsewhere = PartnershipFactory(
        title="Chinese draft", start="2020", publication=Publication.DRAFT
    )
    EventFactory(partnership=elsewhere, date="2020", text_en="Chinese draft signed")
    titles, events = expected(False)
    assert section_reading(client, denmark) == ((titles[:SIZE], len(titles), events), False)
    titles, events = expected(True)
    shown, read_ties = section_reading(admin_client, denmark)
    assert shown == (titles[:SIZE], len(titles), events)
    assert "Chinese draft signed" not in shown[2] and read_ties

    # Published, it is left out for everyone, and read for.
    elsewhere.publication = Publication.PUBLISHED
    elsewhere.save()
    titles, events = expected(False)
    shown, read_ties = section_reading(client, denmark)
    assert shown == (titles[:SIZE], len(titles), events)
    assert "Chinese draft" not in shown[0] and read_ties


def test_a_places_latest_events_are_those_of_its_ties_and_those_held_there_in_one_order(
    client, admin_client, monkeypatch, denmark
):
    # Aarhus has too few ties to read from the front: its events are the union of its
    # ties' events and the events held in it, ordered as one.
    monkeypatch.setattr(partnership_tags, "SECTION_SIZE", SIZE)
    monkeypatch.setattr(partnership_tags, "TIMELINE_SIZE", SIZE)
    fill()
    aarhus = Place.objects.get(name="Aarhus")
    # An event of a tie held in Aarhus is in both parts, and shown once; it shares its
    # day with the delegation of a partnership that is not a tie.
    EventFactory(
        partnership=Partnership.objects.get(title="Tie 2018"),
        place=aarhus,
        date="2021",
        text_en="Tie 2018 visit in Aarhus",
    )
    EventFactory(
        partnership=Partnership.objects.get(title="Chinese 2022"), place=aarhus, text_en="Undated"
    )
    public, staff = section(client, aarhus)[2], section(admin_client, aarhus)[2]
    assert public == expected(False)[1]
    assert public == ["Tie 2018 signed", "Delegation in Aarhus", "Tie 2018 visit in Aarhus"]
    assert staff == expected(True)[1]
    assert staff == ["Tie 2019 signed", "Delegation in Aarhus", "Tie 2018 visit in Aarhus"]


def test_the_front_tests_its_rows_as_a_set(client, small_sections, denmark):
    """Which rows read from the front are ties, and whether each event's partnership is
    published, are asked in no order: in the partnerships' own order PostgreSQL sorted
    the 200 a country's page reads by title, and each event's one partnership too."""

    def reading(place):
        with CaptureQueriesContext(connection) as context:
            section(client, place)
        return [q["sql"] for q in context.captured_queries]

    def unordered(sql):
        return "ORDER BY" not in sql

    # Denmark in every partnership: its events' partnerships looked up one by one.
    for year in range(2000, 2012):
        tie(f"Tie {year}", str(year))
    looked_up = [sql for sql in reading(denmark) if 'AS "publication" FROM' in sql]
    assert looked_up and all(unordered(sql.split("(SELECT", 1)[1]) for sql in looked_up)
    # Ties among other partnerships: the front's rows tested for ties.
    fill()
    tested = [
        sql
        for sql in reading(denmark)
        if sql.startswith('SELECT "partnerships_partnership"."id" AS "pk" FROM')
        and "LIMIT" not in sql
    ]
    assert tested and all(unordered(sql) for sql in tested)
    # Both pages read both their cards and their events from the front.
    assert len(small_sections) == 4 and None not in small_sections
