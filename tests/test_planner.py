"""The query planner's statistics are gathered where the registry's size jumps: after
``migrate`` and after a large import (``core.planner``)."""

import re

import pytest
from django.apps import apps
from django.core.management.sql import emit_post_migrate_signal
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from atlas.registry import IMPORT_SPECS
from core import planner
from importing.engine import Importer
from places.models import Place
from tests.factories import PartnershipFactory, PlaceFactory
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


@pytest.mark.parametrize("language", ["en", "da"])
def test_a_list_of_one_kind_and_status_reads_its_first_page_in_order_from_an_index(
    client, language
):
    for number in range(30):
        PartnershipFactory(
            title=f"Tie {number:02}",
            kind="sister_city" if number % 3 else "cooperation",
            status="active" if number % 2 else "ended",
        )
    with CaptureQueriesContext(connection) as queries:
        with translation.override(language):
            address = reverse("partnerships:partnership-list")
        response = client.get(address, {"kind": "sister_city", "status": "active"})
    assert [p.title for p in response.context["object_list"]] == [
        f"Tie {n:02}" for n in range(30) if n % 3 and n % 2
    ]
    (page,) = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "partnerships_partnership"."id", ')
        and "LIMIT" in query["sql"]
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table this small is read whole and sorted unless sorting is ruled out, and
            # its order may as well come from the index of titles alone, filtered row by
            # row. Without that index (dropped inside the test's transaction, which rolls
            # back), only an index that leads with the kind and status can spare the sort.
            cursor.execute("SET LOCAL enable_sort = off")
            cursor.execute(f"DROP INDEX partnership_title_{language}_idx")
            cursor.execute(f"EXPLAIN {page}")
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert "Sort" not in plan
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {page}")
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
            assert "TEMP B-TREE" not in plan
    assert f"partnership_ks_title_{language}_idx" in plan


def test_the_counts_of_a_list_as_of_a_year_read_the_counting_index_alone(client):
    for number in range(30):
        PartnershipFactory(
            kind="sister_city" if number % 3 else "cooperation",
            status="active" if number % 2 else "ended",
            start=f"{1990 + number}",
            end="2030" if number % 5 == 0 else "",
        )
    # As of a month: a whole year's counts are kept by the writes, and read no partnership
    # (tests/partnerships/test_as_of_counts.py).
    params = {"kind": ["sister_city", "cooperation"], "status": "active", "as_of": "2010-11"}
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("partnerships:partnership-list"), params)
    assert response.status_code == 200
    # Active, and begun by November 2010: the odd ones of the first 21.
    assert response.context["filter"].facet_counts()["status"]["active"] == 10
    # The status facet: every partnership of the chosen kinds, whatever its status, with
    # the whole "as of" test to pass.
    (counts,) = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].startswith('SELECT "partnerships_partnership"."status" AS "status"')
    ]
    assert "status_as_of_on" in counts and "end_on" in counts
    # Every column the query reads is in the counting index, so either database can
    # answer it from the index alone. (On a table this small PostgreSQL plans as it likes:
    # read whole, or through the index that hands the rows over grouped by status.)
    read = set(re.findall(r'"partnerships_partnership"\."(\w+)"', counts))
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "partnerships_partnership")
    assert read <= set(constraints["partnership_counts_idx"]["columns"])
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN QUERY PLAN {counts}")
            plan = "\n".join(str(row[-1]) for row in cursor.fetchall())
        assert "COVERING INDEX partnership_counts_idx" in plan
