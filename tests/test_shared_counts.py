"""What counts or draws the whole registry is computed once per registry version and
shared by every page and language that shows it (``core.cache.per_version``), never older
than the registry and never shared between what staff and the public may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas import explore
from core.cache import per_version
from core.models import Publication
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


@pytest.fixture
def registry():
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", country="DK", latitude=56, longitude=10)
    harbin = PlaceFactory(name="Harbin", slug="harbin", country="CN", latitude=45, longitude=126)
    university = OrganisationFactory(name="Aarhus University", slug="au", country="DK")
    PartnershipFactory(slug="aarhus-harbin", status="active", parties=[aarhus, harbin])
    PartnershipFactory(slug="au-harbin", status="ended", parties=[university, harbin])
    return aarhus, harbin


def get(client, address):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200, address
    assert response["X-Cache"] == "MISS", address
    return response, [query["sql"] for query in queries]


def counted(sql):
    """The queries that count participants or group partnerships: the whole-registry ones."""
    return [query for query in sql if "GROUP BY" in query]


def facet(response, name):
    found = {facet.name: facet for facet in response.context["facets"]}
    return {option.value: option.count for option in found[name].options}


# Filters every partnership passes: the facets without any filter are not counted at
# all, but kept by the writes (tests/partnerships/test_facet_counts.py), and so are those
# of kinds and statuses alone, of one filter alone that leaves out few, or with a value
# every partnership has (country=CN here). Harbin's ties are tested for, and counted.
FILTERED = "?kind=cooperation_agreement&place=harbin"


def test_the_facets_are_counted_once_for_every_page_and_language(client, registry):
    english, sql = get(client, "/en/partnerships/" + FILTERED)
    assert counted(sql)
    danish, sql = get(client, "/da/partnerships/" + FILTERED)
    assert counted(sql) == []
    assert facet(danish, "country") == facet(english, "country") == {"CN": 2, "DK": 2}
    # The map and the network show the same filters' facets.
    for page in ["/en/map/", "/da/network/"]:
        response, sql = get(client, page + FILTERED)
        assert not [query for query in counted(sql) if "COUNT(DISTINCT" in query], page
        assert facet(response, "status") == {"active": 1, "ended": 1}


def test_other_filters_are_counted_apart(client, registry):
    get(client, "/en/partnerships/")
    active, sql = get(client, "/en/partnerships/?status=active&place=harbin")
    assert counted(sql)
    assert facet(active, "country") == {"CN": 1, "DK": 1}


def test_a_write_is_counted_at_once(client, registry):
    _aarhus, harbin = registry
    get(client, "/en/partnerships/" + FILTERED)
    get(client, "/en/partnerships/")
    PartnershipFactory(slug="new", status="planned", parties=[harbin])
    response, sql = get(client, "/da/partnerships/" + FILTERED)
    assert counted(sql)
    assert facet(response, "country") == {"CN": 3, "DK": 2}
    assert facet(response, "status")["planned"] == 1
    response, sql = get(client, "/da/partnerships/")
    assert counted(sql) == []
    assert facet(response, "country") == {"CN": 3, "DK": 2}


def test_staff_counts_with_drafts_never_reach_the_public(client, registry):
    _aarhus, harbin = registry
    PartnershipFactory(slug="draft", publication=Publication.DRAFT, parties=[harbin])
    staff = client.__class__()
    staff.force_login(UserFactory(is_staff=True, is_superuser=True))
    # Staff count first: their counts hold the draft, under the same registry version.
    with CaptureQueriesContext(connection):
        response = staff.get("/en/partnerships/")
    assert facet(response, "country")["CN"] == 3
    public, _sql = get(client, "/en/partnerships/")
    assert facet(public, "country")["CN"] == 2
    home, _sql = get(client, "/en/")
    assert home.context["counts"]["partnerships"] == 2


def test_the_home_page_counts_nothing_and_once_for_both_languages(client, registry):
    # Kinds by status and the chart are kept by the writes; places and organisations
    # are counted once per version.
    english, sql = get(client, "/en/")
    assert counted(sql) == []
    assert [query for query in sql if "COUNT(*)" in query]
    danish, sql = get(client, "/da/")
    assert not [query for query in sql if "COUNT(" in query]
    assert danish.context["counts"] == english.context["counts"]
    assert danish.context["by_kind"] == english.context["by_kind"]
    Partnership.objects.filter(slug="au-harbin").update(status="active")
    after, sql = get(client, "/da/")
    assert counted(sql) == []
    statuses = {status: count for row in after.context["by_kind"] for status, count in row["cells"]}
    assert statuses["active"] == 2 and statuses["ended"] == 0


def test_the_map_is_drawn_once_per_version_and_language(
    client, registry, django_assert_num_queries
):
    partnerships = Partnership.objects.published()
    first = explore.map_data(partnerships)
    # The map's and places' versions (a page reads them with the registry's, in its one
    # query): the names of the partnerships its lines of one partnership name are kept
    # with it, since renaming one moves the map version (tests/explore/test_map_current.py).
    with django_assert_num_queries(1):
        assert explore.map_data(partnerships) == first
    Place.objects.filter(slug="aarhus").update(latitude=50)
    moved = explore.map_data(partnerships)
    aarhus = next(f for f in moved["features"] if f.get("id") == "place:aarhus")
    assert aarhus["geometry"]["coordinates"] == [10.0, 50.0]


def test_the_map_page_lists_what_the_api_draws_and_writes_no_feature(client, registry, monkeypatch):
    """The page and the API each draw the map (``explore.map_drawing``, ``map_geojson``):
    the page lists the places and lines the API draws, with the site's own addresses, and
    writes none of the features, which the browser reads from the API."""
    written = []
    for name in ("point", "line"):
        writes = getattr(explore._Pieces, name)

        def writing(pieces, *args, name=name, writes=writes):
            written.append(name)
            return writes(pieces, *args)

        monkeypatch.setattr(explore._Pieces, name, writing)
    page = client.get("/en/map/")
    assert page.status_code == 200
    assert written == []
    data = client.get("/api/map/?lang=en").json()
    assert sorted(set(written)) == ["line", "point"]
    features = {"Point": [], "LineString": []}
    for feature in data["features"]:
        features[feature["geometry"]["type"]].append(own_addresses(feature["properties"]))
    assert page.context["places"] == features["Point"]
    assert page.context["lines"] == features["LineString"]
    assert any("partnership" in line for line in page.context["lines"])
    assert page.context["meta"] == own_addresses(data["meta"])
    # The API's addresses are absolute, as the request names the site.
    aarhus = next(f for f in data["features"] if f.get("id") == "place:aarhus")
    assert aarhus["properties"]["url"] == "http://testserver/en/places/aarhus/"
    assert data["meta"]["place_url"] == "http://testserver/en/places/{slug}/"
    kept = explore.map_data(Partnership.objects.published())
    assert kept["meta"]["place_url"] == "/en/places/{slug}/"
    line = next(f for f in data["features"] if "partnership" in f["properties"])
    assert line["properties"]["partnership"]["url"].startswith("http://testserver/en/")


def own_addresses(value):
    """``value`` with the API's absolute addresses as the site's own."""
    if isinstance(value, dict):
        return {key: own_addresses(item) for key, item in value.items()}
    if isinstance(value, str):
        return value.removeprefix("http://testserver")
    return value


def test_without_the_page_cache_nothing_is_kept(client, registry, settings):
    settings.ATLAS_CACHE_PAGES = False
    partnerships = Partnership.objects.published()
    with CaptureQueriesContext(connection) as queries:
        explore.map_data(partnerships)
        explore.map_data(partnerships)
    assert not [query["sql"] for query in queries if "registry_version" in query["sql"]]
    assert len(queries) >= 4


def test_a_value_is_kept_for_the_records_whatever_their_order_or_columns(registry):
    computed = []

    def compute():
        computed.append(True)
        return len(computed)

    active = Partnership.objects.filter(status="active")
    assert per_version("test", [active], compute) == 1
    assert per_version("test", [active.order_by("-pk").only("slug")], compute) == 1
    assert per_version("test", [Partnership.objects.filter(status="ended")], compute) == 2
    assert per_version("test", [Partnership.objects.none()], compute) == 3
    assert per_version("test", [Place.objects.none()], compute) == 4
    assert per_version("test", [Place.objects.none()], compute) == 4
