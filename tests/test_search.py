import pytest

from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceNameFactory,
)
from tests.pages import queries_for, url

pytestmark = pytest.mark.django_db

SEARCH_QUERY_BUDGET = 9


@pytest.fixture
def wuxi():
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡")
    PlaceNameFactory(place=wuxi, name="Wutshi")
    wuxi.refresh_search_key()
    return wuxi


def found(response):
    return {
        str(result["section"].title): [str(record) for record in result["records"]]
        for result in response.context["results"]
    }


def test_empty_search_page_answers(client):
    response = client.get(url("search"))
    assert response.status_code == 200
    assert 'id="q"' in response.content.decode()


@pytest.mark.parametrize("query", ["Wuxi", "Wutshi", "无锡"])
def test_one_page_finds_places_organisations_and_partnerships(client, wuxi, query):
    OrganisationFactory(name="Jiangnan University", place=wuxi)  # not named Wuxi
    OrganisationFactory(name="Wuxi Municipal Government", country="CN")
    PartnershipFactory(title="Bycirklen cooperation", parties=[wuxi, PlaceFactory()])
    PartnershipFactory(title="Unrelated")

    response = client.get(url("search", query=f"q={query}"))

    assert found(response) == {
        "Places": ["Wuxi"],
        "Organisations": ["Wuxi Municipal Government"] if query == "Wuxi" else [],
        "Partnerships": ["Bycirklen cooperation"],
    }


def test_accents_fold(client):
    PlaceFactory(name="Östergötland", kind=Place.Kind.REGION, country="SE")
    response = client.get(url("search", query="q=Ostergotland"))
    assert found(response)["Places"] == ["Östergötland"]


def test_links_to_the_full_list_when_there_are_more(client):
    PlaceFactory.create_batch(12, name="Suzhou")
    page = client.get(url("search", query="q=suzhou")).content.decode()
    assert "12 records match “suzhou”" in page
    assert 'href="/en/places/?q=suzhou"' in page


def test_nothing_found_suggests_what_to_try(client, wuxi):
    page = client.get(url("search", query="q=atlantis")).content.decode()
    assert "0 records match “atlantis”" in page
    assert "another spelling" in page


def test_danish_search_page(client, wuxi):
    response = client.get(url("search", "da", query="q=wuxi"))
    assert response.status_code == 200
    assert '<html lang="da">' in response.content.decode()


def build(size):
    for _ in range(size):
        place = PlaceFactory(name="Wuxi district", parent=PlaceFactory())
        OrganisationFactory(name="Wuxi company", place=place)
        PartnershipFactory(parties=[place, OrganisationFactory()])


def test_search_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries):
    build(3)
    small = queries_for(client, url("search", query="q=wuxi"))
    build(27)
    with django_assert_max_num_queries(SEARCH_QUERY_BUDGET):
        large = queries_for(client, url("search", query="q=wuxi"))
    assert small == large
