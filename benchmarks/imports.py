"""Spreadsheet import speed: ours beside django-import-export's default and a bare bulk_create.

Run with `make bench` (or `python benchmarks/imports.py`). Creates a throw-away SQLite
database, writes a 10,000-row places file and a 10,000-row partnerships file from
synthetic data, and times, side by side in one run:

- our import (read, parse, resolve names, validate every row in memory, write in bulk
  with history and an import batch), plus its dry run and a re-import of the same file;
- django-import-export's default row-by-row import of the same file: a plain
  ModelResource with import_id_fields on the name and a ForeignKeyWidget by name;
- a bare bulk_create of the same objects (no file, no validation, no history), and the
  same with simple_history's bulk_create_with_history (the history rows every import
  writes, so that each change shows in the records' history);
- the admin preview of the places file (upload to rendered page, through the test client).

Each run happens inside a transaction that is then rolled back, so all start from the same
database, and CPU time counts (see ``timed``). Every side, the default import included,
runs the same number of interleaved rounds (--repeat, 3 by default) and the median of
each counts: the same count on both sides keeps the ratio fair. The default import
takes about a minute per round and file; --default-rows 2000 times it on fewer rows and
scales linearly, which flatters it, since its per-row cost grows with the table.
"""

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import configure

ROWS = 10_000
SPEEDUP_GOAL = 15.0
BULK_GOAL = 3.0
PREVIEW_GOAL_S = 10.0
PROVINCES = 100


def csv_file(header, rows):
    from core.exports import csv_text

    return csv_text(header, rows).encode("utf-8")


KINDS = ["city", "municipality", "district"]
PLACE_HEADER = ["name", "kind", "country", "parent", "latitude", "longitude", "description"]


def place_rows(count):
    rows = [
        [f"Province {n}", "province", "CN", "", f"{30 + n / 100:.4f}", f"{110 + n / 100:.4f}", ""]
        for n in range(PROVINCES)
    ]
    for n in range(count - PROVINCES):
        rows.append(
            [
                f"Town {n}",
                KINDS[n % 3],
                "CN" if n % 2 else "DK",
                f"Province {n % PROVINCES}",
                f"{20 + (n % 5000) / 1000:.4f}",
                f"{100 + (n % 7000) / 1000:.4f}",
                f"Synthetic town number {n}.",
            ]
        )
    return rows


PARTNERSHIP_HEADER = ["title", "kind", "status", "participants", "start", "end", "themes"]


def partnership_rows(count, towns, organisations):
    return [
        [
            f"Partnership {n}",
            "sister_city" if n % 2 else "cooperation_agreement",
            "active" if n % 3 else "ended",
            # Each row its own pair: the same participants and kind are one partnership.
            f"Town {n % towns}; Organisation {(n // towns) % organisations}",
            str(1990 + n % 30),
            "" if n % 3 else str(2021 + n % 3),
            f"Theme {n % 10}",
        ]
        for n in range(count)
    ]


def timed(function):
    """CPU seconds ``function`` takes inside a transaction that is then rolled back.

    SQLite works inside this process, so its CPU time is the whole cost of an import; on a
    shared machine it stays put while the wall clock runs several times slower."""
    from django.db import transaction

    with transaction.atomic():
        started = time.process_time()
        result = function()
        elapsed = time.process_time() - started
        transaction.set_rollback(True)
    return elapsed, result


def medians(runs, repeat):
    """The median of ``repeat`` interleaved rounds of each run, each run as often as the others."""
    times = {name: [] for name in runs}
    for _round in range(repeat):
        for name, function in runs.items():
            times[name].append(timed(function)[0])
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def default_place_import(data):
    import tablib
    from import_export import resources
    from import_export.fields import Field
    from import_export.widgets import ForeignKeyWidget

    from places.models import Place

    class PlaceDefaultResource(resources.ModelResource):
        parent = Field(
            attribute="parent", column_name="parent", widget=ForeignKeyWidget(Place, "name")
        )

        class Meta:
            model = Place
            import_id_fields = ["name"]
            fields = PLACE_HEADER

    dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    result = PlaceDefaultResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), result.base_errors
    return result


def default_partnership_import(data):
    """A plain resource cannot fill participants (a reverse relation); it does the rest."""
    import tablib
    from import_export import resources
    from import_export.fields import Field
    from import_export.widgets import ManyToManyWidget

    from partnerships.models import Partnership, Theme

    class PartnershipDefaultResource(resources.ModelResource):
        themes = Field(
            attribute="themes", column_name="themes", widget=ManyToManyWidget(Theme, ";", "name")
        )

        class Meta:
            model = Partnership
            import_id_fields = ["title"]
            fields = ["title", "kind", "status", "start", "end", "themes"]

    dataset = tablib.Dataset().load(data.decode("utf-8-sig"), format="csv")
    del dataset["participants"]
    result = PartnershipDefaultResource().import_data(dataset, dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors(), result.base_errors
    return result


def insert(model, objects, history):
    """bulk_create, or with history: what records written in bulk cost with their history."""
    if history:
        from simple_history.utils import bulk_create_with_history

        return bulk_create_with_history(objects, model, batch_size=500)
    return model.objects.bulk_create(objects, batch_size=500)


def bulk_places(rows, history=False):
    from core.text import search_key, slug_base
    from places.models import Place

    provinces = [
        Place(
            name=row[0],
            slug=slug_base(row[0]),
            kind=row[1],
            country=row[2],
            latitude=row[4],
            longitude=row[5],
            search_key=search_key([row[0]]),
        )
        for row in rows[:PROVINCES]
    ]
    insert(Place, provinces, history)
    by_name = {place.name: place.pk for place in provinces}
    towns = [
        Place(
            name=row[0],
            slug=slug_base(row[0]),
            kind=row[1],
            country=row[2],
            parent_id=by_name[row[3]],
            latitude=row[4],
            longitude=row[5],
            description=row[6],
            search_key=search_key([row[0]]),
        )
        for row in rows[PROVINCES:]
    ]
    insert(Place, towns, history)


def bulk_partnerships(rows, places, organisations, themes, history=False):
    from core.dates import PartialDate
    from core.text import search_key, slug_base
    from partnerships.models import Participant, Partnership

    partnerships = []
    for row in rows:
        start = PartialDate.parse(row[4])
        end = PartialDate.parse(row[5]) if row[5] else None
        partnerships.append(
            Partnership(
                title=row[0],
                slug=slug_base(row[0]),
                kind=row[1],
                status=row[2],
                start=start,
                end=end,
                start_on=start.earliest,
                end_on=end.latest if end else None,
                search_key=search_key([row[0]]),
            )
        )
    insert(Partnership, partnerships, history)
    participants, links = [], []
    through = Partnership.themes.through
    for partnership, row in zip(partnerships, rows, strict=True):
        town, organisation = row[3].split("; ")
        participants.append(Participant(partnership=partnership, place_id=places[town]))
        participants.append(
            Participant(partnership=partnership, organisation_id=organisations[organisation])
        )
        links.append(through(partnership_id=partnership.pk, theme_id=themes[row[6]]))
    insert(Participant, participants, history)
    through.objects.bulk_create(links, batch_size=1000)


def ours(spec, data, dry_run=False):
    from importing.engine import Importer

    report = Importer(spec).run(data, "bench.csv", dry_run=dry_run)
    assert not report.problems, [str(problem) for problem in report.problems[:5]]
    return report


def admin_preview(data):
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    user = get_user_model().objects.create_superuser("bench-admin", password="x")
    client = Client()
    client.force_login(user)
    upload = io.BytesIO(data)
    upload.name = "places.csv"
    started = time.perf_counter()
    response = client.post(reverse("admin:places_place_import"), {"file": upload}, secure=True)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200 and b"Confirm import" in response.content, (
        response.status_code,
        response.content[:3000],
    )
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=ROWS)
    parser.add_argument(
        "--default-rows",
        type=int,
        default=ROWS,
        help="time the default import on this many rows and scale (2000 for a quick run)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="rounds of every side")
    parser.add_argument(
        "--types", default="places,partnerships", help="which imports: places, partnerships"
    )
    parser.add_argument("--output", help="write the figures to this JSON file as well")
    arguments = parser.parse_args()
    types = set(arguments.types.split(","))
    figures = {}
    rows_count, default_rows = arguments.rows, min(arguments.default_rows, arguments.rows)

    with tempfile.TemporaryDirectory() as directory:
        configure(Path(directory) / "bench.sqlite3")
        from django.core.management import call_command
        from django.db import transaction

        from organisations.models import Organisation
        from organisations.resources import OrganisationType  # noqa: F401
        from partnerships.models import Theme
        from partnerships.resources import PartnershipType
        from places.models import Place
        from places.resources import PlaceType

        call_command("migrate", verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)

        if "places" in types:
            places = place_rows(rows_count)
            place_data = csv_file(PLACE_HEADER, places)
            print(
                f"Places: {rows_count:,} rows ({len(place_data) / 1e6:.1f} MB CSV), "
                f"{PROVINCES} provinces then towns that name them as parent."
            )
            default_data = csv_file(PLACE_HEADER, places[:default_rows])
            results = medians(
                {
                    "ours": lambda: ours(PlaceType, place_data),
                    "default": lambda: default_place_import(default_data),
                    "ours dry run": lambda: ours(PlaceType, place_data, True),
                    "bulk_create": lambda: bulk_places(places),
                    "bulk + history": lambda: bulk_places(places, history=True),
                },
                arguments.repeat,
            )
            results["default"] *= rows_count / default_rows

            # Re-import of an unchanged file: import once for real, then time the second.
            with transaction.atomic():
                ours(PlaceType, place_data)
                results["ours unchanged"], report = timed(lambda: ours(PlaceType, place_data))
                assert report.counts["unchanged"] == rows_count
                transaction.set_rollback(True)
            with transaction.atomic():
                results["admin preview"] = admin_preview(place_data)
                transaction.set_rollback(True)
            figures["places"] = report_results("places", results, rows_count, default_rows)

        if "partnerships" in types:
            # Partnerships between places and organisations already in the registry.
            towns, organisations_count = 2000, 500
            with transaction.atomic():
                bulk_places(place_rows(towns + PROVINCES))
                Organisation.objects.bulk_create(
                    [
                        Organisation(
                            name=f"Organisation {n}",
                            slug=f"organisation-{n}",
                            kind="university",
                            country="DK",
                            search_key=f"|organisation{n}|",
                        )
                        for n in range(organisations_count)
                    ]
                )
                Theme.objects.bulk_create(
                    [Theme(name=f"Theme {n}", slug=f"theme-{n}") for n in range(10)]
                )
            place_ids = dict(Place.objects.values_list("name", "pk"))
            organisation_ids = dict(Organisation.objects.values_list("name", "pk"))
            theme_ids = dict(Theme.objects.values_list("name", "pk"))
            partnerships = partnership_rows(rows_count, towns, organisations_count)
            data = csv_file(PARTNERSHIP_HEADER, partnerships)
            print(
                f"\nPartnerships: {rows_count:,} rows, each with a town and an organisation "
                "named as participants and a theme."
            )
            default_data = csv_file(PARTNERSHIP_HEADER, partnerships[:default_rows])
            results = medians(
                {
                    "ours": lambda: ours(PartnershipType, data),
                    "default": lambda: default_partnership_import(default_data),
                    "ours dry run": lambda: ours(PartnershipType, data, True),
                    "bulk_create": lambda: bulk_partnerships(
                        partnerships, place_ids, organisation_ids, theme_ids
                    ),
                    "bulk + history": lambda: bulk_partnerships(
                        partnerships, place_ids, organisation_ids, theme_ids, history=True
                    ),
                },
                arguments.repeat,
            )
            results["default"] *= rows_count / default_rows
            with transaction.atomic():
                ours(PartnershipType, data)
                results["ours unchanged"], report = timed(lambda: ours(PartnershipType, data))
                assert report.counts["unchanged"] == rows_count
                transaction.set_rollback(True)
            figures["partnerships"] = report_results(
                "partnerships", results, rows_count, default_rows
            )

    if arguments.output:
        Path(arguments.output).write_text(
            json.dumps({"rows": rows_count, "repeat": arguments.repeat, **figures}, indent=2)
        )


def report_results(label, results, rows_count, default_rows):
    scaled = "" if default_rows == rows_count else f" (timed on {default_rows:,} rows, scaled)"
    for name, seconds in results.items():
        note = scaled if name == "default" else ""
        print(f"  {name:<16} {seconds:8.2f} s  {rows_count / seconds:8,.0f} rows/s{note}")
    speedup = results["default"] / results["ours"]
    to_bulk = results["ours"] / results["bulk_create"]
    print(
        f"  {label}: ours is {speedup:.1f}x faster than the default import "
        f"(goal >= {SPEEDUP_GOAL:.0f}x: {'met' if speedup >= SPEEDUP_GOAL else 'NOT met'}); "
        f"{to_bulk:.1f}x a bare bulk_create "
        f"(goal <= {BULK_GOAL:.0f}x: {'met' if to_bulk <= BULK_GOAL else 'NOT met'}); "
        f"{results['ours'] / results['bulk + history']:.1f}x the same bulk_create with "
        "simple_history's bulk_create_with_history, which every import writes"
    )
    if "admin preview" in results:
        preview = results["admin preview"]
        print(
            f"  admin preview of {rows_count:,} rows: {preview:.1f} s "
            f"(goal < {PREVIEW_GOAL_S:.0f} s: {'met' if preview < PREVIEW_GOAL_S else 'NOT met'})"
        )
    return {"seconds": results, "speedup": speedup, "to_bulk": to_bulk}


if __name__ == "__main__":
    main()
