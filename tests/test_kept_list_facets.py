"""The facets and counts of the place and organisation lists are kept under the places' (and
organisations') versions (``counted_from``): a write to a partnership leaves them, and
every write that changes what they count moves those versions, whatever path it takes."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from organisations.models import Organisation
from places.models import Place, PlaceName
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

LISTS = {
    "places": ("places:place-list", "places_place"),
    "organisations": ("organisations:organisation-list", "organisations_organisation"),
}


@pytest.fixture
def registry():
    """Two Suzhous (in Jiangsu and in Anhui) with a district each, a university in each,
    and Aarhus with a business association, for a partnership."""
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, parent=china)
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE, parent=china)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    other = PlaceFactory(name="Suzhou", parent=anhui)
    PlaceFactory(name="Gusu", kind=Place.Kind.DISTRICT, parent=suzhou)
    PlaceFactory(name="Yongqiao", kind=Place.Kind.DISTRICT, parent=other)
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    OrganisationFactory(name="Soochow University", place=suzhou, country="CN")
    OrganisationFactory(name="Suzhou University", place=other, country="CN")
    OrganisationFactory(
        name="Business Aarhus",
        place=aarhus,
        country="DK",
        kind=Organisation.Kind.BUSINESS_ASSOCIATION,
    )
    return {"suzhou": suzhou, "aarhus": aarhus}


def facets(kind, query="", client=None):
    """The list's facets ({facet: {value: count}}) and count as a reader gets them after a
    write (a miss), and whether counting them read the records' table."""
    name, table = LISTS[kind]
    with CaptureQueriesContext(connection) as queries:
        response = (client or Client()).get(url(name) + query)
    assert response.status_code == 200
    if client is None:
        assert response["X-Cache"] == "MISS"
    shown = {f.name: {o.value: o.count for o in f.options} for f in response.context["facets"]}
    counted = any("COUNT(" in q["sql"] and f'FROM "{table}"' in q["sql"] for q in queries)
    return shown, response.context["page_obj"].paginator.count, counted


@pytest.mark.parametrize("kind", LISTS)
@pytest.mark.parametrize("query", ["", "?q=suzhou", "?country=CN&country=DK"])
def test_a_write_to_a_partnership_keeps_them(registry, kind, query):
    before, total, counted = facets(kind, query)
    assert counted  # counted once
    PartnershipFactory(title="Suzhou and Aarhus", parties=[registry["suzhou"], registry["aarhus"]])
    after, total_after, counted = facets(kind, query)
    assert not counted
    assert (after, total_after) == (before, total)


@pytest.mark.parametrize(
    "kind, facet, write, query, before, after",
    [
        pytest.param(
            "places",
            "kind",
            lambda r: PlaceFactory(name="Kunshan", parent=r["suzhou"]),
            "",
            {"country": 1, "province": 2, "city": 3, "district": 2},
            {"country": 1, "province": 2, "city": 4, "district": 2},
            id="a place added, save",
        ),
        pytest.param(
            "places",
            "kind",
            lambda r: Place.objects.filter(name="Gusu").update(kind=Place.Kind.CITY),
            "",
            {"country": 1, "province": 2, "city": 3, "district": 2},
            {"country": 1, "province": 2, "city": 4, "district": 1},
            id="kind, update()",
        ),
        pytest.param(
            "places",
            "kind",
            lambda r: Place.objects.filter(name="Yongqiao").update(publication=Publication.DRAFT),
            "",
            {"country": 1, "province": 2, "city": 3, "district": 2},
            {"country": 1, "province": 2, "city": 3, "district": 1},
            id="made a draft, update()",
        ),
        pytest.param(
            "places",
            "kind",
            lambda r: PlaceName.objects.create(place=r["suzhou"], name="Gusucheng"),
            "?parent=gusucheng",
            {},
            {"district": 1},
            id="a name of the place they lie in, save",
        ),
        pytest.param(
            "places",
            "kind",
            lambda r: Place.objects.filter(name="Aarhus").update(name_en="Aros"),
            "?q=aros",
            {},
            {"city": 1},
            id="renamed, update()",
        ),
        pytest.param(
            "organisations",
            "country",
            lambda r: OrganisationFactory(name="Xi'an Jiaotong-Liverpool University", country="CN"),
            "",
            {"CN": 2, "DK": 1},
            {"CN": 3, "DK": 1},
            id="an organisation added, save",
        ),
        pytest.param(
            "organisations",
            "country",
            lambda r: Organisation.objects.filter(name="Suzhou University").update(country="DK"),
            "",
            {"CN": 2, "DK": 1},
            {"CN": 1, "DK": 2},
            id="country, update()",
        ),
        pytest.param(
            "organisations",
            "country",
            lambda r: PlaceName.objects.create(place=r["suzhou"], name="Gusucheng"),
            "?place=gusucheng",
            {},
            {"CN": 1},
            id="a name of the place it is based in, save",
        ),
        pytest.param(
            "organisations",
            "country",
            lambda r: Place.objects.filter(name="Aarhus").update(parent=r["suzhou"]),
            "?place=suzhou",
            {"CN": 2},
            {"CN": 2, "DK": 1},
            id="the place it is based in moved, update()",
        ),
    ],
)
def test_a_write_moves_the_list(registry, kind, facet, write, query, before, after):
    assert facets(kind, query)[0].get(facet, {}) == before
    write(registry)
    shown, total, _counted = facets(kind, query)
    assert shown.get(facet, {}) == after
    assert total == sum(after.values())


def test_staff_see_the_drafts_counted(registry, admin_client):
    facets("places")  # the public's kept
    PlaceFactory(name="Kunshan", publication=Publication.DRAFT)
    PartnershipFactory(parties=[registry["suzhou"], registry["aarhus"]])
    public, _total, _counted = facets("places")
    staff, _total, _counted = facets("places", client=admin_client)
    assert public["kind"]["city"] == 3
    assert staff["kind"]["city"] == 4
