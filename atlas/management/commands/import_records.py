"""Import places, organisations or partnerships from a CSV or XLSX file.

Exit codes: 0 imported (or checked, with --dry-run); 1 the data had errors and nothing
was written; 2 the file could not be read.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from atlas.registry import IMPORT_SPECS
from importing.engine import Importer
from importing.spreadsheets import UnreadableFile


class Command(BaseCommand):
    help = "Import places, organisations or partnerships from a CSV or XLSX spreadsheet."

    def add_arguments(self, parser):
        parser.add_argument("record_type", choices=sorted(IMPORT_SPECS))
        parser.add_argument("file", help="a .csv or .xlsx file, or - for standard input")
        parser.add_argument(
            "--dry-run", action="store_true", help="check every row, but write nothing"
        )

    def handle(self, *args, record_type, file, dry_run, **options):
        try:
            if file == "-":
                data, name = sys.stdin.buffer.read(), "stdin"
            else:
                data, name = Path(file).read_bytes(), Path(file).name
        except OSError as error:
            raise CommandError(
                f"{file}: cannot be read ({error.strerror}).", returncode=2
            ) from None
        self.last_shown = {}
        importer = Importer(IMPORT_SPECS[record_type], progress=self.progress)
        try:
            report = importer.run(data, name, dry_run=dry_run)
        except UnreadableFile as error:
            raise CommandError(f"{name}: {error}", returncode=2) from None
        if report.problems:
            for problem in report.problems:
                self.stderr.write(str(problem))
            rows = len({problem.row for problem in report.problems})
            raise CommandError(
                f"{len(report.problems)} problem(s) in {rows} row(s) of {name}; "
                "nothing was imported.",
                returncode=1,
            )
        counts = report.counts
        summary = (
            f"{counts['new']} new, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged {record_type}"
        )
        if dry_run:
            self.stdout.write(f"Checked {len(report.rows)} rows: {summary}. Nothing was written.")
        else:
            self.stdout.write(
                self.style.SUCCESS(f"Imported {name} as import #{report.batch.pk}: {summary}.")
            )

    def progress(self, stage, done, total):
        # Only worth showing on a file that takes a moment.
        if total < 2000 or self.last_shown.get(stage) == done:
            return
        self.last_shown[stage] = done
        self.stdout.write(f"{stage} {done:,} of {total:,} rows")
