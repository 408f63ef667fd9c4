"""Addresses the bench does not visit, timed as a miss on the largest registry.

    python benchmarks/outliers.py [--partnerships 100000] [--database-url postgres://…]

`make bench` times one address of each page, chosen to be typical. Readers also search
for a country (a word naming everything), for one letter, for two common words, for a
name with its kind ("beiwu province", the second word naming thousands); crawlers
read the sitemap; researchers download everything, the network around a country and the
whole network.
A search for "hai university" took 0.94 s at 100,000 partnerships on PostgreSQL and the
sitemap 12 s before anyone looked. This prints each address's median time as a miss (a
write to a partnership before each request, the response cache on, as `make bench`),
its status and size, slowest first, and marks those past ``SLOW_MS``. Nothing fails: it
is for reading.
"""

import statistics
import sys
import tempfile
import time

from common import standalone

# A miss a reader would notice; the bench's goals are for the typical pages.
SLOW_MS = 250


def addresses():
    """(what it stands for, address) on the generated registry's records."""
    from django.db.models import Count

    from places.models import Place

    country = Place.objects.filter(kind=Place.Kind.COUNTRY).annotate(n=Count("children"))
    country = country.latest("n")
    word = country.name.split()[-1].lower()  # "china": names the country and all below
    return [
        ("search naming a country", f"/en/search/?q={word}"),
        ("list searched for a country", f"/en/partnerships/?q={word}"),
        ("API searched for a country", f"/api/partnerships/?search={word}"),
        ("API list searched for a country", f"/api/partnerships/?q={word}"),
        ("search for one letter", "/en/search/?q=a"),
        ("search for two common words", "/en/search/?q=hai+university"),
        # A rare name and a word naming every province: read one after the other.
        ("search for a name and its kind", "/en/search/?q=beiwu+province"),
        ("list as of long ago", "/en/partnerships/?as_of=1990"),
        ("list, far page", "/en/partnerships/?page=400"),
        ("API list, far page", "/api/partnerships/?page=400"),
        ("network around a country", f"/api/network/?around=place:{country.slug}"),
        ("map of a country", f"/en/map/?place={country.slug}"),
        ("map searched for a country", f"/en/map/?q={word}"),
        ("sitemap index", "/sitemap.xml"),
        ("sitemap, a page of partnerships", "/sitemap-partnerships.xml?p=2"),
        ("CSV of the places", "/en/places/export.csv"),
        ("CSV of the sister cities", "/en/partnerships/export.csv?kind=sister_city"),
        ("the whole network as GEXF", "/en/network/network.gexf"),
        ("the whole network's edges as CSV", "/en/network/edges.csv"),
    ]


def measure(rounds):
    from django.db import transaction
    from django.test import Client

    from core.versioning import bump
    from partnerships.models import Partnership

    client = Client()
    results = []
    for label, address in addresses():
        client.get(address)  # warm the process, as a worker that has served before
        times = []
        for _ in range(rounds):
            with transaction.atomic():
                bump(model=Partnership)
            started = time.perf_counter()
            response = client.get(address)
            # A streamed download (the network's XML) is written as it is read.
            size = len(
                b"".join(response.streaming_content) if response.streaming else response.content
            )
            times.append((time.perf_counter() - started) * 1000)
        results.append((statistics.median(times), label, address, response.status_code, size))
    return sorted(results, key=lambda result: result[0], reverse=True)


def report(results, registry, rounds):
    from django.db import connection

    print(
        f"Addresses the bench does not visit, {registry.size:,} partnerships, "
        f"{connection.vendor}, a miss, median of {rounds}, wall ms (* past {SLOW_MS} ms)"
    )
    for ms, label, address, status, size in results:
        mark = "*" if ms > SLOW_MS else " "
        print(f"{ms:>9.1f}{mark} {status} {size:>11,} B  {label:<34} {address}")


def main(argv=None):
    arguments, registry = standalone(__doc__, 100_000, 3, argv)
    from django.conf import settings
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    settings.ATLAS_CACHE_PAGES = True
    settings.ATLAS_DOWNLOAD_ANON_RATE = "off"
    # A cache of its own, as a worker's: the page cache answers nothing twice here, since
    # the version moves before each request; downloads are not limited. Removed after:
    # each run left 18 MB of pages and downloads behind.
    with tempfile.TemporaryDirectory(prefix="atlas-outliers-") as cache:
        settings.CACHES["default"]["LOCATION"] = cache
        report(measure(arguments.rounds), registry, arguments.rounds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
