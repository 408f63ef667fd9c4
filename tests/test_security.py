"""Headers, bad input, password and token guessing, and the API throttle."""

import datetime
import gzip
import json
import multiprocessing
import os
import pickle
import re
import time
import zlib
from urllib.parse import urlencode

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from zlib_ng import zlib_ng

from core import throttling
from core.cache import FileBasedCache
from core.text import SEARCH_MAX_CHARACTERS
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import UserFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.fixture
def seed(db):
    call_command("loaddata", "seed", verbosity=0)


def public_addresses():
    place = Place.objects.order_by("pk").first()
    organisation = Organisation.objects.order_by("pk").first()
    partnership = Partnership.objects.order_by("pk").first()
    addresses = [
        url(name, language)
        for language in ("en", "da")
        for name in (
            "home",
            "about",
            "search",
            "places:place-list",
            "organisations:organisation-list",
            "partnerships:partnership-list",
            "atlas:map",
            "atlas:network",
        )
    ]
    return addresses + [
        url("search", query="q=aarhus"),
        place.get_absolute_url(),
        organisation.get_absolute_url(),
        partnership.get_absolute_url(),
        "/sitemap.xml",
        "/robots.txt",
        "/health/",
        "/api/places/",
        f"/api/places/{place.slug}/",
        "/api/partnerships/",
        "/api/schema/",
        "/api/docs/",
        "/api/docs/?script=",
        "/admin/login/",
    ]


def admin_addresses():
    place = Place.objects.order_by("pk").first()
    partnership = Partnership.objects.order_by("pk").first()
    return [
        reverse("admin:index"),
        reverse("admin:places_place_changelist"),
        reverse("admin:places_place_add"),
        reverse("admin:places_place_change", args=[place.pk]),
        reverse("admin:places_place_history", args=[place.pk]),
        reverse("admin:partnerships_partnership_changelist"),
        reverse("admin:partnerships_partnership_change", args=[partnership.pk]),
    ]


def policy(response):
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


def assert_headers(response, address):
    assert response.status_code == 200, address
    directives = policy(response)
    assert directives["default-src"] == ["'self'"], address
    assert directives["script-src"] == ["'self'"], address
    assert directives["frame-ancestors"] == ["'none'"], address
    assert "'unsafe-inline'" not in directives["img-src"] + directives["connect-src"]
    assert "geolocation=()" in response["Permissions-Policy"], address
    assert "camera=()" in response["Permissions-Policy"], address
    assert response["Cross-Origin-Opener-Policy"] == "same-origin", address


def test_every_page_carries_a_strict_policy(client, admin_client, seed):
    for address in public_addresses():
        response = client.get(address)
        assert_headers(response, address)
        if not address.startswith("/api/docs/"):
            assert "'unsafe-inline'" not in policy(response)["style-src"], address
    for address in admin_addresses():
        assert_headers(admin_client.get(address), address)


def test_the_browsable_api_keeps_scripts_strict_and_allows_its_inline_styles(
    client, admin_client, seed
):
    # DRF places two buttons with style attributes; its scripts are files.
    for reader in (client, admin_client):
        page = reader.get("/api/places/", HTTP_ACCEPT="text/html")
        directives = policy(page)
        assert directives["style-src"] == ["'self'", "'unsafe-inline'"]
        assert directives["script-src"] == ["'self'"]
        assert directives["default-src"] == ["'self'"]
        inline = [
            attributes
            for attributes in re.findall(r"<script([^>]*)>", page.content.decode())
            if "src=" not in attributes
        ]
        assert all('type="application/json"' in attributes for attributes in inline)
        # The same address's JSON keeps the site's policy.
        data = reader.get("/api/places/")
        assert "'unsafe-inline'" not in policy(data)["style-src"]


def test_the_api_docs_run_without_inline_scripts(client):
    page = client.get("/api/docs/")
    scripts = re.findall(r"<script([^>]*)>", page.content.decode())
    assert scripts and all("src=" in attributes for attributes in scripts)
    start_up = client.get("/api/docs/?script=")
    assert start_up["Content-Type"].startswith("application/javascript")
    assert "SwaggerUIBundle" in start_up.content.decode()


SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.DOTALL | re.IGNORECASE)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.IGNORECASE)


@pytest.mark.parametrize("method", ["HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE", "TRACE"])
def test_every_method_on_every_public_address_is_answered_without_a_server_error(
    client, seed, method
):
    # OPTIONS on the API's docs once rendered its HTML template with nothing to show.
    for address in public_addresses():
        response = client.generic(method, address)
        assert response.status_code < 500, (method, address, response.status_code)
    assert client.generic(method, "/api/docs/").status_code in (200, 405)


@pytest.mark.parametrize("accept", ["application/json", "text/html", "text/csv", "image/png"])
@pytest.mark.parametrize("credentials", ["Token unknown", "Basic Og==", "Bearer x"])
def test_odd_credentials_and_formats_are_answered_without_a_server_error(
    client, seed, accept, credentials
):
    # The API's docs rendered a refused format through their HTML template, whose context
    # processors authenticated the unknown token outside DRF's error handling.
    for address in public_addresses():
        response = client.get(address, HTTP_ACCEPT=accept, HTTP_AUTHORIZATION=credentials)
        assert response.status_code < 500, (address, response.status_code)
    docs = client.get("/api/docs/", HTTP_AUTHORIZATION=credentials)
    assert docs.status_code == 200
    assert b"swagger" in docs.content


def test_no_page_runs_inline_script(client, admin_client, seed):
    pages = [(client, address) for address in public_addresses()]
    pages += [(admin_client, address) for address in admin_addresses()]
    checked = 0
    for page_client, address in pages:
        response = page_client.get(address)
        if not response["Content-Type"].startswith("text/html"):
            continue
        html = response.content.decode()
        for attributes, body in SCRIPT.findall(html):
            if body.strip():
                # Data for scripts travels as json_script: never run by the browser.
                assert 'type="application/json"' in attributes, (address, attributes)
        assert not HANDLER.search(html), (address, HANDLER.search(html).group(0))
        checked += 1
    assert checked >= 20


# Bad input: control characters


@pytest.mark.parametrize(
    "address",
    [
        "/api/places/a%00b/",
        "/api/places/?search=a%00",
        "/api/partnerships/?place=%01x",
        "/en/places/a%00b/",
        "/en/places/?q=%00",
        "/en/search/?q=wuxi%1b",
        "/admin/places/place/?q=%00",
        "/admin/login/?next=%00",
    ],
)
def test_control_characters_in_an_address_get_400(admin_client, address):
    response = admin_client.get(address)
    assert response.status_code == 400
    assert "control character" in response.content.decode()


def test_control_characters_in_a_form_change_nothing(admin_client):
    response = admin_client.post(
        reverse("admin:places_place_add"),
        {"name": "Nul\x00by", "kind": "city", "country": "DK"},
    )
    assert response.status_code == 400
    assert "control character" in response.content.decode()
    assert not Place.objects.exists()


def test_control_characters_in_json_change_nothing(editor):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    for name in ("Nul\x00by", "Bell\x07", "Escape\x1b[2J"):
        response = api.post(
            "/api/places/", {"name": name, "kind": "city", "country": "DK"}, format="json"
        )
        assert response.status_code == 400
        assert "control character" in response.json()["detail"]
    assert not Place.objects.exists()


@pytest.mark.parametrize("method", ["put", "patch"])
@pytest.mark.parametrize("fmt", ["multipart", "urlencoded"])
def test_control_characters_in_a_put_or_patch_form_change_nothing(editor, method, fmt):
    # Django parses only a POST's form; a PUT's reaches the API's own parsers (found by
    # schemathesis on PostgreSQL: NUL in a theme slug ended in a 500).
    place = Place.objects.create(name_en="Vejle", kind="city", country="DK")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    data = {"name": "Nul\x00by", "kind": "city", "country": "DK"}
    if fmt == "urlencoded":
        response = getattr(api, method)(
            f"/api/places/{place.slug}/",
            urlencode(data),
            content_type="application/x-www-form-urlencoded",
        )
    else:
        response = getattr(api, method)(f"/api/places/{place.slug}/", data, format="multipart")
    assert response.status_code == 400
    assert "control character" in response.json()["detail"]
    place.refresh_from_db()
    assert place.name_en == "Vejle"


@pytest.mark.parametrize("address", ["/api/places/", "/api/partnerships/", "/admin/login/"])
def test_json_nested_past_the_decoders_depth_gets_400(editor, address):
    # Python's JSON decoder recurses once per level: ten thousand nested lists were a
    # server error, read first by the control-character check and then by DRF's parser.
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    for body in ("[" * 10_000, '{"name": ' * 10_000):
        response = api.generic("POST", address, body, content_type="application/json")
        assert response.status_code == 400
        assert "nested too deeply" in response.json()["detail"]
    # A record's own nesting is read as before.
    response = api.post(
        "/api/places/", {"name": "Vejle", "kind": "city", "country": "DK"}, format="json"
    )
    assert response.status_code == 201
    assert Place.objects.count() == 1


def test_line_breaks_and_tabs_are_ordinary_text(editor):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    response = api.post(
        "/api/places/",
        {"name": "Vejle", "kind": "city", "country": "DK", "description": "First line\r\n\tsecond"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Place.objects.get().description == "First line\r\n\tsecond"


# Bad input: searches too long to run

LONG_QUERY = " ".join(["wuxi"] * 1000)
MANY_WORDS = " ".join(f"w{number}" for number in range(13))


@pytest.mark.parametrize("query", [LONG_QUERY, MANY_WORDS, "x" * (SEARCH_MAX_CHARACTERS + 1)])
@pytest.mark.parametrize(
    "name",
    [
        "search",
        "places:place-list",
        "organisations:organisation-list",
        "partnerships:partnership-list",
    ],
)
def test_a_long_search_gets_a_message_on_the_page(client, name, query):
    response = client.get(url(name), {"q": query})
    assert response.status_code == 200
    assert "Search for at most" in response.content.decode()


@pytest.mark.parametrize("parameter", ["q", "search"])
@pytest.mark.parametrize("endpoint", ["/api/places/", "/api/organisations/", "/api/partnerships/"])
def test_a_long_search_gets_400_from_the_api(client, endpoint, parameter):
    response = client.get(endpoint, {parameter: LONG_QUERY})
    assert response.status_code == 400
    assert "Search for at most" in json.dumps(response.json())


def test_a_long_search_in_the_admin_is_cut_to_the_limits(admin_client):
    response = admin_client.get(reverse("admin:places_place_changelist"), {"q": LONG_QUERY})
    assert response.status_code == 200


def test_a_search_at_the_limits_still_finds(client, seed):
    def found(query):
        response = client.get("/api/places/", {"search": query})
        assert response.status_code == 200
        return [place["slug"] for place in response.json()["results"]]

    assert found(" ".join(["aarhus"] * 12)) == found("aarhus") != []
    response = client.get(url("places:place-list"), {"q": " ".join(["aarhus"] * 12)})
    assert "Search for at most" not in response.content.decode()
    assert f'href="{Place.objects.get(slug=found("aarhus")[0]).get_absolute_url()}"' in (
        response.content.decode()
    )


# Password guessing: django-axes on the admin login


def log_in(client, username, password, address="203.0.113.7"):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "next": "/admin/"},
        REMOTE_ADDR=address,
    )


def test_the_admin_login_locks_an_account_and_address_after_repeated_failures(client, settings):
    settings.AXES_FAILURE_LIMIT = 3
    UserFactory(username="staff", is_staff=True)
    for _attempt in range(2):
        response = log_in(client, "staff", "wrong")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()
    response = log_in(client, "staff", "wrong")
    assert response.status_code == 429
    assert "has been locked" in response.content.decode()
    # The right password does not help while locked...
    response = log_in(client, "staff", PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    # ...from that address; the same person elsewhere still gets in.
    response = log_in(client, "staff", PASSWORD, address="198.51.100.2")
    assert response.status_code == 302
    client.logout()
    call_command("axes_reset", verbosity=0)
    assert log_in(client, "staff", PASSWORD).status_code == 302


def test_a_user_name_longer_than_any_is_a_form_error(client):
    # Django's login form let it through to django-axes, whose record of the failed login
    # holds 255 characters: PostgreSQL refused the row, a server error.
    from axes.models import AccessAttempt

    response = log_in(client, "a" * 5000, "wrong")
    assert response.status_code == 200
    assert response.context["form"].errors["username"] == [
        "Ensure this value has at most 150 characters (it has 5000)."
    ]
    assert not AccessAttempt.objects.exists()
    # A name of the longest length is still tried, and counted.
    response = log_in(client, "a" * 150, "wrong")
    assert "Please enter the correct username and password" in response.content.decode()
    assert AccessAttempt.objects.get().username == "a" * 150


def test_the_lockouts_admin_cleans_up_expired_attempts(client, admin_client, settings):
    # django-axes' own action read an attribute set only on a login: a server error.
    from axes.models import AccessAttempt

    settings.AXES_FAILURE_LIMIT = 5
    UserFactory(username="staff", is_staff=True)
    log_in(client, "staff", "wrong")
    log_in(client, "staff", "wrong", address="198.51.100.2")
    old, recent = AccessAttempt.objects.order_by("pk")
    expired = timezone.now() - datetime.timedelta(hours=settings.AXES_COOLOFF_TIME + 1)
    AccessAttempt.objects.filter(pk=old.pk).update(attempt_time=expired)
    address = reverse("admin:axes_accessattempt_changelist")
    response = admin_client.post(
        address,
        {"action": "cleanup_expired_attempts", "_selected_action": [recent.pk], "index": "0"},
        follow=True,
    )
    assert response.status_code == 200
    assert "Deleted 1 expired failed login." in response.content.decode()
    assert list(AccessAttempt.objects.all()) == [recent]
    # In Danish too: django-axes' own message could not be translated.
    AccessAttempt.objects.filter(pk=recent.pk).update(attempt_time=expired)
    response = admin_client.post(
        address,
        {"action": "cleanup_expired_attempts", "_selected_action": [recent.pk], "index": "0"},
        headers={"accept-language": "da"},
        follow=True,
    )
    assert "Slettede 1 udløbet mislykket login." in response.content.decode()
    assert not AccessAttempt.objects.exists()


def test_the_lockout_address_is_not_taken_from_a_forged_header(client, settings):
    settings.AXES_FAILURE_LIMIT = 2
    UserFactory(username="staff", is_staff=True)
    for forged in ("10.0.0.1", "10.0.0.2"):
        client.post(
            reverse("admin:login"),
            {"username": "staff", "password": "wrong"},
            REMOTE_ADDR="203.0.113.7",
            HTTP_X_FORWARDED_FOR=forged,
        )
    assert log_in(client, "staff", PASSWORD).status_code == 429


# Token guessing on the API


def test_the_api_refuses_tokens_from_an_address_that_guessed_too_often(settings):
    settings.ATLAS_TOKEN_FAILURE_LIMIT = 3
    editor = UserFactory(username="api-editor", is_staff=True)
    key = Token.objects.create(user=editor).key
    guesser = APIClient(REMOTE_ADDR="203.0.113.9")
    for guess in range(3):
        guesser.credentials(HTTP_AUTHORIZATION=f"Token {guess:040d}")
        assert guesser.get("/api/places/").status_code == 401
    guesser.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = guesser.get("/api/places/")
    assert response.status_code == 429
    assert "invalid token" in response.json()["detail"]
    # Reading without a token stays open, and the token works from its owner's address.
    guesser.credentials()
    assert guesser.get("/api/places/").status_code == 200
    owner = APIClient(REMOTE_ADDR="198.51.100.2")
    owner.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert owner.get("/api/places/").status_code == 200


# The API throttle


@pytest.fixture
def three_per_hour(monkeypatch):
    monkeypatch.setattr(throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/hour"})


@pytest.fixture
def clock(monkeypatch):
    """The throttle's clock, ten minutes into an hour; a test moves it on."""
    now = [7 * 3600 + 600.0]
    monkeypatch.setattr(throttling.AnonRateThrottle, "timer", lambda self: now[0])
    return now


def test_a_forged_forwarded_for_header_does_not_reset_the_count(client, three_per_hour, clock):
    statuses = [
        client.get(
            "/api/places/", REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]


def test_behind_one_proxy_the_right_most_address_counts(client, settings, three_per_hour, clock):
    settings.ATLAS_TRUSTED_PROXIES = 1

    def call(forwarded_for):
        return client.get(
            "/api/places/", REMOTE_ADDR="10.0.0.254", HTTP_X_FORWARDED_FOR=forwarded_for
        ).status_code

    # The client writes whatever it likes on the left; our proxy appends what it saw.
    assert [call(f"forged-{n}, 203.0.113.7") for n in range(4)] == [200, 200, 200, 429]
    assert call("198.51.100.2") == 200


@pytest.fixture(params=["locmem", "file"])
def shared_cache(request, settings, tmp_path):
    """The caches a site counts in without Redis (tests/deploy counts in Redis)."""
    if request.param == "file":
        settings.CACHES = {
            "default": {"BACKEND": "core.cache.FileBasedCache", "LOCATION": str(tmp_path)}
        }
    return request.param


def test_the_throttle_counts_per_address_and_hour(client, shared_cache, three_per_hour, clock):
    def call(address="203.0.113.7"):
        return client.get("/api/places/", REMOTE_ADDR=address)

    assert [call().status_code for _request in range(3)] == [200, 200, 200]
    refused = call()
    assert refused.status_code == 429
    assert refused["Retry-After"] == str(50 * 60)  # until the hour is over
    assert call("198.51.100.2").status_code == 200
    clock[0] += 50 * 60
    assert call().status_code == 200


def test_workers_share_the_count_in_the_file_cache(tmp_path):
    counted = FileBasedCache(str(tmp_path), {})
    counted.add("hits", 0, 60)

    def worker():
        own = FileBasedCache(str(tmp_path), {})  # a gunicorn worker opens its own
        for _request in range(100):
            own.incr("hits")

    processes = [multiprocessing.get_context("fork").Process(target=worker) for _ in range(4)]
    for process in processes:
        process.start()
    for process in processes:
        process.join()
    assert [process.exitcode for process in processes] == [0, 0, 0, 0]
    assert counted.get("hits") == 400


def test_counting_in_the_file_cache_keeps_the_expiry(tmp_path, monkeypatch):
    counted = FileBasedCache(str(tmp_path), {"TIMEOUT": 300})
    started = time.time()
    counted.add("hits", 1, 3600)
    assert counted.incr("hits") == 2
    # Past the default timeout, within the hour: still counting.
    monkeypatch.setattr(time, "time", lambda: started + 400)
    assert counted.incr("hits") == 3
    monkeypatch.setattr(time, "time", lambda: started + 3601)
    assert counted.get("hits") is None
    with pytest.raises(ValueError):
        counted.incr("hits")


def test_the_file_cache_stores_what_zlib_cannot_shrink_as_it_is(tmp_path):
    cache = FileBasedCache(str(tmp_path), {})
    gzipped = gzip.compress(os.urandom(50_000))  # as a page stored compressed is
    text = "Suzhou, Jiangsu; " * 5_000
    cache.set("page", gzipped, 60)
    cache.set("text", text, 60)
    cache.set("count", 1, 60)

    def stored(key):
        with open(cache._key_to_file(key), "rb") as file:
            pickle.load(file)  # the expiry
            return file.read()

    assert stored("page") == pickle.dumps(gzipped, cache.pickle_protocol)  # not compressed
    assert len(stored("text")) < len(text) / 10
    assert cache.get("page") == gzipped and cache.get("text") == text
    assert cache.touch("page", 120) and cache.touch("text", 120)
    assert cache.get("page") == gzipped and cache.get("text") == text
    assert cache.incr("count") == 2 and cache.get("count") == 2
    # A file written compressed, as Django writes every value, still reads.
    with open(cache._key_to_file("old"), "wb") as file:
        file.write(pickle.dumps(None) + zlib.compress(pickle.dumps(gzipped)))
    assert cache.get("old") == gzipped


def test_the_file_cache_does_not_try_to_compress_a_compressed_response(tmp_path, monkeypatch):
    from django.http import HttpResponse

    cache = FileBasedCache(str(tmp_path), {})
    body = gzip.compress(("<li>Suzhou, Jiangsu</li>" * 2_000).encode())
    compressed = []
    compress = zlib_ng.compress
    monkeypatch.setattr(
        zlib_ng,
        "compress",
        lambda *args, **kwargs: compressed.append(1) or compress(*args, **kwargs),
    )
    gzipped = HttpResponse(body, headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    cache.set("gzipped", gzipped, 60)
    assert compressed == []  # zlib took 2.5 ms to find the map's gzipped GeoJSON incompressible
    plain = HttpResponse("<li>Suzhou, Jiangsu</li>" * 2_000)
    cache.set("plain", plain, 60)
    assert compressed == [1]
    assert cache.get("gzipped").content == body
    assert cache.get("gzipped")["Content-Encoding"] == "gzip"
    assert cache.get("plain").content == plain.content


def test_the_file_cache_counts_its_folder_once_every_so_many_sets(tmp_path, monkeypatch):
    cache = FileBasedCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": 30, "CULL_FREQUENCY": 3}})
    monkeypatch.setattr(FileBasedCache, "CULL_EVERY", 10)
    listings = []
    list_files = FileBasedCache._list_cache_files
    monkeypatch.setattr(
        FileBasedCache,
        "_list_cache_files",
        lambda self: listings.append(1) or list_files(self),
    )
    for number in range(100):
        cache.set(f"page-{number}", number)
    # Listed on the first set and every tenth after it, not on each of the hundred.
    assert len(listings) == 10
    # Still culled: never more than MAX_ENTRIES plus the sets between two counts.
    entries = len(list(tmp_path.glob("*.djcache")))
    assert entries <= 30 + 10
    assert entries < 100
    assert cache.get("page-99") == 99
