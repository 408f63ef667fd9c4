"""The network page's table: the network's partnerships a page at a time, in the graph's
order, each with who takes part, so that the page stays the same size however large the
network it stands beside."""

import html
import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas import explore
from core.models import Publication
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

ROWS = re.compile(r'<tr>\n<th scope="row"><a href="[^"]*">([^<]*)</a></th>.*?</tr>', re.S)


@pytest.fixture
def network(monkeypatch):
    """Five partnerships of Ringsted (two Ringsteds: one in Denmark, one in Iowa) and
    Suzhou, the newest first, and a table of two rows a page."""
    monkeypatch.setattr(explore, "NETWORK_TABLE_ROWS", 2)
    zealand = PlaceFactory(name="Zealand", slug="zealand", kind=Place.Kind.REGION, country="DK")
    ringsted = PlaceFactory(name="Ringsted", slug="ringsted", parent=zealand, country="DK")
    iowa = PlaceFactory(name="Ringsted", slug="ringsted-iowa", country="US")
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", country="CN")
    school = OrganisationFactory(name="Ringsted School", slug="ringsted-school", place=ringsted)
    for year, parties in [
        ("2001", [ringsted, suzhou]),
        ("2002", [iowa, suzhou]),
        ("2003", [school, suzhou]),
        ("2004", [ringsted, iowa]),
        ("2005", [school, iowa, suzhou]),
    ]:
        PartnershipFactory(title=f"Tie of {year}", slug=f"tie-{year}", start=year, parties=parties)
    return zealand


def rows(response):
    assert response.status_code == 200
    return [(html.unescape(title), body) for title, body in _rows(response.content.decode())]


def _rows(body):
    table = body[body.index("<tbody>") : body.index("</tbody>")]
    return [(m.group(1), m.group(0)) for m in ROWS.finditer(table)]


def titles(response):
    return [title for title, _row in rows(response)]


def graph_titles(client, query=""):
    data = client.get(f"/api/network/{query}").json()
    return [node["label"] for node in data["nodes"] if node["type"] == "partnership"]


def test_the_table_shows_the_graphs_partnerships_a_page_at_a_time_in_its_order(client, network):
    pages = [titles(client.get(url("atlas:network", query=f"page={n}"))) for n in (1, 2, 3)]
    assert pages == [
        ["Tie of 2005", "Tie of 2004"],
        ["Tie of 2003", "Tie of 2002"],
        ["Tie of 2001"],
    ]
    assert sum(pages, []) == graph_titles(client)
    first = client.get(url("atlas:network")).content.decode()
    # The heading counts the whole network; the table says which of them it shows.
    assert "5 partnerships" in first and "Partnerships 1–2 of 5" in first
    assert 'href="?page=2#network-table" rel="next"' in first
    last = client.get(url("atlas:network", query="page=3")).content.decode()
    assert "Partnerships 5–5 of 5" in last and 'href="?page=2#network-table" rel="prev"' in last


def test_each_row_names_every_party_with_its_role_and_where_an_organisation_is(client, network):
    row = dict(rows(client.get(url("atlas:network"))))["Tie of 2005"]
    parties = re.findall(r'<li><a href="([^"]*)">([^<]*)</a>', row)
    # The two Ringsteds are two parties, each with its own address.
    assert sorted(parties) == [
        ("/en/organisations/ringsted-school/", "Ringsted School"),
        ("/en/places/ringsted-iowa/", "Ringsted"),
        ("/en/places/suzhou/", "Suzhou"),
    ]
    assert "based in Ringsted" in row
    assert 'href="/en/partnerships/tie-2005/"' in row


@pytest.mark.parametrize(
    "page, shown",
    [
        ("x", ["Tie of 2005", "Tie of 2004"]),
        ("1.5", ["Tie of 2005", "Tie of 2004"]),
        ("99", ["Tie of 2001"]),
        # As Django's ``Paginator.get_page``: a number that is no page, the last.
        ("0", ["Tie of 2001"]),
        ("-1", ["Tie of 2001"]),
    ],
)
def test_a_page_that_is_not_one_shows_the_first_or_the_last(client, network, page, shown):
    assert titles(client.get(url("atlas:network", query=f"page={page}"))) == shown


def test_the_graph_the_downloads_and_a_step_further_are_of_the_whole_network(client, network):
    body = client.get(url("atlas:network-place", slug="zealand", query="page=2")).content.decode()
    # The graph's data, the downloads and "Show one step further" name the steps.
    addresses = re.findall(r'(?:data-src|href)="([^"]*steps=[^"]*)"', body)
    assert len(addresses) == 6
    for address in addresses:
        assert "page=" not in address, address
    # Filters are kept from page to page; the page is not a filter to clear.
    filtered = client.get(url("atlas:network", query="page=2&status=active")).content.decode()
    assert 'href="?page=1&amp;status=active#network-table" rel="prev"' in filtered
    assert (
        "Clear all filters" not in client.get(url("atlas:network", query="page=2")).content.decode()
    )


def test_the_table_around_a_place_pages_through_its_network_step_by_step(client, network):
    for steps in ("1", "2"):
        query = f"steps={steps}"
        around = f"?around=place:zealand&{query}"
        graph, shown = graph_titles(client, around), []
        for page in range(1, (len(graph) + 1) // 2 + 1):
            address = url("atlas:network-place", slug="zealand", query=f"{query}&page={page}")
            shown += titles(client.get(address))
        assert shown == graph
    # One step from Zealand: what Ringsted and its school take part in, not Iowa's own.
    assert "Tie of 2002" not in graph_titles(client, "?around=place:zealand&steps=1")


def test_the_public_sees_no_draft_in_the_table_and_staff_see_theirs(client, admin_client, network):
    draft = PlaceFactory(name="Hiddenburg", slug="hiddenburg", publication=Publication.DRAFT)
    suzhou = Place.objects.get(slug="suzhou")
    PartnershipFactory(title="Tie of 2009", slug="tie-2009", start="2009", parties=[draft, suzhou])
    PartnershipFactory(
        title="Secret", slug="secret", start="2010", parties=[suzhou], publication=Publication.DRAFT
    )
    public = client.get(url("atlas:network")).content.decode()
    assert "Hiddenburg" not in public and "Secret" not in public
    assert titles(client.get(url("atlas:network")))[0] == "Tie of 2009"
    staff_rows = dict(rows(admin_client.get(url("atlas:network"))))
    assert list(staff_rows) == ["Secret", "Tie of 2009"]
    assert "Hiddenburg" in staff_rows["Tie of 2009"]


def test_the_table_is_read_in_a_fixed_number_of_queries(client, network):
    """However many parties a page's partnerships have: the parties of a page are read
    together, not for each row (8 parties on the first page, 4 on the sixth)."""
    for n in range(10):
        PartnershipFactory(
            title=f"Crowded {n}",
            slug=f"crowded-{n}",
            start="2020",
            parties=[PlaceFactory(slug=f"crowd-{n}-{m}") for m in range(4)],
        )
    with CaptureQueriesContext(connection) as few:
        client.get(url("atlas:network", query="page=6"))
    with CaptureQueriesContext(connection) as many:
        client.get(url("atlas:network"))
    assert len(many) == len(few)


def test_the_table_rows_are_those_network_would_draw(network):
    """``network_table`` and ``network`` read the same partnerships for a reader."""
    public = Partnership.objects.visible_to(AnonymousUser())
    graph = explore.network(public, limit=4)
    table = explore.network_table(public, limit=4, page="2")
    assert table.partnerships == graph.partnerships == 4 and table.truncated and graph.truncated
    in_graph = [n["label"] for n in graph.nodes.values() if n["type"] == "partnership"]
    assert [row["partnership"]["label"] for row in table.rows] == in_graph[2:4]
