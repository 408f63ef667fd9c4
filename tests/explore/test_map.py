import io
import json

import pytest
from django.core.management import call_command

from atlas import explore
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = pytest.mark.django_db


def features(data, geometry):
    return [f for f in data["features"] if f["geometry"]["type"] == geometry]


def points(data):
    return {f["properties"]["slug"]: f for f in features(data, "Point")}


def lines(data):
    return {
        frozenset((f["properties"]["from"], f["properties"]["to"])): f
        for f in features(data, "LineString")
    }


@pytest.fixture
def ties():
    denmark = PlaceFactory(name="Denmark", slug="dk", kind=Place.Kind.COUNTRY, country="DK")
    aarhus = PlaceFactory(
        name="Aarhus", slug="aarhus", country="DK", parent=denmark, latitude=56.15, longitude=10.2
    )
    harbin = PlaceFactory(name="Harbin", slug="harbin", latitude=45.75, longitude=126.65)
    # No coordinates of its own: on the map where the place it lies in is.
    district = PlaceFactory(name="Daoli", slug="daoli", parent=harbin)
    university = OrganisationFactory(name="Aarhus University", slug="au", place=aarhus)
    nowhere = OrganisationFactory(name="Nomad Network", slug="nomad")
    PartnershipFactory(title="Aarhus–Harbin", slug="aarhus-harbin", parties=[aarhus, harbin])
    PartnershipFactory(
        title="AU–Daoli", slug="au-daoli", status="ended", parties=[university, district, nowhere]
    )
    return aarhus, harbin, district


def get_map(client, query=""):
    response = client.get(f"/api/map/{query}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("application/geo+json")
    return json.loads(response.content)


def test_a_place_counts_its_own_partnerships_and_those_of_organisations_based_there(client, ties):
    data = get_map(client)
    assert data["type"] == "FeatureCollection"
    found = points(data)
    assert found["aarhus"]["properties"]["count"] == 2
    assert found["harbin"]["properties"]["count"] == 1
    assert found["harbin"]["geometry"]["coordinates"] == [126.65, 45.75]
    # Daoli has no coordinates: it sits where Harbin is.
    assert found["daoli"]["geometry"]["coordinates"] == [126.65, 45.75]
    assert found["aarhus"]["properties"]["url"].endswith("/en/places/aarhus/")
    assert data["meta"]["partnerships"] == 2
    assert data["meta"]["participants_without_place"] == 1


def test_a_line_joins_each_pair_of_partners_and_names_a_single_partnership(client, ties):
    data = get_map(client)
    found = lines(data)
    assert set(found) == {frozenset({"aarhus", "harbin"}), frozenset({"aarhus", "daoli"})}
    line = found[frozenset({"aarhus", "harbin"})]
    assert line["properties"]["count"] == 1
    assert line["properties"]["partnership"]["title"] == "Aarhus–Harbin"
    assert line["geometry"]["coordinates"] == [[10.2, 56.15], [126.65, 45.75]]


def test_the_map_takes_the_partnership_lists_filters(client, ties):
    active = get_map(client, "?status=active")
    assert set(points(active)) == {"aarhus", "harbin"}
    ended_at_harbin = get_map(client, "?status=ended&place=harbin")
    # Harbin's sub-place takes part, as on the partnership list.
    assert set(points(ended_at_harbin)) == {"aarhus", "daoli"}
    assert get_map(client, "?partnership=aarhus-harbin")["meta"]["partnerships"] == 1
    listed = client.get(url("partnerships:partnership-list", query="status=ended&place=harbin"))
    assert listed.context["paginator"].count == ended_at_harbin["meta"]["partnerships"]


def test_a_bad_filter_value_is_a_clear_400(client, ties):
    response = client.get("/api/map/?status=sleeping")
    assert response.status_code == 400
    assert "status" in response.json()


def test_many_lines_join_up_to_regions(client, ties, monkeypatch):
    monkeypatch.setattr(explore, "MAX_LINES", 1)
    data = get_map(client)
    assert data["meta"]["line_level"] == "region"
    # Aarhus's region is itself (Denmark is a country); Daoli's is Harbin.
    assert set(lines(data)) == {frozenset({"aarhus", "harbin"})}
    assert lines(data)[frozenset({"aarhus", "harbin"})]["properties"]["count"] == 2


def test_a_partnership_counts_once_on_each_tie_between_its_regions(client, monkeypatch):
    """Three regions, two places in one of them: three regional ties, each counted once."""
    monkeypatch.setattr(explore, "MAX_LINES", 2)
    regions = {
        slug: PlaceFactory(name=slug.title(), slug=slug, latitude=index, longitude=index)
        for index, slug in enumerate(["north", "south", "east"], start=1)
    }
    cities = [
        PlaceFactory(slug=f"{slug}-{n}", parent=regions[slug], latitude=n, longitude=n)
        for slug, n in [("north", 10), ("north", 11), ("south", 12), ("east", 13)]
    ]
    PartnershipFactory(title="Four cities", slug="four", parties=cities)
    PartnershipFactory(title="North and south", slug="two", parties=[cities[1], cities[2]])
    data = get_map(client)
    assert data["meta"]["line_level"] == "region"
    assert data["meta"]["lines"] == 2 and data["meta"]["lines_omitted"] == 1
    found = lines(data)
    # North–south by both partnerships, however many places each has in the north.
    assert found[frozenset({"north", "south"})]["properties"]["count"] == 2
    other = next(line for pair, line in found.items() if pair != frozenset({"north", "south"}))
    assert other["properties"]["count"] == 1
    assert other["properties"]["partnership"]["slug"] == "four"
    # Every place is still a point, with its own count.
    assert points(data)["north-11"]["properties"]["count"] == 2


def test_past_max_points_the_map_draws_the_places_with_the_most_partnerships(client, monkeypatch):
    monkeypatch.setattr(explore, "MAX_POINTS", 3)
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", latitude=56.15, longitude=10.2)
    # Two places of one name with one count: the older record first, every time.
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", latitude=31.3, longitude=120.6)
    other_suzhou = PlaceFactory(name="Suzhou", slug="suzhou-anhui", latitude=33.6, longitude=117)
    wuxi = PlaceFactory(name="Wuxi", slug="wuxi", latitude=31.5, longitude=120.3)
    nowhere = PlaceFactory(name="Nowhere", slug="nowhere")  # no coordinates anywhere
    for partners in [[suzhou], [other_suzhou], [wuxi], [nowhere], [suzhou, other_suzhou]]:
        PartnershipFactory(parties=[aarhus, *partners])
    data = get_map(client)
    drawn = [f["properties"]["slug"] for f in features(data, "Point")]
    assert drawn == ["aarhus", "suzhou", "suzhou-anhui"]
    assert data["meta"]["places"] == 3
    assert data["meta"]["places_omitted"] == 2  # Wuxi past the three, Nowhere unplaced
    # Lines are bounded on their own: every tie between placed places is still drawn.
    assert frozenset({"aarhus", "wuxi"}) in lines(data)
    assert len(lines(data)) == 4
    for language, note in [
        ("en", "2 more places take part but are not drawn"),
        ("da", "2 steder mere deltager, men er ikke tegnet"),
    ]:
        assert note in client.get(url("atlas:map", language)).content.decode()


def test_every_place_is_drawn_below_max_points(client, ties):
    data = get_map(client)
    # Daoli has no coordinates of its own, but lies in Harbin, which has.
    assert data["meta"]["places"] == 3 and data["meta"]["places_omitted"] == 0
    page = client.get(url("atlas:map")).content.decode()
    assert "not drawn" not in page and "cannot draw" not in page
    # A place with no coordinates anywhere above it is the only kind left out.
    PartnershipFactory(parties=[ties[0], PlaceFactory(name="Nowhere", slug="nowhere")])
    assert get_map(client)["meta"]["places_omitted"] == 1
    for language, note in [
        ("en", "1 more place takes part but has no coordinates"),
        ("da", "1 sted mere deltager, men hverken det eller noget sted"),
    ]:
        page = client.get(url("atlas:map", language)).content.decode()
        assert note in page and "the most partnerships" not in page, language


@pytest.mark.parametrize("size", [3, 30])
def test_the_map_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    for _ in range(size):
        PartnershipFactory(
            parties=[
                PlaceFactory(latitude=1, longitude=2),
                OrganisationFactory(place=PlaceFactory(latitude=3, longitude=4)),
            ]
        )
    # Without a filter, the kept counts: of places and partnerships, then of ties; where
    # the places are, a level of parents at a time (one here); the names of those shown;
    # the partnerships of lines of one, and their titles.
    with django_assert_max_num_queries(6):
        assert len(points(get_map(client))) == 2 * size
    # The page adds the filter form's choices and the facets' counts.
    with django_assert_max_num_queries(12):
        assert client.get(url("atlas:map")).status_code == 200


def test_the_map_stays_small_for_a_large_registry(client, monkeypatch):
    """At 10,000 partnerships the bench measures it; here the same generator, smaller."""
    call_command("generate_bench_data", partnerships=400, stdout=io.StringIO())
    full = client.get("/api/map/").content
    # Scale the line budget to this registry: joined up to regions, still every place.
    monkeypatch.setattr(explore, "MAX_LINES", 100)
    data = json.loads(client.get("/api/map/").content)
    assert data["meta"]["line_level"] == "region"
    assert data["meta"]["partnerships"] == 400
    assert len(points(data)) == Place.objects.filter(latitude__isnull=False).count()
    assert len(features(data, "LineString")) <= 100
    assert len(full) < 1_000_000


def test_the_map_page_lists_the_places_and_lines_without_javascript(client, ties):
    for language in ["en", "da"]:
        response = client.get(url("atlas:map", language))
        html = response.content.decode()
        assert response.status_code == 200
        assert "/static/vendor/leaflet-1.9.4/leaflet.js" in html
        # The data in the page's language, whatever the browser's Accept-Language says.
        assert f'data-src="/api/map/?lang={language}"' in html
        assert "/places/aarhus/" in html and "/partnerships/aarhus-harbin/" in html
    table = client.get(url("atlas:map", query="status=ended")).context["places"]
    assert {(row["slug"], row["count"]) for row in table} == {("aarhus", 1), ("daoli", 1)}


def test_no_page_of_the_map_or_network_carries_inline_script(client, ties):
    aarhus, _harbin, _district = ties
    pages = [
        url("atlas:map"),
        url("atlas:network"),
        url("atlas:network-place", slug="aarhus"),
        aarhus.get_absolute_url(),
        Organisation.objects.get(slug="au").get_absolute_url(),
        Partnership.objects.get(slug="aarhus-harbin").get_absolute_url(),
    ]
    for page in pages:
        html = client.get(page).content.decode()
        for script in html.split("<script")[1:]:
            opening = script.split(">", 1)[0]
            assert "src=" in opening or 'type="application/json"' in opening, (page, opening)
        assert "//cdn" not in html and "unpkg" not in html


def test_record_pages_point_their_map_and_network_at_the_record(client, ties):
    html = client.get(url("organisations:organisation-detail", slug="au")).content.decode()
    assert 'data-src="/api/map/?organisation=au&amp;lang=en"' in html
    assert 'data-focus="aarhus"' in html
    assert 'data-src="/api/network/?around=organisation%3Aau&amp;lang=en"' in html
    assert url("atlas:network-organisation", slug="au") in html


@pytest.mark.parametrize("query", ["", "?status=active"])
def test_the_api_makes_the_addresses_absolute_and_nothing_else(client, ties, query):
    """The map is kept written with the site's own addresses; the API makes each absolute
    where it stands, whatever the names and titles hold."""
    aarhus, harbin, _district = ties
    tricky = 'Aarhus "url":"/en/ and "place_url":"/x'
    Partnership.objects.filter(slug="aarhus-harbin").update(title=tricky, title_en=tricky)
    Place.objects.filter(pk=harbin.pk).update(name='Harbin "url":"/', name_en='Harbin "url":"/')
    data = get_map(client, query)
    assert data["meta"]["place_url"] == "http://testserver/en/places/{slug}/"
    found = points(data)
    assert found["aarhus"]["properties"]["url"] == "http://testserver/en/places/aarhus/"
    assert found["harbin"]["properties"]["name"] == 'Harbin "url":"/'
    line = lines(data)[frozenset(("aarhus", "harbin"))]["properties"]["partnership"]
    assert line == {
        "slug": "aarhus-harbin",
        "title": tricky,
        "title_language": "en",
        "url": "http://testserver/en/partnerships/aarhus-harbin/",
    }
    indented = client.get(f"/api/map/{query}", HTTP_ACCEPT="application/json; indent=2")
    assert json.loads(indented.content) == data and indented.content.startswith(b'{\n  "type"')
    as_json = client.get(f"/api/map/{query}{'&' if query else '?'}format=json")
    assert as_json["Content-Type"] == "application/json" and json.loads(as_json.content) == data
