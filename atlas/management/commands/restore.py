from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections

from core import planner, versioning

from .backup import check_sqlite_file, postgres_arguments, read_only, require, run


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup written by `manage.py backup`. Stop the "
        "site first. Refuses a database that holds tables unless --yes is given."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by `manage.py backup`.")
        parser.add_argument(
            "--yes", action="store_true", help="Replace a database that already holds data."
        )
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args, file, yes, database, **options):
        connection = connections[database]
        path = Path(file)
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        if not path.is_file():
            raise CommandError(f"{path} is not a file written by `manage.py backup`.")
        if not yes and connection.introspection.table_names():
            raise CommandError(
                "The database already holds tables; restoring replaces everything in it. "
                "Add --yes to go ahead."
            )
        if connection.in_atomic_block:
            raise CommandError("A restore cannot run inside a database transaction.")
        before = self.version(database)
        if connection.vendor == "sqlite":
            check_sqlite_file(path)
            connection.ensure_connection()
            source = read_only(path)
            try:
                source.backup(connection.connection)
            finally:
                source.close()
        elif connection.vendor == "postgresql":
            arguments, environment = postgres_arguments(connection.settings_dict)
            command = [require("pg_restore"), "--clean", "--if-exists", "--no-owner"]
            run(command + arguments + ["--single-transaction", str(path)], environment)
        else:
            raise CommandError(f"Restoring {connection.vendor} databases is not supported.")
        # The backup holds an older registry version, under which pages of newer data may
        # be cached: move past both.
        try:
            versioning.bump(database, at_least=before)
        except DatabaseError:
            pass  # a backup from before the version existed: migrate creates it afresh
        # pg_restore brings the rows back without the planner's statistics.
        planner.refresh(database)
        self.stdout.write(f"Restored the {database} database from {path}.")

    def version(self, database):
        try:
            return versioning.current(database)[0]
        except DatabaseError:
            return 0
