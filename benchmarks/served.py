"""Public pages, API, search and admin of one registry as production serves them.

Run by benchmarks/bench.py (`make bench`), once per size, on a throw-away copy of the
registry: starts gunicorn with DEBUG off on a free port, then requests every page over
HTTP in interleaved rounds, each page twice a round: as a cache miss (the registry
version bumped on the same database just before, as any write would) and as a cache
hit. Every request opens its own connection and the server opens its own database
connection, as in production. Writes the medians as JSON for bench.py to compare.
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


def version_bump():
    """``core.versioning.bump`` committed, or None while it does not exist yet."""
    try:
        from core.versioning import bump
    except ImportError:
        return None
    from django.db import transaction

    def committed():
        with transaction.atomic():
            bump()

    return committed


def timed_get(server, url, cookie=None):
    started = time.perf_counter()
    status, body = server.get(url, cookie)
    elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    return elapsed, len(body), server.cache_status


def measure(server, public, admin, cookie, rounds, bump):
    """Median milliseconds of each page: {url: {"hit": …, "miss": …}} (admin: "miss" only)."""
    failures = []
    for _label, url, _kind in public:
        status, _body = server.get(url)
        if status != 200:
            failures.append(f"{url} answered {status}")
    answering = []
    for label, url in admin:
        status, _body = server.get(url, cookie)
        if status == 200:
            answering.append((label, url))
        else:
            # Such as the changelist's page 99 of a small registry: not there at this size.
            print(f"  left out: {label} ({url}) answered {status}", flush=True)
    admin[:] = answering
    if failures:
        raise SystemExit("Not every page answers 200:\n  " + "\n  ".join(failures))
    timings = {url: {"hit": [], "miss": []} for _label, url, _kind in public}
    timings.update({url: {"miss": []} for _label, url in admin})
    sizes, served_hits = {}, {url: 0 for _label, url, _kind in public}
    for _round in range(rounds):
        for _label, url, _kind in public:
            if bump is not None:
                bump()
            elapsed, sizes[url], _status = timed_get(server, url)
            timings[url]["miss"].append(elapsed)
            if bump is not None:
                elapsed, _size, status = timed_get(server, url)
                timings[url]["hit"].append(elapsed)
                # The response cache says X-Cache: HIT; anything else rendered the page.
                served_hits[url] += status == "HIT"
        for _label, url in admin:
            timings[url]["miss"].append(timed_get(server, url, cookie)[0])
    return {
        url: {
            **{kind: statistics.median(values) for kind, values in kinds.items() if values},
            "bytes": sizes.get(url),
            "served_from_cache": served_hits.get(url, 0) / rounds,
        }
        for url, kinds in timings.items()
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--output", required=True)
    arguments = parser.parse_args()
    # Stopped from outside: still stop gunicorn and remove the cache on the way out.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))

    cache = tempfile.mkdtemp(prefix="atlas-bench-cache-")
    environment = production_environment(arguments.database_url, ATLAS_CACHE_DIR=cache)
    os.environ.update(environment)
    configure(None, arguments.database_url)
    from django.core.management import call_command
    from django.db import connection

    from partnerships.models import Partnership

    call_command("collectstatic", interactive=False, verbosity=0)
    public = public_pages()
    admin = admin_pages()
    cookie = admin_cookie()
    bump = version_bump()
    count = Partnership.objects.count()
    connection.close()
    log_path = Path(arguments.output).with_suffix(".gunicorn.log")
    started = time.perf_counter()
    try:
        with open(log_path, "w") as log, Server(environment, log) as server:
            medians = measure(server, public, admin, cookie, arguments.rounds, bump)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    Path(arguments.output).write_text(
        json.dumps(
            {
                "partnerships": count,
                "vendor": connection.vendor,
                "rounds": arguments.rounds,
                "versioning": bump is not None,
                "seconds": round(time.perf_counter() - started, 1),
                "public": [
                    {"label": label, "url": url, "kind": kind, **medians[url]}
                    for label, url, kind in public
                ],
                "admin": [{"label": label, "url": url, **medians[url]} for label, url in admin],
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
