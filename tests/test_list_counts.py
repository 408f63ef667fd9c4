"""A list's number of results comes from its kind facet, counted for the page anyway: every
record has one kind, so the counts of the kinds add up to the records the list holds (of
the chosen kinds, when some are chosen). No COUNT; the same number a COUNT gives."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from organisations.models import Organisation
from places.models import Place
from tests.factories import OrganisationFactory, PlaceFactory, UserFactory
from tests.pages import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    """Places and organisations of several kinds and countries, two Ringsteds among them,
    and a draft of each (a Danish city, a Danish university)."""
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    usa = PlaceFactory(name="United States", kind=Place.Kind.COUNTRY, country="US")
    for number in range(23):
        PlaceFactory(
            name=f"Town {number:02}",
            kind=Place.Kind.CITY if number % 2 else Place.Kind.MUNICIPALITY,
            country="DK",
            parent=denmark,
        )
    ringsted = PlaceFactory(name="Ringsted", kind=Place.Kind.MUNICIPALITY, parent=denmark)
    PlaceFactory(name="Ringsted", kind=Place.Kind.CITY, country="US", parent=usa)
    PlaceFactory(name="Draft town", parent=denmark, publication=Publication.DRAFT)
    for number in range(22):
        OrganisationFactory(
            name=f"Body {number:02}",
            kind=Organisation.Kind.UNIVERSITY if number % 3 else Organisation.Kind.COMPANY,
            place=ringsted if number < 4 else None,
            country="DK" if number % 2 else "CN",
        )
    OrganisationFactory(name="Draft body", publication=Publication.DRAFT)


def listed(client, name, query):
    """The list's number of results, checked against a COUNT and against every page."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url(name, query=query))
    assert response.status_code == 200
    counts = [
        sql["sql"] for sql in queries if sql["sql"].startswith('SELECT COUNT(*) AS "__count"')
    ]
    assert counts == [], query
    paginator = response.context["paginator"]
    assert paginator.count == response.context["filter"].qs.count(), query
    return paginator.count


@pytest.mark.parametrize(
    "name, query, public, staff",
    [
        ("places:place-list", "", 27, 28),
        ("places:place-list", "kind=city", 12, 13),
        ("places:place-list", "kind=city&kind=municipality&kind=city", 25, 26),
        ("places:place-list", "country=US", 2, 2),
        ("places:place-list", "q=ringsted", 2, 2),
        ("places:place-list", "q=ringsted&kind=city", 1, 1),
        ("places:place-list", "parent=denmark&kind=municipality", 13, 13),
        ("places:place-list", "kind=region", 0, 0),
        ("organisations:organisation-list", "", 22, 23),
        ("organisations:organisation-list", "kind=company", 8, 8),
        ("organisations:organisation-list", "country=DK&kind=university", 7, 8),
        ("organisations:organisation-list", "place=ringsted", 4, 4),
        ("organisations:organisation-list", "q=body+1", 12, 12),
    ],
)
def test_a_list_counts_its_results_from_its_kind_facet(
    client, registry, name, query, public, staff
):
    assert listed(client, name, query) == public
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert listed(client, name, query) == staff


def test_a_list_with_a_bad_filter_shows_nothing_and_counts_nothing(client, registry):
    response = client.get(url("places:place-list", query="kind=bogus"))
    assert response.status_code == 200
    assert response.context["paginator"].count == 0
    assert "Select a valid choice" in response.content.decode()
