import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    OrganisationNameFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def test_the_root_lists_every_endpoint(api):
    body = api.get("/api/").json()
    assert set(body) == {
        "places",
        "organisations",
        "partnerships",
        "themes",
        "sources",
        "map",
        "network",
    }
    assert body["places"] == "http://testserver/api/places/"


def test_a_partnership_carries_what_a_client_needs_without_a_second_request(api):
    wuxi = PlaceFactory(name="Wuxi", slug="wuxi", country="CN")
    university = OrganisationFactory(name="Aarhus University", slug="au", country="DK")
    theme = ThemeFactory(name="Education", slug="education")
    source = SourceFactory(title="Annual report")
    partnership = PartnershipFactory(
        title="Wuxi–AU", slug="wuxi-au", start="1980s", end="c. 2011-05", parties=[wuxi, university]
    )
    partnership.themes.add(theme)
    partnership.sources.add(source)
    EventFactory(partnership=partnership, date="2010", text="Signed")

    body = api.get("/api/partnerships/wuxi-au/").json()

    assert body["url"] == "http://testserver/api/partnerships/wuxi-au/"
    assert body["public_url"] == "http://testserver/en/partnerships/wuxi-au/"
    assert body["start"] == {
        "text": "1980s",
        "precision": "decade",
        "circa": False,
        "earliest": "1980-01-01",
        "latest": "1989-12-31",
        "display": "1980s",
    }
    assert body["end"]["circa"] is True
    assert body["end"]["latest"] == "2011-05-31"
    assert body["participants"] == [
        {
            "type": "place",
            "slug": "wuxi",
            "name": "Wuxi",
            "names": {"da": None, "en": "Wuxi"},
            "name_language": "en",
            "country": "CN",
            "url": "http://testserver/api/places/wuxi/",
            "public_url": "http://testserver/en/places/wuxi/",
            "role": "partner",
            "note": "",
        },
        {
            "type": "organisation",
            "slug": "au",
            "name": "Aarhus University",
            "names": {"da": None, "en": "Aarhus University"},
            "name_language": "en",
            "country": "DK",
            "url": "http://testserver/api/organisations/au/",
            "public_url": "http://testserver/en/organisations/au/",
            "role": "partner",
            "note": "",
        },
    ]
    assert [t["slug"] for t in body["themes"]] == ["education"]
    assert body["events"][0]["date"]["text"] == "2010"
    assert body["events"][0]["text"] == "Signed"
    assert body["sources"][0]["title"] == "Annual report"
    assert (body["kind"], body["status"]) == ("cooperation_agreement", "active")


def test_an_undated_partnership_has_null_dates(api):
    PartnershipFactory(slug="undated")
    body = api.get("/api/partnerships/undated/").json()
    assert body["start"] is None
    assert body["end"] is None


def test_a_place_carries_parent_other_names_figures_and_coordinates(api):
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind="province")
    wuxi = PlaceFactory(
        name="Wuxi", slug="wuxi", parent=jiangsu, latitude="31.490000", longitude="120.310000"
    )
    PlaceNameFactory(place=wuxi, name="Wutshi", kind="source")
    PlaceFigureFactory(place=wuxi, value=7_462_135, year=2020, source=SourceFactory(title="Census"))

    body = api.get("/api/places/wuxi/").json()

    assert body["parent"]["slug"] == "jiangsu"
    assert body["parent"]["url"] == "http://testserver/api/places/jiangsu/"
    assert body["other_names"] == [{"name": "Wutshi", "language": "", "kind": "source"}]
    figure = body["figures"][0]
    assert (figure["kind"], figure["year"], figure["source"]["title"]) == (
        "population",
        2020,
        "Census",
    )
    assert (body["latitude"], body["longitude"]) == ("31.490000", "120.310000")
    assert body["public_url"] == "http://testserver/en/places/wuxi/"


def test_sources_are_found_by_id_and_themes_by_slug(api):
    source = SourceFactory(title="Census", url="https://example.org/census")
    ThemeFactory(slug="health", name="Health")
    body = api.get(f"/api/sources/{source.pk}/").json()
    assert body["web_address"] == "https://example.org/census"
    assert body["url"] == f"http://testserver/api/sources/{source.pk}/"
    theme = api.get("/api/themes/health/").json()
    assert theme["public_url"] == "http://testserver/en/partnerships/?theme=health"


@pytest.mark.parametrize("endpoint", ["places", "organisations", "partnerships"])
def test_search_folds_spellings_like_the_public_site(api, endpoint):
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡")
    PlaceNameFactory(place=wuxi, name="Wutshi")
    other = PlaceFactory(name="Aarhus")
    if endpoint == "organisations":
        OrganisationFactory(name="Wuxi University", short_name="Wutshi U")
        OrganisationFactory(name="Aarhus University")
    if endpoint == "partnerships":
        PartnershipFactory(title="Twin towns", parties=[wuxi, PlaceFactory()])
        PartnershipFactory(title="Other towns", parties=[other, PlaceFactory()])

    for query in ["wutshi", "WUTSHI", "无锡"] if endpoint != "organisations" else ["wutshi"]:
        results = api.get(f"/api/{endpoint}/", {"search": query}).json()["results"]
        assert len(results) == 1, query


def test_a_partnership_search_of_several_words_finds_each_in_any_of_its_names(api):
    aarhus, harbin, odense = (PlaceFactory(name=name) for name in ("Aarhus", "Harbin", "Odense"))
    # Two Suzhous: either one names the tie.
    suzhou = PlaceFactory(name="Suzhou", country="CN")
    PlaceFactory(name="Suzhou", country="CN", parent=PlaceFactory(name="Anhui"))
    PartnershipFactory(title="Twin towns", parties=[aarhus, harbin])
    PartnershipFactory(title="Aarhus school ties", parties=[aarhus, suzhou])
    PartnershipFactory(title="Other", parties=[odense, harbin])

    def found(query):
        results = api.get("/api/partnerships/", {"search": query}).json()["results"]
        return sorted(result["title"] for result in results)

    assert found("aarhus harbin") == ["Twin towns"]
    assert found("twin harbin") == ["Twin towns"]
    assert found("suzhou aarhus") == ["Aarhus school ties"]
    assert found("aarhus school ties") == ["Aarhus school ties"]
    assert found("harbin") == ["Other", "Twin towns"]
    assert found("aarhus odense") == []


def test_place_search_finds_aarhus_by_arhus(api):
    PlaceFactory(name="Århus")
    PlaceFactory(name="Odense")
    body = api.get("/api/places/", {"search": "arhus"}).json()
    assert [place["name"] for place in body["results"]] == ["Århus"]


def test_the_public_filters_work_on_the_api(api):
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind="province")
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu)
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    education = ThemeFactory(slug="education")
    tie = PartnershipFactory(title="Wuxi tie", parties=[wuxi, aarhus], start="1985")
    tie.themes.add(education)
    PartnershipFactory(title="Other", status="ended", start="2011")

    def titles(**params):
        return [p["title"] for p in api.get("/api/partnerships/", params).json()["results"]]

    assert titles(place="jiangsu") == ["Wuxi tie"]
    assert titles(theme="education") == ["Wuxi tie"]
    assert titles(country="DK") == ["Wuxi tie"]
    assert titles(status="ended") == ["Other"]
    assert titles(start_to="1990") == ["Wuxi tie"]
    places = api.get("/api/places/", {"parent": "jiangsu"}).json()["results"]
    assert [p["name"] for p in places] == ["Wuxi"]
    assert api.get("/api/partnerships/", {"status": "nonsense"}).status_code == 400


@pytest.mark.parametrize(
    "endpoint, page",
    [
        ("/api/places/", "/en/places/"),
        ("/api/organisations/", "/en/organisations/"),
        ("/api/partnerships/", "/en/partnerships/"),
    ],
)
def test_a_country_is_chosen_by_its_code_and_nothing_else(api, client, endpoint, page):
    """Each country checked against the codes (``core.filters.CountryChoiceField``)."""
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    OrganisationFactory(name="Aarhus University", country="DK", place=aarhus)
    PartnershipFactory(title="Aarhus tie", parties=[aarhus, PlaceFactory(country="CN")])
    found = api.get(endpoint, {"country": ["DK", "CN"]})
    assert found.status_code == 200 and found.json()["count"] >= 1
    for wrong in ("XX", "dk", "Denmark", "DK "):
        refused = api.get(endpoint, {"country": ["DK", wrong]})
        assert refused.status_code == 400
        assert refused.json()["country"] == [
            f"Select a valid choice. {wrong} is not one of the available choices."
        ]
        assert client.get(page, {"country": wrong}).status_code == 200


def test_ordering(api):
    for name in ["Beta", "Alpha", "Gamma"]:
        PlaceFactory(name=name)
    names = [p["name"] for p in api.get("/api/places/", {"ordering": "-name"}).json()["results"]]
    assert names == ["Gamma", "Beta", "Alpha"]
    # Fields outside ordering_fields are ignored rather than leaking the model.
    names = [
        p["name"] for p in api.get("/api/places/", {"ordering": "search_key"}).json()["results"]
    ]
    assert names == ["Alpha", "Beta", "Gamma"]


def test_pagination_counts_and_page_size_has_a_ceiling(api):
    ThemeFactory.create_batch(105)
    body = api.get("/api/themes/").json()
    assert body["count"] == 105
    assert len(body["results"]) == 20
    assert body["next"].endswith("page=2")
    assert len(api.get("/api/themes/", {"page_size": 50}).json()["results"]) == 50
    assert len(api.get("/api/themes/", {"page_size": 1000}).json()["results"]) == 100


def make_data(size):
    source = SourceFactory()
    for _ in range(size):
        parent = PlaceFactory()
        place = PlaceFactory(parent=parent)
        PlaceNameFactory(place=place)
        PlaceFigureFactory(place=place, source=source)
        place.sources.add(source)
        organisation = OrganisationFactory(place=place, parent=OrganisationFactory())
        OrganisationNameFactory(organisation=organisation)
        organisation.sources.add(source)
        partnership = PartnershipFactory(parties=[place, organisation])
        partnership.themes.add(ThemeFactory())
        partnership.sources.add(source)
        EventFactory(partnership=partnership, place=place, source=source)


@pytest.mark.parametrize("size", [2, 12])
@pytest.mark.parametrize(
    ("endpoint", "budget"),
    # A partnership's parties are read apart from its participants (one query for the
    # places, one for the organisations), and kept with the page cache on.
    [("places", 6), ("organisations", 5), ("partnerships", 8), ("themes", 2), ("sources", 2)],
)
def test_lists_run_a_fixed_number_of_queries(
    api, django_assert_max_num_queries, size, endpoint, budget
):
    make_data(size)
    with django_assert_max_num_queries(budget):
        response = api.get(f"/api/{endpoint}/")
    assert response.status_code == 200
    assert response.json()["count"] >= (1 if endpoint == "sources" else size)


@pytest.mark.parametrize(
    ("endpoint", "budget"), [("places", 6), ("organisations", 5), ("partnerships", 7)]
)
def test_details_run_a_fixed_number_of_queries(
    api, django_assert_max_num_queries, endpoint, budget
):
    make_data(3)
    model = {"places": Place, "organisations": Organisation, "partnerships": Partnership}[endpoint]
    record = model.objects.last()
    with django_assert_max_num_queries(budget):
        response = api.get(f"/api/{endpoint}/{record.slug}/")
    assert response.status_code == 200


def test_a_partnerships_parties_are_kept_until_they_change(api, settings):
    settings.ATLAS_CACHE_PAGES = True
    wuxi = PlaceFactory(name="Wuxi", slug="wuxi")
    university = OrganisationFactory(name="Jiangnan University", slug="jiangnan")
    PartnershipFactory(slug="tie", parties=[wuxi, university])

    def parties():
        with CaptureQueriesContext(connection) as queries:
            data = api.get("/api/partnerships/tie/").json()
        read = [
            table
            for table in ("places_place", "organisations_organisation")
            if any(f'FROM "{table}"' in query["sql"] for query in queries.captured_queries)
        ]
        return [(p["slug"], p["name"]) for p in data["participants"]], read

    named = [("wuxi", "Wuxi"), ("jiangnan", "Jiangnan University")]
    assert parties() == (named, ["places_place", "organisations_organisation"])
    # A write to the partnership leaves its parties as they were: neither is read again.
    Partnership.objects.filter(slug="tie").update(title_en="Wuxi–Jiangnan")
    assert parties() == (named, [])
    # Renamed through a bulk path, each is read anew.
    Place.objects.filter(pk=wuxi.pk).update(name_en="Wúxī")
    assert parties()[0] == [("wuxi", "Wúxī"), ("jiangnan", "Jiangnan University")]
    Organisation.objects.filter(pk=university.pk).update(name_en="Jiangnan Univ.")
    assert parties()[0] == [("wuxi", "Wúxī"), ("jiangnan", "Jiangnan Univ.")]


def test_the_partnership_list_takes_its_count_from_the_kept_counts(api):
    place = PlaceFactory()
    for _ in range(23):
        PartnershipFactory(parties=[place])
    PartnershipFactory(parties=[place], publication=Publication.DRAFT)
    staff = UserFactory(is_staff=True, is_superuser=True)

    def listed(client, query=""):
        with CaptureQueriesContext(connection) as queries:
            body = client.get(f"/api/partnerships/{query}").json()
        counted = [
            q["sql"]
            for q in queries
            if "COUNT(" in q["sql"] and 'FROM "partnerships_partnership"' in q["sql"]
        ]
        return body, counted

    body, counted = listed(api)
    # Every published partnership: no COUNT, the number kept as they were written.
    assert (body["count"], len(body["results"]), counted) == (23, 20, [])
    assert len(listed(api, "?page=2")[0]["results"]) == 3
    api.force_authenticate(staff)
    body, counted = listed(api)
    assert (body["count"], counted) == (24, [])
    # A filter narrower than the whole registry is counted.
    PartnershipFactory(parties=[place], status="ended")
    body, counted = listed(api, "?status=ended")
    assert body["count"] == 1 and len(counted) == 1
    assert listed(api)[0]["count"] == 25


def test_each_response_links_at_the_host_it_was_asked_at(api):
    # Serializer fields are built once and copied for each response: no field may carry
    # one request's context into another's.
    place = PlaceFactory()
    partnership = PartnershipFactory(parties=[place, OrganisationFactory()])
    partnership.themes.add(ThemeFactory())
    partnership.sources.add(SourceFactory())
    EventFactory(partnership=partnership, place=place)
    for host in ("localhost", "testserver", "127.0.0.1", "localhost"):
        tie = api.get("/api/partnerships/", HTTP_HOST=host).json()["results"][0]
        links = [
            tie["url"],
            tie["themes"][0]["url"],
            tie["sources"][0]["url"],
            tie["participants"][0]["url"],
            tie["events"][0]["place"]["url"],
        ]
        assert all(link.startswith(f"http://{host}/api/") for link in links), (host, links)
