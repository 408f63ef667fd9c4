import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections


def require(program):
    path = shutil.which(program)
    if not path:
        raise CommandError(
            f"{program} was not found. Install the PostgreSQL client tools of the server's "
            f"version (Debian: apt-get install postgresql-client) and try again."
        )
    return path


def postgres_arguments(settings_dict):
    """Connection arguments and environment for pg_dump and pg_restore."""
    arguments = []
    for option, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if settings_dict.get(key):
            arguments += [option, str(settings_dict[key])]
    environment = {**os.environ}
    if settings_dict.get("PASSWORD"):
        environment["PGPASSWORD"] = settings_dict["PASSWORD"]
    return arguments + ["--dbname", settings_dict["NAME"]], environment


def run(command, environment):
    result = subprocess.run(command, env=environment, capture_output=True, text=True)
    if result.returncode != 0:
        raise CommandError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")


def read_only(path):
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def check_sqlite_file(path):
    """Raise CommandError unless ``path`` is an intact SQLite database of this app."""
    database = read_only(path)
    try:
        integrity = database.execute("PRAGMA integrity_check").fetchone()[0]
        tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise CommandError(f"{path} is not a SQLite database backup: {error}") from error
    finally:
        database.close()
    if integrity != "ok":
        raise CommandError(f"{path} is damaged: {integrity}")
    if "django_migrations" not in tables:
        raise CommandError(f"{path} is not a backup of this site: it has no django_migrations.")


class Command(BaseCommand):
    help = (
        "Write a consistent snapshot of the database to a file while the site runs: "
        "SQLite's online backup, or pg_dump's custom format on PostgreSQL. "
        "`manage.py restore FILE` brings it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, help="The file to write.")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, output, database, **options):
        connection = connections[database]
        output = Path(output).resolve()
        if not output.parent.is_dir():
            raise CommandError(f"The folder {output.parent} does not exist.")
        if output.is_dir():
            raise CommandError(f"{output} is a folder: give the name of the file to write.")
        # Written beside the target and renamed, so a failed backup never leaves half a file
        # under the name of a good one.
        partial = output.with_name(f".{output.name}.partial")
        try:
            if connection.vendor == "sqlite":
                self.backup_sqlite(connection, partial)
            elif connection.vendor == "postgresql":
                arguments, environment = postgres_arguments(connection.settings_dict)
                command = [require("pg_dump"), "--format=custom", "--file", str(partial)]
                run(command + arguments, environment)
            else:
                raise CommandError(f"Backups of {connection.vendor} databases are not supported.")
            partial.replace(output)
        except OSError as error:
            raise CommandError(f"{output} cannot be written: {error.strerror}.") from error
        finally:
            partial.unlink(missing_ok=True)
        self.stdout.write(f"Wrote a backup of the {database} database to {output}.")

    def backup_sqlite(self, connection, path):
        if connection.in_atomic_block:
            # The copy would wait for this very transaction to end, for ever.
            raise CommandError("A backup cannot run inside a database transaction.")
        connection.ensure_connection()
        target = sqlite3.connect(path)
        try:
            # One step (pages=-1) reads the whole database under one read lock: a snapshot
            # of one moment, even while staff are saving.
            connection.connection.backup(target)
            # A single self-contained file, whatever journal mode the site runs in.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
        check_sqlite_file(path)
