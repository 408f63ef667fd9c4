"""Several machines in miniature: two gunicorn servers, one PostgreSQL, one Redis.

Each server runs as `make serve` runs it (DEBUG off, collected static files, gunicorn with
config/gunicorn.conf.py) on its own port, against one database of its own and the Redis
at ATLAS_TEST_REDIS_URL, which this test flushes. .ci/run starts a private Redis and sets
it for the PostgreSQL run. Everything is checked over HTTP, as a load balancer's clients
would see it.
"""

import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import dj_database_url
import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("ATLAS_TEST_REDIS_URL", "")
DATABASE = dj_database_url.parse(os.environ.get("DATABASE_URL", "sqlite://"))
# Anonymous API requests a minute per client address; each test stays below it until the last.
ANON_RATE = 40
# Behind a load balancer every server sees the site's own host name, whatever its port.
HOST = "atlas.test"

pytestmark = [
    pytest.mark.skipif(
        not REDIS_URL,
        reason="set ATLAS_TEST_REDIS_URL=redis://127.0.0.1:6390/0 (a Redis this test may "
        "flush) to run two servers against it; .ci/run does on PostgreSQL",
    ),
    pytest.mark.skipif(
        DATABASE["ENGINE"] != "django.db.backends.postgresql",
        reason="two servers share one PostgreSQL database: set DATABASE_URL=postgres://...",
    ),
]


def redis():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def admin_connection():
    import psycopg

    return psycopg.connect(
        dbname="postgres",
        user=DATABASE["USER"],
        password=DATABASE["PASSWORD"],
        host=DATABASE["HOST"],
        port=DATABASE["PORT"],
        autocommit=True,
    )


def recreate_database(name):
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(name):
    with admin_connection() as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(environment, *arguments):
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, f"manage.py {arguments[0]} failed:\n{result.stderr}"
    return result.stdout


CREATE_EDITOR = """
import os
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
password = os.environ["EDITOR_PASSWORD"]
user = User.objects.create_user("two-servers", password=password, is_staff=True)
user.groups.add(Group.objects.get(name="Editors"))
print(Token.objects.create(user=user).key)
"""


class Server:
    def __init__(self, environment, log):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with open(log, "wb") as output:
            self.process = subprocess.Popen(
                [str(ROOT / ".venv/bin/gunicorn"), "--config", "config/gunicorn.conf.py"],
                cwd=ROOT,
                env={**environment, "PORT": str(self.port)},
                stdout=output,
                stderr=subprocess.STDOUT,
                # Its own process group: stopping it stops the workers too.
                start_new_session=True,
            )

    def wait_until_healthy(self, seconds=60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if requests.get(f"{self.url}/health/", timeout=10).status_code == 200:
                    return
            except (requests.ConnectionError, requests.Timeout):
                pass
            time.sleep(0.3)
        raise AssertionError(f"gunicorn on {self.url} did not start:\n{self.log.read_text()}")

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def get(self, path):
        response = requests.get(self.url + path, headers={"Host": HOST}, timeout=30)
        assert response.status_code < 500, (path, response.status_code)
        return response


@pytest.fixture(autouse=True)
def fresh_counts():
    # Throttle counts start again for each test (pages cached by earlier ones go too).
    redis().flushdb()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("two-servers")
    name = f"{DATABASE['NAME']}_two_servers"
    database_url = (
        f"postgres://{DATABASE['USER']}:{DATABASE['PASSWORD']}@{DATABASE['HOST']}:"
        f"{DATABASE['PORT']}/{name}"
    )
    environment = {
        **{
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("DJANGO_", "ATLAS_", "CACHE_URL", "REDIS_URL"))
        },
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_SSL_REDIRECT": "0",
        "DJANGO_ALLOWED_HOSTS": f"{HOST},127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_URL": database_url,
        "CACHE_URL": REDIS_URL,
        # Were CACHE_URL ignored, each server would fall back to a file cache of its own.
        "ATLAS_CACHE_DIR": str(folder / "no-shared-file-cache"),
        "ATLAS_API_ANON_RATE": f"{ANON_RATE}/minute",
        "WEB_CONCURRENCY": "2",
    }
    recreate_database(name)
    redis().flushdb()
    servers = []
    try:
        manage(environment, "collectstatic", "--no-input", "--verbosity", "0")
        manage(environment, "migrate", "--no-input", "--verbosity", "0")
        manage(environment, "load_seed")
        password = secrets.token_urlsafe(16)
        token = manage(
            {**environment, "EDITOR_PASSWORD": password}, "shell", "-c", CREATE_EDITOR
        ).splitlines()[-1]
        for label in ("a", "b"):
            servers.append(Server(environment, folder / f"gunicorn-{label}.log"))
        for server in servers:
            server.wait_until_healthy()
        yield {"servers": servers, "token": token, "password": password}
    finally:
        for server in servers:
            server.stop()
        drop_database(name)


class FormFields(HTMLParser):
    """The fields a browser would submit from the form with the given id."""

    def __init__(self, form_id):
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, []
        self.select = self.textarea = None

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        if tag == "form":
            self.inside = attributes.get("id") == self.form_id
        if not self.inside or not attributes.get("name") and tag != "option":
            return
        if tag == "input" and attributes.get("type") not in ("submit", "button", "file"):
            if attributes.get("type") in ("checkbox", "radio") and "checked" not in attributes:
                return
            self.fields.append((attributes["name"], attributes.get("value") or ""))
        elif tag == "select":
            self.select = attributes["name"]
        elif tag == "option" and self.select and "selected" in attributes:
            self.fields.append((self.select, attributes.get("value", "")))
        elif tag == "textarea":
            self.textarea = attributes["name"]
            self.fields.append((self.textarea, ""))

    def handle_data(self, data):
        if self.textarea:
            name, text = self.fields[-1]
            self.fields[-1] = (name, text + data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            name, text = self.fields[-1]
            # The HTML parser keeps the newline that browsers drop after <textarea>.
            self.fields[-1] = (name, text.removeprefix("\n"))
            self.textarea = None


def form_fields(html, form_id):
    parser = FormFields(form_id)
    parser.feed(html)
    return parser.fields


def warm(first, second, paths):
    """Fill the shared cache through one server; the other then answers from it."""
    for path in paths:
        first.get(path)
        assert second.get(path).headers.get("X-Cache") == "HIT", path


def test_an_api_write_through_one_server_shows_at_once_through_the_other(site):
    first, second = site["servers"]
    record = first.get("/api/partnerships/?page_size=1").json()["results"][0]
    api, page = f"/api/partnerships/{record['slug']}/", f"/en/partnerships/{record['slug']}/"
    warm(first, second, [page, api, "/en/partnerships/"])
    marker = f"Renewed in {secrets.token_hex(4)}"

    response = requests.patch(
        first.url + api,
        json={"description": marker},
        headers={"Authorization": f"Token {site['token']}", "Host": HOST},
        timeout=30,
    )

    assert response.status_code == 200, response.text
    for server in (second, first):
        assert marker in server.get(page).text
        assert server.get(api).json()["description"] == marker


def test_an_admin_save_through_one_server_shows_at_once_through_the_other(site):
    first, second = site["servers"]
    place = first.get("/api/places/?kind=city&page_size=1").json()["results"][0]
    page, api = f"/en/places/{place['slug']}/", f"/api/places/{place['slug']}/"
    warm(first, second, [page, api, "/en/places/?kind=city"])
    staff = requests.Session()
    staff.headers["Host"] = HOST
    login = staff.get(f"{second.url}/admin/login/", timeout=30)
    response = staff.post(
        f"{second.url}/admin/login/?next=/admin/",
        data={
            "username": "two-servers",
            "password": site["password"],
            "csrfmiddlewaretoken": login.cookies["csrftoken"],
            "next": "/admin/",
        },
        timeout=30,
    )
    assert response.url == f"{second.url}/admin/", "the editor could not log in"
    # The admin addresses a place by id, the public site and the API by slug.
    found = staff.get(f"{second.url}/admin/places/place/", params={"q": place["name"]})
    number = re.search(r"/admin/places/place/(\d+)/change/", found.text).group(1)
    change = staff.get(f"{second.url}/admin/places/place/{number}/change/", timeout=30)
    fields = [
        (name, f"{value} Renamed" if name == "name_en" else value)
        for name, value in form_fields(change.text, "place_form")
    ]
    assert ("name_en", f"{place['name']} Renamed") in fields

    response = staff.post(change.url, data=[*fields, ("_save", "Save")], timeout=30)

    assert response.status_code == 200 and response.url.endswith("/admin/places/place/")
    for server in (first, second):
        assert f"{place['name']} Renamed" in server.get(page).text
        assert server.get(api).json()["name"] == f"{place['name']} Renamed"
        assert f"{place['name']} Renamed" in server.get("/en/places/?kind=city").text


def a_fresh_window(needed=20):
    """Count from nothing, in a window of the throttle with ``needed`` seconds left.

    The throttle counts in fixed windows of a minute (``core.throttling``): a window that
    turned between the requests and the probes counted the probes anew, and they passed.
    The counts of the tests before go too."""
    left = 60 - time.time() % 60
    if left < needed:
        time.sleep(left + 0.2)
    if keys := redis().keys("*throttle_anon*"):
        redis().delete(*keys)


def test_the_api_throttle_counts_across_both_servers(site):
    first, second = site["servers"]
    a_fresh_window()
    answers = [
        (first if number % 2 == 0 else second).get(f"/api/places/?search=probe{number}").status_code
        for number in range(ANON_RATE)
    ]
    assert answers == [200] * ANON_RATE
    # Each server has answered only half the rate itself: only a shared count refuses these.
    for server in (first, second):
        refused = server.get("/api/places/?search=probe-more")
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) > 0
    assert redis().keys("*throttle_anon*"), "the throttle does not count in Redis"
