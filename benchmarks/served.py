"""Public pages, API, search and admin of several registries, served side by side.

Run by benchmarks/bench.py (`make bench`). Each size's registry, a throw-away copy, is
served by its own gunicorn with DEBUG off, all of them at once. A process per registry
(this file run with --database-url, ``Served`` from the bench's side) knows that
registry's pages and moves its version. The bench asks the processes in turn for each
page, round after round, the sizes in a new order each round (``measure``). So whatever
the machine does over the run falls on every size alike: served one size after the other,
``/about/``, the baseline of every ratio, took 3.9 ms at 1,000 partnerships and 2.6 ms at
100,000 in one run of 4 December, and every ratio of the two sizes moved by half.

Each public page is requested twice a round: as a cache miss (the registry version bumped
on the same database just before, as a write to a partnership would) and as a cache hit.
The rows ``WRITES_ITS_PARTNERSHIPS`` are misses after a write to each partnership of the
first page of the partnership list and the API's (their revisions moved), whose cards and
representations are then built again; the row ``WRITES_ONE_OF_ITS``, after a write to the
first partnership of the network around a province, whose graph is then built again; the
rows ``MOVES_THE_COUNTS``, after a write that moves a kept count (the counts version),
whose facets and counts are then read again.
Every request opens its own connection and the server opens its own database connection,
as in production.

A write to a place also moves the places version, under which each worker keeps the
map's layout (``atlas.explore``); a row measured after one here would have every worker
read the layout again at its next map of the round, whatever that row measured, so the
bench leaves it out, and the README gives what the layout costs, measured in one
process.
"""

import argparse
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, configure, production_environment
from pages import MOVES_THE_COUNTS, MOVES_THE_MAP, WRITES_ITS_PARTNERSHIPS, WRITES_ONE_OF_ITS

HOST = "127.0.0.1"
STARTUP_SECONDS = 60


def free_port():
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn as `make serve` runs it, stopped (workers included) however the bench ends."""

    def __init__(self, environment, log):
        self.port = free_port()
        self.environment = {**os.environ, **environment, "PORT": str(self.port), "HOST": HOST}
        self.log = log
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "config/gunicorn.conf.py"],
            cwd=ROOT,
            env=self.environment,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                status, _body = self.get("/health/")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        self.__exit__(None, None, None)
        self.log.flush()
        raise SystemExit(
            f"gunicorn did not answer on port {self.port} within {STARTUP_SECONDS} s; "
            f"its log is {self.log.name}"
        )

    def __exit__(self, *error):
        if self.process is None or self.process.poll() is not None:
            return
        # TERM asks the arbiter for a graceful stop of its workers; KILL the whole group
        # only if that does not end it.
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def get(self, url, cookie=None):
        connection = http.client.HTTPConnection(HOST, self.port, timeout=120)
        # As a browser asks: compressed, where the site compresses.
        headers = {"Accept-Language": "en", "Accept-Encoding": "gzip, deflate, br, zstd"}
        if cookie:
            headers["Cookie"] = cookie
        try:
            connection.request("GET", url, headers=headers)
            response = connection.getresponse()
            self.cache_status = response.getheader("X-Cache", "")
            return response.status, response.read()
        finally:
            connection.close()


def public_pages():
    """(label, url, kind) of every public page and API GET, from benchmarks/pages.py."""
    from pages import pages

    return [(label, url, kind) for label, url, kind in pages() if kind != "api-baseline"]


def admin_pages():
    """(label, url) of the admin pages benchmarks/admin.py measures, less its baseline."""
    import admin as admin_bench

    admin_bench.add_import_batch()
    return admin_bench.pages()[1:]


def admin_cookie():
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    user, _ = get_user_model().objects.get_or_create(
        username="bench-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def version_bump(public):
    """``core.versioning.bump`` committed, or None while it does not exist yet; with
    ``moves_the_map``, as a write that moves the map's counts bumps (the map version), and
    with ``moves_the_counts``, as one that moves any kept count (the counts version),
    where the code has them."""
    try:
        from core.versioning import PART_MODELS, ROW, RegistryVersion, bump
    except ImportError:
        return None
    from django.db import transaction
    from django.db.models import QuerySet

    from partnerships.models import FacetCount, FacetValue, Partnership

    try:
        from partnerships.revisions import move
    except ImportError:  # no revisions yet: every write builds every card again
        move = None

    shown = first_pages(public)

    def committed(moves_the_map=False, moves_the_counts=False, writes_its_partnerships=None):
        """Returns what undoes the write, for after the row: the partnerships' revisions,
        and the map and counts versions, as they were. A row after it is then measured as
        after a write elsewhere, as the bench measures every other row, not after a write
        to what it shows: a country's list shows the first page too, and the next round's
        lists would find none of their facets kept after the map's rows."""
        undoes = []
        with transaction.atomic():
            moved = [
                part
                for part, moves in (
                    ("map", moves_the_map),
                    ("counts", moves_the_counts or moves_the_map),
                )
                if moves and part in PART_MODELS
            ]
            if moved:
                columns = [f"{part}_{field}" for part in moved for field in ("value", "changed_at")]
                versions = RegistryVersion.objects.filter(pk=ROW)
                parts_before = versions.values(*columns).get()
                undoes.append(lambda: QuerySet.update(versions, **parts_before))
            bump(model=Partnership)
            if moves_the_map and "map" in PART_MODELS:
                bump(model=FacetCount)
            if moves_the_counts and "counts" in PART_MODELS:
                bump(model=FacetValue)
            if writes_its_partnerships and move is not None:
                pks = shown[writes_its_partnerships]
                before = dict(Partnership.objects.filter(pk__in=pks).values_list("pk", "revision"))
                move(pks)

                def revisions_back():
                    for pk, revision in before.items():
                        QuerySet.update(Partnership.objects.filter(pk=pk), revision=revision)

                undoes.append(revisions_back)
        if not undoes:
            return None

        def undo():
            with transaction.atomic():
                for step in undoes:
                    step()
                bump(model=Partnership)

        return undo

    return committed


def first_pages(public):
    """The ids of the partnerships on the first page of the public list ("page") and of
    the API's ("api"): each row after a write to its partnerships writes only its own,
    so that the other list's next plain row still finds its own kept. And ("network")
    the first partnership of the network of the ``public`` row ``WRITES_ONE_OF_ITS``."""
    import re

    from django.test import Client

    from partnerships.models import Partnership

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/en/partnerships/").content.decode()
    slugs = {
        "page": re.findall(r'<h3><a href="/en/partnerships/([^/"]+)/">', page),
        "api": [found["slug"] for found in client.get("/api/partnerships/").json()["results"]],
        "network": [],
    }
    for label, url, _kind in public:
        if label.endswith(WRITES_ONE_OF_ITS):
            nodes = client.get(url).json()["nodes"]
            first = next(node for node in nodes if node["type"] == "partnership")
            slugs["network"] = [first["id"].removeprefix("partnership:")]
    return {
        name: list(Partnership.objects.filter(slug__in=found).values_list("pk", flat=True))
        for name, found in slugs.items()
    }


def timed_get(server, url, cookie=None):
    started = time.perf_counter()
    status, body = server.get(url, cookie)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return elapsed, len(body), server.cache_status


def answering(server, public, admin, cookie):
    """Stop unless every public page answers 200; the admin pages that do."""
    failures = []
    for _label, url, _kind in public:
        status, _body = server.get(url)
        if status != 200:
            failures.append(f"{url} answered {status}")
    if failures:
        raise SystemExit("Not every page answers 200:\n  " + "\n  ".join(failures))
    found = []
    for label, url in admin:
        status, _body = server.get(url, cookie)
        if status == 200:
            found.append((label, url))
        else:
            # Such as the changelist's page 99 of a small registry: not there at this size.
            print(f"  left out: {label} ({url}) answered {status}", file=sys.stderr, flush=True)
    return found


def serve(database_url, log_path):
    """The process of one registry: serve it, then answer the bench's requests, a JSON
    line each on standard input and output, until it says stop or goes away."""
    # Standard output carries the answers alone; whatever else prints goes to standard
    # error, which the bench shows as it comes.
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    cache = tempfile.mkdtemp(prefix="atlas-bench-cache-")
    environment = production_environment(database_url, ATLAS_CACHE_DIR=cache)
    os.environ.update(environment)
    configure(None, database_url)
    from django.core.management import call_command
    from django.db import connection

    from partnerships.models import Partnership

    call_command("collectstatic", interactive=False, verbosity=0)
    public = public_pages()
    admin = admin_pages()
    cookie = admin_cookie()
    bump = version_bump(public)
    count = Partnership.objects.count()
    connection.close()
    try:
        with open(log_path, "w") as log, Server(environment, log) as server:
            admin = answering(server, public, admin, cookie)
            urls = dict(admin)
            ready = {
                "partnerships": count,
                "vendor": connection.vendor,
                "versioning": bump is not None,
                "public": public,
                "admin": admin,
            }
            answers.write(json.dumps(ready) + "\n")
            for line in sys.stdin:
                asked = json.loads(line)
                if "public" in asked:
                    label, url, _kind = public[asked["public"]]
                    undo = None
                    if bump is not None:
                        undo = bump(
                            moves_the_map=label.endswith(MOVES_THE_MAP),
                            moves_the_counts=label.endswith(MOVES_THE_COUNTS),
                            writes_its_partnerships=(
                                ("api" if url.startswith("/api/") else "page")
                                if label.endswith(WRITES_ITS_PARTNERSHIPS)
                                else "network"
                                if label.endswith(WRITES_ONE_OF_ITS)
                                else None
                            ),
                        )
                    miss, size, _status = timed_get(server, url)
                    answer = {"miss": miss, "bytes": size}
                    if bump is not None:
                        answer["hit"], _size, status = timed_get(server, url)
                        # The response cache says X-Cache: HIT; anything else rendered it.
                        answer["from_cache"] = status == "HIT"
                    if undo is not None:
                        undo()
                elif "admin" in asked:
                    answer = {"miss": timed_get(server, urls[asked["admin"]], cookie)[0]}
                else:
                    break
                answers.write(json.dumps(answer) + "\n")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


class Served:
    """A registry served by its own gunicorn, seen from the bench: what ``serve`` knows of
    it once it is up (``ready``), and the time of any page asked for (``ask``)."""

    def __init__(self, size, database_url, log_path):
        self.size, self.log_path = size, log_path
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--database-url", database_url, "--log", str(log_path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.ready = self.answer()

    def answer(self):
        line = self.process.stdout.readline()
        if not line:
            self.process.wait()
            raise SystemExit(
                f"Serving {self.size:,} partnerships failed; see above and {self.log_path}."
            )
        return json.loads(line)

    def ask(self, **question):
        self.process.stdin.write(json.dumps(question) + "\n")
        self.process.stdin.flush()
        return self.answer()

    def close(self):
        if self.process.poll() is None:
            try:
                self.process.stdin.write(json.dumps({"stop": True}) + "\n")
                self.process.stdin.close()
            except BrokenPipeError:
                pass
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.terminate()
                self.process.wait()


def measure(served, rounds):
    """Every page of every registry in ``served`` ({size: Served}), ``rounds`` times, the
    sizes taking turns page by page. Returns {size: figures} as bench.py tables them:
    medians in ms, hits beside misses, admin pages by label."""
    sizes = sorted(served)
    pages = {size: served[size].ready["public"] for size in sizes}
    if len({len(listed) for listed in pages.values()}) > 1:
        raise SystemExit("The registries list different pages; each size needs the same.")
    admin = {size: [label for label, _url in served[size].ready["admin"]] for size in sizes}
    labels = list(dict.fromkeys(label for size in sizes for label in admin[size]))
    timings = {size: {"public": [[] for _ in pages[size]], "admin": {}} for size in sizes}
    started = time.perf_counter()
    for turn in range(rounds):
        # Each size first as often as the others: a page just asked at one size leaves
        # nothing warm at another, but the machine may.
        order = sizes[turn % len(sizes) :] + sizes[: turn % len(sizes)]
        for position in range(len(pages[sizes[0]])):
            for size in order:
                timings[size]["public"][position].append(served[size].ask(public=position))
        for label in labels:
            for size in order:
                if label in admin[size]:
                    answer = served[size].ask(admin=label)
                    timings[size]["admin"].setdefault(label, []).append(answer["miss"])
    seconds = round(time.perf_counter() - started, 1)
    results = {}
    for size in sizes:
        public = []
        for (label, url, kind), answers in zip(pages[size], timings[size]["public"], strict=True):
            row = {"label": label, "url": url, "kind": kind, "bytes": answers[-1]["bytes"]}
            row["miss"] = statistics.median(answer["miss"] for answer in answers)
            if "hit" in answers[0]:
                row["hit"] = statistics.median(answer["hit"] for answer in answers)
                row["served_from_cache"] = sum(a["from_cache"] for a in answers) / rounds
            public.append(row)
        results[size] = {
            **{key: served[size].ready[key] for key in ("partnerships", "vendor", "versioning")},
            "rounds": rounds,
            "seconds": seconds,
            "public": public,
            "admin": [
                {"label": label, "url": url, "miss": statistics.median(values)}
                for label, url in served[size].ready["admin"]
                if (values := timings[size]["admin"].get(label))
            ],
        }
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--log", required=True, help="gunicorn's log")
    arguments = parser.parse_args()
    # Stopped from outside: still stop gunicorn and remove the cache on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))
    serve(arguments.database_url, arguments.log)


if __name__ == "__main__":
    main()
