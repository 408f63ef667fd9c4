"""The API's representations, read field by field as ``core.serializers`` reads them
(each field's way of reading found once, fields copied from those built once), are the
ones DRF's own loop and field copies give, for every kind of record and every reader."""

import copy

import pytest
from django.core.management import call_command
from rest_framework import serializers

import core.serializers
from core.models import Publication
from partnerships.models import Partnership, Theme
from places.models import Place
from tests.factories import PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db

ADDRESSES = [
    "/api/places/?page_size=100",
    "/api/organisations/?page_size=100",
    "/api/partnerships/?page_size=100",
    "/api/themes/",
    "/api/sources/?page_size=100",
    "/api/places/jiangsu/",
    "/api/places/wuxi/",
    "/api/organisations/aarhus-university/",
]


@pytest.fixture
def registry():
    call_command("loaddata", "seed", verbosity=0)
    # A draft place in a published partnership: linked for staff, not for the public. A
    # place with an English name only, read in Danish.
    draft = PlaceFactory(name="Ringsted", country="US", publication=Publication.DRAFT)
    english = PlaceFactory(name_en="Ringsted", name_da=None, country="DK")
    PartnershipFactory(title="Ringsted and Ringsted", parties=[draft, english])
    return Partnership.objects.count()


def drfs_own(monkeypatch):
    """DRF's loop over the fields, fields copied as DRF copies them, and a nested record's
    summary written anew each time it comes, not once per record and request."""
    monkeypatch.setattr(
        core.serializers.ListedFieldsMixin,
        "to_representation",
        serializers.Serializer.to_representation,
    )
    monkeypatch.setattr(core.serializers, "_copied", copy.deepcopy)
    monkeypatch.setattr(
        core.serializers.NestedSlugField,
        "to_representation",
        lambda field, record: field.summary_class(context=field.context).to_representation(record),
    )


def answers(client, addresses):
    found = {}
    for address in addresses:
        for language in ("en", "da"):
            separator = "&" if "?" in address else "?"
            response = client.get(f"{address}{separator}lang={language}")
            assert response.status_code == 200, address
            found[(address, language)] = response.json()
    return found


@pytest.mark.parametrize("reader", ["public", "staff"])
def test_every_representation_is_drfs_own(client, editor, registry, monkeypatch, reader):
    if reader == "staff":
        client.force_login(editor)
    addresses = [*ADDRESSES, *(f"/api/partnerships/{p.slug}/" for p in Partnership.objects.all())]
    ours = answers(client, addresses)
    drfs_own(monkeypatch)
    theirs = answers(client, addresses)
    assert ours == theirs
    # What the comparison covers: every partnership, a draft place linked or not, and a
    # name in the other language.
    listed = ours[("/api/partnerships/?page_size=100", "da")]["results"]
    assert len(listed) == registry
    parties = {
        participant["slug"]: participant for p in listed for participant in p["participants"]
    }
    draft = Place.objects.get(country="US").slug
    assert (parties[draft]["url"] is None) == (reader == "public")
    assert any(p["events"] and p["sources"] and p["themes"] for p in listed)


def test_a_written_record_is_represented_as_drfs_own(client, editor, registry, monkeypatch):
    client.force_login(editor)
    change = {"title": "Suzhou and Aarhus, again", "status": "ended", "end": "c. 2020"}
    partnership = Partnership.objects.filter(publication=Publication.PUBLISHED).first()
    address = f"/api/partnerships/{partnership.slug}/"
    ours = client.patch(address, change, content_type="application/json")
    assert ours.status_code == 200
    drfs_own(monkeypatch)
    change["title"] = "Suzhou and Aarhus, once more"
    theirs = client.patch(address, change, content_type="application/json")
    assert theirs.status_code == 200
    ours, theirs = ours.json(), theirs.json()
    assert ours.pop("title") == "Suzhou and Aarhus, again"
    assert theirs.pop("title") == "Suzhou and Aarhus, once more"
    ours.pop("titles"), theirs.pop("titles"), ours.pop("updated_at"), theirs.pop("updated_at")
    assert ours == theirs
    assert ours["end"]["text"] == "c. 2020"


def test_a_record_named_by_many_reads_as_it_now_is_at_each_request(client, registry):
    """A theme's summary is written once per request for all the partnerships that name
    it, never kept for the next request."""
    address = "/api/partnerships/?page_size=100"
    theme = Theme.objects.filter(partnerships__publication=Publication.PUBLISHED).first()
    theme.partnerships.add(*Partnership.objects.filter(publication=Publication.PUBLISHED))

    def names():
        listed = client.get(address).json()["results"]
        return [t["name"] for p in listed for t in p["themes"] if t["slug"] == theme.slug]

    before = names()
    assert len(before) > 1 and set(before) == {theme.name_en}
    theme.name_en = "Twinning, renamed"
    theme.save()
    assert set(names()) == {"Twinning, renamed"}


def test_a_party_in_many_partnerships_keeps_each_participations_role_and_note(client):
    """A party in every partnership of a list comes with each participation's own role
    and note, and otherwise the same in each."""
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", country="DK")
    roles = {
        "aarhus-1": ("partner", ""),
        "aarhus-2": ("coordinator", "signed for the region"),
        "aarhus-3": ("funder", ""),
    }
    for slug, (role, note) in roles.items():
        partnership = PartnershipFactory(slug=slug, parties=[aarhus, PlaceFactory()])
        partnership.participants.filter(place=aarhus).update(role=role, note=note)
    for language in ("en", "da"):
        listed = client.get(f"/api/partnerships/?place=aarhus&lang={language}").json()["results"]
        assert {p["slug"] for p in listed} == set(roles)
        # Each participant's fields in the order of the schema, role and note last.
        for partnership in listed:
            for participant in partnership["participants"]:
                assert list(participant)[-2:] == ["role", "note"]
        written = []
        for partnership in listed:
            (party,) = [x for x in partnership["participants"] if x["slug"] == "aarhus"]
            assert (party.pop("role"), party.pop("note")) == roles[partnership["slug"]]
            written.append(party)
        assert written[0]["name"] == "Aarhus" and written[0]["url"].endswith("/aarhus/")
        assert written == [written[0]] * 3
