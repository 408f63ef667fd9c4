"""Search at scale: median time of a search with the search-key index and without it.

    python benchmarks/search.py [--partnerships 100000] [--database-url postgres://…]

Uses the generated registry that the other benchmarks keep in var/bench/ (made once, then
migrated). Each query runs as a whole request (the search page, the partnership list and
the API) and as the bare count and first page of the partnership search, in interleaved
rounds: once on the index, once on the plain scan it replaced (SQLite: the models told
they have no index; PostgreSQL: the trigram indexes dropped inside a transaction that is
rolled back, so the registry is left as it was).

Each request is a miss as production serves one (``make bench`` measures the same over
HTTP): the registry version moves just before, as a write to a partnership moves it, and
the shared cache keeps what outlives such a write (``core.cache.per_version``). What the
process loaded while warming up is frozen out of the collector's full passes, as a
gunicorn worker freezes it (``config/gunicorn.conf.py``). Until 6 December 2026 the cache
was off: every value kept across writes was worked out again at each request, and the
collector walked the warm-up's objects.
"""

import gc
import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext

from common import standalone

GOAL_MS = 50.0
# Latin syllables, Danish letters, a Chinese name of two characters (shorter than a
# trigram: looked up as a whole name of the key since 7 December 2026, scanned before),
# two words, and a term that matches nothing.
QUERIES = ["wuxi", "jiangsu", "kørborg", "南宁", "hai university", "zzqx"]


def requests(query):
    from urllib.parse import quote

    from django.urls import reverse
    from django.utils import translation

    with translation.override("en"):
        return {
            "search page": f"{reverse('search')}?q={quote(query)}",
            "partnership list": f"{reverse('partnerships:partnership-list')}?q={quote(query)}",
            "API partnerships": f"/api/partnerships/?search={quote(query)}",
        }


def clock():
    """CPU time on SQLite, where the whole search runs in this process and its CPU time
    holds still on a busy machine; wall time on PostgreSQL, whose work is the server's."""
    from django.db import connection

    return time.process_time() if connection.vendor == "sqlite" else time.perf_counter()


def written():
    """Move the registry version, committed, as a write to a partnership does."""
    from django.db import transaction

    from core.versioning import bump
    from partnerships.models import Partnership

    with transaction.atomic():
        bump(model=Partnership)


def run_queries(client, query):
    """Milliseconds of each measured step for ``query``."""
    from partnerships.models import Partnership

    timings = {}
    started = clock()
    found = Partnership.objects.search(query)
    found.count()
    list(found[:20])
    timings["count + first page"] = (clock() - started) * 1000
    for label, url in requests(query).items():
        written()
        started = clock()
        response = client.get(url)
        timings[label] = (clock() - started) * 1000
        if response.status_code != 200:
            raise SystemExit(f"{url} answered {response.status_code}")
        if response.get("X-Cache") == "HIT":
            raise SystemExit(f"{url} came from the response cache after a write")
    return timings


@contextmanager
def without_index():
    """The plain scan the index replaced, on the same data."""
    from django.db import connection, transaction

    from organisations.models import Organisation
    from partnerships.models import Partnership
    from places.models import Place

    models = [Place, Organisation, Partnership]
    if connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                for model in models:
                    cursor.execute(f'DROP INDEX "{model._meta.db_table}_search_key_trgm"')
            yield
            transaction.set_rollback(True)
    else:
        for model in models:
            model.search_indexed = False
        try:
            yield
        finally:
            for model in models:
                model.search_indexed = True


def measure(rounds):
    from django.test import Client

    client = Client()
    for query in QUERIES:  # warm up, and check that every request answers
        run_queries(client, query)
    gc.collect()
    gc.freeze()
    samples = {}
    for _ in range(rounds):
        for indexed in (True, False):
            with nullcontext() if indexed else without_index():
                for query in QUERIES:
                    for label, ms in run_queries(client, query).items():
                        samples.setdefault((indexed, query, label), []).append(ms)
    return {key: statistics.median(values) for key, values in samples.items()}


def report(results, registry, rounds):
    from django.db import connection

    clock_name = "CPU" if connection.vendor == "sqlite" else "wall"
    print(
        f"Search, {registry.size:,} partnerships, {connection.vendor}, median of {rounds} "
        f"interleaved rounds, {clock_name} ms (index / plain scan)"
    )
    labels = list(dict.fromkeys(label for _, _, label in results))
    print(f"{'query':<16}" + "".join(f"{label:>26}" for label in labels))
    for query in QUERIES:
        cells = "".join(
            f"{results[True, query, label]:>14.1f} / {results[False, query, label]:>7.1f}"
            for label in labels
        )
        print(f"{query:<16}{cells}")
    overall = statistics.median(results[True, query, "search page"] for query in QUERIES)
    met = overall < GOAL_MS
    print(f"median search page on the index: {overall:.1f} ms (goal < {GOAL_MS:.0f} ms) ", end="")
    print("ok" if met else "MISSED")
    return met


def main(argv=None):
    # A cache of its own, as the served bench's servers have, left empty.
    cache = tempfile.mkdtemp(prefix="atlas-search-cache-")
    os.environ["ATLAS_CACHE_DIR"] = cache
    try:
        arguments, registry = standalone(__doc__, 100_000, 7, argv)
        from django.core.management import call_command

        # Pages link their static files through the manifest, as in production; run alone,
        # this benchmark cannot count on another having collected them.
        call_command("collectstatic", interactive=False, verbosity=0)
        results = measure(arguments.rounds)
        return 0 if report(results, registry, arguments.rounds) else 1
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
