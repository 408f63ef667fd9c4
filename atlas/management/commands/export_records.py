"""Export one record type as CSV, XLSX or JSON, in the import's own columns."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from atlas.registry import IMPORT_SPECS
from importing.engine import export_table


class Command(BaseCommand):
    help = "Export one record type in the import's own columns."

    def add_arguments(self, parser):
        parser.add_argument("record_type", choices=list(IMPORT_SPECS))
        parser.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
        parser.add_argument("-o", "--output", help="file to write; standard output if left out")

    def handle(self, *args, record_type, format, output, **options):
        spec = IMPORT_SPECS[record_type]
        data = export_table(spec, spec.model._default_manager.all(), format)
        if output:
            try:
                Path(output).write_bytes(data)
            except OSError as error:
                # A folder, a missing folder, no permission: said, not a traceback.
                raise CommandError(f"{output} cannot be written: {error.strerror}.") from error
            self.stderr.write(f"Wrote {len(data):,} bytes to {output}.")
        elif format == "xlsx":
            if sys.stdout.isatty():
                raise CommandError("An XLSX file cannot go to a terminal; give -o FILE.")
            sys.stdout.buffer.write(data)
        else:
            self.stdout.write(data.decode("utf-8"), ending="")
