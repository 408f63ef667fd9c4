"""`make loadtest`: locust, headless, against `make serve` on a generated registry.

50 readers browse, search and call the API while 5 staff save records through the API for
60 seconds, on a throw-away copy of a generated registry of 10,000 partnerships (made once
in var/bench/ by benchmarks.common, shared with `make bench`). LOADTEST_DATABASE_URL=
postgres://... runs it on PostgreSQL, CACHE_URL=redis://... with Redis as the cache. The
server's access log goes to var/loadtest/server.log.
"""

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import Registry, manage, production_environment  # noqa: E402

CREATE_STAFF = """
import os
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
editors = Group.objects.get(name="Editors")
for number in range(int(os.environ["LOADTEST_STAFF"])):
    user, _ = User.objects.get_or_create(username=f"loadtest-{number}", defaults={"is_staff": True})
    user.groups.add(editors)
    print(Token.objects.get_or_create(user=user)[0].key)
"""


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url, server, log, seconds=300):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if requests.get(f"{url}/health/", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"make serve did not come up on {url}; see {log}")


def stop(server, seconds=40):
    """Stop make, gunicorn and its workers: the whole process group, not only make."""
    signal_to_send = signal.SIGTERM
    deadline = time.monotonic() + seconds
    while True:
        try:
            os.killpg(server.pid, signal_to_send)
        except ProcessLookupError:
            break
        signal_to_send = 0  # only asks whether any of the group is left
        if time.monotonic() > deadline:
            os.killpg(server.pid, signal.SIGKILL)
            break
        time.sleep(0.2)
        server.poll()
    server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=50)
    parser.add_argument("--staff", type=int, default=5)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", default=os.environ.get("WEB_CONCURRENCY", "4"))
    options = parser.parse_args()

    registry = Registry(options.partnerships, os.environ.get("LOADTEST_DATABASE_URL"))
    registry.ensure()
    log = ROOT / "var" / "loadtest" / "server.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as folder:
        database = registry.copy(folder)
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        environment = production_environment(
            database,
            DJANGO_SECURE_COOKIES="0",
            PORT=str(port),
            WEB_CONCURRENCY=str(options.workers),
            # A cold cache of its own, unless CACHE_URL names a shared one.
            ATLAS_CACHE_DIR=str(Path(folder) / "cache"),
            LOADTEST_STAFF=str(options.staff),
        )
        server = None
        try:
            tokens = manage(environment, "shell", "-c", CREATE_STAFF).split()[-options.staff :]
            with open(log, "wb") as output:
                server = subprocess.Popen(
                    ["make", "--no-print-directory", "serve"],
                    cwd=ROOT,
                    env={**os.environ, **environment},
                    stdout=output,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # stopping the group stops gunicorn's workers
                )
            wait_until_healthy(url, server, log)
            print(  # noqa: T201
                f"{options.readers} readers and {options.staff} staff for {options.seconds} s "
                f"against make serve ({options.workers} workers) on {registry.where()}"
            )
            users = options.readers + options.staff
            result = subprocess.run(
                [
                    os.environ.get("LOCUST", "locust"),
                    "--locustfile",
                    str(ROOT / "loadtest" / "locustfile.py"),
                    "--headless",
                    "--only-summary",
                    "--users",
                    str(users),
                    "--spawn-rate",
                    str(users),
                    "--run-time",
                    f"{options.seconds}s",
                    "--stop-timeout",
                    "10",
                    "--host",
                    url,
                ],
                cwd=ROOT,
                env={**os.environ, **environment, "LOADTEST_TOKENS": ",".join(tokens)},
            )
        finally:
            if server is not None:
                stop(server)
            registry.discard(database)
    sys.exit(result.returncode)


if __name__ == "__main__":
    main()
