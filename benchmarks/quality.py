"""Data-quality checks at scale: the median time of each check and of the whole page.

    python benchmarks/quality.py [--partnerships 10000] [--database-url postgres://…]

Uses the generated registry the other benchmarks keep in var/bench/. Each check
(atlas/quality.py) is timed as the page runs it, its count and first records; each
duplicate finder (atlas/duplicates.py) as a whole; then the admin page that shows them
all, for a superuser made inside a transaction that is rolled back, so the registry is
left as it was. The goal: every check under a second at 10,000 partnerships.
"""

import statistics
import sys
import time

from common import standalone

GOAL_SECONDS = 1.0


def clock():
    """CPU time on SQLite, whose work is this process's and holds still on a busy machine;
    wall time on PostgreSQL, whose work is the server's."""
    from django.db import connection

    return time.process_time() if connection.vendor == "sqlite" else time.perf_counter()


def timed(function):
    started = clock()
    result = function()
    return clock() - started, result


def steps():
    """(label, function) for every check, every finder and the page."""
    from atlas.duplicates import FINDERS
    from atlas.quality import CHECKS
    from atlas.quality_views import SHOWN

    def run_check(check):
        records = check.records()
        return records.count(), list(records[:SHOWN])

    found = [(f"check {check.slug}", lambda check=check: run_check(check)) for check in CHECKS]
    found += [
        (f"duplicates of {model._meta.model_name}s", lambda finder=finder: (len(finder()),))
        for model, finder in FINDERS.items()
    ]
    records = made_up_places(PLAIN_NAMES)
    found.append((f"duplicates of {PLAIN_NAMES:,} plain names", lambda: (len(pairs_of(records)),)))
    return found


# The generated registries number every name ('Beiwu University 12'), and names whose
# numbers differ are never compared: this step measures names as staff write them.
PLAIN_NAMES = 20_000


def made_up_places(count):
    """``count`` places in two countries with made-up names of two to five syllables, some
    with 'Kommune', 'University' or 'City' after them and some with a second name."""
    import random

    from atlas.duplicates import Candidate, name_key

    rng = random.Random(5)
    onsets = "b ch d f g h j k l m n p q r s sh t w x y z zh".split()
    rhymes = "a ai an ang ao e ei en eng i ian iang in ing o ong ou u uan un".split()
    syllables = [onset + rhyme for onset in onsets for rhyme in rhymes]
    endings = ["", " Kommune", " University", " City"]

    def made_up_name():
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 5)))
        return word.capitalize() + rng.choice(endings)

    records = []
    for pk in range(1, count + 1):
        keys = {}
        for name in (made_up_name() for _ in range(rng.randint(1, 3))):
            keys.setdefault(name_key(name), name)
        records.append(Candidate(pk, rng.choice(["CN", "DK"]), "", 0, keys))
    return records


def pairs_of(records):
    from atlas.duplicates import pairs_among
    from places.models import Place

    return pairs_among(Place, records, decided=set())


def measure_page(rounds):
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client
    from django.urls import reverse

    samples = []
    with transaction.atomic():
        user = get_user_model().objects.create(
            username="bench-quality", is_staff=True, is_superuser=True
        )
        client = Client()
        client.force_login(user)
        url = reverse("admin:atlas-quality")
        for _ in range(rounds + 1):
            seconds, response = timed(lambda: client.get(url))
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")
            samples.append(seconds)
        transaction.set_rollback(True)
    return statistics.median(samples[1:])


def measure(rounds):
    results, counts = {}, {}
    for label, function in steps():
        _seconds, result = timed(function)  # warm up
        counts[label] = result[0]
        results[label] = statistics.median(timed(function)[0] for _ in range(rounds))
    results["the data-quality page"] = measure_page(rounds)
    return results, counts


def report(results, counts, registry, rounds):
    from django.db import connection

    clock_name = "CPU" if connection.vendor == "sqlite" else "wall"
    print(
        f"Data quality, {registry.size:,} partnerships, {connection.vendor}, median of "
        f"{rounds} rounds, {clock_name} ms (goal < {GOAL_SECONDS * 1000:.0f} ms each)"
    )
    met = True
    for label, seconds in results.items():
        ok = seconds < GOAL_SECONDS
        met &= ok or label == "the data-quality page"
        found = f"{counts[label]:>7,} found" if label in counts else " " * 13
        print(f"{label:<42}{found}{seconds * 1000:>10.1f} ms  {'ok' if ok else 'SLOW'}")
    print("every check under a second:", "ok" if met else "MISSED")
    return met


def main(argv=None):
    arguments, registry = standalone(__doc__, 10_000, 5, argv)
    results, counts = measure(arguments.rounds)
    return 0 if report(results, counts, registry, arguments.rounds) else 1


if __name__ == "__main__":
    sys.exit(main())
