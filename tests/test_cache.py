"""The whole-response cache of anonymous GETs: never stale, whatever path writes.

Each write path: an anonymous reader's page is built once and then served from the cache
(the version read its only query); the write; the next GET shows the new content.
"""

import datetime
import gzip

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient
from simple_history.models import HistoricalChanges

from atlas.registry import IMPORT_SPECS
from core import throttling, versioning
from core.models import RegistryVersion
from importing.engine import Importer
from places.models import Place, PlaceFigure, PlaceName
from tests.factories import (
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)
from tests.importing.conftest import csv_bytes
from tests.pages import url
from tests.reimport import reimport_partnerships
from tests.test_history_inlines import place_form
from tests.test_operations import backups_possible

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


def cached(client, address, **headers):
    """The page at ``address``, built once and then served from the cache."""
    first = client.get(address, **headers)
    assert first.status_code == 200, address
    assert first["X-Cache"] == "MISS", address
    page = hit(client, address, **headers)
    assert page == readable(first)
    return page


def hit(client, address, **headers):
    """The page at ``address`` served from the cache: the version is the only query."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(address, **headers)
    assert response["X-Cache"] == "HIT", address
    assert len(queries) == 1, [query["sql"] for query in queries]
    return readable(response)


def fresh(client, address):
    """The page at ``address`` as a reader gets it next: built anew after a write."""
    response = client.get(address)
    assert response.status_code == 200, address
    assert response["X-Cache"] == "MISS", address
    return readable(response)


def readable(response):
    return response.content.decode().replace("\N{NO-BREAK SPACE}", " ")


@pytest.fixture
def reader():
    """An anonymous reader, apart from the ``client`` that staff fixtures log in."""
    return Client()


@pytest.fixture
def nantong():
    return PlaceFactory(name="Nantong", kind="city", country="CN", description="On the Yangtze.")


@pytest.fixture
def nantong_page(client, nantong):
    address = url("places:place-detail", slug=nantong.slug)
    assert "On the Yangtze." in cached(client, address)
    return address


# Write paths ------------------------------------------------------------------------------


def test_a_plain_save_in_a_shell(client, nantong, nantong_page):
    nantong.description = "On the Grand Canal."
    nantong.save()
    assert "On the Grand Canal." in fresh(client, nantong_page)


def test_queryset_update(client, nantong, nantong_page):
    assert Place.objects.filter(pk=nantong.pk).update(description="Updated in bulk.") == 1
    assert "Updated in bulk." in fresh(client, nantong_page)


def test_queryset_update_of_nothing_leaves_the_cache(client, nantong, nantong_page):
    Place.objects.filter(pk=nantong.pk + 1000).update(description="Nobody")
    assert client.get(nantong_page)["X-Cache"] == "HIT"


def test_bulk_create_and_bulk_update(client, nantong):
    address = url("places:place-list")
    assert "Suzhou" not in cached(client, address)
    suzhou = Place(name="Suzhou", kind="city", country="CN", publication="published")
    suzhou.derive()
    Place.objects.bulk_create([suzhou])
    assert "Suzhou" in fresh(client, address)

    hit(client, address)
    suzhou = Place.objects.get(name="Suzhou")
    suzhou.name = "Soochow"
    Place.objects.bulk_update([suzhou], ["name"])
    assert "Soochow" in fresh(client, address)


def test_many_to_many_add_and_remove(client):
    partnership = PartnershipFactory()
    water = ThemeFactory(name="Water management")
    address = url("partnerships:partnership-detail", slug=partnership.slug)
    assert "Water management" not in cached(client, address)
    partnership.themes.add(water)
    assert "Water management" in fresh(client, address)
    hit(client, address)
    partnership.themes.remove(water)
    assert "Water management" not in fresh(client, address)


def test_admin_change_form(client, admin_client, nantong, nantong_page):
    response = admin_client.post(
        reverse("admin:places_place_change", args=[nantong.pk]),
        place_form(nantong, description_en="Changed in the admin."),
    )
    assert response.status_code == 302
    assert "Changed in the admin." in fresh(client, nantong_page)


def test_admin_inline_add_change_and_delete(client, admin_client, nantong, nantong_page):
    change = reverse("admin:places_place_change", args=[nantong.pk])
    source = SourceFactory()
    figure = {"kind": "population", "value": 4_600_000, "year": 2009, "source": source.pk}

    response = admin_client.post(change, place_form(nantong, figures=[figure]))
    assert response.status_code == 302
    assert "4.6 million" in fresh(client, nantong_page)

    hit(client, nantong_page)
    row = {**figure, "id": PlaceFigure.objects.get().pk, "value": 7_400_000}
    response = admin_client.post(change, place_form(nantong, figures=[row]))
    assert response.status_code == 302
    page = fresh(client, nantong_page)
    assert "7.4 million" in page and "4.6 million" not in page

    hit(client, nantong_page)
    response = admin_client.post(change, place_form(nantong, figures=[{**row, "DELETE": "on"}]))
    assert response.status_code == 302
    assert "7.4 million" not in fresh(client, nantong_page)


def test_admin_delete_page(client, admin_client, nantong):
    address = url("places:place-list")
    assert "Nantong" in cached(client, address)
    response = admin_client.post(
        reverse("admin:places_place_delete", args=[nantong.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert "Nantong" not in fresh(client, address)


def test_admin_delete_selected_action(client, admin_client, nantong):
    address = url("places:place-list")
    assert "Nantong" in cached(client, address)
    response = admin_client.post(
        reverse("admin:places_place_changelist"),
        {"action": "delete_selected", "_selected_action": [nantong.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert "Nantong" not in fresh(client, address)


def test_admin_import_confirm(reader, editor_client, settings, tmp_path):
    settings.ATLAS_IMPORT_UPLOAD_DIR = str(tmp_path)
    address = url("places:place-list")
    assert "Nantong" not in cached(reader, address)
    data = csv_bytes([["name", "kind", "country", "source"], ["Nantong", "city", "CN", "Note"]])
    upload = tmp_path / "places.csv"
    upload.write_bytes(data)
    with upload.open("rb") as file:
        preview = editor_client.post(
            reverse("admin:places_place_import"), {"file": file, "publish": "on"}
        )
    assert "Nantong" not in hit(reader, address)  # a preview writes nothing
    response = editor_client.post(
        reverse("admin:places_place_import_confirm"), {"token": preview.context["token"]}
    )
    assert response.status_code == 302
    assert "Nantong" in fresh(reader, address)


def test_import_records_command(client, tmp_path):
    partnership = PartnershipFactory(title="Old tie")
    ThemeFactory(name="Water management", slug="water")
    address = url("partnerships:partnership-detail", slug=partnership.slug)
    assert "Water management" not in cached(client, address)
    # Only a theme changes: a write to the many-to-many table alone.

    def themed(row):
        if row["slug"] == partnership.slug:
            row["themes"] = "water"

    reimport_partnerships(tmp_path, themed)
    assert "Water management" in fresh(client, address)


def test_undo_of_an_import(reader, editor_client, editor):
    address = url("places:place-list")
    data = csv_bytes([["name", "kind", "country", "source"], ["Suzhou", "city", "CN", "Note"]])
    report = Importer(IMPORT_SPECS["places"], publish=True).run(data, "places.csv")
    assert "Suzhou" in cached(reader, address)
    response = editor_client.post(reverse("admin:core_importbatch_undo", args=[report.batch.pk]))
    assert response.status_code == 302
    assert "Suzhou" not in fresh(reader, address)


def test_api_create_update_and_delete(client, editor):
    address = "/api/places/"
    assert "Suzhou" not in cached(client, address)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    response = api.post(
        address,
        {
            "name": "Suzhou",
            "kind": "city",
            "country": "CN",
            "publication": "published",
            "sources": [SourceFactory().pk],
        },
        format="json",
    )
    assert response.status_code == 201
    assert "Suzhou" in fresh(client, address)

    hit(client, address)
    assert api.patch("/api/places/suzhou/", {"name": "Soochow"}).status_code == 200
    assert "Soochow" in fresh(client, address)

    hit(client, address)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=root).key}")
    assert api.delete("/api/places/suzhou/").status_code == 204
    assert "Soochow" not in fresh(client, address)


def test_load_seed_and_loaddata(client, tmp_path):
    address = url("places:place-list", query="q=jiangsu")
    assert "Jiangsu" not in cached(client, address)
    call_command("load_seed", verbosity=0)
    assert "Jiangsu" in fresh(client, address)

    hit(client, address)
    jiangsu = Place.objects.get(slug="jiangsu")
    fixture = tmp_path / "renamed.json"
    call_command("dumpdata", "places.place", pks=str(jiangsu.pk), output=str(fixture))
    fixture.write_text(fixture.read_text().replace('"Jiangsu"', '"Kiangsu"'))
    call_command("loaddata", str(fixture), verbosity=0)
    assert "Kiangsu" in fresh(client, address)


def test_other_names_saved_and_deleted(client, nantong, nantong_page):
    name = PlaceName.objects.create(place=nantong, name="Wutshi")
    assert "Wutshi" in fresh(client, nantong_page)
    hit(client, nantong_page)
    PlaceName.objects.filter(pk=name.pk).delete()
    assert "Wutshi" not in fresh(client, nantong_page)


def test_a_write_rolled_back_leaves_the_version(nantong):
    before = versioning.current()
    with pytest.raises(RuntimeError), transaction.atomic():
        nantong.save()
        raise RuntimeError
    assert versioning.current() == before


def test_every_write_of_a_transaction_read_in_it_moves_the_version(client, nantong, nantong_page):
    # One UPDATE per transaction, unless a page was read (and cached) in between.
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        nantong.save()
        nantong.save()
    assert sum("core_registryversion" in query["sql"] for query in queries) == 1
    with transaction.atomic():
        cached(client, nantong_page)
        nantong.description = "Changed in the same transaction."
        nantong.save()
        assert "Changed in the same transaction." in fresh(client, nantong_page)


def test_restore_moves_the_version_past_the_backup_and_the_present(
    transactional_db, client, tmp_path
):
    backups_possible()
    PlaceFactory(name="Nantong")
    address = url("places:place-list")
    backup = tmp_path / "atlas.backup"
    call_command("backup", output=str(backup), verbosity=0)
    PlaceFactory(name="Added after the backup")
    assert "Added after the backup" in cached(client, address)
    newest = versioning.current()[0]

    call_command("restore", str(backup), yes=True, verbosity=0)

    assert versioning.current()[0] > newest
    # The backup's places may differ from those drawn before: the map's layout is read
    # again (atlas.explore).
    assert versioning.places_version()[0] > newest
    assert versioning.part_version("organisations")[0] > newest
    page = fresh(client, address)
    assert "Nantong" in page and "Added after the backup" not in page


def test_flush_then_a_write_recreates_the_version(transactional_db, client):
    call_command("flush", interactive=False, verbosity=0)
    RegistryVersion.objects.all().delete()
    PlaceFactory(name="Nantong")
    assert RegistryVersion.objects.get().value == 1
    assert "Nantong" in cached(client, url("places:place-list"))


# Every model is covered --------------------------------------------------------------------


def receivers(signal, model):
    return signal._live_receivers(model)[0]


def test_every_model_of_the_registry_moves_the_version():
    from django.apps import apps

    checked = []
    for label in versioning.REGISTRY_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            name = model._meta.label_lower
            if issubclass(model, HistoricalChanges) or name in versioning.UNWATCHED:
                continue
            if getattr(model, "derived", False):
                # Counts kept from the records, written in the records' own transaction.
                assert versioning.changed not in receivers(post_save, model), name
                continue
            checked.append(name)
            assert versioning.changed in receivers(post_delete, model), name
            if model._meta.auto_created:
                assert versioning.links_changed in receivers(m2m_changed, model), name
                continue
            assert versioning.changed in receivers(post_save, model), name
            queryset = model._default_manager.all()
            assert isinstance(queryset, versioning.VersionedQuerySet), name
    assert {"core.source", "places.placefigure", "partnerships.partnership_themes"} <= set(checked)


# What is cached, for whom, and how ---------------------------------------------------------

PUBLIC_PAGES = [
    ("home", {}),
    ("places:place-list", {}),
    ("places:place-detail", {"slug": "jiangsu"}),
    ("places:place-export", {}),
    ("organisations:organisation-list", {}),
    ("organisations:organisation-detail", {"slug": "technical-university-of-denmark"}),
    ("organisations:organisation-export", {}),
    ("partnerships:partnership-list", {}),
    ("partnerships:partnership-detail", {"slug": "bycirklen-wuxi-cooperation"}),
    ("partnerships:partnership-export", {}),
    ("atlas:map", {}),
    ("atlas:network", {}),
    ("atlas:network-nodes", {}),
]
API = ["/api/", "/api/places/", "/api/partnerships/", "/api/themes/", "/api/map/", "/api/network/"]


def public_addresses():
    for language in ("en", "da"):
        for name, kwargs in PUBLIC_PAGES:
            yield url(name, language, **kwargs)
        yield url("search", language, query="q=jiangsu")
    yield from [*API, "/api/places/jiangsu/", "/sitemap.xml"]


def test_public_responses_set_no_cookie_do_not_vary_on_it_and_are_cached(client):
    call_command("loaddata", "seed", verbosity=0)
    for address in (url("about"), url("about", "da"), "/robots.txt"):  # no data, not cached
        response = client.get(address)
        assert not response.cookies and "Cookie" not in response.get("Vary", ""), address
    for address in public_addresses():
        response = client.get(address)
        assert response.status_code == 200, address
        assert not response.cookies, address
        assert "Cookie" not in response.get("Vary", ""), address
        assert response["Cache-Control"] == "public, max-age=0, s-maxage=60", address
        hit(client, address)


def test_a_page_is_compressed_once_when_stored_and_each_encoding_has_its_own_entry(client):
    for n in range(3):
        places = [PlaceFactory(latitude=n, longitude=n + side) for side in (1, 2)]
        PartnershipFactory(parties=places)
    for address in (url("partnerships:partnership-list"), "/api/map/"):
        first = client.get(address, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert (first["X-Cache"], first["Content-Encoding"]) == ("MISS", "gzip"), address
        assert "Accept-Encoding" in first["Vary"]
        with CaptureQueriesContext(connection) as queries:
            again = client.get(address, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
        assert (again["X-Cache"], again["Content-Encoding"]) == ("HIT", "gzip"), address
        assert len(queries) == 1  # the version
        assert again.content == first.content
        # A client that takes no gzip gets the same page, uncompressed, under its own key.
        plain = client.get(address)
        assert plain["X-Cache"] == "MISS" and not plain.has_header("Content-Encoding")
        assert gzip.decompress(again.content) == plain.content
        assert len(again.content) < len(plain.content) / 3
        assert again["ETag"] != plain["ETag"]


def test_staff_with_a_session_bypass_the_cache(client, admin_client, nantong, nantong_page):
    response = admin_client.get(nantong_page)
    assert response.status_code == 200 and "X-Cache" not in response
    Place.objects.filter(pk=nantong.pk).update(description="Seen by staff at once.")
    assert "Seen by staff at once." in admin_client.get(nantong_page).content.decode()
    assert "X-Cache" not in admin_client.get(nantong_page)


def test_a_token_bypasses_the_cache(client, editor):
    cached(client, "/api/places/")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=editor).key}")
    assert "X-Cache" not in api.get("/api/places/")


def test_the_admin_and_health_are_never_cached(client):
    assert "X-Cache" not in client.get(reverse("admin:login"))
    assert "X-Cache" not in client.get("/health/")


def test_a_matching_etag_gets_304_and_a_changed_registry_does_not(client, nantong, nantong_page):
    etag = client.get(nantong_page)["ETag"]
    with CaptureQueriesContext(connection) as queries:
        response = client.get(nantong_page, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and len(queries) == 1
    assert response["ETag"] == etag and "public" in response["Cache-Control"]

    nantong.save()
    response = client.get(nantong_page, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response["ETag"] != etag


def test_if_modified_since_gets_304_until_the_next_write(client, nantong):
    # Last-Modified counts whole seconds: the last change a minute ago tells them apart.
    RegistryVersion.objects.update(changed_at=timezone.now() - datetime.timedelta(minutes=1))
    address = url("places:place-detail", slug=nantong.slug)
    last_modified = client.get(address)["Last-Modified"]
    assert client.get(address, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 304
    nantong.save()
    response = client.get(address, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert response.status_code == 200 and response["Last-Modified"] != last_modified


def test_keys_differ_by_language_and_query(client, nantong):
    english, danish = url("places:place-list"), url("places:place-list", "da")
    assert 'lang="en"' in cached(client, english)
    assert 'lang="da"' in cached(client, danish)
    assert client.get(english)["ETag"] != client.get(danish)["ETag"]
    filtered = cached(client, english + "?q=nothing-like-it")
    assert "Nantong" not in filtered and "Nantong" in cached(client, english + "?q=nantong")


def test_a_danish_and_an_english_record_page_never_share_a_body(client):
    place = PlaceFactory(name="Copenhagen Municipality", name_da="Københavns Kommune")
    english = url("places:place-detail", slug=place.slug)
    danish = url("places:place-detail", "da", slug=place.slug)
    assert "Københavns Kommune" not in cached(client, english)
    assert "Københavns Kommune" in cached(client, danish)
    assert "Copenhagen Municipality" in hit(client, english)
    assert "Copenhagen Municipality" not in hit(client, danish)


def test_the_api_keys_differ_by_accept_header(client):
    plain = cached(client, "/api/places/")
    assert cached(client, "/api/places/", HTTP_ACCEPT="application/json") == plain
    # The browsable API gives a CSRF token to its forms: kept out of every cache.
    html = client.get("/api/places/", HTTP_ACCEPT="text/html")
    assert "<html" in html.content.decode() and "X-Cache" not in html


def test_a_huge_or_bad_query_string_is_answered_but_not_cached(client):
    huge = url("places:place-list", query="q=" + "word " * 400)
    response = client.get(huge)
    assert response.status_code in (200, 400)
    assert "X-Cache" not in response and "X-Cache" not in client.get(huge)
    bad = client.get(url("places:place-list", query="q=%00"))
    assert bad.status_code == 400 and "X-Cache" not in bad
    odd = url("places:place-list", query="page=%ff%fe&sort=nonsense")
    assert client.get(odd).status_code in (200, 404)


def test_head_is_answered_from_the_cached_get(client, nantong, nantong_page):
    response = client.head(nantong_page)
    assert response.status_code == 200 and response["X-Cache"] == "HIT"


@pytest.mark.parametrize("backend", ["locmem", "file"])
def test_api_hits_still_count_against_the_throttle(
    client, monkeypatch, settings, tmp_path, backend
):
    if backend == "file":
        settings.CACHES = {
            "default": {"BACKEND": "core.cache.FileBasedCache", "LOCATION": str(tmp_path)}
        }
    monkeypatch.setattr(throttling.AnonRateThrottle, "THROTTLE_RATES", {"anon": "3/hour"})
    responses = [client.get("/api/themes/") for _ in range(4)]
    assert [response.status_code for response in responses] == [200, 200, 200, 429]
    assert [response.get("X-Cache") for response in responses] == ["MISS", "HIT", "HIT", None]


def test_no_query_is_made_for_the_about_page(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        assert client.get(url("about")).status_code == 200


def test_a_miss_reads_the_version_once_also_for_the_values_kept_per_version(client):
    places = [PlaceFactory(name="Nantong", latitude=32, longitude=121), PlaceFactory()]
    PartnershipFactory(parties=places)
    for address in (
        url("home"),
        url("partnerships:partnership-list"),
        url("search") + "?q=nantong",
        "/api/map/",
    ):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address)
        assert response["X-Cache"] == "MISS", address
        assert sum("core_registryversion" in query["sql"] for query in queries) == 1, address
        # Held for that request only: what runs after it reads the version again.
        assert versioning.request_version.get() is None
        assert versioning.request_part_versions.get() is None


def test_the_version_is_one_query_and_a_missing_row_comes_back(django_assert_num_queries):
    with django_assert_num_queries(1):
        value, _changed_at = versioning.current()
    RegistryVersion.objects.all().delete()
    versioning.bump()
    assert RegistryVersion.objects.get().value == 1


def test_the_language_link_of_a_404_stays_on_the_site(client):
    response = client.get("/", PATH_INFO="//example.org/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'class="language-links"' in page and 'href="//example.org' not in page
