"""Import one record type from a CSV or XLSX file.

Exit codes: 0 imported (or checked, with --dry-run); 1 the data had errors and nothing
was written; 2 the file (or --user, --report, --plan) could not be used; 3 another import
was running, nothing was written: try again; 4 a row would now do other than the dry
run's plan said (--plan), nothing was written.
"""

import csv
import hashlib
import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from atlas.registry import IMPORT_SPECS
from core.translation import DEFAULT_LANGUAGE, LANGUAGES
from importing.engine import ImportBusy, Importer, busy_message, import_user, is_busy
from importing.spreadsheets import UnreadableFile

BUSY = 3
MOVED = 4


def unusable(path, done, error):
    """The error of a file that cannot be ``done`` ("read", "written"): exit code 2."""
    return CommandError(f"{path}: cannot be {done} ({error.strerror}).", returncode=2)


class Command(BaseCommand):
    help = "Import records of one type from a CSV or XLSX spreadsheet."

    def add_arguments(self, parser):
        parser.add_argument("record_type", choices=list(IMPORT_SPECS))
        parser.add_argument("file", help="a .csv or .xlsx file, or - for standard input")
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="check every row and print every change, but write nothing",
        )
        parser.add_argument(
            "--user",
            help="who imports (recorded in the batch and the history); "
            "default: the ATLAS_IMPORT_USER account",
        )
        parser.add_argument(
            "--source",
            help="title, short title or web address of the source that figures without "
            "a source cite (created if new); default: a source for this import",
        )
        parser.add_argument("--report", help="write every row's changes to this CSV file")
        parser.add_argument(
            "--plan",
            help="with --dry-run, write what each row would do to this file; without, "
            "import only if every row still does what that file says, else write nothing",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="publish the new records (each needs a source); default: they arrive as "
            "drafts. Records already there keep their state unless a 'publication' "
            "column says otherwise",
        )
        parser.add_argument(
            "--language",
            choices=LANGUAGES,
            default=DEFAULT_LANGUAGE,
            help="the language of plain columns such as 'name' and 'description' "
            "(name_da, name_en... say their own); default: %(default)s",
        )

    def handle(self, *args, **options):
        try:
            return self.run(**options)
        except OperationalError as error:
            # A write lock held by another import, met before the import's own wait.
            if is_busy(error):
                raise CommandError(busy_message(), returncode=BUSY) from None
            raise

    def run(
        self,
        *,
        record_type,
        file,
        dry_run,
        user,
        source,
        report,
        plan,
        language,
        publish,
        **options,
    ):
        try:
            if file == "-":
                data, name = sys.stdin.buffer.read(), "stdin"
            else:
                data, name = Path(file).read_bytes(), Path(file).name
        except OSError as error:
            raise unusable(file, "read", error) from None
        if user:
            try:
                importer_user = get_user_model()._default_manager.get_by_natural_key(user)
            except get_user_model().DoesNotExist:
                raise CommandError(f"There is no user '{user}'.", returncode=2) from None
        else:
            importer_user = import_user()
        self.last_shown = {}
        importer = Importer(
            IMPORT_SPECS[record_type],
            user=importer_user,
            progress=self.progress,
            source=source,
            language=language,
            publish=publish,
        )
        # What the plan holds the import to besides its rows: the same file, read the
        # same way.
        planned_for = {
            "record_type": record_type,
            "file_sha256": hashlib.sha256(data).hexdigest(),
            "language": language,
            "publish": publish,
            "source": source,
        }
        if plan and not dry_run:
            importer.expected_plan = self.read_plan(plan, planned_for)
        try:
            result = importer.run(data, name, dry_run=dry_run)
        except UnreadableFile as error:
            raise CommandError(f"{name}: {error}", returncode=2) from None
        except ImportBusy as error:
            raise CommandError(str(error), returncode=BUSY) from None
        for warning in result.warnings:
            self.stderr.write(f"warning: {warning}")
        if report:
            self.write_report(result, report)
        if result.problems:
            for problem in result.problems:
                self.stderr.write(str(problem))
            rows = len({problem.row for problem in result.problems})
            raise CommandError(
                f"{len(result.problems)} problem(s) in {rows} row(s) of {name}; "
                "nothing was imported.",
                returncode=1,
            )
        if result.moved:
            rows = result.moved_rows()
            raise CommandError(
                f"The registry changed since the plan was made: row(s) {rows} would now do "
                "something else (a record saved since, or a row that would now match one). "
                "Nothing was imported; run --dry-run again.",
                returncode=MOVED,
            )
        counts = result.counts
        summary = (
            f"{counts['new']} new, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged {record_type}"
        )
        if dry_run:
            for row in result.rows:
                if row.action != "unchanged" or row.notes or row.warnings:
                    for line in result.lines(row):
                        self.stdout.write(line)
            self.stdout.write(f"Checked {len(result.rows)} rows: {summary}. Nothing was written.")
            if plan:
                self.write_plan(plan, {**planned_for, "rows": result.plan()})
                self.stdout.write(f"The plan is in {plan}: import with --plan {plan}.")
            return
        warned = sum(1 for row in result.rows if row.warnings)
        if warned:
            self.stdout.write(f"{warned} row(s) have warnings; --dry-run or --report shows them.")
        self.stdout.write(
            self.style.SUCCESS(f"Imported {name} as import #{result.batch.pk}: {summary}.")
        )

    def write_report(self, result, path):
        """Every new or changed column of every row, and notes and warnings, as CSV."""
        try:
            with open(path, "w", newline="", encoding="utf-8-sig") as out:
                writer = csv.writer(out)
                writer.writerow(["row", "action", "record", "column", "old", "new", "note"])
                for problem in result.problems:
                    writer.writerow(
                        [problem.row, "error", "", problem.column, "", "", problem.message]
                    )
                for warning in result.warnings:
                    writer.writerow(["", "warning", "", "", "", "", warning])
                for row in result.rows:
                    record = str(row.instance) if row.instance is not None else ""
                    for column, old, new in result.diffs(row):
                        writer.writerow([row.number, row.action, record, column, old, new, ""])
                    if row.action == "unchanged":
                        writer.writerow([row.number, row.action, record, "", "", "", ""])
                    for note in row.notes:
                        writer.writerow([row.number, row.action, record, "", "", "", note])
                    for warning in row.warnings:
                        writer.writerow([row.number, "warning", record, "", "", "", warning])
        except OSError as error:
            raise unusable(path, "written", error) from None

    def write_plan(self, path, plan):
        try:
            Path(path).write_text(json.dumps(plan, indent=1), encoding="utf-8")
        except OSError as error:
            raise unusable(path, "written", error) from None

    def read_plan(self, path, planned_for):
        """The rows' plan that ``path`` holds, if it was made for the same file, type and
        options (``planned_for``) by --dry-run --plan."""
        try:
            plan = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as error:
            raise unusable(path, "read", error) from None
        except ValueError:
            plan = None
        if not isinstance(plan, dict) or not isinstance(plan.get("rows"), dict):
            raise CommandError(
                f"{path}: not a plan written by import_records --dry-run --plan.", returncode=2
            )
        differs = [key for key, value in planned_for.items() if plan.get(key) != value]
        if differs:
            names = {
                "record_type": "record type",
                "file_sha256": "file",
                "language": "--language",
                "publish": "--publish",
                "source": "--source",
            }
            raise CommandError(
                f"{path} was made for a different {', '.join(names[key] for key in differs)}: "
                "run --dry-run --plan again with this one.",
                returncode=2,
            )
        return plan["rows"]

    def progress(self, stage, done, total):
        # Only worth showing on a file that takes a moment.
        if total < 2000 or self.last_shown.get(stage) == done:
            return
        self.last_shown[stage] = done
        self.stdout.write(f"{stage} {done:,} of {total:,} rows")
