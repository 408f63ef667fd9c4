"""Cards and API representations kept under each partnership's revision
(``partnerships.revisions``, ``cards.kept_cards``): never stale, whatever path writes, and
kept across writes to other partnerships.

Each write path: the public list and the API list are built and kept; the write; the
next reader gets the new content in both, though the page cache and the kept cards of
other partnerships outlive it.
"""

import pickle
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.admin import unshown_in_history
from partnerships import revisions
from partnerships.models import Event, Participant, Partnership, Theme
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
)
from tests.pages import url
from tests.reimport import reimport_partnerships
from tests.test_admin import inline_management

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

# The tie is the only sister city; the other partnership, a cooperation, is on no page of
# the lists below.
LIST = url("partnerships:partnership-list", query="kind=sister_city")
API = "/api/partnerships/?kind=sister_city"


@pytest.fixture
def parties():
    return {
        "aarhus": PlaceFactory(name="Aarhus", kind="municipality", country="DK"),
        "harbin": PlaceFactory(name="Harbin", kind="city", country="CN"),
        "ringsted": PlaceFactory(name="Ringsted", kind="municipality", country="DK"),
        "university": OrganisationFactory(name="Aarhus University", country="DK"),
    }


@pytest.fixture
def tie(parties):
    tie = PartnershipFactory(
        title="Aarhus–Harbin sister city",
        kind=Partnership.Kind.SISTER_CITY,
        parties=[parties["aarhus"], parties["harbin"]],
    )
    tie.themes.add(ThemeFactory(name="Culture", slug="culture"))
    return tie


@pytest.fixture
def other(parties):
    return PartnershipFactory(
        title="Ringsted cooperation",
        kind=Partnership.Kind.COOPERATION,
        parties=[parties["ringsted"], parties["harbin"]],
    )


def card(client):
    """The tie's card on the list, and its representation in the API list, as a reader
    gets them: built, not served from the page cache."""
    page = client.get(LIST)
    assert page["X-Cache"] == "MISS"
    cards = re.findall(r'<li class="card">.*?</li>', page.content.decode(), flags=re.DOTALL)
    api = client.get(API)
    assert api["X-Cache"] == "MISS"
    (represented,) = api.json()["results"]
    assert len(cards) == 1
    return cards[0], represented


@pytest.fixture
def reader(tie, other):
    """An anonymous reader who has had the tie's card and representation built and kept."""
    reader = Client()
    reader.kept = card(reader)
    return reader


def parties_of(represented):
    return [participant["name"] for participant in represented["participants"]]


# Writes to the partnership's own columns ---------------------------------------------------


def test_a_save(reader, tie):
    tie.title = "Aarhus–Harbin twin city"
    tie.save()
    shown, represented = card(reader)
    assert "Aarhus–Harbin twin city" in shown
    assert represented["title"] == "Aarhus–Harbin twin city"


def test_a_save_of_some_fields(reader, tie):
    tie.status = Partnership.Status.ENDED
    tie.save(update_fields=["status"])
    shown, represented = card(reader)
    assert "status-ended" in shown
    assert represented["status"] == "ended"


def test_an_update_and_a_bulk_update(reader, tie):
    Partnership.objects.filter(pk=tie.pk).update(description="Updated in bulk.")
    assert card(reader)[1]["description"] == "Updated in bulk."
    tie.title = "Renamed in bulk"
    Partnership.objects.bulk_update([tie], ["title"])
    shown, represented = card(reader)
    assert "Renamed in bulk" in shown
    assert represented["title"] == "Renamed in bulk"


# Its participants ---------------------------------------------------------------------------


def test_a_participant_added_changed_and_deleted(reader, tie, parties):
    added = Participant.objects.create(partnership=tie, organisation=parties["university"])
    assert "Aarhus University" in card(reader)[0]
    added.organisation, added.place = None, parties["ringsted"]
    added.save()
    shown, represented = card(reader)
    assert "Ringsted" in shown and "Aarhus University" not in shown
    assert parties_of(represented) == ["Aarhus", "Harbin", "Ringsted"]
    added.delete()
    assert parties_of(card(reader)[1]) == ["Aarhus", "Harbin"]


def test_a_participant_saved_into_another_partnership(reader, tie, other, parties):
    moved = Participant.objects.get(partnership=tie, place=parties["aarhus"])
    moved.partnership = other
    moved.save()
    assert parties_of(card(reader)[1]) == ["Harbin"]


def test_participants_written_in_bulk(reader, tie, parties):
    Participant.objects.bulk_create(
        [Participant(partnership=tie, organisation=parties["university"])]
    )
    assert "Aarhus University" in card(reader)[0]
    Participant.objects.filter(partnership=tie, organisation__isnull=False).update(
        organisation=None, place=parties["ringsted"]
    )
    assert "Ringsted" in card(reader)[0]
    Participant.objects.filter(partnership=tie, place=parties["ringsted"]).delete()
    assert parties_of(card(reader)[1]) == ["Aarhus", "Harbin"]


def test_participants_moved_in_bulk_to_another_partnership(reader, tie, other, parties):
    Participant.objects.filter(partnership=tie, place=parties["aarhus"]).update(partnership=other)
    assert parties_of(card(reader)[1]) == ["Harbin"]


def test_a_party_renamed(reader, parties):
    parties["harbin"].name = "Haerbin"
    parties["harbin"].save()
    shown, represented = card(reader)
    assert "Haerbin" in shown
    assert parties_of(represented) == ["Aarhus", "Haerbin"]


# Its themes ----------------------------------------------------------------------------------


def test_themes_added_and_removed_from_either_side(reader, tie):
    water = ThemeFactory(name="Water management")
    tie.themes.add(water)
    assert "Water management" in card(reader)[0]
    tie.themes.remove(water)
    assert "Water management" not in card(reader)[0]
    water.partnerships.add(tie)
    assert "Water management" in card(reader)[0]
    water.partnerships.clear()
    shown, represented = card(reader)
    assert "Water management" not in shown
    assert [theme["slug"] for theme in represented["themes"]] == ["culture"]


def test_a_theme_renamed_and_deleted(reader):
    culture = Theme.objects.get(slug="culture")
    culture.name = "Arts"
    culture.save()
    assert "Arts" in card(reader)[0]
    Theme.objects.filter(pk=culture.pk).update(name="Culture and arts")
    assert "Culture and arts" in card(reader)[0]
    culture.delete()
    shown, represented = card(reader)
    assert "Culture" not in shown
    assert represented["themes"] == []


def test_an_import_that_changes_only_themes(reader, tie, tmp_path):
    """The import writes the themes table itself, in bulk (``importing.columns``), and
    stamps the record."""
    ThemeFactory(name="Water management", slug="water")

    def themed(row):
        if row["slug"] == tie.slug:
            row["themes"] = "culture; water"

    reimport_partnerships(tmp_path, themed)
    assert "Water management" in card(reader)[0]


# What only the API shows: events and sources ---------------------------------------------


def test_events_written_alone_and_in_bulk(reader, tie):
    event = EventFactory(partnership=tie, kind=Event.Kind.SIGNING, text="Signed in Harbin.")
    assert [e["text"] for e in card(reader)[1]["events"]] == ["Signed in Harbin."]
    Event.objects.filter(pk=event.pk).update(text="Signed in Aarhus.")
    assert [e["text"] for e in card(reader)[1]["events"]] == ["Signed in Aarhus."]
    event.delete()
    assert card(reader)[1]["events"] == []


@pytest.fixture
def source():
    # Made before the cards are kept: a new source moves the places' version.
    return SourceFactory(title="Aarhus Kommune, annual report")


def test_sources_added_and_a_source_renamed(source, reader, tie):
    tie.sources.add(source)
    assert "Aarhus Kommune, annual report" in str(card(reader)[1]["sources"])
    source.title = "Aarhus Municipality, annual report"
    source.save()
    assert "Aarhus Municipality, annual report" in str(card(reader)[1]["sources"])


# Through the admin ----------------------------------------------------------------------------


def test_the_admin_inline_of_participants(reader, tie, admin_client, parties):
    aarhus, harbin = tie.participants.all()
    data = {
        "title_en": tie.title,
        "slug": tie.slug,
        "kind": tie.kind,
        "status": tie.status,
        **inline_management("participants", total=2, initial=2),
        "participants-0-id": aarhus.pk,
        "participants-0-party": f"place:{aarhus.place_id}",
        "participants-0-role": aarhus.role,
        "participants-1-id": harbin.pk,
        "participants-1-party": f"organisation:{parties['university'].pk}",
        "participants-1-role": harbin.role,
        **inline_management("events"),
    }
    response = admin_client.post(
        reverse("admin:partnerships_partnership_change", args=[tie.pk]), data
    )
    assert response.status_code == 302, response.context["errors"]
    assert parties_of(card(reader)[1]) == ["Aarhus", "Aarhus University"]


def test_the_search_page(reader, tie, parties):
    search = url("search", query="q=harbin")
    assert "Aarhus University" not in reader.get(search).content.decode()
    Participant.objects.create(partnership=tie, organisation=parties["university"])
    page = reader.get(search)
    assert page["X-Cache"] == "MISS"
    assert "Aarhus University" in page.content.decode()


# Kept across other writes ----------------------------------------------------------------------


def test_a_write_to_another_partnership_leaves_the_cards_kept(reader, other):
    other.title = "Ringsted–Harbin cooperation"
    other.save()
    with CaptureQueriesContext(connection) as queries:
        assert card(reader) == reader.kept
    read = " ".join(query["sql"] for query in queries)
    # Neither the participants and themes of the card nor the API's relations were read.
    assert "partnerships_participant" not in read
    assert "partnerships_partnership_themes" not in read
    assert "partnerships_event" not in read


def test_staff_get_cards_built_for_them(reader, tie, admin_client):
    """A page staff see may hold drafts: built each time, never kept or read from what was
    kept for the public."""
    Partnership.objects.filter(pk=tie.pk).update(publication="draft")
    tie.refresh_from_db()
    with CaptureQueriesContext(connection) as queries:
        page = admin_client.get(LIST).content.decode()
    assert tie.title in page
    assert any("partnerships_participant" in query["sql"] for query in queries)
    assert tie.title not in reader.get(LIST).content.decode()


def test_the_revision_is_no_change_in_the_history(tie, admin_client):
    """A write to a participant moves the revision without a history row of the
    partnership's, and the history's changes never list it."""
    before = tie.revision
    revisions.move([tie.pk])
    tie.refresh_from_db()
    assert tie.revision != before
    assert tie.history.count() == 1
    tie.title = "Aarhus–Harbin twin city"
    tie.save()
    history = admin_client.get(
        reverse("admin:partnerships_partnership_history", args=[tie.pk])
    ).content.decode()
    assert "Aarhus–Harbin twin city" in history
    assert str(tie.revision) not in history and "revision" not in history.lower()
    newest, first = tie.history.order_by("-history_id")
    assert newest.revision != first.revision
    delta = newest.diff_against(first, excluded_fields=unshown_in_history(Partnership))
    assert delta.changed_fields == ["title_en"]


def test_what_is_kept_holds_no_record(reader, tie, monkeypatch):
    """The cache holds the cards as HTML and the representations as plain data: a record
    pickled with them (DRF's links hold theirs) made each read and write several times
    slower."""
    kept = {}

    def keeping(name, parts, compute, **kwargs):
        kept[name] = compute()
        return kept[name]

    monkeypatch.setattr(revisions, "per_version", keeping)
    tie.title = "Aarhus–Harbin twin city"
    tie.save()
    card(reader)
    assert set(kept) == {"partnership-cards", "partnership-representations"}
    for value in kept.values():
        assert b"partnerships.models" not in pickle.dumps(value)
    assert type(kept["partnership-representations"][0]["url"]) is str
