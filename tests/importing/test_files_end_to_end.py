"""The file rules seen through the commands: typed cells, escaping, countries, bad files."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from places.models import Place
from tests.factories import PlaceFactory

from .conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def import_records(tmp_path, data, name, *args):
    """What the command printed; raises its ``CommandError`` with the output attached."""
    path = tmp_path / name
    path.write_bytes(data)
    out = io.StringIO()
    try:
        call_command("import_records", "places", str(path), *args, stdout=out, stderr=out)
    except CommandError as error:
        error.output = out.getvalue()
        raise
    return out.getvalue()


def test_an_excel_number_with_three_decimals_is_never_read_as_thousands(tmp_path):
    # Before, the cell became the text '18.125' and was stored as 18125 without a word.
    header = ["name", "kind", "country", "population", "area_km2"]
    data = xlsx_bytes([header, ["Ringsted", "municipality", "DK", 18125, 18.125]])
    with pytest.raises(CommandError) as error:
        import_records(tmp_path, data, "areas.xlsx")
    assert "row 2: area_km2: Ensure that there are no more than 2 decimal places." in (
        error.value.output
    )
    assert not Place.objects.exists()
    data = xlsx_bytes([header, ["Ringsted", "municipality", "DK", 18125.0, 18.12]])
    import_records(tmp_path, data, "areas.xlsx")
    figures = dict(Place.objects.get().figures.values_list("kind", "value"))
    assert figures == {"population": 18125, "area_km2": Decimal("18.12")}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_values_that_start_like_escapes_export_and_import_back_unchanged(tmp_path, file_format):
    names = ["'quoted", "'=1+2", "''twice", "\tindented", "\rreturned", "=1+2", "-2+3", "@home"]
    for name in names:
        PlaceFactory(name=name, kind="city", country="CN", description=name)
    path = tmp_path / f"places.{file_format}"
    call_command("export_records", "places", "--format", file_format, "-o", str(path))
    out = import_records(tmp_path, path.read_bytes(), path.name)
    assert f"0 new, 0 updated, {len(names)} unchanged" in out
    assert sorted(Place.objects.values_list("name", flat=True)) == sorted(names)


def test_countries_as_people_write_them(tmp_path):
    rows = [["name", "kind", "country"]] + [
        [f"Town {n}", "city", country]
        for n, country in enumerate(["USA", "England", "Holland", "Tyrkiet", "Czech Republic"])
    ]
    import_records(tmp_path, csv_bytes(rows, ";", "cp1252"), "towns.csv")
    assert sorted(Place.objects.values_list("country", flat=True)) == ["CZ", "GB", "NL", "TR", "US"]


def test_a_damaged_workbook_stops_the_command_with_a_sentence(tmp_path):
    data = xlsx_bytes([["name", "kind", "country"], ["Wuxi", "city", "CN"]])[:1500]
    with pytest.raises(CommandError, match="damaged or in another format") as error:
        import_records(tmp_path, data, "broken.xlsx")
    assert error.value.returncode == 2
