"""The network shows each place and organisation as it now is, with the page cache on:
whatever writes one, the next graph names it anew and hangs it from where it now lies;
places of one name come in one order, and each language orders them by its own names."""

import pytest
from django.core.cache.backends.locmem import LocMemCache

from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.explore.test_network import get_network
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kept_layouts")]


@pytest.fixture
def suzhou():
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind=Place.Kind.PROVINCE)
    anhui = PlaceFactory(name="Anhui", slug="anhui", kind=Place.Kind.PROVINCE)
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", parent=jiangsu)
    PlaceFactory(name="Gusu", slug="gusu", parent=suzhou)
    PartnershipFactory(parties=[suzhou, PlaceFactory(name="Ringsted", country="DK")])
    PartnershipFactory(parties=[anhui, PlaceFactory(name="Ringsted", country="US")])
    return suzhou


def node(data, node_id):
    return next(node for node in data["nodes"] if node["id"] == node_id)


def hung_from(data, node_id):
    return {
        e["target"] for e in data["edges"] if e["relation"] == "part_of" and e["source"] == node_id
    }


def test_a_renamed_place_is_named_anew_on_every_write_path(client, suzhou):
    assert node(get_network(client), "place:suzhou")["label"] == "Suzhou"
    suzhou.name_en = "Suzhou City"
    suzhou.save()
    assert node(get_network(client), "place:suzhou")["label"] == "Suzhou City"
    Place.objects.filter(pk=suzhou.pk).update(name_en="Sūzhōu")  # a bulk path, no signal
    assert node(get_network(client), "place:suzhou")["label"] == "Sūzhōu"


def test_a_moved_place_hangs_from_its_new_parent(client, suzhou):
    assert hung_from(get_network(client, "?around=place:jiangsu"), "place:suzhou") == {
        "place:jiangsu"
    }
    assert hung_from(get_network(client), "place:suzhou") == set()  # Jiangsu takes no part
    suzhou.parent = Place.objects.get(slug="anhui")
    suzhou.save()
    assert hung_from(get_network(client), "place:suzhou") == {"place:anhui"}


def test_places_of_one_name_are_told_apart(client, suzhou):
    data = get_network(client)
    ringsteds = [n for n in data["nodes"] if n["label"] == "Ringsted"]
    assert sorted(n["country"] for n in ringsteds) == ["DK", "US"]
    # In the order of their ids, whatever order the database gives them in.
    assert [n["id"] for n in ringsteds] == [
        f"place:{place.slug}" for place in Place.objects.filter(name_en="Ringsted").order_by("pk")
    ]


def test_a_renamed_or_moved_organisation_is_shown_anew(client, suzhou):
    university = OrganisationFactory(name="Suzhou University", slug="suda", place=suzhou)
    PartnershipFactory(parties=[university, suzhou])
    assert node(get_network(client), "organisation:suda")["label"] == "Suzhou University"
    assert hung_from_place(get_network(client), "organisation:suda") == {"place:suzhou"}
    Organisation.objects.filter(pk=university.pk).update(name_en="Soochow University")
    assert node(get_network(client), "organisation:suda")["label"] == "Soochow University"
    university.refresh_from_db()
    university.place = Place.objects.get(slug="jiangsu")
    university.save()
    assert hung_from_place(get_network(client), "organisation:suda") == {"place:jiangsu"}


def test_each_language_orders_the_nodes_by_its_own_names(client):
    # Named so that Danish and English order them differently.
    PartnershipFactory(
        parties=[
            PlaceFactory(name_da="Aabenraa", name_en="Zealand", slug="first-in-danish"),
            PlaceFactory(name_da="Øresund", name_en="Baltic", slug="first-in-english"),
        ]
    )

    def places(language):
        data = get_network(client, f"?lang={language}")
        return [n["id"] for n in data["nodes"] if n["type"] == "place"]

    danish = ["place:first-in-danish", "place:first-in-english"]
    for _round in range(2):  # the second round from what was kept
        assert places("da") == danish
        assert places("en") == danish[::-1]


def hung_from_place(data, node_id):
    return {
        e["target"] for e in data["edges"] if e["relation"] == "based_in" and e["source"] == node_id
    }


def test_the_page_and_the_api_each_keep_their_own_addresses(client, suzhou):
    # The page links within the site; the API gives whole addresses. Each is kept apart.
    for _round in range(2):
        assert node(get_network(client), "place:suzhou")["url"] == (
            "http://testserver/en/places/suzhou/"
        )
        page = client.get("/en/network/").content.decode()
        assert 'href="/en/places/suzhou/"' in page
        assert "http://testserver/en/places/suzhou/" not in page


def test_a_worker_keeps_a_networks_places_until_places_change(client, suzhou, monkeypatch):
    """A network's places and organisations, drawn once, are read from the shared cache
    once by each process and kept there across writes to partnerships
    (``per_version(local=True)``); a write to a place draws them anew."""
    read = []
    get = LocMemCache.get

    def counted(cache, key, *args, **kwargs):
        if ".graph-parties." in key:
            read.append(key)
        return get(cache, key, *args, **kwargs)

    monkeypatch.setattr(LocMemCache, "get", counted)
    get_network(client)
    partnership = Partnership.objects.first()
    partnership.title_en = "Suzhou–Ringsted, renamed"
    partnership.save()
    data = get_network(client)
    assert len(read) == 1
    assert {n["label"] for n in data["nodes"]} >= {"Suzhou", "Suzhou–Ringsted, renamed"}
    Place.objects.filter(slug="suzhou").update(name_en="Suzhou City")
    assert node(get_network(client), "place:suzhou")["label"] == "Suzhou City"
    assert len(read) == 2
