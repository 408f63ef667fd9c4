import csv
import io

import networkx
import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.test import Client

from atlas import explore
from core.models import Publication
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory, UserFactory
from tests.pages import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def ties():
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind=Place.Kind.PROVINCE)
    wuxi = PlaceFactory(name="Wuxi", slug="wuxi", parent=jiangsu)
    ballerup = PlaceFactory(name="Ballerup", slug="ballerup", country="DK")
    bycirklen = OrganisationFactory(name="Bycirklen", slug="bycirklen", place=ballerup)
    harbin = PlaceFactory(name="Harbin", slug="harbin")
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", country="DK")
    PartnershipFactory(
        title="Bycirklen–Wuxi", slug="bycirklen-wuxi", start="2007", parties=[bycirklen, wuxi]
    )
    PartnershipFactory(
        title="Ballerup–Harbin",
        slug="ballerup-harbin",
        status="ended",
        start="1990",
        end="2001",
        parties=[ballerup, harbin],
    )
    PartnershipFactory(title="Aarhus–Harbin", slug="aarhus-harbin", parties=[aarhus, harbin])
    return jiangsu


def get_network(client, query=""):
    response = client.get(f"/api/network/{query}")
    assert response.status_code == 200, response.content
    return response.json()


def ids(data):
    return {node["id"] for node in data["nodes"]}


def test_the_network_of_an_organisation_is_its_partnerships_partners_and_their_places(client, ties):
    data = get_network(client, "?around=organisation:bycirklen")
    assert ids(data) == {
        "organisation:bycirklen",
        "partnership:bycirklen-wuxi",
        "place:wuxi",
        "place:ballerup",
    }
    edges = {(e["source"], e["relation"], e["target"]): e for e in data["edges"]}
    tie = edges[("place:wuxi", "participant", "partnership:bycirklen-wuxi")]
    assert (tie["kind"], tie["status"], tie["start"], tie["end"]) == (
        "cooperation_agreement",
        "active",
        "2007",
        "",
    )
    assert ("organisation:bycirklen", "based_in", "place:ballerup") in edges
    assert data["meta"]["around"] == "organisation:bycirklen"
    node = next(n for n in data["nodes"] if n["id"] == "place:wuxi")
    assert node["url"].endswith("/en/places/wuxi/")


def test_each_step_adds_the_partnerships_of_the_parties_found(client, ties):
    one = get_network(client, "?around=organisation:bycirklen&steps=2")
    # Ballerup is only where Bycirklen is based, not a party: nothing more.
    assert one["meta"]["partnerships"] == 1
    start = get_network(client, "?around=place:aarhus")
    assert ids(start) == {"place:aarhus", "partnership:aarhus-harbin", "place:harbin"}
    further = get_network(client, "?around=place:aarhus&steps=2")
    assert "partnership:ballerup-harbin" in ids(further)
    assert "place:ballerup" in ids(further)
    # From the second step on, a place brings its own partnerships, not those of the
    # organisations based there (its page would): Bycirklen's tie stays out.
    assert "partnership:bycirklen-wuxi" not in ids(
        get_network(client, "?around=place:aarhus&steps=3")
    )
    # The filters hold at every step.
    active = get_network(client, "?around=place:aarhus&steps=3&status=active")
    assert "partnership:ballerup-harbin" not in ids(active)


def test_a_place_starts_with_its_sub_places_hung_from_it(client, ties):
    data = get_network(client, "?around=place:jiangsu")
    assert "partnership:bycirklen-wuxi" in ids(data)
    assert {"source": "place:wuxi", "target": "place:jiangsu", "relation": "part_of"}.items() <= {
        k: v for e in data["edges"] if e["relation"] == "part_of" for k, v in e.items()
    }.items()


def test_a_place_starts_with_every_tie_within_it_at_any_depth(client, editor, ties):
    jiangsu = ties
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", parent=jiangsu)
    gusu = PlaceFactory(name="Gusu", slug="gusu", parent=suzhou)
    institute = OrganisationFactory(name="Gusu Institute", slug="gusu-institute", place=gusu)
    ringsted = PlaceFactory(name="Ringsted", slug="ringsted", country="DK")
    PartnershipFactory(title="Ringsted–Gusu", slug="by-institute", parties=[institute, ringsted])
    PartnershipFactory(
        title="Draft", slug="draft", parties=[gusu, ringsted], publication=Publication.DRAFT
    )
    # Another Suzhou, elsewhere: its tie is not Jiangsu's.
    PartnershipFactory(slug="elsewhere", parties=[PlaceFactory(name="Suzhou"), ringsted])

    def partnerships(client):
        data = get_network(client, "?around=place:jiangsu")
        return {n["id"] for n in data["nodes"] if n["type"] == "partnership"}

    public = {"partnership:bycirklen-wuxi", "partnership:by-institute"}
    assert partnerships(client) == public
    staff = Client()
    staff.force_login(editor)
    assert partnerships(staff) == public | {"partnership:draft"}
    # Moved out of Jiangsu, the institute's tie goes with it.
    institute.place = ringsted
    institute.save()
    assert partnerships(client) == {"partnership:bycirklen-wuxi"}


def test_a_partnership_starts_with_its_participants(client, ties):
    data = get_network(client, "?around=partnership:ballerup-harbin")
    assert ids(data) == {"partnership:ballerup-harbin", "place:ballerup", "place:harbin"}
    further = get_network(client, "?around=partnership:ballerup-harbin&steps=2")
    assert ids(further) - ids(data) == {"partnership:aarhus-harbin", "place:aarhus"}


def test_the_registry_network_takes_the_lists_filters_and_a_limit(client, ties, monkeypatch):
    everything = get_network(client)
    assert everything["meta"]["partnerships"] == 3 and not everything["meta"]["truncated"]
    ended = get_network(client, "?status=ended")
    assert {n["id"] for n in ended["nodes"] if n["type"] == "partnership"} == {
        "partnership:ballerup-harbin"
    }
    monkeypatch.setattr(explore, "NETWORK_LIMIT", 2)
    limited = get_network(client)
    assert limited["meta"]["partnerships"] == 2 and limited["meta"]["truncated"]
    page = client.get(url("atlas:network"))
    assert len(page.context["rows"]) == 2 and "Showing the newest 2" in page.content.decode()
    # The downloads have no limit.
    assert download(client, "nodes").count("partnership:") == 3


@pytest.mark.parametrize(
    "language, labels",
    [
        ("en", {"city", "university", "cooperation agreement", "ended", "active", "partner"}),
        ("da", {"by", "universitet", "samarbejdsaftale", "afsluttet", "aktiv", "partner"}),
    ],
)
def test_the_graphs_labels_are_in_the_readers_language(client, ties, language, labels):
    # Translated once per graph, not once per node: each in the language of the request,
    # whichever was asked first in the same worker.
    for first in ("da", "en"):
        client.get("/api/network/", HTTP_ACCEPT_LANGUAGE=first)
    response = client.get("/api/network/?lang=" + language)
    data = response.json()
    nodes = {node["id"]: node for node in data["nodes"]}
    edges = [edge for edge in data["edges"] if edge["relation"] == "participant"]
    shown = {
        nodes["place:wuxi"]["kind_label"],
        nodes["organisation:bycirklen"]["kind_label"],
        nodes["partnership:bycirklen-wuxi"]["kind_label"],
        nodes["partnership:ballerup-harbin"]["status_label"],
        nodes["partnership:aarhus-harbin"]["status_label"],
        *(edge["role_label"] for edge in edges),
    }
    assert shown == labels


@pytest.mark.parametrize(
    "query, field",
    [
        ("?around=place:atlantis", "around"),
        ("?around=wuxi", "around"),
        ("?around=planet:earth", "around"),
        ("?around=place:wuxi&steps=4", "steps"),
        ("?around=place:wuxi&steps=two", "steps"),
        ("?kind=spaceship", "kind"),
    ],
)
def test_bad_values_get_a_clear_400(client, ties, query, field):
    response = client.get(f"/api/network/{query}")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("size", [3, 30])
def test_the_network_runs_a_fixed_number_of_queries(client, django_assert_max_num_queries, size):
    hub = PlaceFactory(slug="hub")
    for _ in range(size):
        PartnershipFactory(parties=[hub, OrganisationFactory(place=PlaceFactory())])
    # Without ``around``, the newest are read as the dated, then the undated (``_newest``).
    with django_assert_max_num_queries(6):
        assert get_network(client)["meta"]["partnerships"] == size
    with django_assert_max_num_queries(9):
        assert get_network(client, "?around=place:hub&steps=3")["meta"]["partnerships"] == size
    with django_assert_max_num_queries(15):
        assert client.get(url("atlas:network")).status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(url("atlas:network-gexf")).status_code == 200


def download(client, name, query=""):
    response = client.get(url(f"atlas:network-{name}", query=query))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    if response.streaming:  # the XML, sent as it is written
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def expected(client, query=""):
    data = get_network(client, query)
    return ids(data), {(e["source"], e["target"]) for e in data["edges"]}


@pytest.mark.parametrize("query", ["", "around=place:aarhus&steps=2"])
def test_gexf_and_graphml_read_back_with_the_same_nodes_and_edges(client, ties, query):
    nodes, edges = expected(client, f"?{query}")
    for name, reader in [("gexf", networkx.read_gexf), ("graphml", networkx.read_graphml)]:
        graph = reader(io.BytesIO(download(client, name, query).encode()))
        assert set(graph.nodes) == nodes, name
        assert set(graph.edges) == edges, name
    gexf = networkx.read_gexf(io.BytesIO(download(client, "gexf", query).encode()))
    if "place:harbin" in nodes:
        assert gexf.nodes["place:harbin"]["label"] == "Harbin"
    graphml = networkx.read_graphml(io.BytesIO(download(client, "graphml").encode()))
    tie = graphml.edges["place:ballerup", "partnership:ballerup-harbin"]
    assert (tie["status"], tie["start"], tie["end"]) == ("ended", "1990", "2001")


def test_csv_node_and_edge_lists_are_formula_safe(client, ties):
    PartnershipFactory(
        title='=HYPERLINK("http://evil")',
        slug="evil",
        parties=[PlaceFactory(name="+Plus", slug="plus"), PlaceFactory(slug="other")],
    )
    nodes_text = download(client, "nodes")
    assert nodes_text.startswith("\ufeff")
    nodes = list(csv.DictReader(io.StringIO(nodes_text.lstrip("\ufeff"))))
    labels = {row["id"]: row["label"] for row in nodes}
    assert labels["partnership:evil"] == '\'=HYPERLINK("http://evil")'
    assert labels["place:plus"] == "'+Plus"
    edges = list(csv.DictReader(io.StringIO(download(client, "edges").lstrip("\ufeff"))))
    nodes_set, edges_set = expected(client)
    assert {row["id"] for row in nodes} == nodes_set
    assert {(row["source"], row["target"]) for row in edges} == edges_set


def test_downloads_refuse_bad_values_with_a_message(client, ties):
    response = client.get(url("atlas:network-gexf", query="around=place:atlantis"))
    assert response.status_code == 400
    assert "place:SLUG" in response.content.decode()
    assert client.get(url("atlas:network-edges", query="status=sleeping")).status_code == 400


def test_the_network_page_lists_every_partnership_and_party(client, ties):
    response = client.get(url("atlas:network-place", slug="aarhus", query="steps=2"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Network of Aarhus" in html
    for link in ["/en/partnerships/aarhus-harbin/", "/en/partnerships/ballerup-harbin/"]:
        assert link in html
    assert "steps=3" in html  # one step further, as a plain link
    assert 'data-src="/api/network/?steps=2&amp;around=place%3Aaarhus&amp;lang=en"' in html
    assert (
        url("atlas:network-gexf", query="steps=2&around=place%3Aaarhus").replace("&", "&amp;")
        in html
    )
    assert client.get(url("atlas:network-place", slug="atlantis")).status_code == 404
    bad = client.get(url("atlas:network", query="steps=99"))
    assert bad.status_code == 200 and "from 1 to 3" in bad.content.decode()
    danish = client.get(url("atlas:network-place", "da", slug="aarhus")).content.decode()
    assert "/da/partnerships/aarhus-harbin/" in danish


@pytest.mark.parametrize(
    "limit, newest",
    [
        (1, ["2020"]),
        (2, ["2020", "2010s"]),
        (3, ["2020", "2010s", "undated first"]),
        (9, ["2020", "2010s", "undated first", "undated second"]),
    ],
)
def test_the_registry_network_shows_the_latest_to_start_then_the_undated(
    client, monkeypatch, limit, newest
):
    # Read as the dated, then the undated: the order must be one, with the limit across.
    place = PlaceFactory()
    for title, start in [
        ("undated first", ""),
        ("2010s", "2010s"),
        ("undated second", ""),
        ("2020", "2020-05"),
    ]:
        PartnershipFactory(title=title, start=start, parties=[place])
    monkeypatch.setattr(explore, "NETWORK_LIMIT", limit)
    data = get_network(client)
    shown = [node["label"] for node in data["nodes"] if node["type"] == "partnership"]
    assert shown == newest
    assert data["meta"]["truncated"] == (limit < 4)


def test_each_reader_sees_the_draft_parties_they_may_see(ties, editor):
    """The public sees no draft party; staff who may see draft places but not draft
    organisations see those places alone; an editor sees both."""
    harbin = Place.objects.get(slug="harbin")
    place = PlaceFactory(name="Draft place", slug="draft-place", publication=Publication.DRAFT)
    organisation = OrganisationFactory(
        name="Draft org", slug="draft-org", place=harbin, publication=Publication.DRAFT
    )
    PartnershipFactory(slug="with-drafts", parties=[harbin, place, organisation])
    places_only = UserFactory(is_staff=True)
    for codename in ("view_place", "view_partnership"):
        places_only.user_permissions.add(Permission.objects.get(codename=codename))
    places_only = type(places_only).objects.get(pk=places_only.pk)

    def drafts(user):
        graph = explore.network(Partnership.objects.visible_to(user), limit=300, user=user)
        return {
            node for node in graph.nodes if node in {"place:draft-place", "organisation:draft-org"}
        }

    assert drafts(AnonymousUser()) == set()
    assert drafts(places_only) == {"place:draft-place"}
    assert drafts(editor) == {"place:draft-place", "organisation:draft-org"}
