"""The network's XML downloads are written a node or an edge at a time and sent as they
are written (``atlas.explore.gexf``, ``graphml``), with the bytes ElementTree wrote when it
built the whole document at once: escaping, indentation, empty elements."""

import io
from xml.etree import ElementTree

import networkx
import pytest

from atlas import explore
from atlas.explore import EDGE_ATTRIBUTES, GEXF_NS, NODE_ATTRIBUTES, Network
from tests.explore.test_network import download
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory

TRICKY = "Ålborg & \"Suzhou\" <苏州> 'Wuxi'\tline\nbreak\rreturn"


def _attvalues(parent, record, columns):
    values = ElementTree.SubElement(parent, "attvalues")
    for column in columns:
        if record.get(column):
            ElementTree.SubElement(values, "attvalue", {"for": column, "value": record[column]})


def _xml(root):
    ElementTree.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(
        root, encoding="unicode"
    )


def gexf_by_elementtree(graph):
    """The GEXF as the whole document built in ElementTree wrote it."""
    root = ElementTree.Element("gexf", {"xmlns": GEXF_NS, "version": "1.2"})
    meta = ElementTree.SubElement(root, "meta")
    ElementTree.SubElement(meta, "creator").text = "Partnership Atlas"
    body = ElementTree.SubElement(root, "graph", {"defaultedgetype": "directed", "mode": "static"})
    for kind, columns in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        element = ElementTree.SubElement(body, "attributes", {"class": kind})
        for column in columns:
            ElementTree.SubElement(
                element, "attribute", {"id": column, "title": column, "type": "string"}
            )
    nodes = ElementTree.SubElement(body, "nodes")
    for node in graph.nodes.values():
        element = ElementTree.SubElement(nodes, "node", {"id": node["id"], "label": node["label"]})
        _attvalues(element, node, NODE_ATTRIBUTES)
    edges = ElementTree.SubElement(body, "edges")
    for number, edge in enumerate(graph.edges):
        element = ElementTree.SubElement(
            edges,
            "edge",
            {
                "id": str(number),
                "source": edge["source"],
                "target": edge["target"],
                "label": edge["relation"],
            },
        )
        _attvalues(element, edge, EDGE_ATTRIBUTES)
    return _xml(root)


def graphml_by_elementtree(graph):
    root = ElementTree.Element("graphml", {"xmlns": "http://graphml.graphdrawing.org/xmlns"})
    for kind, columns in (("node", ["label", *NODE_ATTRIBUTES]), ("edge", EDGE_ATTRIBUTES)):
        for column in columns:
            attributes = {
                "id": f"{kind}_{column}",
                "for": kind,
                "attr.name": column,
                "attr.type": "string",
            }
            ElementTree.SubElement(root, "key", attributes)
    body = ElementTree.SubElement(root, "graph", {"id": "partnerships", "edgedefault": "directed"})
    records = [("node", node, {"id": node["id"]}) for node in graph.nodes.values()]
    records += [("edge", e, {"source": e["source"], "target": e["target"]}) for e in graph.edges]
    for kind, record, attributes in records:
        element = ElementTree.SubElement(body, kind, attributes)
        columns = ["label", *NODE_ATTRIBUTES] if kind == "node" else EDGE_ATTRIBUTES
        for column in columns:
            if record.get(column):
                data = ElementTree.SubElement(element, "data", {"key": f"{kind}_{column}"})
                data.text = record[column]
    return _xml(root)


def graph(nodes, edges):
    return Network(nodes={node["id"]: node for node in nodes}, edges=edges)


NODE = {"id": "place:suzhou", "type": "place", "label": TRICKY, "kind": "city", "country": "CN"}
BARE = {"id": "place:bare", "label": ""}  # no values at all: empty elements
EDGE = {
    "source": "place:suzhou",
    "target": "place:bare",
    "relation": "participant",
    "role": TRICKY,
    "kind": "",
    "status": "active",
    "start": "c. 1990s",
    "end": "",
}
BARE_EDGE = {**dict.fromkeys(EDGE, ""), "source": "place:bare", "target": "x"}

GRAPHS = {
    "empty": graph([], []),
    "nodes alone": graph([NODE, BARE], []),
    "tricky": graph([NODE, BARE], [EDGE, BARE_EDGE]),
}


@pytest.mark.parametrize("name", GRAPHS)
@pytest.mark.parametrize(
    ("write", "reference"),
    [(explore.gexf, gexf_by_elementtree), (explore.graphml, graphml_by_elementtree)],
)
def test_the_stream_is_what_elementtree_wrote(name, write, reference):
    pieces = list(write(GRAPHS[name]))
    assert "".join(pieces) == reference(GRAPHS[name])
    assert all(pieces)


def test_a_large_graph_comes_in_pieces_of_about_the_same_size(monkeypatch):
    monkeypatch.setattr(explore, "PIECE", 1000)
    many = graph([{**NODE, "id": f"place:{n}"} for n in range(300)], [EDGE] * 300)
    pieces = list(explore.gexf(many))
    assert "".join(pieces) == gexf_by_elementtree(many)
    assert len(pieces) > 50
    assert all(1000 <= len(piece) < 2000 for piece in pieces[:-1])


@pytest.mark.django_db
def test_a_download_is_streamed_and_reads_back(client):
    suzhou = PlaceFactory(name=TRICKY, slug="suzhou")
    PartnershipFactory(parties=[suzhou, OrganisationFactory(name="Ringsted & Co", slug="co")])
    for name, reader in (("gexf", networkx.read_gexf), ("graphml", networkx.read_graphml)):
        response = client.get(f"/en/network/network.{name}")
        assert response.streaming and response["Content-Type"].startswith("application/")
        text = download(client, name)
        read = reader(io.BytesIO(text.encode()))
        # GraphML holds the label as text, where XML reads a carriage return as a line feed.
        expected = TRICKY if name == "gexf" else TRICKY.replace("\r", "\n")
        assert read.nodes["place:suzhou"]["label"] == expected
