import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import views
from partnerships.filters import PART_DEPTH
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceNameFactory,
)
from tests.pages import SEARCH_WALK, queries_for, url

pytestmark = pytest.mark.django_db

# Three sections (each page counted as it is read, but the partnerships'; prefetches),
# the partnerships' six facets and themes, the walk down from the places and
# organisations the search names (SEARCH_WALK), and the groups of ties found through named
# places (their names, a walk down, labels and ties) and organisations (two). Each walk is
# one query, however deep the hierarchy and however much data.
SEARCH_QUERY_BUDGET = 16 + SEARCH_WALK + 1 + 2


@pytest.fixture
def wuxi():
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡")
    PlaceNameFactory(place=wuxi, name="Wutshi")
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
    # Partnerships the search does not find: one that found every partnership would be
    # counted from the kept counts (``PartnershipFilter.finds_every``), and one that found
    # nine in ten would read those it leaves out (``left_out``).
    PartnershipFactory.create_batch(4)
    build(3)
    small = queries_for(client, url("search", query="q=wuxi"))
    build(27)
    with django_assert_max_num_queries(SEARCH_QUERY_BUDGET):
        large = queries_for(client, url("search", query="q=wuxi"))
    # Places and organisations are counted by the query that reads their first page,
    # full or not; a partnership section with room to spare holds all its matches, so
    # only a full one may be counted apart (here its facets have read them already).
    assert large <= small + 1


@pytest.fixture
def jiangsu():
    """A province with cities, and ties of the province, its cities and an organisation."""
    province = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, slug="jiangsu")
    wuxi = PlaceFactory(name="Wuxi", parent=province)
    suzhou = PlaceFactory(name="Suzhou", parent=province)
    district = PlaceFactory(name="Gusu", parent=suzhou, kind=Place.Kind.DISTRICT)
    university = OrganisationFactory(name="Suzhou University", place=district, country="CN")
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    PartnershipFactory(title="Zeeland sister region", parties=[province, PlaceFactory()])
    PartnershipFactory(title="Bycirklen cooperation", parties=[wuxi, aarhus])
    PartnershipFactory(title="Aarhus friendship", parties=[suzhou, aarhus])
    PartnershipFactory(title="Research tie", parties=[university, OrganisationFactory()])
    PartnershipFactory(title="Elsewhere", parties=[aarhus, PlaceFactory()])
    return province


def test_a_place_finds_the_ties_of_the_places_and_organisations_inside_it(client, jiangsu):
    response = client.get(url("search", query="q=jiangsu"))
    # Its own tie first, then those found through its parts.
    assert found(response)["Partnerships"] == [
        "Zeeland sister region",
        "Aarhus friendship",
        "Bycirklen cooperation",
        "Research tie",
    ]
    page = response.content.decode()
    assert "Suzhou (2), Wuxi (1)" in page  # the university in Gusu district counts for Suzhou
    partnerships = response.context["results"][2]
    assert [group["named"].name for group in partnerships["groups"]] == ["Jiangsu"]
    labels = {str(p): getattr(p, "found_via", "") for p in partnerships["records"]}
    assert labels["Bycirklen cooperation"] == "in Jiangsu: Wuxi"
    assert labels["Zeeland sister region"] == ""
    # The list finds the same, and the place page's count agrees.
    listed = client.get(url("partnerships:partnership-list", query="q=jiangsu"))
    assert listed.context["paginator"].count == 4
    assert 'href="/en/partnerships/?place=jiangsu"' in page


def test_a_title_match_ranks_before_ties_found_through_parts(client, jiangsu):
    PartnershipFactory(title="Jiangsu week", parties=[PlaceFactory(), PlaceFactory()])
    titles = found(client.get(url("search", query="q=jiangsu")))["Partnerships"]
    assert titles[0] == "Jiangsu week"
    assert titles[1] == "Zeeland sister region"


def test_an_organisation_finds_the_ties_of_its_parts(client):
    university = OrganisationFactory(name="Aarhus University")
    school = OrganisationFactory(name="School of Business", parent=university)
    PartnershipFactory(title="Exchange", parties=[school, OrganisationFactory()])
    PartnershipFactory(title="Other", parties=[OrganisationFactory(), OrganisationFactory()])
    response = client.get(url("search", query="q=aarhus+university"))
    assert found(response)["Partnerships"] == ["Exchange"]
    partnerships = response.context["results"][2]
    assert partnerships["groups"][0]["parts"] == [("School of Business", 1)]
    query = "organisation=aarhus-university"
    listed = client.get(url("partnerships:partnership-list", query=query))
    assert [str(p) for p in listed.context["object_list"]] == ["Exchange"]
    page = client.get(university.get_absolute_url()).content.decode()
    assert "Exchange" in page


def test_several_words_still_match_across_participants(client, jiangsu):
    assert found(client.get(url("search", query="q=aarhus+wuxi")))["Partnerships"] == [
        "Bycirklen cooperation"
    ]


def build_hierarchy(size):
    for _ in range(size):
        city = PlaceFactory(name="Wuxi city", parent=PlaceFactory(name="Wuxi province"))
        OrganisationFactory(name="Wuxi company", place=city, parent=OrganisationFactory())
        PartnershipFactory(parties=[PlaceFactory(parent=city), OrganisationFactory()])


def test_search_through_parts_runs_the_same_queries(client, django_assert_max_num_queries):
    build_hierarchy(3)
    small = queries_for(client, url("search", query="q=wuxi&status=active"))
    build_hierarchy(27)
    with django_assert_max_num_queries(SEARCH_QUERY_BUDGET):
        large = queries_for(client, url("search", query="q=wuxi&status=active"))
    # The sections of places and organisations are counted by the query that reads
    # them; the partnerships from their kind facet, counted for the page anyway.
    assert large == small


def test_a_full_section_is_counted_by_the_query_that_reads_it(client, admin_client):
    for number in range(13):
        PlaceFactory(name=f"Suzhou {number:02}")
    PlaceFactory(name="Suzhou draft", publication="draft")
    for number in range(12):
        OrganisationFactory(name=f"Suzhou University {number:02}")
    for reader, drafts in ((client, 0), (admin_client, 1)):
        with CaptureQueriesContext(connection) as queries:
            response = reader.get(url("search", query="q=suzhou"))
        places, organisations, _partnerships = response.context["results"]
        assert (places["count"], len(places["records"])) == (13 + drafts, 10)
        # "Suzhou University …" are named Suzhou too, but are organisations.
        assert (organisations["count"], len(organisations["records"])) == (12, 10)
        text = response.content.decode()
        assert f"All {13 + drafts} places matching “suzhou”" in text
        assert "All 12 organisations matching “suzhou”" in text
        sql = [query["sql"] for query in queries.captured_queries]
        assert not [
            query
            for query in sql
            if query.startswith("SELECT COUNT(")
            and ('FROM "places_place"' in query or 'FROM "organisations_organisation"' in query)
        ]


@pytest.mark.parametrize("query, short", [("s", True), ("su", True), ("suzhou", False)])
def test_a_word_shorter_than_a_trigram_sorts_the_ids_of_its_sections_first(
    client, monkeypatch, query, short
):
    """It is scanned for and may find thousands: the section's first ids and how many
    there are come first, then their rows; the same records and counts either way."""
    for number in range(13):
        PlaceFactory(name=f"Suzhou {number:02}")
    for number in range(12):
        OrganisationFactory(name=f"Suzhou University {number:02}", place=PlaceFactory())

    def sections():
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url("search", query=f"q={query}"))
        places, organisations, _partnerships = response.context["results"]
        shown = [
            (section["count"], [record.pk for record in section["records"]])
            for section in (places, organisations)
        ]
        ids_first = [
            q["sql"]
            for q in queries.captured_queries
            if '"section_total"' in q["sql"] and "JOIN" not in q["sql"]
        ]
        return shown, ids_first

    shown, ids_first = sections()
    assert len(ids_first) == (2 if short else 0)
    assert shown[0][0] >= 13 and len(shown[0][1]) == 10
    monkeypatch.setattr(views, "indexed", lambda term: True)
    assert sections() == (shown, [])


def chain(top, length, name="Level"):
    """``length`` places each right below the one before, from ``top`` down."""
    places, parent = [], top
    for level in range(1, length + 1):
        parent = PlaceFactory(name=f"{name} {level}", parent=parent)
        places.append(parent)
    return places


def test_a_search_finds_ties_up_to_part_depth_levels_below_a_named_place(client):
    kørborg = PlaceFactory(name="Kørborg", kind=Place.Kind.PROVINCE)
    levels = chain(kørborg, PART_DEPTH + 1)
    for place in levels:
        PartnershipFactory(title=f"Tie of {place.name}", parties=[place, PlaceFactory()])
    # A company based in the deepest place found is found through it too.
    company = OrganisationFactory(name="Company", place=levels[PART_DEPTH - 1])
    PartnershipFactory(title="Company tie", parties=[company, OrganisationFactory()])
    with CaptureQueriesContext(connection) as queries:
        listed = client.get(url("partnerships:partnership-list", query="q=kørborg"))
    titles = {str(partnership) for partnership in listed.context["object_list"]}
    assert titles == {f"Tie of Level {level}" for level in range(1, PART_DEPTH + 1)} | {
        "Company tie"
    }
    # Places and organisations, every level, in one query.
    walks = [query for query in queries if "RECURSIVE" in query["sql"]]
    assert len(walks) == 1


def test_a_search_ends_where_an_update_made_parents_loop(client):
    # update() skips the model's rule against loops; a walk down must still end.
    top = PlaceFactory(name="Loopholm")
    below = chain(top, 2)
    Place.objects.filter(pk=top.pk).update(parent=below[-1])
    PartnershipFactory(title="Looped tie", parties=[below[0], PlaceFactory()])
    response = client.get(url("search", query="q=loopholm"))
    assert response.status_code == 200
    assert found(response)["Partnerships"] == ["Looped tie"]
