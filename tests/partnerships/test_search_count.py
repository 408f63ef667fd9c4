"""A search alone counts its matches, and their facets, from the ids it found: no COUNT of
partnerships, and the facets read the kept lines of those ids. The public never counts a
draft or a partnership ready for review among them; staff count every one."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from partnerships.filters import PartnershipFilter
from partnerships.models import Partnership
from tests.factories import PartnershipFactory, PlaceFactory, UserFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

SISTER, COOPERATION = Partnership.Kind.SISTER_CITY, Partnership.Kind.COOPERATION


@pytest.fixture
def registry():
    """23 published ties of Wuxi (12 sister cities, 11 cooperations, 5 of them ended), a
    draft and one ready for review, and ties that have nothing to do with Wuxi."""
    wuxi = PlaceFactory(name="Wuxi", country="CN")
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    harbin = PlaceFactory(name="Harbin", country="CN")
    for number in range(23):
        PartnershipFactory(
            title=f"Tie {number:02}",
            kind=SISTER if number % 2 == 0 else COOPERATION,
            status=Partnership.Status.ENDED if number < 5 else Partnership.Status.ACTIVE,
            parties=[wuxi, aarhus],
        )
    PartnershipFactory(
        title="Wuxi draft", kind=SISTER, parties=[wuxi, harbin], publication=Publication.DRAFT
    )
    PartnershipFactory(
        title="Almost", kind=SISTER, parties=[harbin, wuxi], publication=Publication.READY
    )
    for number in range(3):
        PartnershipFactory(title=f"Elsewhere {number}", kind=SISTER, parties=[aarhus, harbin])


def visit(client, address):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address)
    assert response.status_code == 200
    counted = [
        query["sql"]
        for query in queries
        if query["sql"].startswith('SELECT COUNT(*) AS "__count" FROM "partnerships_partnership"')
    ]
    return response, counted


def facet(response, name):
    (found,) = [facet for facet in response.context["facets"] if facet.name == name]
    return {option.value: option.count for option in found.options}


def partnerships_section(response):
    (section,) = [
        result for result in response.context["results"] if result["section"].key == "partnerships"
    ]
    return section


@pytest.mark.parametrize("staff", [False, True])
def test_a_search_counts_its_matches_and_their_facets_from_the_ids_it_found(
    client, registry, staff
):
    if staff:
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    hidden = 2 if staff else 0  # the draft and the one ready for review, sister cities both

    response, counted = visit(client, url("partnerships:partnership-list", query="q=wuxi"))
    assert counted == []
    assert response.context["paginator"].count == 23 + hidden
    assert facet(response, "kind") == {SISTER: 12 + hidden, COOPERATION: 11}
    assert facet(response, "status") == {"ended": 5, "active": 18 + hidden}
    assert facet(response, "country") == {"CN": 23 + hidden, "DK": 23}

    second, counted = visit(client, url("partnerships:partnership-list", query="q=wuxi&page=2"))
    assert counted == []
    titles = [p.title for p in response.context["object_list"]]
    titles += [p.title for p in second.context["object_list"]]
    assert len(titles) == len(set(titles)) == 23 + hidden
    assert not any(title.startswith("Elsewhere") for title in titles)

    page, counted = visit(client, url("search", query="q=wuxi"))
    assert counted == []
    assert partnerships_section(page)["count"] == 23 + hidden
    assert facet(page, "kind") == {SISTER: 12 + hidden, COOPERATION: 11}


def test_a_search_with_other_filters_or_many_drafts_is_counted_from_its_kind_facet(
    client, registry, monkeypatch
):
    # Another filter chosen: the kind facet's counts, for the chosen kinds or all of them.
    for query, expected in [
        ("q=wuxi&status=ended", 5),
        ("q=wuxi&kind=cooperation", 11),
        ("q=wuxi&kind=cooperation&kind=sister_city&kind=cooperation", 23),
        ("q=wuxi&status=active&kind=sister_city", 9),
    ]:
        response, counted = visit(client, url("partnerships:partnership-list", query=query))
        assert counted == [], query
        assert response.context["paginator"].count == expected, query
        shown = len(response.context["object_list"])
        assert shown == min(expected, 20), query

    # More drafts than are read by id: the same numbers, from the kind facet.
    monkeypatch.setattr(PartnershipFilter, "FEW_UNPUBLISHED", 1)
    response, counted = visit(client, url("partnerships:partnership-list", query="q=wuxi"))
    assert counted == []
    assert response.context["paginator"].count == 23
    assert facet(response, "kind") == {SISTER: 12, COOPERATION: 11}
    page, counted = visit(client, url("search", query="q=wuxi"))
    assert counted == []
    assert partnerships_section(page)["count"] == 23


def test_a_search_after_a_draft_is_published_counts_it(client, registry):
    draft = Partnership.objects.get(title="Wuxi draft")
    draft.publication = Publication.PUBLISHED
    draft.save()
    response, counted = visit(client, url("partnerships:partnership-list", query="q=wuxi"))
    assert counted == []
    assert response.context["paginator"].count == 24
    assert facet(response, "kind") == {SISTER: 13, COOPERATION: 11}


def test_a_search_box_of_punctuation_alone_counts_every_partnership(client, registry):
    response, counted = visit(client, url("partnerships:partnership-list", query="q=%21%21+-"))
    assert counted == []
    assert response.context["paginator"].count == 23 + 3
    assert facet(response, "kind") == {SISTER: 12 + 3, COOPERATION: 11}
