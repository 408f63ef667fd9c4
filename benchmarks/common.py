"""What the benchmarks share: a production-like configuration on a throw-away database, and
generated registries kept in var/bench/ so that the 100,000-partnership one is made once."""

import argparse
import hashlib
import os
import secrets
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "var" / "bench"
GENERATOR = ROOT / "atlas" / "management" / "commands" / "generate_bench_data.py"
sys.path.insert(0, str(ROOT))


def configure(database, url=None):
    """Set up Django with DEBUG off on the SQLite file ``database`` (or the database ``url``)."""
    os.environ.update(production_environment(url or f"sqlite:///{database}"))
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,127.0.0.1"
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def standalone(doc, partnerships, rounds, argv=None):
    """The arguments of a benchmark run on its own (``--partnerships``, ``--rounds``,
    ``--database-url``), with Django set up on its generated registry, made if missing:
    ``(arguments, registry)``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--partnerships", type=int, default=partnerships)
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument(
        "--database-url", help="postgres://… server to use instead of SQLite (any database name)"
    )
    arguments = parser.parse_args(argv)
    registry = Registry(arguments.partnerships, arguments.database_url)
    registry.ensure()
    configure(None, registry.url())
    return arguments, registry


def production_environment(database_url, **extra):
    """The environment of a production process on ``database_url``, over plain HTTP."""
    return {
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secrets.token_urlsafe(50),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
        "DJANGO_SSL_REDIRECT": "0",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        # The API throttle would answer 429 to a benchmark's thousands of requests.
        "ATLAS_API_ANON_RATE": "100000000/hour",
        **extra,
    }


def manage(environment, *arguments):
    """Run ``manage.py`` in its own process, as an operator would; stop the bench if it fails."""
    completed = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env={**os.environ, **environment},
        capture_output=True,
        text=True,
    )
    if completed.returncode:
        # The end of its output says why; the whole traceback would bury it.
        output = (completed.stdout + completed.stderr).strip().splitlines()
        raise SystemExit(f"manage.py {' '.join(arguments)} failed:\n" + "\n".join(output[-12:]))
    return completed.stdout


def generator_version():
    """Changes whenever generate_bench_data does, so that a stale registry is made anew."""
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:10]


class Registry:
    """A generated registry of ``size`` partnerships on SQLite (default) or PostgreSQL
    (``base_url`` postgres://…), kept between runs, and throw-away copies of it."""

    def __init__(self, size, base_url=None):
        self.size = size
        self.base_url = base_url
        self.name = f"atlas_bench_{size}_{generator_version()}"

    @property
    def postgres(self):
        return bool(self.base_url) and self.base_url.startswith(("postgres://", "postgresql://"))

    def url(self, name=None):
        name = name or self.name
        if self.postgres:
            parts = urlsplit(self.base_url)
            return urlunsplit(parts._replace(path=f"/{name}"))
        return f"sqlite:///{BENCH_DIR / (name + '.sqlite3')}"

    def exists(self):
        if self.postgres:
            with self.server() as connection:
                found = connection.execute(
                    "SELECT 1 FROM pg_database WHERE datname = %s", [self.name]
                )
                return found.fetchone() is not None
        return (BENCH_DIR / f"{self.name}.sqlite3").exists()

    def ensure(self):
        """Make the registry unless it exists; bring its schema up to date either way."""
        BENCH_DIR.mkdir(parents=True, exist_ok=True)
        if self.exists():
            manage(production_environment(self.url()), "migrate", "--no-input")
            self.settle()
            return
        print(
            f"  no registry of {self.size:,} partnerships for this generator yet: generating "
            f"it into {self.where()} (about {15 + self.size // 400:,} s on a 2-core machine; "
            "kept for next runs)",
            flush=True,
        )
        partial = f"{self.name}_partial"
        self.drop(partial)
        if self.postgres:
            with self.server() as connection:
                connection.execute(f'CREATE DATABASE "{partial}"')
        environment = production_environment(self.url(partial))
        manage(environment, "migrate", "--no-input")
        manage(environment, "generate_bench_data", "--partnerships", str(self.size))
        # Only a finished registry gets the real name: an interrupted run leaves no half one.
        if self.postgres:
            with self.server() as connection:
                connection.execute(f'ALTER DATABASE "{partial}" RENAME TO "{self.name}"')
        else:
            self.checkpoint(BENCH_DIR / f"{partial}.sqlite3")
            (BENCH_DIR / f"{partial}.sqlite3").rename(BENCH_DIR / f"{self.name}.sqlite3")
        self.settle()

    def settle(self):
        """Gather the planner's statistics as a production database keeps them: on
        PostgreSQL vacuum the registry as autovacuum would, on SQLite ``ANALYZE``.

        A registry just generated or migrated has no visibility map, so PostgreSQL reads
        the table behind every index-only scan: on 4 December the 10,000-partnership
        registry, migrated and never vacuumed, served misses up to half as slow again as
        the 100,000 one, which had been. Copies (``CREATE DATABASE … TEMPLATE``) keep it.
        """
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url(), autocommit=True) as connection:
                connection.execute("VACUUM (ANALYZE)")
        else:
            # The statistics ``migrate`` gathered before the registry was filled describe
            # empty tables: on 5 December the first run after generating measured a
            # country's page at 250 ms of CPU instead of 25.
            with sqlite3.connect(BENCH_DIR / f"{self.name}.sqlite3") as database:
                database.execute("ANALYZE")
            database.close()

    def where(self):
        return self.name if self.postgres else str(BENCH_DIR / f"{self.name}.sqlite3")

    def copy(self, folder):
        """A throw-away copy to write on (version bumps, logins); returns its URL."""
        if self.postgres:
            copy = f"{self.name}_run_{os.getpid()}"
            self.drop(copy)
            with self.server() as connection:
                # Copied as files, with a checkpoint before and after (PostgreSQL 15 and
                # later): the default since 15 writes the whole copy, 1.8 GB at 100,000
                # partnerships, through the write-ahead log, past max_wal_size, and its
                # checkpoints then wrote it out while the pages were being measured.
                newer = connection.info.server_version >= 150000
                strategy = " STRATEGY = FILE_COPY" if newer else ""
                connection.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{self.name}"{strategy}')
            return self.url(copy)
        source = BENCH_DIR / f"{self.name}.sqlite3"
        self.checkpoint(source)
        target = Path(folder) / f"atlas-{self.size}.sqlite3"
        shutil.copyfile(source, target)
        return f"sqlite:///{target}"

    def discard(self, url):
        if self.postgres:
            self.drop(urlsplit(url).path.lstrip("/"))

    def drop(self, name):
        if self.postgres:
            with self.server() as connection:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        else:
            for suffix in ("", "-wal", "-shm"):
                (BENCH_DIR / f"{name}.sqlite3{suffix}").unlink(missing_ok=True)

    @staticmethod
    def checkpoint(path):
        # Fold the write-ahead log into the file, so that copying the one file copies it all.
        with sqlite3.connect(path) as database:
            database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        database.close()

    def server(self):
        import psycopg

        parts = urlsplit(self.base_url)
        return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)
