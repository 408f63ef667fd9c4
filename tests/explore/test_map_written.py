"""The map's features are written a piece at a time, each place's pieces kept with the
layout (``atlas.explore._Pieces``): the GeoJSON must read as the renderer writes it, and
say what the places and counts say, in the reader's language, after every write."""

import orjson
import pytest
from django.utils import translation

from atlas import explore
from core.rest import JSONRenderer
from partnerships.models import Participant, Partnership
from places.models import Place
from tests.factories import PartnershipFactory, PlaceFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kept_layouts")]

# A quote, a backslash, a line separator that JavaScript strings cannot hold, letters.
AWKWARD = 'Ærø "Øst" \\ Kommune\u2028Vest'


@pytest.fixture
def places():
    """Two Suzhous in two provinces; a place whose only name, in Danish, is one JSON must
    escape; a region without coordinates, itself a party: drawn where its places are on
    a map joined up to regions, where its country is on a map of places."""
    denmark = PlaceFactory(
        name="Denmark",
        slug="denmark",
        kind=Place.Kind.COUNTRY,
        country="DK",
        latitude=56,
        longitude=10,
    )
    region = PlaceFactory(
        name="Region of Southern Denmark",
        name_da="Region Syddanmark",
        name_en="Region of Southern Denmark",
        slug="south",
        kind=Place.Kind.REGION,
        country="DK",
        parent=denmark,
    )
    aero = PlaceFactory(
        name="",
        name_da=AWKWARD,
        name_en="",
        slug="aero",
        country="DK",
        parent=region,
        latitude=54.9,
        longitude=10.4,
    )
    odense = PlaceFactory(
        name="Odense",
        name_da="Odense Kommune",
        name_en="Odense",
        slug="odense",
        country="DK",
        parent=region,
        latitude=55.4,
        longitude=10.39,
    )
    china = PlaceFactory(
        name="China", slug="china", kind=Place.Kind.COUNTRY, latitude=35, longitude=103
    )
    jiangsu = PlaceFactory(
        name="Jiangsu",
        slug="jiangsu",
        kind=Place.Kind.PROVINCE,
        parent=china,
        latitude=33,
        longitude=120,
    )
    anhui = PlaceFactory(
        name="Anhui",
        slug="anhui",
        kind=Place.Kind.PROVINCE,
        parent=china,
        latitude=31.8,
        longitude=117.2,
    )
    suzhou_j = PlaceFactory(
        name="Suzhou", slug="suzhou", parent=jiangsu, latitude=31.3, longitude=120.6
    )
    suzhou_a = PlaceFactory(
        name="Suzhou", slug="suzhou-2", parent=anhui, latitude=33.6, longitude=116.9
    )
    PartnershipFactory(title="Ærø–Suzhou", parties=[aero, suzhou_j])
    PartnershipFactory(parties=[aero, suzhou_j])
    PartnershipFactory(title='The "odd" one\u2028', parties=[odense, suzhou_a])
    PartnershipFactory(parties=[odense, suzhou_j, suzhou_a])
    # The region itself a party: its own point and a line's end.
    PartnershipFactory(slug="regional", parties=[region, suzhou_a])
    return {"aero": aero, "odense": odense, "suzhou_a": suzhou_a, "suzhou_j": suzhou_j}


def answered(client, address, **headers):
    response = client.get(address, **headers)
    assert response.status_code == 200
    return response.content


def geojson(written):
    """The API's GeoJSON read, its addresses as the drawing has them (not absolute)."""
    return orjson.loads(written.replace(b'"http://testserver/', b'"/'))


def drawn_anew(settings, language):
    """The map drawn with nothing kept: no layout, no pieces, no drawing (the kept
    layout left as it is)."""
    settings.ATLAS_CACHE_PAGES = False
    try:
        with translation.override(language):
            return explore.map_data(Partnership.objects.published())
    finally:
        settings.ATLAS_CACHE_PAGES = True


@pytest.mark.parametrize("lines", [explore.MAX_LINES, 2])
def test_the_geojson_reads_as_the_renderer_writes_it(client, places, monkeypatch, lines):
    # 2: more ties than lines, so the map joins them up to regions, and a place that ends
    # a regional line is drawn where its region is.
    monkeypatch.setattr(explore, "MAX_LINES", lines)
    written = answered(client, "/api/map/")
    data = orjson.loads(written)
    assert data["meta"]["line_level"] == ("place" if lines > 2 else "region")
    assert JSONRenderer().render(data) == written
    assert b"\\u2028" in written and "\u2028".encode() not in written
    names = {
        f["properties"]["slug"]: f["properties"]["name"]
        for f in data["features"]
        if "slug" in f["properties"]
    }
    assert names["aero"] == AWKWARD


def test_each_language_gets_its_own_names_from_the_kept_pieces(client, places, settings):
    for language in ("da", "en", "da"):
        data = geojson(answered(client, "/api/map/", HTTP_ACCEPT_LANGUAGE=language))
        assert data == drawn_anew(settings, language), language
        points = {
            f["properties"]["slug"]: f["properties"]
            for f in data["features"]
            if "slug" in f["properties"]
        }
        assert points["odense"]["name"] == ("Odense Kommune" if language == "da" else "Odense")
        # Ærø has a Danish name alone, and says so in English.
        assert points["aero"]["name_language"] == "da"
        assert points["aero"]["url"] == f"/{language}/places/aero/"
        page = answered(client, f"/{language}/map/").decode()
        assert ("Odense Kommune" in page) == (language == "da")


@pytest.mark.parametrize("lines", [explore.MAX_LINES, 2])
def test_a_write_that_moves_the_counts_is_drawn_with_the_pieces_kept(
    client, places, settings, monkeypatch, lines
):
    monkeypatch.setattr(explore, "MAX_LINES", lines)
    before = orjson.loads(answered(client, "/api/map/"))
    suzhou = Partnership.objects.get(title="Ærø–Suzhou")
    # The tie passes from Suzhou in Jiangsu to Suzhou in Anhui: two counts move.
    Participant.objects.filter(partnership=suzhou, place=places["suzhou_j"]).update(
        place=places["suzhou_a"]
    )
    PartnershipFactory(parties=[places["odense"], places["aero"]])
    after = geojson(answered(client, "/api/map/"))
    assert after != geojson(orjson.dumps(before))
    assert after == drawn_anew(settings, "en")


def test_a_map_by_places_and_one_joined_up_to_regions_share_no_piece(
    client, places, settings, monkeypatch
):
    """Five ties in all, and at most three lines: the map of the region's own partnership
    draws it between places, the region where its country is; the whole map joins its
    ties up to regions, and draws the region where its places are. Each from the same
    kept pieces, in either order."""
    monkeypatch.setattr(explore, "MAX_LINES", 3)
    regional = "/api/map/?partnership=regional"
    for addresses in ([regional, "/api/map/"], ["/api/map/", regional]):
        explore._layouts.clear()
        for address in addresses:
            data = geojson(answered(client, address))
            settings.ATLAS_CACHE_PAGES = False
            try:
                assert data == geojson(answered(client, address)), address
            finally:
                settings.ATLAS_CACHE_PAGES = True
            level = "place" if address == regional else "region"
            assert data["meta"]["line_level"] == level
            south = next(f for f in data["features"] if f.get("id") == "place:south")
            # Ærø and Odense's middle, or Denmark.
            at = [10.395, 55.15] if level == "region" else [10.0, 56.0]
            assert south["geometry"]["coordinates"] == at
            ends = [
                end
                for f in data["features"]
                if f["geometry"]["type"] == "LineString"
                for end, slug in zip(
                    f["geometry"]["coordinates"],
                    (f["properties"]["from"], f["properties"]["to"]),
                    strict=True,
                )
                if slug == "south"
            ]
            assert ends and all(end == at for end in ends)
