"""The whole map, drawn from the kept counts, is kept until they move or a place changes
(the map and places versions), across every other write; and it shows every write that
moves it at once, on every write path. A line of one partnership names it, and is kept
named: renaming a partnership, or giving it another address, moves the map version."""

import gzip

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from atlas import explore
from core import middleware, versioning
from core.models import Publication
from organisations.models import Organisation
from partnerships import facets
from partnerships.models import Event, Participant, Partnership
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    ThemeFactory,
)
from tests.reimport import reimport_partnerships

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kept_layouts")]


@pytest.fixture
def ties():
    """Two lines of three partnerships each: the map names no partnership. Two Suzhous."""
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", country="DK", latitude=56, longitude=10)
    odense = PlaceFactory(name="Odense", slug="odense", country="DK", latitude=55, longitude=10)
    jiangsu = PlaceFactory(name="Suzhou", slug="suzhou", country="CN", latitude=31, longitude=120)
    anhui = PlaceFactory(name="Suzhou", slug="suzhou-2", country="CN", latitude=33, longitude=117)
    first = PartnershipFactory(slug="first", parties=[aarhus, jiangsu])
    for slug in ("second", "third"):
        PartnershipFactory(slug=slug, parties=[aarhus, jiangsu])
    for slug in ("fourth", "fifth", "sixth"):
        PartnershipFactory(slug=slug, parties=[odense, anhui])
    return {"aarhus": aarhus, "odense": odense, "anhui": anhui, "first": first}


def drawn():
    return explore.map_data(Partnership.objects.published())


def counted(settings):
    """The map drawn anew, nothing kept."""
    settings.ATLAS_CACHE_PAGES = False
    try:
        return explore.map_data(Partnership.objects.published())
    finally:
        settings.ATLAS_CACHE_PAGES = True


def drawing_read(sql):
    return [query for query in sql if "facetcount" in query or "participant" in query]


def lines(data):
    return {
        (f["properties"]["from"], f["properties"]["to"]): f["properties"]
        for f in data["features"]
        if f["geometry"]["type"] == "LineString"
    }


def map_version():
    return versioning.part_versions(["map"])[0]


def test_writes_that_move_no_count_leave_the_drawing_kept(client, ties):
    first = client.get("/api/map/")
    assert first.status_code == 200
    assert not any("partnership" in line for line in lines(first.json()).values())
    partnership = ties["first"]
    writes = [
        lambda: setattr(partnership, "description_en", "Described") or partnership.save(),
        lambda: Partnership.objects.filter(pk=partnership.pk).update(description_en="Renamed"),
        lambda: partnership.themes.add(ThemeFactory()),
        lambda: Event.objects.create(partnership=partnership, date="2012", kind="signing"),
        lambda: OrganisationFactory(name="Not on the map"),
        lambda: Organisation.objects.update(name_en="Renamed too"),
    ]
    for write in writes:
        version = versioning.current()
        write()
        assert versioning.current() != version  # every page is a miss
        with CaptureQueriesContext(connection) as queries:
            again = client.get("/api/map/")
        assert again["X-Cache"] == "MISS"
        assert not drawing_read([query["sql"] for query in queries])
        assert again.content == first.content


def test_every_write_that_moves_the_map_shows_at_once(settings, ties):
    r = ties
    drawn()
    writes = [
        # A place moves, or is renamed: the places version.
        lambda: Place.objects.filter(pk=r["odense"].pk).update(latitude=54.5),
        lambda: setattr(r["anhui"], "name_en", "Suzhou (Anhui)") or r["anhui"].save(),
        # Taken off the public map, through update() and through delete().
        lambda: Partnership.objects.filter(slug="second").update(publication=Publication.DRAFT),
        lambda: Partnership.objects.get(slug="fourth").delete(),
        # A participant moved through update(), as a merge does: a new line, of one
        # partnership, which the map names from now on.
        lambda: Participant.objects.filter(partnership=r["first"], place=r["aarhus"]).update(
            place=r["odense"]
        ),
        lambda: PartnershipFactory(parties=[r["aarhus"], r["anhui"]]),
    ]
    for number, write in enumerate(writes):
        write()
        data = drawn()
        assert data == counted(settings)
        # Before the new lines, none of one partnership: drawn from what the versions keep.
        named = any("partnership" in line for line in lines(data).values())
        assert named == (number >= 4)


def named(data):
    return [
        (line["partnership"]["title"], line["partnership"]["url"])
        for line in lines(data).values()
        if line["count"] == 1
    ]


def test_a_map_that_names_a_partnership_shows_it_renamed_at_once(client, settings, ties):
    alone = PartnershipFactory(slug="alone", title="Alone", parties=[ties["aarhus"], ties["anhui"]])
    assert named(drawn()) == [("Alone", "/en/partnerships/alone/")]
    # Every path that writes a title or an address, in either language.
    writes = [
        (lambda: setattr(alone, "title_en", "Alone no more") or alone.save(), "Alone no more"),
        (
            lambda: Partnership.objects.filter(pk=alone.pk).update(title_en="Updated"),
            "Updated",
        ),
        (
            lambda: (
                setattr(alone, "title_en", "In bulk")
                or Partnership.objects.bulk_update([alone], ["title_en"])
            ),
            "In bulk",
        ),
        (lambda: Partnership.objects.filter(pk=alone.pk).update(slug="moved"), "In bulk"),
    ]
    for write, title in writes:
        version, counts = map_version(), versioning.part_versions(["counts"])
        write()
        assert map_version() != version
        # No count moved: the lists' facets stay kept.
        assert versioning.part_versions(["counts"]) == counts
        alone.refresh_from_db()
        assert named(drawn()) == [(title, f"/en/partnerships/{alone.slug}/")]
        assert drawn() == counted(settings)
        assert named(client.get("/api/map/").json())[0][0] == title
    # The Danish title, shown where the English one is empty.
    version = map_version()
    alone.title_da, alone.title_en = "Alene", ""
    alone.save()
    assert map_version() != version
    assert named(drawn()) == [("Alene", "/en/partnerships/moved/")]


def test_an_import_that_renames_a_partnership_moves_the_map(ties, tmp_path):
    alone = PartnershipFactory(slug="alone", title="Alone", parties=[ties["aarhus"], ties["anhui"]])
    assert named(drawn()) == [("Alone", "/en/partnerships/alone/")]
    version = map_version()

    def renamed(row):
        if row["slug"] == alone.slug:
            row["title_en"] = "Alone, imported"

    reimport_partnerships(tmp_path, renamed)
    assert map_version() != version
    assert named(drawn()) == [("Alone, imported", "/en/partnerships/alone/")]


def test_a_save_that_renames_nothing_leaves_the_map_version(ties):
    partnership = ties["first"]
    version = map_version()
    partnership.description_en = "Described"
    partnership.save()
    partnership.title_en = partnership.title_en  # written again as it was
    partnership.save(update_fields=["title_en"])
    Partnership.objects.filter(pk=partnership.pk).update(description_en="Updated")
    Partnership.objects.bulk_update([partnership], ["description_en"])
    assert map_version() == version


def test_a_map_that_names_a_partnership_reads_no_name_after_another_write(client, ties):
    PartnershipFactory(slug="alone", title="Alone", parties=[ties["aarhus"], ties["anhui"]])
    first = client.get("/api/map/")
    assert named(first.json()) == [("Alone", "http://testserver/en/partnerships/alone/")]
    Partnership.objects.filter(slug="first").update(description_en="Another description")
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/api/map/")
    assert again["X-Cache"] == "MISS"
    sql = [query["sql"] for query in queries]
    assert not drawing_read(sql)
    assert not [query for query in sql if "partnerships_partnership" in query]
    assert again.content == first.content


def test_a_tie_passed_to_another_partnership_is_named_at_once(settings, ties):
    alone = PartnershipFactory(title="Alone", parties=[ties["aarhus"], ties["anhui"]])
    other = PartnershipFactory(title="In its place", parties=[])
    drawn()
    version = map_version()
    # In one batch, as an import writes: every count as it was, the tie now the other
    # partnership's.
    with versioning.batch():
        for place in (ties["aarhus"], ties["anhui"]):
            Participant.objects.create(partnership=other, place=place)
        Participant.objects.filter(partnership=alone).delete()
    assert map_version() != version
    named = [line["partnership"]["title"] for line in lines(drawn()).values() if line["count"] == 1]
    assert named == ["In its place"]
    assert drawn() == counted(settings)


def test_the_map_version_moves_with_the_maps_counts_alone(ties):
    version = map_version()
    Partnership.objects.filter(slug="first").update(title_en="Another title")
    ties["first"].themes.add(ThemeFactory())
    # The kind and status of a partnership no map draws.
    PartnershipFactory(slug="nowhere", parties=[])
    version = map_version()
    Partnership.objects.filter(slug="nowhere").update(status="ended", kind="other")
    assert map_version() == version
    PartnershipFactory(parties=[ties["odense"], ties["aarhus"]])
    assert map_version() != version
    # Counted again from nothing, as after a bulk load (``facets.recounted_after``): every
    # count goes, none comes back to move, and the map version moves all the same.
    with facets.recounted_after():
        Partnership.objects.all().delete()
        version = map_version()
    assert map_version() != version
    assert drawn()["meta"]["partnerships"] == 0


def test_staff_and_the_public_each_see_their_own_kept_map(admin_client, client, ties):
    PartnershipFactory(
        slug="draft", publication=Publication.DRAFT, parties=[ties["aarhus"], ties["odense"]]
    )
    assert ("aarhus", "odense") not in lines(client.get("/api/map/").json())
    assert ("aarhus", "odense") in lines(admin_client.get("/api/map/").json())
    Partnership.objects.filter(slug="draft").update(publication=Publication.PUBLISHED)
    assert ("aarhus", "odense") in lines(client.get("/api/map/").json())


SISTER_CITIES = "/api/map/?kind=sister_city&status=active"


def of_kind_and_status(settings, kind="sister_city", status="active", counted=False):
    """The map of the published partnerships of ``kind`` and ``status``, as the API draws it."""
    from django.test import Client

    settings.ATLAS_CACHE_PAGES = not counted
    try:
        return Client().get(f"/api/map/?kind={kind}&status={status}").json()
    finally:
        settings.ATLAS_CACHE_PAGES = True


def test_a_map_of_some_kinds_and_statuses_is_kept_across_writes_that_leave_it(client, ties):
    Partnership.objects.update(kind="sister_city", status="active")
    first = client.get(SISTER_CITIES)
    page = client.get("/en/map/?kind=sister_city&status=active")
    assert first.json()["meta"]["partnerships"] == 6
    partnership = ties["first"]
    writes = [
        lambda: Partnership.objects.filter(pk=partnership.pk).update(description_en="Renamed"),
        lambda: partnership.themes.add(ThemeFactory()),
        lambda: Event.objects.create(partnership=partnership, date="2012", kind="signing"),
        # A partnership of another kind, off the map.
        lambda: PartnershipFactory(kind="office", parties=[]),
    ]
    for write in writes:
        write()
        with CaptureQueriesContext(connection) as queries:
            again = client.get(SISTER_CITIES)
            page_again = client.get("/en/map/?kind=sister_city&status=active")
        assert again["X-Cache"] == page_again["X-Cache"] == "MISS"
        # Drawn from the participants; the page's filters read their own counts.
        assert not [query for query in queries if "partnerships_participant" in query["sql"]]
        assert again.content == first.content
        assert page_again.status_code == page.status_code == 200


def test_a_map_of_some_kinds_and_statuses_shows_every_write_that_moves_it(settings, ties):
    Partnership.objects.update(kind="sister_city", status="active")
    r = ties
    of_kind_and_status(settings)
    second = Partnership.objects.get(slug="second")
    writes = [
        # Its kind and status, through update() and save(), on and off the map.
        lambda: Partnership.objects.filter(slug="first").update(status="ended"),
        lambda: setattr(second, "kind", "cooperation") or second.save(),
        lambda: Partnership.objects.filter(slug="first").update(status="active"),
        lambda: Partnership.objects.filter(slug="fifth").update(kind="office", status="ended"),
        # Taken off the public map, and a participant moved.
        lambda: Partnership.objects.filter(slug="sixth").update(publication=Publication.DRAFT),
        lambda: Participant.objects.filter(partnership=r["first"], place=r["aarhus"]).update(
            place=r["odense"]
        ),
        lambda: PartnershipFactory(
            kind="sister_city", status="active", parties=[r["aarhus"], r["anhui"]]
        ),
    ]
    for write in writes:
        write()
        for kind, status in (("sister_city", "active"), ("cooperation", "active")):
            kept = of_kind_and_status(settings, kind, status)
            assert kept == of_kind_and_status(settings, kind, status, counted=True)
    assert of_kind_and_status(settings)["meta"]["partnerships"] == 4


def test_a_map_of_kinds_and_statuses_moves_with_a_partnership_on_the_map(ties):
    version = map_version()
    Partnership.objects.filter(slug="first").update(status="ended")
    assert map_version() != version
    version = map_version()
    first = ties["first"]
    first.kind = "office"
    first.save()
    assert map_version() != version


def test_a_map_of_something_else_is_drawn_after_every_write(client, ties):
    """Any other filter, a theme here, is counted anew: no version moves with themes."""
    theme = ThemeFactory(slug="water")
    client.get("/api/map/?theme=water")
    ties["first"].themes.add(theme)
    with CaptureQueriesContext(connection) as queries:
        data = client.get("/api/map/?theme=water").json()
    assert [query for query in queries if "partnerships_participant" in query["sql"]]
    assert data["meta"]["partnerships"] == 1


def test_a_line_names_its_partnership_whatever_its_title_holds(client, ties):
    """Names are written into the kept map where its ids stand: a title that looks like
    those ids, or holds a line separator, is written as any JSON text."""
    title = 'Aarhus\u2028Suzhou ,"partnership":[1] "quoted"'
    alone = PartnershipFactory(title=title, parties=[ties["aarhus"], ties["anhui"]])
    for address in ("/api/map/", SISTER_CITIES):
        Partnership.objects.filter(pk=alone.pk).update(kind="sister_city", status="active")
        answer = client.get(address)
        assert b"\\u2028" in answer.content and "\u2028".encode() not in answer.content
        named = [
            line["partnership"] for line in lines(answer.json()).values() if line["count"] == 1
        ]
        assert named == [
            {
                "slug": alone.slug,
                "title": title,
                "title_language": "en",
                "url": f"http://testserver/en/partnerships/{alone.slug}/",
            }
        ]
    page = client.get("/en/map/")
    assert (
        "Aarhus\u2028Suzhou ,&quot;partnership&quot;:[1] &quot;quoted&quot;"
        in page.content.decode()
    )


def gzip_refused(monkeypatch):
    """Nothing may be gzipped: what is sent gzipped was kept so."""

    def refused(*args, **kwargs):
        raise AssertionError("gzipped again")

    monkeypatch.setattr(middleware.gzip_ng, "compress", refused)
    return monkeypatch


def test_the_geojson_is_kept_gzipped_with_its_addresses(client, ties, monkeypatch):
    PartnershipFactory(slug="alone", title="Alone", parties=[ties["aarhus"], ties["anhui"]])
    first = client.get("/api/map/").content
    assert b'"url":"http://testserver/en/partnerships/alone/"' in first
    Partnership.objects.filter(slug="first").update(description_en="A write elsewhere")
    refused = gzip_refused(monkeypatch)
    answer = client.get("/api/map/", HTTP_ACCEPT_ENCODING="gzip")
    assert answer["X-Cache"] == "MISS" and answer["Content-Encoding"] == "gzip"
    assert gzip.decompress(answer.content) == first
    refused.undo()
    # A write that moves the map: drawn, written and gzipped anew.
    Partnership.objects.filter(slug="alone").update(title_en="Alone, renamed")
    answer = client.get("/api/map/", HTTP_ACCEPT_ENCODING="gzip")
    again = gzip.decompress(answer.content)
    assert again == client.get("/api/map/").content != first
    assert b'"title":"Alone, renamed"' in again
