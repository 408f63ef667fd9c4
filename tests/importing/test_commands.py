import io
import json

import openpyxl
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import ImportBatch
from places.models import Place
from tests.factories import PlaceFactory

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["name", "kind", "country"]


def import_records(tmp_path, data, *args, name="places.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", "places", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_success_prints_counts_and_exits_0(tmp_path):
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    out, _err = import_records(
        tmp_path, csv_bytes([HEADER, ["Wuxi", "city", "CN"], ["Nanjing", "city", "CN"]])
    )
    batch = ImportBatch.objects.get()
    assert (
        out == f"Imported places.csv as import #{batch.pk}: 1 new, 0 updated, 1 unchanged places.\n"
    )


def test_dry_run_writes_nothing(tmp_path):
    out, _err = import_records(
        tmp_path, csv_bytes([HEADER, ["Nanjing", "city", "CN"]]), "--dry-run"
    )
    assert out == (
        "row 2: new place Nanjing\n"
        "  name: Nanjing\n"
        "  kind: city\n"
        "  country: China\n"
        "Checked 1 rows: 1 new, 0 updated, 0 unchanged places. Nothing was written.\n"
    )
    assert not Place.objects.exists() and not ImportBatch.objects.exists()


def test_data_errors_exit_1_and_name_every_problem(tmp_path):
    data = csv_bytes([HEADER, ["Nanjing", "city", "CN"], ["Wuxi", "village", "CN"]])
    with pytest.raises(CommandError) as raised:
        import_records(tmp_path, data)
    assert raised.value.returncode == 1
    assert str(raised.value) == "1 problem(s) in 1 row(s) of places.csv; nothing was imported."
    assert not Place.objects.exists()


def test_data_errors_are_printed(tmp_path, capsys):
    path = tmp_path / "p.csv"
    path.write_bytes(csv_bytes([HEADER, ["Wuxi", "village", "CN"]]))
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("import_records", "places", str(path), stderr=err)
    assert err.getvalue().startswith("row 2: kind: 'village' is not one of: country,")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "places.csv: The file is empty."),
        (b"\x00\x01\x02binary", "places.csv: The file is not a spreadsheet (CSV or XLSX)."),
    ],
)
def test_unreadable_file_exits_2(tmp_path, data, message):
    with pytest.raises(CommandError) as raised:
        import_records(tmp_path, data)
    assert raised.value.returncode == 2
    assert str(raised.value) == message


def test_missing_file_exits_2(tmp_path):
    with pytest.raises(CommandError) as raised:
        call_command("import_records", "places", str(tmp_path / "nothing.csv"))
    assert raised.value.returncode == 2
    assert "cannot be read" in str(raised.value)


def test_progress_on_a_large_file(tmp_path):
    rows = [HEADER] + [[f"Place {n}", "city", "CN"] for n in range(2500)]
    out, _err = import_records(tmp_path, csv_bytes(rows))
    assert "read 1,000 of 2,500 rows" in out
    assert "checked 2,500 of 2,500 rows" in out
    assert out.endswith("2500 new, 0 updated, 0 unchanged places.\n")


def test_export_formats(tmp_path):
    PlaceFactory(
        name='=HYPERLINK("http://evil")', kind="city", country="CN", longitude=-8.2, latitude=50
    )
    out = io.StringIO()
    call_command("export_records", "places", stdout=out)
    text = out.getvalue()
    assert text.startswith("\ufeffslug,name_da,name_en,kind")
    assert ',"\'=HYPERLINK(""http://evil"")",city,' in text
    assert ",50,-8.2," in text

    call_command("export_records", "places", "--format", "json", "-o", str(tmp_path / "p.json"))
    records = json.loads((tmp_path / "p.json").read_text())
    assert records[0]["name_en"] == '=HYPERLINK("http://evil")'

    call_command("export_records", "places", "--format", "xlsx", "-o", str(tmp_path / "p.xlsx"))
    sheet = openpyxl.load_workbook(tmp_path / "p.xlsx").active
    header = [cell.value for cell in sheet[1]]
    row = dict(zip(header, list(sheet[2]), strict=True))
    assert row["name_en"].value == '\'=HYPERLINK("http://evil")'
    assert row["name_en"].data_type == "s"
    assert row["longitude"].value == -8.2 and row["longitude"].data_type == "n"
    assert not any(cell.data_type == "f" for line in sheet.iter_rows() for cell in line)


@pytest.mark.parametrize("where", ["a folder", "a missing folder"])
def test_an_export_to_a_file_that_cannot_be_written_says_so(tmp_path, where):
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    output = tmp_path if where == "a folder" else tmp_path / "missing" / "places.csv"
    with pytest.raises(CommandError, match=f"{output} cannot be written: "):
        call_command("export_records", "places", "-o", str(output))
    assert list(tmp_path.iterdir()) == []


def test_exported_neutralised_cells_import_back(tmp_path):
    PlaceFactory(name="=1+2", kind="city", country="CN")
    call_command("export_records", "places", "--format", "xlsx", "-o", str(tmp_path / "p.xlsx"))
    out, _err = import_records(tmp_path, (tmp_path / "p.xlsx").read_bytes(), name="p.xlsx")
    assert "0 new, 0 updated, 1 unchanged" in out
