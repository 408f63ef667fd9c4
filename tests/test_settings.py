import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent


def run_django(code, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={"DJANGO_SETTINGS_MODULE": "config.settings", **environment},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django("print('started')")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in result.stderr
    assert "started" not in result.stdout


def test_production_refuses_a_weak_secret_key():
    result = run_django("print('started')", DJANGO_SECRET_KEY="django-insecure-short")
    assert result.returncode != 0
    assert "too weak" in result.stderr


def test_production_starts_with_a_real_key():
    result = run_django(
        "from django.conf import settings; print(settings.DEBUG, settings.ALLOWED_HOSTS)",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="atlas.example.org",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False ['atlas.example.org']"


def test_an_empty_database_url_is_the_default_and_a_bad_one_is_named():
    development = {"DJANGO_DEBUG": "1"}
    empty = run_django(
        "from django.conf import settings; print(settings.DATABASES['default']['NAME'])",
        DATABASE_URL="",
        **development,
    )
    assert empty.returncode == 0, empty.stderr
    assert empty.stdout.strip() == str(ROOT / "db.sqlite3")
    bad = run_django("print('started')", DATABASE_URL="postgress://atlas@db/atlas", **development)
    assert bad.returncode != 0 and "started" not in bad.stdout
    assert "DATABASE_URL 'postgress://atlas@db/atlas' is not understood" in bad.stderr


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="SQLite settings only apply when SQLite is the database",
)
def test_sqlite_waits_for_the_lock_instead_of_failing(tmp_path):
    options = settings.DATABASES["default"]["OPTIONS"]
    assert options["transaction_mode"] == "IMMEDIATE"
    assert options["timeout"] >= 5
    result = run_django(
        "from django.db import connection; cursor = connection.cursor(); "
        "print(cursor.execute('PRAGMA journal_mode').fetchone()[0], "
        "cursor.execute('PRAGMA busy_timeout').fetchone()[0])",
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'atlas.sqlite3'}",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["wal", "20000"]


@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3",
    reason="SQLite settings only apply when SQLite is the database",
)
@pytest.mark.parametrize(("env", "expected"), [({}, 1024**3), ({"ATLAS_SQLITE_MMAP_MB": "0"}, 0)])
def test_sqlite_reads_the_file_through_a_memory_map(tmp_path, env, expected):
    # Pages read through the map are the system's cached pages, not copies in a private
    # cache of 2 MB per connection; ATLAS_SQLITE_MMAP_MB=0 turns it off.
    result = run_django(
        "from django.db import connection; "
        "print(connection.cursor().execute('PRAGMA mmap_size').fetchone()[0])",
        DJANGO_DEBUG="1",
        DATABASE_URL=f"sqlite:///{tmp_path / 'atlas.sqlite3'}",
        **env,
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == expected


def database_setting(tmp_path, url, expression, **env):
    """What ``expression`` of the default database's settings (``d``) prints when
    DATABASE_URL is ``url`` (``{tmp}`` a temporary folder)."""
    result = run_django(
        f"from django.conf import settings; d = settings.DATABASES['default']; print({expression})",
        DJANGO_DEBUG="1",
        DATABASE_URL=url.format(tmp=tmp_path),
        **env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    "url", ["sqlite:///{tmp}/atlas.sqlite3", "postgres://atlas:atlas@127.0.0.1:5432/atlas"]
)
def test_connections_are_kept_between_requests_on_either_database(tmp_path, url):
    # Opening a SQLite connection and running its PRAGMAs cost a cached page more than
    # serving it; PostgreSQL's connections cost more still.
    setting = database_setting(tmp_path, url, "d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS']")
    assert setting.split() == ["60", "True"]


def test_production_settings_pass_the_deploy_check():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={
            **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "atlas.example.org",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("url", "env", "expected"),
    [
        ("postgres://atlas:atlas@db:5432/atlas", {}, "-c jit=off"),
        # Options the address brings are kept, before ours.
        (
            "postgres://atlas:atlas@db:5432/atlas?options=-c%20work_mem%3D8MB",
            {},
            "-c work_mem=8MB -c jit=off",
        ),
        # Behind a PgBouncer that refuses startup options, the server decides.
        ("postgres://atlas:atlas@db:5432/atlas", {"ATLAS_POSTGRES_JIT": "server"}, None),
        ("sqlite:///{tmp}/atlas.sqlite3", {}, None),
    ],
)
def test_postgresql_connections_turn_jit_compilation_off(tmp_path, url, env, expected):
    # A search for "hai university" at 100,000 partnerships spent 520 ms of 565 compiling
    # a query the planner overestimated; no query here runs long enough to win that back.
    setting = database_setting(tmp_path, url, "d.get('OPTIONS', {}).get('options')", **env)
    assert setting == str(expected)


def test_an_unknown_jit_choice_is_refused():
    result = run_django("print('started')", DJANGO_DEBUG="1", ATLAS_POSTGRES_JIT="maybe")
    assert result.returncode != 0
    assert "ATLAS_POSTGRES_JIT is 'maybe'" in result.stderr
    assert "started" not in result.stdout


@pytest.mark.django_db
@pytest.mark.skipif(
    settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="JIT compilation is PostgreSQL's",
)
def test_the_apps_postgresql_connection_compiles_no_query():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


@pytest.mark.parametrize("rate", ["60", "60/week", "-1/hour", "lots"])
def test_an_unreadable_download_rate_is_refused(rate):
    result = run_django("print('started')", DJANGO_DEBUG="1", ATLAS_DOWNLOAD_ANON_RATE=rate)
    assert result.returncode != 0
    assert "ATLAS_DOWNLOAD_ANON_RATE" in result.stderr
    assert "started" not in result.stdout
