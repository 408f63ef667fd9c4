"""Server time of the admin's changelists and change pages, as ratios to a page with no query.

Run with `python benchmarks/admin.py` (make bench calls `main(argv)`). Fills a throw-away
SQLite database with `generate_bench_data` (or reuses the one given with --database),
logs a superuser in, then requests every admin page in interleaved rounds through
Django's test client with DEBUG off, and reports the median of each beside the median
of /about/, measured side by side in the same run. Goal: every page ≤ 20× /about/.
"""

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, configure

GOAL = 20.0


def prepare(partnerships):
    """Migrate and fill the database unless it already holds a registry; seconds spent."""
    from django.core.management import call_command

    from partnerships.models import Partnership

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    if Partnership.objects.exists():
        return 0.0
    started = time.perf_counter()
    call_command("generate_bench_data", partnerships=partnerships, stdout=io.StringIO())
    add_import_batch()
    return time.perf_counter() - started


def add_import_batch():
    """A large import to show: every place created, 1,000 partnerships changed."""
    from django.contrib.contenttypes.models import ContentType

    from core.models import ImportBatch, ImportBatchItem
    from partnerships.models import Partnership
    from places.models import Place

    place_ids = list(Place.objects.values_list("pk", flat=True))
    batch = ImportBatch.objects.create(
        content_type=ContentType.objects.get_for_model(Place),
        file_name="places.csv",
        created_count=len(place_ids),
        created={"places.place": place_ids},
    )
    partnership_type = ContentType.objects.get_for_model(Partnership)
    ImportBatchItem.objects.bulk_create(
        ImportBatchItem(batch=batch, content_type=partnership_type, object_id=pk, before={})
        for pk in Partnership.objects.values_list("pk", flat=True)[:1000]
    )


def superuser():
    from django.contrib.auth import get_user_model

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    return user


def pages():
    """(label, url) for the baseline and every admin page, on the records with most ties."""
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import translation

    from core.models import ImportBatch, Source
    from organisations.models import Organisation
    from partnerships.models import Partnership, Theme
    from places.models import Place

    place = Place.objects.annotate(
        n=Count("figures", distinct=True) + Count("other_names", distinct=True)
    ).latest("n")
    organisation = Organisation.objects.annotate(n=Count("other_names")).latest("n")
    partnership = Partnership.objects.annotate(
        n=Count("participants", distinct=True) + Count("events", distinct=True)
    ).latest("n")
    source = Source.objects.first()
    theme = Theme.objects.annotate(n=Count("partnerships")).latest("n")
    records = [
        ("place", place),
        ("organisation", organisation),
        ("partnership", partnership),
        ("source", source),
        ("theme", theme),
    ]
    urls = [("about (no query)", reverse("about"))]
    with translation.override("en"):
        for name, record in records:
            opts = record._meta
            prefix = f"admin:{opts.app_label}_{opts.model_name}"
            urls += [
                (f"{name} changelist", reverse(f"{prefix}_changelist")),
                (f"{name} change page", reverse(f"{prefix}_change", args=[record.pk])),
                (f"{name} history", reverse(f"{prefix}_history", args=[record.pk])),
            ]
            version = record.history.order_by("-history_date").first()
            if version is not None:
                urls.append(
                    (
                        f"{name} earlier version",
                        reverse(f"{prefix}_simple_history", args=[record.pk, version.pk]),
                    )
                )
        urls += [
            ("place add page", reverse("admin:places_place_add")),
            ("partnership add page", reverse("admin:partnerships_partnership_add")),
            (
                "place changelist, filtered",
                reverse("admin:places_place_changelist") + "?country__exact=CN&kind__exact=city",
            ),
            ("place changelist ?q=", reverse("admin:places_place_changelist") + "?q=town"),
            (
                "partnership changelist, filtered",
                reverse("admin:partnerships_partnership_changelist")
                + f"?status__exact=active&themes__id__exact={theme.pk}",
            ),
            (
                "partnership changelist, middle page",
                reverse("admin:partnerships_partnership_changelist") + f"?p={last_page() // 2 + 1}",
            ),
            (
                "partnership changelist, last page",
                reverse("admin:partnerships_partnership_changelist") + f"?p={last_page()}",
            ),
            ("place autocomplete", autocomplete_url("places", "place", "parent")),
        ]
        batch = ImportBatch.objects.first()
        if batch is not None:
            urls += [
                ("import batch changelist", reverse("admin:core_importbatch_changelist")),
                ("import batch page", reverse("admin:core_importbatch_change", args=[batch.pk])),
            ]
    return urls


def last_page():
    from django.contrib import admin

    from partnerships.models import Partnership

    per_page = admin.site.get_model_admin(Partnership).list_per_page
    return -(-Partnership.objects.count() // per_page)


def autocomplete_url(app_label, model_name, field_name):
    from urllib.parse import urlencode

    from django.urls import reverse

    query = {"app_label": app_label, "model_name": model_name, "field_name": field_name}
    return reverse("admin:autocomplete") + "?" + urlencode(query)


def measure(client, urls, rounds):
    timings = {url: [] for _, url in urls}
    for _, url in urls:  # warm caches and check every page answers
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    for _ in range(rounds):
        for _, url in urls:
            started = time.perf_counter()
            client.get(url)
            timings[url].append((time.perf_counter() - started) * 1000)
    return {url: statistics.median(values) for url, values in timings.items()}


def run(arguments):
    from django.conf import settings
    from django.test import Client

    generated = prepare(arguments.partnerships)
    urls = pages()
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(superuser())
    medians = measure(client, urls, arguments.rounds)
    baseline = medians[urls[0][1]]
    from partnerships.models import Partnership

    count = Partnership.objects.count()
    print(
        f"Admin pages, {count} partnerships, {settings.DATABASES['default']['ENGINE']}, "
        f"DEBUG={settings.DEBUG}, median of {arguments.rounds} interleaved rounds"
        + (f" (data generated in {generated:.0f} s)" if generated else "")
    )
    print(f"{'page':<40} {'median ms':>10} {'ratio':>8}  goal ≤ {GOAL:.0f}× about")
    results = []
    for label, url in urls:
        ratio = medians[url] / baseline
        met = ratio <= GOAL
        if url != urls[0][1]:
            results.append(
                {
                    "page": label,
                    "url": url,
                    "median_ms": round(medians[url], 2),
                    "ratio": round(ratio, 2),
                    "met": met,
                }
            )
        mark = "baseline" if url == urls[0][1] else ("ok" if met else "MISSED")
        print(f"{label:<40} {medians[url]:>10.1f} {ratio:>8.2f}  {mark}")
    met = sum(result["met"] for result in results)
    print(f"{met} of {len(results)} goals met")
    return {
        "partnerships": count,
        "rounds": arguments.rounds,
        "baseline_ms": round(baseline, 2),
        "pages": results,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--database", help="SQLite file to use and keep (filled if empty); default: a temporary one"
    )
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "admin.json"))
    arguments = parser.parse_args(argv)

    from django.apps import apps

    with tempfile.TemporaryDirectory() as folder:
        if not apps.ready:  # a caller that set Django up already chose the database
            configure(Path(arguments.database or Path(folder) / "bench.sqlite3").resolve())
        results = run(arguments)
    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2))
    print(f"Results in {output}")
    return results


if __name__ == "__main__":
    main()
