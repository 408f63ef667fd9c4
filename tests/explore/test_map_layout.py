"""Where the map draws each place and which region it joins it to are worked out from the
places alone, and kept under the places version (``core.versioning``): every write that
moves a place must move that version, and no other write may."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection, transaction
from django.http import QueryDict

from atlas import explore
from atlas.registry import IMPORT_SPECS
from core import versioning
from importing.engine import Importer
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.explore.drawing import named
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.importing.conftest import csv_bytes

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("kept_layouts")]


@pytest.fixture
def registry():
    """Two Suzhous, a district that takes its province's place, a region without
    coordinates drawn at the middle of its places."""
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY, latitude=35, longitude=103)
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, parent=china)
    anhui = PlaceFactory(
        name="Anhui", kind=Place.Kind.PROVINCE, parent=china, latitude=31.8, longitude=117.2
    )
    suzhou_j = PlaceFactory(name="Suzhou", parent=jiangsu, latitude=31.3, longitude=120.6)
    suzhou_a = PlaceFactory(name="Suzhou", parent=anhui, latitude=33.6, longitude=116.9)
    district = PlaceFactory(name="Gusu", kind=Place.Kind.DISTRICT, parent=anhui)
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, latitude=56, longitude=10)
    ringsted = PlaceFactory(name="Ringsted", parent=denmark, latitude=55.4, longitude=11.8)
    company = OrganisationFactory(name="Suzhou Company", place=suzhou_j)
    PartnershipFactory(parties=[ringsted, suzhou_j])
    PartnershipFactory(parties=[ringsted, suzhou_a, district])
    PartnershipFactory(parties=[company, ringsted])
    return {
        "jiangsu": jiangsu,
        "anhui": anhui,
        "suzhou_j": suzhou_j,
        "district": district,
        "ringsted": ringsted,
        "company": company,
    }


def drawn(lines=None):
    """The map for the public, from the kept counts (as without a filter) and counted (as
    with one)."""
    saved, explore.MAX_LINES = explore.MAX_LINES, lines or explore.MAX_LINES
    try:
        public = AnonymousUser()
        partnerships = Partnership.objects.visible_to(public)
        kept = explore._kept_tally(partnerships, public)
        counted = explore._Counted(partnerships, explore.visible_participants(public))
        urls = explore.Urls()
        return [named(tally, partnerships, urls) for tally in (kept, counted)]
    finally:
        explore.MAX_LINES = saved


def fresh(settings, lines=None):
    """The same, from a layout read for it alone."""
    settings.ATLAS_CACHE_PAGES = False
    try:
        return drawn(lines)
    finally:
        settings.ATLAS_CACHE_PAGES = True


def points(data, shown=lambda point: point["geometry"]["coordinates"]):
    """{slug: what ``shown`` reads of its point} of each place drawn."""
    return {
        f["properties"]["slug"]: shown(f)
        for f in data["features"]
        if f["geometry"]["type"] == "Point"
    }


def moves(registry):
    r = registry
    return [
        # Coordinates saved: the place, and what takes its place, move.
        lambda: _save(r["anhui"], latitude=30, longitude=118),
        # A new name, in either language: the layout holds the names it draws.
        lambda: _save(r["suzhou_j"], name_en="Suzhou (Jiangsu)"),
        lambda: Place.objects.filter(pk=r["ringsted"].pk).update(name_da="Ringsted Kommune"),
        # A new parent: the district takes another place and joins another region.
        lambda: _save(r["district"], parent=r["jiangsu"]),
        # The bulk paths: update() (merges, the shell, bulk edits) and bulk_create().
        lambda: Place.objects.filter(pk=r["jiangsu"].pk).update(latitude=32.9, longitude=119.8),
        lambda: Place.objects.filter(pk=r["jiangsu"].pk).update(kind=Place.Kind.COUNTRY),
        lambda: Place.objects.bulk_create(
            [Place(name_en="Wujiang", slug="wujiang", parent=r["suzhou_j"], kind="district")]
        ),
        # A raw write, which bumps without saying what it wrote.
        lambda: _raw_coordinates(r["suzhou_j"]),
        # An import of places.
        lambda: Importer(IMPORT_SPECS["places"], publish=True).run(
            csv_bytes(
                [
                    ["name", "kind", "country", "latitude", "longitude", "source"],
                    ["Wuxi", "city", "CN", "31.5", "120.3", "Note"],
                ]
            ),
            "places.csv",
        ),
        # A place deleted (one that nothing names or lies in: others are protected).
        lambda: Place.objects.get(slug="wujiang").delete(),
    ]


def _save(place, **fields):
    place.refresh_from_db()
    for name, value in fields.items():
        setattr(place, name, value)
    place.save()


def _raw_coordinates(place):
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Place._meta.db_table} SET latitude = 31.4, longitude = 120.7 WHERE id = %s",
            [place.pk],
        )
    versioning.bump()


@pytest.mark.parametrize("lines", [explore.MAX_LINES, 1])
def test_every_write_to_a_place_moves_the_kept_layout(registry, settings, lines):
    # With one line the map joins places up to regions: the region of each place and
    # where a region is drawn must follow the writes too.
    assert drawn(lines) == fresh(settings, lines)
    for write in moves(registry):
        before = versioning.places_version()
        write()
        assert versioning.places_version() != before
        after = drawn(lines)
        assert after == fresh(settings, lines)
        assert after[0] == after[1]  # kept and counted draw alike


def test_a_moved_place_is_drawn_where_it_went(registry):
    kept, _counted = drawn()
    assert points(kept)[registry["district"].slug] == [117.2, 31.8]  # Anhui's place
    _save(registry["anhui"], latitude=30, longitude=118)
    kept, _counted = drawn()
    assert points(kept)[registry["district"].slug] == [118.0, 30.0]


def names(data):
    return points(data, lambda point: point["properties"]["name"])


def test_a_renamed_place_is_drawn_by_its_new_name(registry):
    kept, _counted = drawn()
    assert names(kept)[registry["suzhou_j"].slug] == "Suzhou"
    _save(registry["suzhou_j"], name_en="Suzhou (Jiangsu)")
    kept, _counted = drawn()
    assert names(kept)[registry["suzhou_j"].slug] == "Suzhou (Jiangsu)"


def test_writes_to_anything_but_places_keep_the_layout(registry):
    drawn()
    layout = explore._layouts["default"]
    places = versioning.places_version()
    registry["company"].place = registry["ringsted"]
    registry["company"].save()
    Organisation.objects.filter(pk=registry["company"].pk).update(place=registry["suzhou_j"])
    PartnershipFactory(parties=[registry["ringsted"], registry["district"]])
    Partnership.objects.update(status="ended")
    drawn()
    assert versioning.places_version() == places
    assert explore._layouts["default"] is layout


def test_a_place_written_in_a_transaction_that_wrote_something_else_first(registry):
    # One UPDATE of the version per transaction, unless a later write needs the places
    # version moved and the first did not move it.
    before = versioning.places_version()
    with transaction.atomic():
        registry["company"].save()
        _save(registry["anhui"], latitude=29, longitude=119)
    assert versioning.places_version() != before
    kept, _counted = drawn()
    assert points(kept)[registry["district"].slug] == [119.0, 29.0]


def test_a_place_the_layout_has_not_read_is_read_again(registry):
    drawn()
    layout = explore._layouts["default"]
    # As if the district had been written by a transaction that committed between this
    # reader's version and its counts: counted, but not in the layout of that version.
    district = registry["district"].pk
    del layout.rows[district]
    assert explore._layout({district}, "default").position(district) == [117.2, 31.8]
    assert explore._layouts["default"] is not layout


def test_a_counted_place_the_layout_has_not_read_is_read_again_while_drawing(registry):
    drawn()
    layout = explore._layouts["default"]
    del layout.rows[registry["district"].pk]
    kept, counted = drawn()
    # The kept map read the district among its places with the most partnerships, found
    # it missing and read the layout again.
    assert explore._layouts["default"] is not layout
    assert points(kept)[registry["district"].slug] == [117.2, 31.8]
    assert kept == counted


def test_a_region_is_drawn_where_it_is_whatever_the_filters(registry):
    """Jiangsu has no coordinates: joined up to regions, the map draws it at the middle of
    the places in it that have theirs, those in no partnership too, so that a filter that
    keeps some of them does not move it."""
    jiangsu = registry["jiangsu"]
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu, latitude=31.5, longitude=120.3)
    PlaceFactory(name="Lianyungang", parent=jiangsu, latitude=34.6, longitude=119.2)
    # Without coordinates, in Jiangsu's place: no pull towards China's.
    PlaceFactory(name="Gaoyou", parent=jiangsu)
    middle = [
        round((120.6 + 120.3 + 119.2) / 3, 4),
        round((31.3 + 31.5 + 34.6) / 3, 4),
    ]
    # Three places, three ties: past one line, joined up to Ringsted and Jiangsu.
    PartnershipFactory(parties=[registry["ringsted"], registry["suzhou_j"], wuxi], status="ended")
    saved, explore.MAX_LINES = explore.MAX_LINES, 1
    try:
        unfiltered, _counted = drawn(lines=1)
        filtered = explore.map_data(
            explore.filter_partnerships(QueryDict("status=ended")).qs, user=AnonymousUser()
        )
    finally:
        explore.MAX_LINES = saved
    for data in (unfiltered, filtered):
        assert data["meta"]["line_level"] == "region"
        ends = {
            point
            for line in data["features"]
            if line["geometry"]["type"] == "LineString"
            for point in map(tuple, line["geometry"]["coordinates"])
        }
        assert tuple(middle) in ends
        # Jiangsu takes part through Suzhou only: no point of its own.
        assert jiangsu.slug not in points(data)
    assert filtered["meta"]["partnerships"] == 1


def test_the_version_and_the_versions_of_the_parts_are_one_query(django_assert_num_queries):
    with django_assert_num_queries(1):
        (value, _changed_at), parts = versioning.current(parts=True)
    assert set(parts) == {"places", "organisations", "map", "counts", "events"}
    assert all(part_value <= value for part_value, _part_changed_at in parts.values())
