"""The query planner's statistics are gathered where the registry's size jumps: after
``migrate`` and after a large import (``core.planner``)."""

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection

from atlas.registry import IMPORT_SPECS
from core import planner
from importing.engine import Importer
from places.models import Place
from tests.factories import PlaceFactory
from tests.importing.conftest import csv_bytes

pytestmark = pytest.mark.django_db


def planned_rows(table):
    """How many rows the planner believes ``table`` holds."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT stat FROM sqlite_stat1 WHERE tbl = %s AND idx IS NOT NULL", [table]
            )
            found = cursor.fetchone()
            return int(found[0].split()[0]) if found else 0
        cursor.execute("SELECT reltuples FROM pg_class WHERE relname = %s", [table])
        return max(0, int(cursor.fetchone()[0]))


def test_migrate_gathers_the_statistics():
    PlaceFactory.create_batch(3)
    # PostgreSQL keeps the planner's figures when a test rolls back: not 3 by chance.
    assert planned_rows("places_place") != 3
    emit_post_migrate_signal(0, False, connection.alias, apps=apps, plan=[])
    assert planned_rows("places_place") == 3


def test_flush_does_not():
    before = planned_rows("places_place")
    PlaceFactory.create_batch(5)
    emit_post_migrate_signal(0, False, connection.alias)
    assert planned_rows("places_place") == before


def test_a_large_import_gathers_them(monkeypatch):
    monkeypatch.setattr(planner, "LARGE_IMPORT", 4)
    assert planned_rows("places_place") != 4
    rows = [["name", "kind", "country", "source"]]
    rows += [[f"Town {n}", "city", "CN", "Note"] for n in range(4)]
    report = Importer(IMPORT_SPECS["places"]).run(csv_bytes(rows), "places.csv")
    assert report.batch is not None
    assert planned_rows("places_place") == Place.objects.count() == 4


def test_a_small_import_leaves_them():
    before = planned_rows("places_place")
    rows = [["name", "kind", "country", "source"], ["Town", "city", "CN", "Note"]]
    report = Importer(IMPORT_SPECS["places"]).run(csv_bytes(rows), "places.csv")
    assert report.batch is not None
    assert planned_rows("places_place") == before
