"""A sheet kept for people has a title or a note above its column names: the column names
are found below it, and the rows above are skipped with a warning."""

import io

import openpyxl
import pytest
from django.core.management import call_command
from django.urls import reverse

from places.models import Place
from tests.factories import PlaceFactory

from .conftest import csv_bytes, messages, run, xlsx_bytes

pytestmark = pytest.mark.django_db

TITLED = [
    ["Oversigt over steder, 2024"],
    [],
    ["Udarbejdet af Internationalt Kontor", "", ""],
    ["Navn", "Type", "Land"],
    ["Wuxi", "by", "Kina"],
    ["Nanjing", "by", "Kina"],
]


def test_the_column_names_are_found_below_a_title():
    report = run("places", xlsx_bytes(TITLED), file_name="steder.xlsx")
    assert messages(report) == []
    assert report.warnings == ["the column names are in row 4; the rows above them are skipped"]
    # Row numbers are those the spreadsheet shows.
    assert [row.number for row in report.rows] == [5, 6]
    assert set(Place.objects.values_list("name_en", flat=True)) == {"Wuxi", "Nanjing"}


def test_problems_of_those_names_are_told_at_their_row():
    lines = [["Steder i Kina"], ["Navn", "Typpe", "Land"], ["Wuxi", "by", "Kina"]]
    report = run("places", csv_bytes(lines, delimiter=";"))
    assert messages(report) == [
        "row 2: Typpe: unknown column 'Typpe'; did you mean 'kind'?",
        "row 2: kind: the required column 'kind' is missing",
    ]


def test_a_first_row_that_names_a_column_is_the_header():
    # "navn" is a column: the first row is the header, and what it lacks is an error there,
    # however a row further down looks.
    lines = [["Navn", "Note"], ["Navn", "Type", "Land"], ["Wuxi", "by", "Kina"]]
    report = run("places", csv_bytes(lines))
    assert "row 1: kind: the required column 'kind' is missing" in messages(report)
    assert report.warnings == ["the column 'Note' is not one the import knows; it is ignored"]
    assert not Place.objects.exists()


def test_without_column_names_near_the_top_the_first_row_is_blamed():
    lines = [["Oversigt"], *[[f"note {n}"] for n in range(12)], ["Navn", "Type", "Land"]]
    report = run("places", csv_bytes(lines))
    assert messages(report)[0].startswith("row 1: name: the required column")
    assert not Place.objects.exists()


def test_the_admin_previews_and_confirms_such_a_sheet(editor_client):
    PlaceFactory(name="Jiangsu", kind="province", country="CN")
    file = io.BytesIO(xlsx_bytes(TITLED))
    file.name = "steder.xlsx"
    response = editor_client.post(reverse("admin:places_place_import"), {"file": file})
    page = response.content.decode()
    assert "the column names are in row 4; the rows above them are skipped" in page
    assert "2 new, 0 changed, 0 unchanged" in page
    token = response.context["token"]
    response = editor_client.post(reverse("admin:places_place_import_confirm"), {"token": token})
    assert response.status_code == 302
    assert Place.objects.filter(name_en__in=["Wuxi", "Nanjing"]).count() == 2


def test_the_command_reads_such_a_sheet(tmp_path):
    path = tmp_path / "steder.xlsx"
    path.write_bytes(xlsx_bytes(TITLED))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", "places", str(path), stdout=out, stderr=err)
    assert "the column names are in row 4; the rows above them are skipped" in (
        out.getvalue() + err.getvalue()
    )
    assert Place.objects.count() == 2


def test_the_failed_rows_of_such_a_sheet_come_back_under_its_column_names(editor_client):
    lines = [["Steder i Kina"], ["Navn", "Type", "Land"], ["Wuxi", "landsby", "Kina"]]
    file = io.BytesIO(csv_bytes(lines, delimiter=";"))
    file.name = "steder.csv"
    response = editor_client.post(reverse("admin:places_place_import"), {"file": file})
    failed = editor_client.get(
        reverse("admin:places_place_import_failed", args=[response.context["token"]])
    )
    lines = failed.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Navn;Type;Land;errors"
    assert lines[1].startswith("Wuxi;landsby;Kina;row 3: Type: 'landsby' is not one of")
    assert len(lines) == 2


def workbook(*sheets, hidden=()):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, lines in sheets:
        sheet = book.create_sheet(title)
        for cells in lines:
            sheet.append(list(cells))
        if title in hidden:
            sheet.sheet_state = "hidden"
    book.active = next(i for i, (title, _lines) in enumerate(sheets) if title not in hidden)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


INSTRUCTIONS = ("Vejledning", [["Udfyld arket Data"], ["Én række pr. sted"]])


def test_a_workbook_is_read_from_its_first_worksheet_of_data():
    data = workbook(INSTRUCTIONS, ("Data", TITLED[3:]), ("Noter", [["navn", "type"]]))
    report = run("places", data, file_name="steder.xlsx")
    assert messages(report) == []
    assert report.warnings == [
        "the worksheet 'Data' is read: the worksheets before it name no column this import knows"
    ]
    assert [row.number for row in report.rows] == [2, 3]
    assert Place.objects.count() == 2


def test_a_workbook_without_such_a_worksheet_is_read_from_its_first():
    data = workbook(INSTRUCTIONS, ("Ark2", [["Wuxi", "by", "Kina"]]))
    report = run("places", data, file_name="steder.xlsx")
    assert report.warnings == [
        "the column 'Udfyld arket Data' is not one the import knows; it is ignored"
    ]
    assert messages(report)[0].startswith("row 1: name: the required column")
    assert not Place.objects.exists()


# The lists a template's drop-downs offer, kept on a hidden sheet: they name columns too.
LISTS = ("Lister", [["type", "land"], ["kommune", "Danmark"], ["by", "Kina"]])


def test_a_hidden_worksheet_is_passed_over_for_the_data_the_editor_sees():
    data = workbook(LISTS, ("Steder", TITLED[3:]), hidden={"Lister"})
    report = run("places", data, file_name="steder.xlsx")
    assert messages(report) == []
    # The first sheet the editor sees is the one read: nothing to warn of.
    assert report.warnings == []
    assert Place.objects.count() == 2


def test_a_hidden_worksheet_is_read_when_no_other_names_a_column():
    data = workbook(INSTRUCTIONS, ("Data", TITLED[3:]), hidden={"Data"})
    report = run("places", data, file_name="steder.xlsx")
    assert messages(report) == []
    assert report.warnings == [
        "the worksheet 'Data' is read: the worksheets before it name no column this import knows"
    ]


def test_a_title_with_a_comma_above_a_semicolon_header_keeps_the_semicolon():
    # The title's comma made the file a comma CSV whose header was one cell.
    data = "Oversigt over samarbejder, 2024\r\n\r\nnavn;type;land\r\nWuxi;by;Kina\r\n"
    report = run("places", data.encode("cp1252"), file_name="steder.csv")
    assert messages(report) == []
    assert report.warnings == ["the column names are in row 3; the rows above them are skipped"]
    assert Place.objects.get().country.code == "CN"
