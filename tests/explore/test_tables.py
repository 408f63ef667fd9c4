"""The tables beside the map and the network, which work without JavaScript: every name
escaped, a name only in the other language marked as such, and each row as it reads."""

import re

import pytest

from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    odense = PlaceFactory(
        name="Odense <b>& Co</b>", slug="odense", country="DK", latitude=55.4, longitude=10.4
    )
    suzhou = PlaceFactory(
        name_en="", name_da="Suzhou (kun dansk)", slug="suzhou", latitude=31.3, longitude=120.6
    )
    wuxi = PlaceFactory(name="Wuxi", slug="wuxi", latitude=31.5, longitude=120.3)
    sdu = OrganisationFactory(name="SDU", slug="sdu", place=odense)
    PartnershipFactory(
        title="Odense–Suzhou <i>venskab</i>",
        slug="odense-suzhou",
        start="1998",
        end="2004",
        status="ended",
        parties=[sdu, suzhou],
    )
    PartnershipFactory(title="Odense–Wuxi", slug="odense-wuxi", parties=[odense, wuxi])
    PartnershipFactory(title="Odense–Wuxi 2", slug="odense-wuxi-2", parties=[odense, wuxi])


def page(client, name, language="en"):
    response = client.get(url(name, language))
    assert response.status_code == 200
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_networks_table_escapes_and_marks_names(client, registry):
    html = page(client, "atlas:network")
    assert "<b>" not in html and "<i>venskab" not in html
    row = (
        '<tr> <th scope="row"><a href="/en/partnerships/odense-suzhou/">'
        "Odense–Suzhou &lt;i&gt;venskab&lt;/i&gt;</a></th> "
        "<td>Cooperation agreement</td> "
        '<td><span class="status status-ended">Ended</span></td> '
        "<td>1998–2004</td> "
        '<td><ul class="parties">'
    )
    assert row in html
    assert (
        '<li><a href="/en/organisations/sdu/">SDU</a> <span class="muted">(partner, based '
        "in Odense &lt;b&gt;&amp; Co&lt;/b&gt;)</span></li>"
    ) in html
    assert (
        '<a href="/en/places/suzhou/"><span lang="da">Suzhou (kun dansk)</span> '
        '<small class="lang-note">only in Danish</small></a>'
    ) in html


def test_the_maps_tables_escape_and_mark_names(client, registry):
    html = page(client, "atlas:map")
    assert "<b>" not in html and "<i>venskab" not in html
    assert (
        '<tr><th scope="row"><a href="/en/places/odense/">Odense &lt;b&gt;&amp; Co&lt;/b&gt;</a>'
        '</th><td>Denmark</td><td class="number">3</td></tr>'
    ) in html
    # A line of two partnerships counts them; a line of one names it.
    assert (
        '<td><a href="/en/places/odense/">Odense &lt;b&gt;&amp; Co&lt;/b&gt;</a></td> '
        '<td><a href="/en/places/wuxi/">Wuxi</a></td> <td class="number">2</td>'
    ) in html
    assert (
        '<td class="number"><a href="/en/partnerships/odense-suzhou/">'
        "Odense–Suzhou &lt;i&gt;venskab&lt;/i&gt;</a></td>"
    ) in html
    danish = page(client, "atlas:map", "da")
    assert '<td><a href="/da/places/suzhou/">Suzhou (kun dansk)</a></td>' in danish


def test_the_maps_tables_list_their_own_number_of_rows_not_the_networks(client):
    """The map's tables list up to ``TABLE_ROWS`` places and lines each, whatever a page
    of the network's table holds (``NETWORK_TABLE_ROWS``, fewer)."""
    from atlas import explore

    hub = PlaceFactory(name="Hub", slug="hub", country="DK", latitude=55.0, longitude=10.0)
    shown = explore.NETWORK_TABLE_ROWS + 5
    assert shown < explore.TABLE_ROWS
    for n in range(shown - 1):
        partner = PlaceFactory(
            name=f"Partner {n}", slug=f"partner-{n}", latitude=30 + n / 100, longitude=120
        )
        PartnershipFactory(slug=f"tie-{n}", parties=[hub, partner])
    body = page(client, "atlas:map")
    places = re.findall(r'<tr><th scope="row"><a href="/en/places/[^"]*/">', body)
    lines = re.findall(r'<tr> <td><a href="/en/places/hub/">', body)
    assert (len(places), len(lines)) == (shown, shown - 1)
