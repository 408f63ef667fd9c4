"""Server time of the public pages on a synthetic registry, as ratios to a page with no query.

Run with `make bench`. Creates a throw-away SQLite database, fills it with
`generate_bench_data`, then requests every page in interleaved rounds through Django's
test client (the whole request: middleware, view, queries, template) and reports the
median of each beside the median of the about page, which renders the same base
template without a database query. Ratios measured side by side in one run are what
count on a shared 2-core machine, not the absolute times.
"""

import argparse
import io
import json
import statistics
import tempfile
import time
from pathlib import Path

from common import ROOT, configure

LIST_DETAIL_GOAL = 3.0
SEARCH_GOAL_MS = 50.0


def prepare(partnerships):
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    started = time.perf_counter()
    call_command("generate_bench_data", partnerships=partnerships, stdout=io.StringIO())
    return time.perf_counter() - started


# A row measured after a write that moves the map's counts, besides the registry version
# (benchmarks/served.py): the whole map is kept until they move (``atlas.explore``).
MOVES_THE_MAP = ", after a write that moves the map"
# And one measured after a write that moves a kept count, besides the registry version:
# the facets of a list filtered by what the counts keep, and what each worker reads of
# them, are kept until one moves (``core.filters.RecordFilterSet.counted_from``).
MOVES_THE_COUNTS = ", after a write that moves the counts"
# And one measured after a write to each partnership the page shows, besides the version:
# the cards and API representations of the others are kept under each one's revision
# (``partnerships.revisions``), and outlive writes to other partnerships.
WRITES_ITS_PARTNERSHIPS = ", after a write to each of its partnerships"
# And one after a write to one partnership of a network: its graph is kept under the
# revisions of all of them (``atlas.explore._kept``), and built again after a write to any.
WRITES_ONE_OF_ITS = ", after a write to one of its partnerships"


def pages():
    """(label, url, kind) for every public page, on records with many ties."""
    from django.db.models import Count
    from django.urls import reverse
    from django.utils import translation

    from organisations.models import Organisation
    from partnerships.models import Partnership
    from places.models import Place

    province = (
        Place.objects.filter(kind=Place.Kind.PROVINCE).annotate(n=Count("children")).latest("n")
    )
    city = Place.objects.filter(parent=province).first()
    # A country takes part in nearly every partnership: the page and the list that read
    # from the front, or every partnership less the few it leaves out.
    country = Place.objects.filter(kind=Place.Kind.COUNTRY).annotate(n=Count("children"))
    country = country.latest("n")
    organisation = Organisation.objects.annotate(n=Count("participations")).latest("n")
    partnership = Partnership.objects.annotate(n=Count("participants")).latest("n")
    query = city.name.split()[0][:5]
    with translation.override("en"):
        return [
            ("about (no query)", reverse("about"), "baseline"),
            ("home", reverse("home"), "list"),
            ("place list", reverse("places:place-list"), "list"),
            ("place detail (province)", province.get_absolute_url(), "detail"),
            ("place detail (city)", city.get_absolute_url(), "detail"),
            ("place detail (country)", country.get_absolute_url(), "detail"),
            ("organisation list", reverse("organisations:organisation-list"), "list"),
            ("organisation detail", organisation.get_absolute_url(), "detail"),
            ("partnership list", reverse("partnerships:partnership-list"), "list"),
            (
                f"partnership list{MOVES_THE_COUNTS}",
                reverse("partnerships:partnership-list"),
                "list",
            ),
            (
                f"partnership list{WRITES_ITS_PARTNERSHIPS}",
                reverse("partnerships:partnership-list"),
                "list",
            ),
            (
                "partnership list, filtered",
                reverse("partnerships:partnership-list") + "?status=active&kind=sister_city",
                "list",
            ),
            (
                "partnership list, faceted and as of",
                reverse("partnerships:partnership-list")
                + "?kind=sister_city&kind=cooperation&country=DK&country=CN&status=active"
                + "&as_of=2010",
                "list",
            ),
            (
                f"partnership list, faceted and as of{MOVES_THE_COUNTS}",
                reverse("partnerships:partnership-list")
                + "?kind=sister_city&kind=cooperation&country=DK&country=CN&status=active"
                + "&as_of=2010",
                "list",
            ),
            (
                "partnership list of a country",
                reverse("partnerships:partnership-list") + f"?place={country.slug}",
                "list",
            ),
            ("partnership detail", partnership.get_absolute_url(), "detail"),
            (f"search ?q={query}", reverse("search") + f"?q={query}", "search"),
            (
                f"partnership list ?q={query}",
                reverse("partnerships:partnership-list") + f"?q={query}",
                "search",
            ),
            (f"place list ?q={query}", reverse("places:place-list") + f"?q={query}", "search"),
            ("API root (no query)", "/api/", "api-baseline"),
            ("API place list", "/api/places/", "api"),
            ("API place detail", f"/api/places/{province.slug}/", "api"),
            ("API organisation list", "/api/organisations/", "api"),
            ("API partnership list", "/api/partnerships/", "api"),
            (f"API partnership list{WRITES_ITS_PARTNERSHIPS}", "/api/partnerships/", "api"),
            ("API partnership list ?search=", f"/api/partnerships/?search={query}", "api"),
            ("API partnership detail", f"/api/partnerships/{partnership.slug}/", "api"),
            # Each map is kept until a write moves the map version (``atlas.explore``):
            # measured after such a write, then, the next row, after another write. A row
            # of one map never follows a write that moved the map for another only.
            (
                f"API map data, filtered{MOVES_THE_MAP}",
                "/api/map/?status=active&kind=sister_city",
                "api",
            ),
            ("API map data, filtered", "/api/map/?status=active&kind=sister_city", "api"),
            (f"map page{MOVES_THE_MAP}", reverse("atlas:map"), "list"),
            ("map page", reverse("atlas:map"), "list"),
            ("network page", reverse("atlas:network"), "list"),
            ("API map data (GeoJSON)", "/api/map/", "api"),
            (f"API map data{MOVES_THE_MAP}", "/api/map/", "api"),
            ("API network", "/api/network/", "api"),
            ("API network around a province", f"/api/network/?around=place:{province.slug}", "api"),
            (
                f"API network around a province{WRITES_ONE_OF_ITS}",
                f"/api/network/?around=place:{province.slug}",
                "api",
            ),
        ]


def measure(urls, rounds):
    from django.test import Client

    client = Client()
    timings = {url: [] for _, url, _ in urls}
    for _, url, _ in urls:  # warm caches and check every page answers
        response = client.get(url)
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
    for _ in range(rounds):
        for url in timings:  # once each, also the rows of a write that moves the map
            started = time.perf_counter()
            client.get(url)
            timings[url].append((time.perf_counter() - started) * 1000)
    return {url: statistics.median(values) for url, values in timings.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--output", default=str(ROOT / "bench-results" / "pages.json"))
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        configure(Path(folder) / "bench.sqlite3")
        generated = prepare(arguments.partnerships)
        urls = pages()
        medians = measure(urls, arguments.rounds)
        from django.test import Client

        map_response = Client().get("/api/map/")

    map_bytes = len(map_response.content)
    baseline = medians[urls[0][1]]
    api_baseline = next(medians[url] for _, url, kind in urls if kind == "api-baseline")
    print(
        f"Public pages, {arguments.partnerships} partnerships, SQLite, "
        f"median of {arguments.rounds} interleaved rounds (data generated in {generated:.0f} s)"
    )
    print(f"{'page':<44} {'median ms':>10} {'ratio':>8}  goal (pages × about, API × API root)")
    results, failures = [], 0
    for label, url, kind in urls:
        median = medians[url]
        ratio = median / (api_baseline if kind.startswith("api") else baseline)
        if kind in ("list", "detail", "api"):
            ok = ratio <= LIST_DETAIL_GOAL
            goal = f"≤ {LIST_DETAIL_GOAL:.0f}×"
        elif kind == "search":
            ok = median < SEARCH_GOAL_MS
            goal = f"< {SEARCH_GOAL_MS:.0f} ms"
        else:
            ok, goal = True, "baseline"
        failures += not ok
        print(f"{label:<44} {median:>10.1f} {ratio:>8.2f}  {goal} {'ok' if ok else 'MISSED'}")
        results.append(
            {
                "page": label,
                "url": url,
                "median_ms": round(median, 2),
                "ratio": round(ratio, 2),
                "goal": goal,
                "met": ok,
            }
        )
    output = Path(arguments.output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "partnerships": arguments.partnerships,
                "rounds": arguments.rounds,
                "pages": results,
                "map_bytes": map_bytes,
            },
            indent=2,
        )
    )
    goals = len(urls) - 2
    print(f"{goals - failures} of {goals} goals met; results in {output}")
    print(f"/api/map/ answers {map_bytes / 1_000_000:.2f} MB (goal: under 1 MB)")


if __name__ == "__main__":
    main()
