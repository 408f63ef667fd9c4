"""A round trip through the spreadsheet commands, as staff make it: the partnerships
exported, some cells changed, the file imported again."""

import csv

from django.core.management import call_command


def reimport_partnerships(tmp_path, change):
    """Export every partnership to a CSV file, let ``change(row)`` edit each row (a dict of
    column: cell) in place, and import the file again."""
    file = tmp_path / "partnerships.csv"
    call_command("export_records", "partnerships", output=str(file), verbosity=0)
    rows = list(csv.DictReader(file.open(encoding="utf-8-sig")))
    for row in rows:
        change(row)
    with file.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    call_command("import_records", "partnerships", str(file), verbosity=0)
