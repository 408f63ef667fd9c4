"""Which events a place's timeline shows, kept under the counts, places and events
versions (``partnership_tags._section``): never stale, whatever path writes, and kept
across writes to anything else.

Each test serves a province's page with the page cache on, writes, and compares the next
reader's timeline with the one drawn with nothing kept.
"""

import html
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import versioning
from core.models import Publication
from partnerships.models import Event, Participant, Partnership
from places.models import Place
from tests.factories import EventFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

KEPT = ["counts", "places", "events"]


@pytest.fixture
def registry():
    """Jiangsu, its Suzhou and the other Suzhou (in Anhui); a Wuxi not yet placed."""
    china = PlaceFactory(name="China", slug="china", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind=Place.Kind.PROVINCE, parent=china)
    anhui = PlaceFactory(name="Anhui", slug="anhui", kind=Place.Kind.PROVINCE, parent=china)
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", parent=jiangsu)
    suzhou_anhui = PlaceFactory(name="Suzhou", slug="suzhou-anhui", parent=anhui)
    wuxi = PlaceFactory(name="Wuxi", slug="wuxi")
    ringsted = PlaceFactory(name="Ringsted", slug="ringsted", country="DK")
    twins = PartnershipFactory(title="Ringsted–Suzhou", parties=[ringsted, suzhou])
    signed = EventFactory(partnership=twins, date="2001", text="Signed in Suzhou")
    visit = EventFactory(partnership=twins, date="2005", text="Mayor's visit")
    anhui_tie = PartnershipFactory(
        title="Ringsted–Suzhou (Anhui)", parties=[ringsted, suzhou_anhui]
    )
    elsewhere = EventFactory(partnership=anhui_tie, date="2008", text="Anhui fair")
    wuxi_tie = PartnershipFactory(title="Ringsted–Wuxi", parties=[ringsted, wuxi])
    EventFactory(partnership=wuxi_tie, date="2010", text="Wuxi conference")
    draft = PartnershipFactory(
        title="Unannounced", publication=Publication.DRAFT, parties=[ringsted, suzhou]
    )
    EventFactory(partnership=draft, date="2012", text="Draft talks")
    return locals()


def rows(response):
    """Each event of the page's timeline: its date, kind, text and partnership."""
    assert response.status_code == 200
    shown = re.findall(r'<ol class="timeline">(.*?)</ol>', response.content.decode(), re.S)
    return [
        html.unescape(" ".join(re.sub(r"<[^>]+>", " ", row).split()))
        for row in re.findall(r"<li>(.*?)</li>", "".join(shown), re.S)
    ]


def timeline(client, path="/en/places/jiangsu/"):
    """The timeline of the page at ``path`` as ``client`` gets it built, after a write
    elsewhere (the registry version alone)."""
    versioning.bump(model=Partnership)
    response = client.get(path)
    assert response["X-Cache"] == "MISS"
    return rows(response)


def afresh(settings, path="/en/places/jiangsu/"):
    """The same, drawn with nothing kept."""
    settings.ATLAS_CACHE_PAGES = False
    try:
        return rows(Client().get(path))
    finally:
        settings.ATLAS_CACHE_PAGES = True


@pytest.fixture
def reader(registry):
    reader = Client()
    shown = timeline(reader)
    assert [row.split(" — ")[0] for row in shown] == [
        "2001 Conference : Signed in Suzhou",
        "2005 Conference : Mayor's visit",
    ]
    return reader


def test_a_write_that_moves_none_of_its_versions_keeps_which_events(reader, registry):
    versions = versioning.part_versions(KEPT)
    twins = registry["twins"]
    twins.title = "Ringsted–Suzhou twin towns"
    twins.save()
    assert versioning.part_versions(KEPT) == versions
    with CaptureQueriesContext(connection) as queries:
        shown = timeline(reader)
    # The events read by id, not ordered again among every tie's, latest first.
    ordered = [q["sql"] for q in queries if "partnerships_event" in q["sql"] and "DESC" in q["sql"]]
    assert ordered == []
    # What each shows is read afresh: the partnership's new title.
    assert shown[0].endswith("— Ringsted–Suzhou twin towns")


def _added(registry):
    EventFactory(partnership=registry["twins"], date="2015", text="Tenth anniversary")


def _redated(registry):
    signed = registry["signed"]
    signed.date = "2020"
    signed.save()


def _deleted(registry):
    registry["visit"].delete()


def _moved(registry):
    visit = registry["visit"]
    visit.partnership = registry["anhui_tie"]
    visit.save()


def _redated_in_bulk(registry):
    Event.objects.filter(pk=registry["signed"].pk).update(date="2021")


def _at_a_place_in_it(registry):
    EventFactory(
        partnership=registry["anhui_tie"], date="2009", text="Trade fair", place=registry["suzhou"]
    )


def _place_moved_in(registry):
    wuxi = registry["wuxi"]
    wuxi.parent = registry["jiangsu"]
    wuxi.save()


def _published(registry):
    Partnership.objects.filter(pk=registry["draft"].pk).update(publication=Publication.PUBLISHED)


def _unpublished(registry):
    twins = registry["twins"]
    twins.publication = Publication.DRAFT
    twins.save()


def _participant_left(registry):
    Participant.objects.filter(partnership=registry["twins"], place=registry["suzhou"]).delete()


def _participant_joined(registry):
    Participant.objects.create(partnership=registry["anhui_tie"], place=registry["suzhou"])


def _tie_deleted(registry):
    registry["twins"].delete()


@pytest.mark.parametrize(
    "write",
    [
        _added,
        _redated,
        _deleted,
        _moved,
        _redated_in_bulk,
        _at_a_place_in_it,
        _place_moved_in,
        _published,
        _unpublished,
        _participant_left,
        _participant_joined,
        _tie_deleted,
    ],
)
def test_a_write_that_changes_which_events_shows_at_once(reader, registry, settings, write):
    before = timeline(reader)
    write(registry)
    after = timeline(reader)
    assert after == afresh(settings)
    assert after != before


def test_the_latest_of_many(reader, registry, settings, monkeypatch):
    # More events than the timeline shows: the latest, as the page would order them.
    from partnerships.templatetags import partnership_tags

    monkeypatch.setattr(partnership_tags, "TIMELINE_SIZE", 3)
    for year in range(2010, 2016):
        EventFactory(partnership=registry["twins"], date=str(year), text=f"Meeting {year}")
    shown = timeline(reader)
    assert [row.split(" — ")[0] for row in shown] == [
        "2013 Conference : Meeting 2013",
        "2014 Conference : Meeting 2014",
        "2015 Conference : Meeting 2015",
    ]
    registry["twins"].events.filter(date="2015").delete()
    assert timeline(reader) == afresh(settings)


def test_staff_see_their_own(reader, registry, admin_client):
    staff = admin_client.get("/en/places/jiangsu/").content.decode()
    assert "Draft talks" in staff
    assert not any("Draft talks" in row for row in timeline(reader))


def test_an_organisation_page_keeps_none(registry, settings):
    # Its ties are its participations, which no kept value names: an organisation joining
    # a tie, its timeline shows the tie's events at once, though no version of the place
    # section moves.
    from tests.factories import OrganisationFactory

    university = OrganisationFactory(name="Suzhou University", slug="suzhou-university")
    PartnershipFactory(parties=[university, registry["suzhou"]])
    reader = Client()
    path = url("organisations:organisation-detail", slug="suzhou-university")
    assert timeline(reader, path) == []
    Participant.objects.create(partnership=registry["twins"], organisation=university)
    assert [row.split(" — ")[0] for row in timeline(reader, path)] == [
        "2001 Conference : Signed in Suzhou",
        "2005 Conference : Mayor's visit",
    ]
    assert timeline(reader, path) == afresh(settings, path)


def test_a_place_in_every_partnership(registry, settings):
    # Ringsted takes part in every partnership: its timeline is every event the reader
    # sees, read without testing each for a tie.
    reader, path = Client(), "/en/places/ringsted/"
    assert len(timeline(reader, path)) == 4  # not the draft's
    _added(registry)
    assert timeline(reader, path) == afresh(settings, path)
    _published(registry)
    shown = timeline(reader, path)
    assert shown == afresh(settings, path)
    assert len(shown) == 6
