"""Drafts on the public site: never shown to the public, shown to staff with a banner."""

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from django.test import Client
from rest_framework.test import APIClient

from core.models import Publication
from places.models import Place

from .factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    UserFactory,
)
from .pages import sitemap, url

pytestmark = pytest.mark.django_db

DRAFT = Publication.DRAFT


@pytest.fixture
def registry():
    """Published Denmark and Aarhus; a draft town, organisation and partnership, and a
    published partnership with the draft town as one of its participants."""
    denmark = PlaceFactory(name_en="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    aarhus = PlaceFactory(
        name_en="Aarhus", parent=denmark, country="DK", latitude=56.15, longitude=10.2
    )
    hidden = PlaceFactory(
        name_en="Hiddenburg",
        parent=denmark,
        country="DK",
        latitude=55.5,
        longitude=9.5,
        publication=DRAFT,
    )
    hidden_university = OrganisationFactory(
        name_en="Hidden University", place=aarhus, publication=DRAFT
    )
    secret = PartnershipFactory(
        title_en="Secret Pact", parties=[aarhus, hidden_university], publication=DRAFT
    )
    open_pact = PartnershipFactory(title_en="Open Pact", parties=[aarhus, hidden])
    for record in (denmark, aarhus, open_pact):
        record.sources.add(SourceFactory())
    return {
        "denmark": denmark,
        "aarhus": aarhus,
        "hidden": hidden,
        "hidden_university": hidden_university,
        "secret": secret,
        "open": open_pact,
    }


DRAFT_NAMES = ("Hiddenburg", "Hidden University", "Secret Pact")


@pytest.fixture
def anon():
    """The public: a client of its own, as ``editor_client`` logs ``client`` in."""
    return Client()


def page(client, address):
    response = client.get(address)
    assert response.status_code == 200, address
    return response.content.decode()


@pytest.mark.parametrize(
    "name, draft",
    [
        ("places:place-list", "Hiddenburg"),
        ("organisations:organisation-list", "Hidden University"),
        ("partnerships:partnership-list", "Secret Pact"),
    ],
)
def test_lists_and_their_counts_leave_drafts_out(anon, editor_client, registry, name, draft):
    public = anon.get(url(name))
    assert draft not in public.content.decode()
    staff = editor_client.get(url(name))
    assert draft in staff.content.decode()
    assert staff.context["paginator"].count == public.context["paginator"].count + 1


def test_facet_counts_leave_drafts_out(anon, registry):
    response = anon.get(url("places:place-list"))
    countries = {
        option.value: option.count
        for facet in response.context["facets"]
        if facet.name == "country"
        for option in facet.options
    }
    assert countries["DK"] == 2  # Denmark and Aarhus, not Hiddenburg


def test_csv_downloads_leave_drafts_out(anon, editor_client, registry):
    for name, draft in [
        ("places:place-export", "Hiddenburg"),
        ("organisations:organisation-export", "Hidden University"),
        ("partnerships:partnership-export", "Secret Pact"),
    ]:
        public = anon.get(url(name)).content.decode("utf-8-sig")
        rows = list(csv.reader(io.StringIO(public)))
        assert rows and not any(draft in cell for row in rows for cell in row), name
        assert draft in editor_client.get(url(name)).content.decode("utf-8-sig"), name


def test_filters_do_not_name_a_draft(anon, editor_client, registry):
    hidden = registry["hidden"].slug
    public = anon.get(url("partnerships:partnership-list", query=f"place={hidden}"))
    assert public.context["paginator"].count == 0
    staff = editor_client.get(url("partnerships:partnership-list", query=f"place={hidden}"))
    assert [str(tie) for tie in staff.context["object_list"]] == ["Open Pact"]
    hidden_parent = PlaceFactory(name_en="Hidden Shire", country="DK", publication=DRAFT)
    PlaceFactory(name_en="Open Village", parent=hidden_parent, country="DK")
    query = f"parent={hidden_parent.slug}"
    assert "Open Village" not in page(anon, url("places:place-list", query=query))
    assert "Open Village" in page(editor_client, url("places:place-list", query=query))
    api = APIClient()
    assert api.get(f"/api/partnerships/?place={hidden}").json()["count"] == 0


def test_search_finds_no_draft(anon, editor_client, registry):
    public = anon.get(url("search", query="q=hidden"))
    counts = {r["section"].key: r["count"] for r in public.context["results"]}
    assert counts["places"] == 0 and counts["organisations"] == 0
    assert "Secret Pact" not in page(anon, url("search", query="q=pact"))
    staff = editor_client.get(url("search", query="q=hidden"))
    assert {r["section"].key: r["count"] for r in staff.context["results"]}["places"] == 1


def test_a_drafts_page_is_404_for_the_public_and_a_preview_for_staff(anon, viewer_client, registry):
    for key in ("hidden", "hidden_university", "secret"):
        address = registry[key].get_absolute_url()
        assert anon.get(address).status_code == 404, key
        preview = page(viewer_client, address)
        assert 'class="draft-banner"' in preview and "Draft" in preview, key
    assert 'class="draft-banner"' not in page(viewer_client, registry["aarhus"].get_absolute_url())


def test_a_logged_in_user_who_is_not_staff_sees_no_draft(anon, registry):
    anon.force_login(UserFactory(username="reader"))
    assert anon.get(registry["hidden"].get_absolute_url()).status_code == 404
    assert "Hiddenburg" not in page(anon, url("places:place-list"))


def test_sections_of_other_pages_leave_drafts_out(anon, editor_client, registry):
    denmark = anon.get(registry["denmark"].get_absolute_url())
    assert [str(child) for child in denmark.context["children"]] == ["Aarhus"]
    assert denmark.context["children_count"] == 1
    aarhus = page(anon, registry["aarhus"].get_absolute_url())
    assert "Hidden University" not in aarhus and "Secret Pact" not in aarhus
    assert "Open Pact" in aarhus
    staff = page(editor_client, registry["aarhus"].get_absolute_url())
    assert "Hidden University" in staff and "Secret Pact" in staff


def test_a_draft_participant_is_named_without_a_link(anon, editor_client, registry):
    hidden_url = registry["hidden"].get_absolute_url()
    public = page(anon, registry["open"].get_absolute_url())
    assert "Hiddenburg" in public
    assert f'href="{hidden_url}"' not in public
    assert f'href="{registry["aarhus"].get_absolute_url()}"' in public
    assert f'href="{hidden_url}"' in page(editor_client, registry["open"].get_absolute_url())


def test_home_counts_and_recent_records_leave_drafts_out(anon, registry):
    response = anon.get(url("home"))
    assert response.context["counts"] == {"places": 2, "organisations": 0, "partnerships": 1}
    assert not set(DRAFT_NAMES) & {str(record) for record in response.context["recent"]}


def test_sitemap_leaves_drafts_out(anon, registry):
    body = sitemap(anon)
    assert registry["aarhus"].slug in body
    for key in ("hidden", "hidden_university", "secret"):
        assert f"/{registry[key].slug}/" not in body, key


def test_map_and_network_leave_drafts_out(anon, editor_client, registry):
    features = anon.get("/api/map/").json()["features"]
    assert {f["id"] for f in features if f["geometry"]["type"] == "Point"} == {"place:aarhus"}
    nodes = {node["id"] for node in anon.get("/api/network/").json()["nodes"]}
    assert "place:aarhus" in nodes and "partnership:open-pact" in nodes
    assert not {"place:hiddenburg", "organisation:hidden-university"} & nodes
    assert "partnership:secret-pact" not in nodes
    downloads = page(anon, url("atlas:network-nodes"))
    assert "Hiddenburg" not in downloads and "Secret Pact" not in downloads
    assert anon.get(url("atlas:network-place", slug="hiddenburg")).status_code == 404
    map_page = page(anon, url("atlas:map"))
    assert "Hiddenburg" not in map_page
    staff_nodes = page(editor_client, url("atlas:network-nodes"))
    assert "Hiddenburg" in staff_nodes and "Secret Pact" in staff_nodes


def test_api_gives_the_public_no_draft(registry, editor):
    api = APIClient()
    slugs = {row["slug"] for row in api.get("/api/places/").json()["results"]}
    assert "aarhus" in slugs and "hiddenburg" not in slugs
    assert api.get("/api/places/hiddenburg/").status_code == 404
    assert api.get("/api/organisations/hidden-university/").status_code == 404
    assert api.get("/api/partnerships/secret-pact/").status_code == 404
    participants = {
        row["slug"]: row for row in api.get("/api/partnerships/open-pact/").json()["participants"]
    }
    assert participants["hiddenburg"]["name"] == "Hiddenburg"
    assert participants["hiddenburg"]["url"] is None
    assert participants["hiddenburg"]["public_url"] is None
    assert participants["aarhus"]["public_url"].endswith(registry["aarhus"].get_absolute_url())

    api.force_authenticate(editor)
    slugs = {row["slug"] for row in api.get("/api/places/").json()["results"]}
    assert "hiddenburg" in slugs
    assert api.get("/api/partnerships/secret-pact/").status_code == 200
    participants = {
        row["slug"]: row for row in api.get("/api/partnerships/open-pact/").json()["participants"]
    }
    assert participants["hiddenburg"]["url"].endswith("/api/places/hiddenburg/")


ATOM = "{http://www.w3.org/2005/Atom}"


def test_changes_and_feeds_leave_drafts_out(anon, editor_client, registry):
    public = page(anon, url("atlas:changes"))
    assert "Aarhus" in public
    for name in DRAFT_NAMES:
        assert name not in public, name
    feed = ET.fromstring(anon.get(url("atlas:changes-feed")).content)
    titles = " ".join(entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry"))
    assert "Aarhus" in titles and not any(name in titles for name in DRAFT_NAMES)
    record_feed = url("atlas:record-changes-feed", kind="place", slug="hiddenburg")
    assert anon.get(record_feed).status_code == 404
    staff = page(editor_client, url("atlas:changes"))
    assert "Hiddenburg" in staff and "Secret Pact" in staff


def test_a_draft_deleted_stays_out_of_the_changes(anon, registry):
    registry["secret"].delete()
    assert "Secret Pact" not in page(anon, url("atlas:changes"))


def test_staff_publish_through_the_api_only_with_a_source(registry, editor):
    api = APIClient()
    api.force_authenticate(editor)
    hidden = registry["hidden"]
    refused = api.patch("/api/places/hiddenburg/", {"publication": "published"}, format="json")
    assert refused.status_code == 400
    assert "source" in refused.json()["publication"][0]
    hidden.refresh_from_db()
    assert hidden.publication == DRAFT

    answer = api.patch(
        "/api/places/hiddenburg/",
        {"publication": "published", "sources": [SourceFactory().pk]},
        format="json",
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["publication"] == "published"
    hidden.refresh_from_db()
    assert hidden.is_published
    latest = hidden.history.first()
    assert latest.history_user == editor and latest.history_change_reason
    assert APIClient().get("/api/places/hiddenburg/").status_code == 200


def test_a_new_record_sent_as_published_needs_a_source(editor):
    api = APIClient()
    api.force_authenticate(editor)
    data = {"name": "Skagen", "kind": "city", "country": "DK", "publication": "published"}
    refused = api.post("/api/places/", data, format="json")
    assert refused.status_code == 400 and "publication" in refused.json()
    assert not Place.objects.filter(slug="skagen").exists()
    created = api.post("/api/places/", {**data, "sources": [SourceFactory().pk]}, format="json")
    assert created.status_code == 201, created.json()
    assert Place.objects.get(slug="skagen").is_published
    data.update(name="Hals", publication="draft")
    draft = api.post("/api/places/", data, format="json")
    assert draft.status_code == 201 and not Place.objects.get(slug="hals").is_published


def test_a_places_timeline_shows_the_events_of_the_ties_each_reader_sees(editor_client):
    """A province's timeline: the public sees the events of its published ties alone,
    staff the events of every tie."""
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind=Place.Kind.PROVINCE)
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu)
    ringsted = PlaceFactory(name="Ringsted", country="DK")
    tie = PartnershipFactory(title="Wuxi–Ringsted", parties=[wuxi, ringsted])
    EventFactory(partnership=tie, date="2012", text="Signed in Wuxi")
    draft = PartnershipFactory(
        title="Wuxi–Ringsted, planned", parties=[wuxi, ringsted], publication=Publication.DRAFT
    )
    EventFactory(partnership=draft, date="2013", text="A visit not yet public")
    # Jiangsu is not in every partnership: its ties are read by their ids.
    PartnershipFactory(parties=[ringsted, PlaceFactory(name="Odense", country="DK")])
    address = url("places:place-detail", slug="jiangsu")
    # A client of its own: ``editor_client`` is the ``client`` fixture, logged in.
    public = page(Client(), address)
    assert "Signed in Wuxi" in public and "A visit not yet public" not in public
    staff = page(editor_client, address)
    assert "Signed in Wuxi" in staff and "A visit not yet public" in staff
