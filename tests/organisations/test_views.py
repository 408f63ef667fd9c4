import datetime
import re

import pytest

from organisations.models import Organisation
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    OrganisationNameFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
)
from tests.pages import queries_for, url

pytestmark = pytest.mark.django_db

LIST_QUERY_BUDGET = 6
# Its first parts and their number; the ids of its parts, read once per organisations
# version when the page cache is on, so a miss after a write to a partnership reads none.
DETAIL_QUERY_BUDGET = 11


@pytest.fixture
def tongji():
    shanghai = PlaceFactory(name="Shanghai", kind=Place.Kind.PROVINCE_LEVEL_CITY)
    tongji = OrganisationFactory(
        name="Tongji University",
        short_name="Tongji",
        native_name="同济大学",
        place=shanghai,
        country="CN",
    )
    OrganisationNameFactory(organisation=tongji, name="Tonqui universitetet")
    return tongji


def names_in(response):
    return [organisation.name for organisation in response.context["object_list"]]


def test_list_and_detail_answer(client, tongji):
    assert names_in(client.get(url("organisations:organisation-list"))) == ["Tongji University"]
    response = client.get(url("organisations:organisation-detail", slug=tongji.slug))
    assert response.status_code == 200
    assert "同济大学" in response.content.decode()


@pytest.mark.parametrize("query", ["tongji", "Tonqui", "同济", "tongji university"])
def test_search_finds_any_name(client, tongji, query):
    OrganisationFactory(name="Aarhus University")
    assert names_in(client.get(url("organisations:organisation-list", query=f"q={query}"))) == [
        "Tongji University"
    ]


def test_filters_by_kind_country_and_place_with_sub_places(client, tongji):
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    aarhus = PlaceFactory(name="Aarhus", parent=denmark, country="DK")
    au = OrganisationFactory(name="Aarhus University", place=aarhus)
    di = OrganisationFactory(
        name="Confederation of Danish Industry",
        kind=Organisation.Kind.BUSINESS_ASSOCIATION,
        place=PlaceFactory(name="Copenhagen", parent=denmark, country="DK"),
    )
    assert names_in(
        client.get(url("organisations:organisation-list", query="kind=business_association"))
    ) == [di.name]
    assert names_in(client.get(url("organisations:organisation-list", query="country=CN"))) == [
        tongji.name
    ]
    assert names_in(
        client.get(url("organisations:organisation-list", query=f"place={aarhus.slug}"))
    ) == [au.name]
    # A country includes the organisations of the places inside it.
    assert names_in(
        client.get(url("organisations:organisation-list", query=f"place={denmark.slug}"))
    ) == [au.name, di.name]


def test_sorting(client, tongji):
    OrganisationFactory(name="Aarhus University")
    response = client.get(url("organisations:organisation-list", query="sort=-name"))
    assert names_in(response) == ["Tongji University", "Aarhus University"]


def test_empty_state(client, tongji):
    page = client.get(url("organisations:organisation-list", query="q=nowhere")).content
    assert "Nothing here matches “nowhere”".encode() in page


def test_detail_shows_place_parent_partnerships_timeline_and_review(client, tongji):
    parent = OrganisationFactory(name="Ministry of Education of China", country="CN")
    tongji.parent = parent
    tongji.last_reviewed_on = datetime.date(2024, 1, 15)
    tongji.save()
    tongji.sources.add(SourceFactory(title="Background note"))
    partnership = PartnershipFactory(
        title="CBS–Tongji exchange", parties=[tongji, OrganisationFactory(name="CBS")]
    )
    EventFactory(partnership=partnership, date="2011-05", text="Agreement renewed")

    page = client.get(url("organisations:organisation-detail", slug=tongji.slug)).content
    page = page.decode()

    assert "Shanghai" in page
    assert "Ministry of Education of China" in page
    assert "CBS–Tongji exchange" in page
    assert "Agreement renewed" in page
    assert "May 2011" in page
    assert "Jan. 15, 2024" in page
    assert "Background note" in page


def test_csv_download(client, tongji):
    OrganisationFactory(name="-Dash Ltd", kind=Organisation.Kind.COMPANY)
    response = client.get(url("organisations:organisation-export", query="sort=name"))
    lines = response.content.decode("utf-8").splitlines()
    assert lines[0] == (
        "\ufeffslug,name_da,name_en,short_name,kind,country,place,parent,native_name,"
        "native_language,website,wikidata_id,ror_id,aliases,description_da,description_en,"
        "source,publication"
    )
    assert lines[1].startswith("dash-ltd,,'-Dash Ltd,,company,DK,")
    assert lines[2].startswith(
        "tongji-university,,Tongji University,Tongji,university,CN,Shanghai,,"
    )


def build_organisations(size):
    parent = OrganisationFactory()
    source = SourceFactory()
    for _ in range(size):
        organisation = OrganisationFactory(place=PlaceFactory(), parent=parent)
        OrganisationNameFactory(organisation=organisation)
        organisation.sources.add(source)


def build_organisation_page(size):
    organisation = OrganisationFactory(place=PlaceFactory(parent=PlaceFactory()))
    for _ in range(size):
        OrganisationFactory(parent=organisation)
        OrganisationNameFactory(organisation=organisation)
        organisation.sources.add(SourceFactory())
        partnership = PartnershipFactory(parties=[organisation, PlaceFactory()])
        EventFactory(partnership=partnership, place=PlaceFactory())
    return organisation


@pytest.mark.parametrize("query", ["", "q=organisation", "kind=university&country=DK"])
def test_list_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries, query):
    build_organisations(3)
    small = queries_for(client, url("organisations:organisation-list", query=query))
    build_organisations(27)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = queries_for(client, url("organisations:organisation-list", query=query))
    assert small == large


def test_export_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries):
    build_organisations(3)
    small = queries_for(client, url("organisations:organisation-export"))
    build_organisations(27)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = queries_for(client, url("organisations:organisation-export"))
    assert small == large


def test_detail_runs_the_same_queries_for_3_30_and_60(client, django_assert_max_num_queries):
    def count(size):
        address = url("organisations:organisation-detail", slug=build_organisation_page(size).slug)
        with django_assert_max_num_queries(DETAIL_QUERY_BUDGET):
            return queries_for(client, address)

    small, full, large = count(3), count(30), count(60)
    # A section shorter than a page is not counted: it holds every record there is.
    assert small <= full == large


def card_lines(response):
    """Each card's line under its name, whitespace folded."""
    lines = re.findall(r'<p class="meta">(.*?)</p>', response.content.decode(), re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", line).split()) for line in lines]


def test_a_card_names_the_country_once(client):
    # An organisation based in the country itself read "University, Denmark, Denmark".
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    aarhus = PlaceFactory(name="Aarhus", parent=denmark, country="DK")
    OrganisationFactory(name="A national body", kind="government_body", place=denmark, country="DK")
    OrganisationFactory(name="Aarhus University", kind="university", place=aarhus, country="DK")
    OrganisationFactory(name="Danish network", kind="network", place=None, country="DK")
    response = client.get(url("organisations:organisation-list", query="sort=name"))
    assert card_lines(response) == [
        "Government body, Denmark",
        "University, Aarhus, Denmark",
        "Network, Denmark",
    ]
    places = card_lines(client.get(url("places:place-list", query="sort=name")))
    assert places == ["City in Denmark", "Country"]
    denmark_page = client.get(url("places:place-detail", slug=denmark.slug))
    assert card_lines(denmark_page)[0] == "Country"
