"""Running the site: `make serve`, /health/, backups and restores."""

import gc
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.db import connection

from core.models import ImportBatch, ImportBatchItem, RegistryVersion
from places.models import Place
from tests.factories import UserFactory

ROOT = Path(__file__).resolve().parent.parent


# make serve


def test_make_serve_refuses_to_start_without_a_secret_key():
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        ["make", "--no-print-directory", "-o", ".venv/bin/.installed", "serve"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stdout
    assert "secrets.token_urlsafe(50)" in result.stdout


def test_make_serve_runs_gunicorn_with_debug_off():
    result = subprocess.run(
        ["make", "-n", "-o", ".venv/bin/.installed", "serve"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "DJANGO_DEBUG=0 .venv/bin/python manage.py collectstatic --no-input" in result.stdout
    assert "DJANGO_DEBUG=0 .venv/bin/gunicorn --config config/gunicorn.conf.py" in result.stdout


def load_gunicorn_config(monkeypatch, **environment):
    for name in ("PORT", "WEB_CONCURRENCY", "HOST"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    spec = importlib.util.spec_from_file_location("gunicorn_conf", ROOT / "config/gunicorn.conf.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_gunicorn_takes_port_and_workers_from_the_environment(monkeypatch):
    defaults = load_gunicorn_config(monkeypatch)
    assert (defaults.bind, defaults.workers) == ("127.0.0.1:8000", 2)
    chosen = load_gunicorn_config(monkeypatch, PORT="8123", WEB_CONCURRENCY="5")
    assert (chosen.bind, chosen.workers) == ("127.0.0.1:8123", 5)
    assert chosen.wsgi_app == "config.wsgi:application"
    assert chosen.accesslog == "-"


# What a worker that has warmed up holds, printed by a fresh process as JSON.
WARMED = """
import json, sys
import django
django.setup()
from django.db import connection
from django.template import engines
from django.urls import get_resolver
from django.utils.translation import trans_real
from config.warmup import warm_up
warm_up()
cache = engines["django"].engine.template_loaders[0].get_template_cache
print(json.dumps({
    "url_modules": sorted(name for name in sys.modules if name.endswith(".urls")),
    "templates": sorted(cache),
    "catalogues": sorted(trans_real._translations),
    "addresses": sorted(get_resolver().namespace_dict["partnerships"][1]._reverse_dict),
    "connected": connection.connection is not None,
}))
"""


def warmed_worker(tmp_path, database_url):
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": database_url,
        "ATLAS_CACHE_DIR": str(tmp_path / "cache"),
    }
    result = subprocess.run(
        [sys.executable, "-c", WARMED],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), result.stderr


def test_a_gunicorn_worker_loads_the_site_before_its_first_request(tmp_path):
    # A database without tables: the worker boots all the same, and says why it could
    # not read the registry version.
    warmed, log = warmed_worker(tmp_path, f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    for module in ("config.urls", "places.urls", "partnerships.urls", "atlas.urls"):
        assert module in warmed["url_modules"]
    for template in ("base.html", "partnerships/partnership_list.html", "admin/change_form.html"):
        assert template in warmed["templates"]
    assert {"da", "en"} <= set(warmed["catalogues"])
    assert {"da", "en"} <= set(warmed["addresses"])
    assert "The database did not answer while the worker warmed up." in log
    assert not warmed["connected"]


@pytest.mark.django_db
def test_a_warmed_worker_has_read_the_registry_version(django_assert_num_queries):
    from config.warmup import warm_up

    with django_assert_num_queries(1) as sql:
        warm_up()
    assert "core_registryversion" in sql.captured_queries[0]["sql"]
    assert connection.connection is not None


@pytest.mark.django_db
def test_a_gunicorn_worker_freezes_what_the_app_loaded(monkeypatch):
    config = load_gunicorn_config(monkeypatch)
    assert gc.get_freeze_count() == 0
    try:
        config.post_worker_init(worker=None)
        # Everything alive now is out of the collector's passes, the app's modules too.
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_a_gunicorn_worker_freezes_again_what_its_first_requests_left_alive(monkeypatch):
    config = load_gunicorn_config(monkeypatch)
    worker = SimpleNamespace(nr=0)
    frozen, freeze = [], gc.freeze
    # The freezes are recorded as they happen: counting the frozen objects walks every one
    # of them, and counting before and after each of the 1,001 requests took 27 s.
    monkeypatch.setattr(gc, "freeze", lambda: (frozen.append(worker.nr), freeze()))
    try:
        for number in range(1, 1002):
            worker.nr = number
            left_alive = [{"request": number}]  # a container: the collector tracks it
            config.post_request(worker, req=None, environ={}, resp=None)
            if frozen[-1:] == [number]:
                # Out of the collector's passes from now on.
                assert not any(found is left_alive for found in gc.get_objects())
        assert frozen == [1, 10, 100, 1000]
    finally:
        gc.unfreeze()


# /health/


@pytest.mark.django_db
def test_health_answers_ok_when_everything_works(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "migrations": "ok"},
    }
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_health_answers_503_and_names_a_broken_cache(client, settings, tmp_path):
    # A cache directory that cannot be made: a file stands where the folder should be.
    (tmp_path / "taken").write_text("not a folder")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "taken" / "cache"),
        }
    }
    response = client.get("/health/")
    assert response.status_code == 503
    assert response.json() == {
        "status": "failing",
        "checks": {"database": "ok", "cache": "failing", "migrations": "ok"},
    }


# Backups


def every_row():
    """Every row of every table, exactly as stored (timestamps to the microsecond); but the
    registry version, which a restore moves on (tests/test_cache.py), and SQLite's planner
    statistics, which it gathers afresh (core.planner)."""
    tables = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if table == RegistryVersion._meta.db_table or table.startswith("sqlite_stat"):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables[table] = sorted(cursor.fetchall(), key=repr)
    return tables


def backups_possible():
    if connection.vendor == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")


@pytest.fixture
def registry(transactional_db):
    backups_possible()
    # An earlier transactional test's flush re-created the content types under new ids.
    ContentType.objects.clear_cache()
    call_command("loaddata", "seed", verbosity=0)
    user = UserFactory(username="importer", is_staff=True)
    place = Place.objects.order_by("pk").first()
    place.name = f"{place.name} (renamed)"
    place.save()
    batch = ImportBatch.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(Place),
        file_name="places.xlsx",
        updated_count=1,
        created={"places.place": [place.pk]},
    )
    ImportBatchItem.objects.create(
        batch=batch,
        content_type=ContentType.objects.get_for_model(Place),
        object_id=place.pk,
        before={"name": "before"},
    )


def test_a_restore_brings_back_every_row_exactly(registry, tmp_path):
    before = every_row()
    rows = sum(len(table) for table in before.values())
    assert rows > 500
    assert before["places_historicalplace"] and before["core_importbatch"]
    backup = tmp_path / "atlas.backup"
    call_command("backup", output=str(backup), verbosity=0)
    assert backup.stat().st_size > 0

    # Lose some records, change others, add one: the restore must undo all of it.
    Place.objects.filter(pk=Place.objects.order_by("pk").first().pk).update(name="Changed")
    Place.history.all().delete()
    ImportBatch.objects.all().delete()
    Place.objects.create(name="Added after the backup", kind="city", country="DK")
    assert every_row() != before

    call_command("restore", str(backup), yes=True, verbosity=0)
    after = every_row()
    assert sum(len(table) for table in after.values()) == rows
    assert after == before


def test_restore_refuses_a_database_with_data_unless_told(registry, tmp_path):
    backup = tmp_path / "atlas.backup"
    call_command("backup", output=str(backup), verbosity=0)
    Place.objects.create(name="Kept", kind="city", country="DK")
    with pytest.raises(CommandError, match="--yes"):
        call_command("restore", str(backup), verbosity=0)
    assert Place.objects.filter(name="Kept").exists()


@pytest.mark.django_db
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    backups_possible()
    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("Nothing to see here.\n" * 100)
    with pytest.raises(CommandError):
        call_command("restore", str(not_a_backup), yes=True, verbosity=0)
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "missing.backup"), yes=True, verbosity=0)
    with pytest.raises(CommandError, match="is not a file written by `manage.py backup`"):
        call_command("restore", str(tmp_path), yes=True, verbosity=0)


@pytest.mark.django_db
def test_backup_refuses_a_folder_that_does_not_exist(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("backup", output=str(tmp_path / "no" / "atlas.backup"), verbosity=0)


@pytest.mark.django_db
def test_backup_refuses_a_folder_for_its_file(tmp_path):
    # It was renamed onto the folder: IsADirectoryError, a traceback.
    (tmp_path / "backups").mkdir()
    with pytest.raises(CommandError, match="is a folder: give the name of the file to write"):
        call_command("backup", output=str(tmp_path / "backups"), verbosity=0)
    assert list(tmp_path.iterdir()) == [tmp_path / "backups"]
    assert list((tmp_path / "backups").iterdir()) == []


@pytest.mark.django_db
def test_backup_refuses_to_wait_on_its_own_transaction(tmp_path):
    backups_possible()
    if connection.vendor != "sqlite":
        pytest.skip("pg_dump reads through its own connection")
    with pytest.raises(CommandError, match="inside a database transaction"):
        call_command("backup", output=str(tmp_path / "atlas.backup"), verbosity=0)
    assert not list(tmp_path.iterdir())


@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite backup file")
@pytest.mark.django_db(transaction=True)
def test_a_sqlite_backup_is_one_intact_file(tmp_path):
    import sqlite3

    backup = tmp_path / "atlas.backup"
    call_command("backup", output=str(backup), verbosity=0)
    copy = sqlite3.connect(backup)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    finally:
        copy.close()
    assert [path.name for path in tmp_path.iterdir()] == ["atlas.backup"]


def test_the_commands_run_from_the_command_line(tmp_path):
    # The documented invocation, against a fresh file database.
    environment = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL"))},
        "DJANGO_DEBUG": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'site.sqlite3'}",
        "CACHE_URL": "locmem://",
    }

    def manage(*arguments):
        return subprocess.run(
            [sys.executable, "manage.py", *arguments],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert manage("migrate", "--no-input").returncode == 0
    assert manage("load_seed").returncode == 0
    result = manage("backup", "--output", str(tmp_path / "nightly.backup"))
    assert result.returncode == 0, result.stderr
    result = manage("restore", str(tmp_path / "nightly.backup"))
    assert result.returncode == 1
    assert "Add --yes" in result.stderr
    result = manage("restore", str(tmp_path / "nightly.backup"), "--yes")
    assert result.returncode == 0, result.stderr
