"""A search that finds nothing tries again without the word for the kind of place
("Jiangsu provinsen", 江苏省), and says so on the page."""

import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from places.models import Place
from tests.factories import PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def jiangsu():
    jiangsu = PlaceFactory(
        name="Jiangsu", kind=Place.Kind.PROVINCE, country="CN", native_name="江苏"
    )
    PartnershipFactory(title="Aarhus and Jiangsu", parties=[jiangsu, PlaceFactory()])
    return jiangsu


def found(response):
    return {
        str(result["section"].title): [str(record) for record in result["records"]]
        for result in response.context["results"]
    }


@pytest.mark.parametrize(
    ("asked", "searched"),
    [
        ("Jiangsu provinsen", "Jiangsu"),
        ("Jiangsu-provinsen", "Jiangsu"),
        ("Provinsen Jiangsu", "Jiangsu"),
        ("Jiangsu Province", "Jiangsu"),
        ("江苏省", "江苏"),
    ],
)
def test_a_kind_word_the_name_lacks_is_left_out_and_said(client, jiangsu, asked, searched):
    response = client.get(url("search", "da", query=f"q={asked}"))
    page = response.content.decode()
    assert found(response)["Steder"] == ["Jiangsu"]
    assert "Aarhus and Jiangsu" in found(response)["Partnerskaber"]
    # The box keeps what was asked; the page says what it shows.
    assert f'value="{asked}"' in page
    assert f"Intet matcher “{asked}”; disse matcher “{searched}”" in page
    # Each section's "all matching" link is to its list searched the same way.
    for result in response.context["results"]:
        assert parse_qs(urlsplit(result["list_url"]).query)["q"] == [searched]


def test_a_search_that_finds_something_is_not_loosened(client, jiangsu):
    PlaceFactory(name="Jiangsu Province Office", country="DK")
    response = client.get(url("search", query="q=Jiangsu Province"))
    assert found(response)["Places"] == ["Jiangsu Province Office"]
    assert "data-looser-query" not in response.content.decode()


def test_nothing_found_either_way_says_what_was_asked(client, jiangsu):
    page = client.get(url("search", query="q=Atlantis Province")).content.decode()
    assert "0 records match “Atlantis Province”" in page
    assert "data-looser-query" not in page


@pytest.mark.parametrize("name", ["partnerships:partnership-list", "places:place-list"])
def test_a_list_that_finds_nothing_offers_the_name_alone(client, jiangsu, name):
    response = client.get(url(name, query="q=Jiangsu provinsen&sort=name"))
    page = response.content.decode()
    link = re.search(r'<a href="([^"]*)" data-looser-query>([^<]*)</a>', page)
    assert link is not None
    address = html.unescape(link[1])
    # The same list, as sorted, searched for the name alone.
    assert parse_qs(urlsplit(address).query) == {"q": ["Jiangsu"], "sort": ["name"]}
    assert "“Jiangsu”, without the word for the kind of place" in link[2]
    followed = client.get(address).content.decode()
    assert "Jiangsu" in followed and "data-looser-query" not in followed


def test_no_such_offer_without_a_kind_word(client, jiangsu):
    page = client.get(url("places:place-list", query="q=Atlantis")).content.decode()
    assert "data-looser-query" not in page
