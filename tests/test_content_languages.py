"""Public pages show a record's text in the reader's language, and mark the other one."""

import html
import re

import pytest

from organisations.models import Organisation
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    ThemeFactory,
)
from tests.pages import sitemap, url

pytestmark = pytest.mark.django_db


def page(client, name, language, **kwargs):
    response = client.get(url(name, language, **kwargs))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def title_and_description(body):
    title = re.search(r"<title>(.*?)</title>", body, re.S).group(1)
    description = re.search(r'<meta name="description" content="(.*?)">', body, re.S).group(1)
    return title, description


@pytest.fixture
def aarhus():
    denmark = PlaceFactory(name="Denmark", name_da="Danmark", kind=Place.Kind.COUNTRY, country="DK")
    region = PlaceFactory(
        name="Central Denmark Region",
        name_da="Region Midtjylland",
        kind=Place.Kind.REGION,
        country="DK",
        parent=denmark,
    )
    return PlaceFactory(
        name="Aarhus Municipality",
        name_da="Aarhus Kommune",
        description_en="A municipality on the east coast of Jutland.",
        description_da="En kommune på Jyllands østkyst.",
        kind=Place.Kind.MUNICIPALITY,
        country="DK",
        parent=region,
    )


@pytest.fixture
def english_only():
    """A Chinese city the registry names in English only."""
    germany = PlaceFactory(
        name="Germany", name_da="Tyskland", kind=Place.Kind.COUNTRY, country="DE"
    )
    return PlaceFactory(
        name="Wuxi",
        description_en="A city in Jiangsu.",
        kind=Place.Kind.STATE,
        country="DE",
        parent=germany,
    )


@pytest.fixture
def danish_only():
    return OrganisationFactory(
        name="",
        name_en="",
        name_da="Sjællands Erhvervsråd",
        description_da="Erhvervslivets råd på Sjælland.",
        kind=Organisation.Kind.BUSINESS_ASSOCIATION,
        country="DK",
    )


def test_place_page_in_each_language(client, aarhus):
    danish = page(client, "places:place-detail", "da", slug=aarhus.slug)
    english = page(client, "places:place-detail", "en", slug=aarhus.slug)

    assert "<h1>Aarhus Kommune" in danish
    assert "Kommune i Region Midtjylland, Danmark" in danish
    assert ">Region Midtjylland</a>" in danish and ">Danmark</a>" in danish  # breadcrumbs
    assert "En kommune på Jyllands østkyst." in danish
    assert title_and_description(danish) == (
        "Aarhus Kommune – Partnership Atlas",
        "En kommune på Jyllands østkyst.",
    )
    for english_text in ["Aarhus Municipality", "Central Denmark Region", "east coast"]:
        assert english_text not in danish

    assert "<h1>Aarhus Municipality" in english
    assert "Municipality in Central Denmark Region, Denmark" in english
    assert title_and_description(english) == (
        "Aarhus Municipality – Partnership Atlas",
        "A municipality on the east coast of Jutland.",
    )
    for danish_text in ["Aarhus Kommune", "Region Midtjylland", "østkyst", "lang-note"]:
        assert danish_text not in english


def test_place_list_in_each_language(client, aarhus):
    danish = page(client, "places:place-list", "da")
    english = page(client, "places:place-list", "en")
    assert ">Aarhus Kommune</a>" in danish and "Kommune i Region Midtjylland" in danish
    assert ">Aarhus Municipality</a>" in english
    assert "Aarhus Kommune" not in english and "Aarhus Municipality" not in danish


def test_list_is_in_the_readers_alphabetical_order(client):
    PlaceFactory(name="Copenhagen Municipality", name_da="Københavns Kommune")
    PlaceFactory(name="Aalborg Municipality", name_da="Aalborg Kommune")
    PlaceFactory(name="Beijing")  # English only: sorts by the name shown
    danish = page(client, "places:place-list", "da", query="sort=name")
    order = [danish.index(name) for name in ["Aalborg Kommune", "Beijing", "Københavns"]]
    assert order == sorted(order)


def test_record_without_the_readers_language_shows_the_other_marked(client, english_only):
    danish = page(client, "places:place-detail", "da", slug=english_only.slug)
    assert '<h1><span lang="en">Wuxi</span> <small class="lang-note">' in danish
    assert '<div lang="en"><p>A city in Jiangsu.</p></div><p class="lang-note">' in danish
    # The parent and the country in Danish, although the place itself is not.
    assert "Delstat i Tyskland" in danish
    assert "<title>Wuxi – Partnership Atlas</title>" in danish

    listing = page(client, "places:place-list", "da")
    assert '<span lang="en">Wuxi</span> <small class="lang-note">' in listing


def test_danish_only_record_on_the_english_site(client, danish_only):
    english = page(client, "organisations:organisation-detail", "en", slug=danish_only.slug)
    assert (
        '<h1><span lang="da">Sjællands Erhvervsråd</span> '
        '<small class="lang-note">only in Danish</small>' in english
    )
    assert (
        '<div lang="da"><p>Erhvervslivets råd på Sjælland.</p></div>'
        '<p class="lang-note">only in Danish</p>' in english
    )
    assert title_and_description(english)[0] == "Sjællands Erhvervsråd – Partnership Atlas"

    danish = page(client, "organisations:organisation-detail", "da", slug=danish_only.slug)
    assert "<h1>Sjællands Erhvervsråd" in danish and "lang-note" not in danish


def test_organisation_pages_in_each_language(client, aarhus):
    organisation = OrganisationFactory(
        name="Aarhus University",
        name_da="Aarhus Universitet",
        description_en="A university.",
        description_da="Et universitet.",
        place=aarhus,
    )
    danish = page(client, "organisations:organisation-detail", "da", slug=organisation.slug)
    assert "<h1>Aarhus Universitet" in danish
    assert ">Aarhus Kommune</a>, <a" in danish  # based in, up the chain
    assert ">Region Midtjylland</a>" in danish
    assert title_and_description(danish) == (
        "Aarhus Universitet – Partnership Atlas",
        "Et universitet.",
    )
    assert "Aarhus University" not in danish and "Aarhus Municipality" not in danish

    listing = page(client, "organisations:organisation-list", "da")
    assert ">Aarhus Universitet</a>" in listing and "Aarhus Kommune" in listing
    english = page(client, "organisations:organisation-list", "en")
    assert ">Aarhus University</a>" in english and "Aarhus Universitet" not in english


@pytest.fixture
def friendship(aarhus, english_only):
    partnership = PartnershipFactory(
        title="Aarhus–Wuxi friendship",
        title_da="Venskabsbyaftale Aarhus–Wuxi",
        description_en="Signed in 2008.",
        description_da="Underskrevet i 2008.",
        parties=[aarhus, english_only],
    )
    partnership.themes.add(ThemeFactory(name="Education", name_da="Uddannelse"))
    EventFactory(partnership=partnership, text="Agreement signed", text_da="Aftalen underskrevet")
    EventFactory(partnership=partnership, date="2012", text="Delegation visit")
    return partnership


def test_partnership_pages_in_each_language(client, friendship):
    danish = page(client, "partnerships:partnership-detail", "da", slug=friendship.slug)
    assert "<h1>Venskabsbyaftale Aarhus–Wuxi</h1>" in danish
    assert "Underskrevet i 2008." in danish
    assert ">Uddannelse</a>" in danish
    assert ">Aarhus Kommune</a>" in danish
    assert "Kommune i Region Midtjylland" in danish  # where a participant is
    assert "Aftalen underskrevet" in danish
    assert '<span lang="en">Delegation visit</span> <small class="lang-note">' in danish
    assert '<span lang="en">Wuxi</span>' in danish
    assert title_and_description(danish) == (
        "Venskabsbyaftale Aarhus–Wuxi – Partnership Atlas",
        "Underskrevet i 2008.",
    )
    for english_text in ["Aarhus–Wuxi friendship", "Signed in", "Education", "Agreement signed"]:
        assert english_text not in danish

    english = page(client, "partnerships:partnership-detail", "en", slug=friendship.slug)
    assert "<h1>Aarhus–Wuxi friendship</h1>" in english
    assert "Agreement signed" in english and ">Education</a>" in english
    assert "Venskabsbyaftale" not in english and "Uddannelse" not in english

    listing = page(client, "partnerships:partnership-list", "da")
    assert ">Venskabsbyaftale Aarhus–Wuxi</a>" in listing
    assert "Aarhus Kommune" in listing and ">Uddannelse</span>" in listing


def test_place_page_sections_and_figure_notes_in_the_readers_language(client, aarhus, friendship):
    PlaceFigureFactory(place=aarhus, note_en="estimate", note_da="skøn")
    OrganisationFactory(name="Aarhus University", name_da="Aarhus Universitet", place=aarhus)
    danish = page(client, "places:place-detail", "da", slug=aarhus.slug)
    assert "(skøn)" in danish and "estimate" not in danish
    assert ">Aarhus Universitet</a>" in danish
    assert ">Venskabsbyaftale Aarhus–Wuxi</a>" in danish
    assert "Aftalen underskrevet" in danish

    region = page(client, "places:place-detail", "da", slug=aarhus.parent.slug)
    assert "Steder i Region Midtjylland" in region or "Region Midtjylland" in region
    assert ">Aarhus Kommune</a>" in region


def test_home_lists_recent_records_in_the_readers_language(client, friendship):
    danish = page(client, "home", "da")
    assert ">Venskabsbyaftale Aarhus–Wuxi</a>" in danish
    assert "Aarhus–Wuxi friendship" not in danish


def test_search_finds_a_danish_only_name_on_either_site(client, danish_only):
    for language in ["en", "da"]:
        found = page(client, "search", language, query="q=Sjællands erhvervsråd")
        assert "Sjællands Erhvervsråd" in found
        listing = page(client, "organisations:organisation-list", language, query="q=sjaellands")
        assert ">Sjællands Erhvervsråd" in listing
    english = page(client, "search", "en", query="q=erhvervsr%C3%A5d")
    assert '<span lang="da">Sjællands Erhvervsråd</span>' in english


def test_search_finds_either_languages_name_and_shows_the_readers(client, aarhus):
    danish = page(client, "search", "da", query="q=Aarhus Municipality")
    assert ">Aarhus Kommune</a>" in danish
    english = page(client, "search", "en", query="q=aarhus kommune")
    assert ">Aarhus Municipality</a>" in english


def test_sitemap_gives_every_record_its_address_in_each_language(client, aarhus):
    body = sitemap(client)
    for language in ["da", "en"]:
        address = f"http://testserver/{language}/places/{aarhus.slug}/"
        assert f"<loc>{address}</loc>" in body
        assert f'<xhtml:link rel="alternate" hreflang="{language}" href="{address}"' in body


def test_map_and_network_name_records_in_the_readers_language(client, friendship, aarhus):
    Place.objects.filter(pk=aarhus.pk).update(latitude=56.15, longitude=10.2)
    Place.objects.filter(slug=friendship.participants.last().place.slug).update(
        latitude=31.5, longitude=120.3
    )
    data = client.get("/api/map/", HTTP_ACCEPT_LANGUAGE="da").json()
    points = {
        feature["properties"]["slug"]: feature["properties"]
        for feature in data["features"]
        if feature["geometry"]["type"] == "Point"
    }
    assert points[aarhus.slug]["name"] == "Aarhus Kommune"
    assert points[aarhus.slug]["name_language"] == "da"
    assert {(point["name"], point["name_language"]) for point in points.values()} == {
        ("Aarhus Kommune", "da"),
        ("Wuxi", "en"),
    }
    line = next(f for f in data["features"] if f["geometry"]["type"] == "LineString")
    assert line["properties"]["partnership"]["title"] == "Venskabsbyaftale Aarhus–Wuxi"
    assert line["properties"]["partnership"]["title_language"] == "da"

    map_page = page(client, "atlas:map", "da")
    assert ">Aarhus Kommune</a>" in map_page
    assert '<span lang="en">Wuxi</span> <small class="lang-note">' in map_page

    network = client.get("/api/network/", HTTP_ACCEPT_LANGUAGE="da").json()
    labels = {(node["label"], node["label_language"]) for node in network["nodes"]}
    assert labels == {
        ("Aarhus Kommune", "da"),
        ("Wuxi", "en"),
        ("Venskabsbyaftale Aarhus–Wuxi", "da"),
    }
    network_page = page(client, "atlas:network", "da")
    assert ">Venskabsbyaftale Aarhus–Wuxi</a>" in network_page
    assert '<span lang="en">Wuxi</span> <small class="lang-note">' in network_page
    english = page(client, "atlas:network", "en")
    assert ">Aarhus–Wuxi friendship</a>" in english and "Aarhus Kommune" not in english


@pytest.mark.parametrize("language", ["da", "en"])
def test_pages_ask_for_map_and_network_data_in_their_own_language(
    client, aarhus, friendship, language
):
    # The browser's Accept-Language may differ from the page's: the data address says it.
    record_page = page(client, "places:place-detail", language, slug=aarhus.slug)
    map_page = page(client, "atlas:map", language)
    network_page = page(client, "atlas:network", language)

    for body in (record_page, map_page, network_page):
        sources = re.findall(r'data-src="([^"]+)"', body)
        assert sources, body
        assert all(f"lang={language}" in source for source in sources), sources
