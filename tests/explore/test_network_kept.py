"""The network's graph (``/api/network/``) and its page's table, kept for the public under
the revisions of their partnerships and the places' and organisations' versions
(``atlas.explore._kept``): never stale, whatever path writes, and kept across writes to
other partnerships.

Each write path: the graph around a province and the page's table around it are built
and kept; the write; the next reader gets the new content in both, though the page cache
and the kept graph of other partnerships outlive it.
"""

import gzip
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from atlas import explore
from core import middleware
from partnerships.models import Participant, Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.test_admin_layout import second_party_made

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

GRAPH = "/api/network/?around=place:jiangsu"
TABLE = "/en/network/place/jiangsu/"


@pytest.fixture
def parties():
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind=Place.Kind.PROVINCE, country="CN")
    return {
        "jiangsu": jiangsu,
        # Two Suzhous: the one in Jiangsu takes part, the one in Anhui never does.
        "suzhou": PlaceFactory(name="Suzhou", slug="suzhou", parent=jiangsu, country="CN"),
        "other-suzhou": PlaceFactory(name="Suzhou", slug="suzhou-anhui", country="CN"),
        "aarhus": PlaceFactory(name="Aarhus", slug="aarhus", kind="municipality", country="DK"),
        "ringsted": PlaceFactory(name="Ringsted", slug="ringsted", country="DK"),
        "university": OrganisationFactory(name="Aarhus University", slug="au", country="DK"),
    }


@pytest.fixture
def tie(parties):
    return PartnershipFactory(
        title="Suzhou–Aarhus sister city",
        slug="suzhou-aarhus",
        kind=Partnership.Kind.SISTER_CITY,
        parties=[parties["suzhou"], parties["aarhus"]],
    )


@pytest.fixture
def other(parties):
    """A partnership outside Jiangsu: in neither the graph nor the table."""
    return PartnershipFactory(
        title="Ringsted–Suzhou (Anhui) cooperation",
        kind=Partnership.Kind.COOPERATION,
        parties=[parties["ringsted"], parties["other-suzhou"]],
    )


def shown(client):
    """The graph around Jiangsu and its table as a reader gets them: built, not served
    from the page cache. The graph as {node id: label} and its participants' edges; the
    table as its rows' text."""
    api = client.get(GRAPH)
    assert api["X-Cache"] == "MISS"
    data = api.json()
    nodes = {node["id"]: node["label"] for node in data["nodes"]}
    edges = sorted(
        (edge["source"], edge["target"], edge["role"])
        for edge in data["edges"]
        if edge["relation"] == "participant"
    )
    page = client.get(TABLE)
    assert page["X-Cache"] == "MISS"
    # No table at all when there is nothing to list.
    table = "".join(re.findall(r"<tbody.*?</tbody>", page.content.decode(), flags=re.DOTALL))
    return nodes, edges, re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))


@pytest.fixture
def reader(tie, other):
    """An anonymous reader who has had the graph and the table built and kept."""
    reader = Client()
    reader.kept = shown(reader)
    return reader


def test_what_is_kept_is_what_was_built(reader, tie):
    nodes, edges, table = reader.kept
    assert nodes["partnership:suzhou-aarhus"] == "Suzhou–Aarhus sister city"
    assert ("place:aarhus", "partnership:suzhou-aarhus", "partner") in edges
    assert "place:ringsted" not in nodes and "place:suzhou-anhui" not in nodes
    assert "Suzhou–Aarhus sister city" in table and "Aarhus" in table


# Writes to a partnership's own columns ------------------------------------------------------


def test_a_save(reader, tie):
    tie.title = "Suzhou–Aarhus twin city"
    tie.save()
    nodes, _edges, table = shown(reader)
    assert nodes["partnership:suzhou-aarhus"] == "Suzhou–Aarhus twin city"
    assert "Suzhou–Aarhus twin city" in table


def test_an_update_and_a_bulk_update(reader, tie):
    Partnership.objects.filter(pk=tie.pk).update(title_en="Renamed by update")
    nodes, _edges, table = shown(reader)
    assert nodes["partnership:suzhou-aarhus"] == "Renamed by update"
    assert "Renamed by update" in table
    tie.refresh_from_db()
    tie.title_en = "Renamed in bulk"
    Partnership.objects.bulk_update([tie], ["title_en"])
    assert shown(reader)[0]["partnership:suzhou-aarhus"] == "Renamed in bulk"


def test_a_partnership_unpublished_and_one_added(reader, tie, parties):
    Partnership.objects.filter(pk=tie.pk).update(publication="draft")
    nodes, edges, table = shown(reader)
    assert "partnership:suzhou-aarhus" not in nodes and edges == []
    assert "Suzhou–Aarhus" not in table
    PartnershipFactory(
        title="Suzhou–Ringsted",
        slug="suzhou-ringsted",
        parties=[parties["suzhou"], parties["ringsted"]],
    )
    nodes, _edges, table = shown(reader)
    assert nodes["partnership:suzhou-ringsted"] == "Suzhou–Ringsted"
    assert "Suzhou–Ringsted" in table


# Its participants ------------------------------------------------------------------------------


def test_a_participant_added_changed_and_deleted(reader, tie, parties):
    added = Participant.objects.create(partnership=tie, organisation=parties["university"])
    nodes, _edges, table = shown(reader)
    assert nodes["organisation:au"] == "Aarhus University"
    assert "Aarhus University" in table
    added.organisation, added.place = None, parties["ringsted"]
    added.save()
    nodes, edges, table = shown(reader)
    assert "organisation:au" not in nodes and "Aarhus University" not in table
    assert ("place:ringsted", "partnership:suzhou-aarhus", added.role) in edges
    added.delete()
    assert "place:ringsted" not in shown(reader)[0]


def test_participants_written_in_bulk(reader, tie, parties):
    Participant.objects.bulk_create(
        [Participant(partnership=tie, organisation=parties["university"])]
    )
    assert "organisation:au" in shown(reader)[0]
    Participant.objects.filter(partnership=tie, organisation__isnull=False).update(
        role=Participant.Role.COORDINATOR
    )
    assert ("organisation:au", "partnership:suzhou-aarhus", "coordinator") in shown(reader)[1]
    Participant.objects.filter(partnership=tie, organisation__isnull=False).delete()
    assert "organisation:au" not in shown(reader)[0]


def test_a_participant_moved_in_bulk_to_another_partnership(reader, tie, other, parties):
    Participant.objects.filter(partnership=tie, place=parties["aarhus"]).update(partnership=other)
    nodes, edges, table = shown(reader)
    assert "place:aarhus" not in nodes
    assert [source for source, _target, _role in edges] == ["place:suzhou"]


def test_the_admin_inline_of_participants(reader, tie, admin_client, parties):
    second_party_made(admin_client, tie, parties["university"])
    nodes, _edges, table = shown(reader)
    assert "organisation:au" in nodes and "place:aarhus" not in nodes
    assert "Aarhus University" in table


# Its parties ---------------------------------------------------------------------------------


def test_a_party_renamed_and_unpublished(reader, parties):
    Place.objects.filter(pk=parties["aarhus"].pk).update(name_en="Århus")
    nodes, _edges, table = shown(reader)
    assert nodes["place:aarhus"] == "Århus" and "Århus" in table
    Place.objects.filter(pk=parties["aarhus"].pk).update(publication="draft")
    nodes, edges, table = shown(reader)
    assert "place:aarhus" not in nodes and "Århus" not in table
    assert [source for source, _target, _role in edges] == ["place:suzhou"]


# Kept across other writes ---------------------------------------------------------------------


def test_a_write_to_another_partnership_leaves_them_kept(reader, other):
    other.title = "Ringsted–Suzhou cooperation, renamed"
    other.save()
    with CaptureQueriesContext(connection) as queries:
        assert shown(reader) == reader.kept
    read = " ".join(query["sql"] for query in queries)
    # Neither the graph's nor the table's participants and partnerships were read again:
    # only which partnerships they show.
    assert "partnerships_participant" not in read
    assert '"title_en"' not in read


@pytest.fixture
def reads(monkeypatch):
    """The ids of the partnerships whose nodes and participants are read, read by read."""
    reads = {"nodes": [], "participants": []}
    read_nodes = explore._read_partnership_nodes

    def nodes(ids, urls):
        reads["nodes"].append(sorted(ids))
        return read_nodes(ids, urls)

    monkeypatch.setattr(explore, "_read_partnership_nodes", nodes)
    for query in explore._PARTICIPANTS.values():

        def participants(ids, using="default", rows=query.rows):
            reads["participants"].append(sorted(ids))
            return rows(ids, using)

        monkeypatch.setattr(query, "rows", participants)
    return reads


def test_after_a_write_to_one_partnership_only_it_is_read_again(reader, tie, parties, reads):
    """Each worker keeps what the graph and the table show of each partnership, its node
    and its participants, under its revision (``core.cache.by_revision``): after a write
    to one, the graph and the table are made again with that one's read alone."""
    second = PartnershipFactory(
        title="Suzhou–Ringsted",
        slug="suzhou-ringsted",
        parties=[parties["suzhou"], parties["ringsted"]],
    )
    shown(reader)
    # The nodes once for the API's addresses and once for the page's.
    assert reads == {"nodes": [[second.pk]] * 2, "participants": [[second.pk]]}
    reads["nodes"].clear(), reads["participants"].clear()
    tie.title = "Suzhou–Aarhus twin city"
    tie.save()
    nodes, edges, table = shown(reader)
    assert reads == {"nodes": [[tie.pk]] * 2, "participants": [[tie.pk]]}
    assert nodes["partnership:suzhou-aarhus"] == "Suzhou–Aarhus twin city"
    assert nodes["partnership:suzhou-ringsted"] == "Suzhou–Ringsted"
    assert ("place:ringsted", "partnership:suzhou-ringsted", "partner") in edges
    assert "Suzhou–Aarhus twin city" in table and "Suzhou–Ringsted" in table


def test_staff_get_them_built(reader, tie, admin_client):
    """Staff may see drafts: what they get is built each time, never read from what was
    kept for the public, nor kept for it."""
    Place.objects.filter(pk=tie.participants.get(place__slug="aarhus").place_id).update(
        publication="draft"
    )
    with CaptureQueriesContext(connection) as queries:
        data = admin_client.get(GRAPH).json()
    assert "place:aarhus" in {node["id"] for node in data["nodes"]}
    assert any("partnerships_participant" in query["sql"] for query in queries)
    assert "place:aarhus" not in shown(reader)[0]


def test_the_graph_is_kept_gzipped(reader, tie, other, monkeypatch):
    other.title = "A write elsewhere"
    other.save()
    plain = reader.get(GRAPH).content

    def refused(*args, **kwargs):
        raise AssertionError("gzipped again")

    monkeypatch.setattr(middleware.gzip_ng, "compress", refused)
    other.title = "Another write elsewhere"
    other.save()
    answer = reader.get(GRAPH, HTTP_ACCEPT_ENCODING="gzip")
    assert answer["X-Cache"] == "MISS" and answer["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.content) == plain
    monkeypatch.undo()
    tie.title = "Suzhou–Aarhus twin city"
    tie.save()
    answer = reader.get(GRAPH, HTTP_ACCEPT_ENCODING="gzip")
    assert "Suzhou–Aarhus twin city" in gzip.decompress(answer.content).decode()
