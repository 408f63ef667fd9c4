"""Hostile or broken workbooks get a clear sentence at once, never a 500 or a long wait."""

import io
import zipfile

import openpyxl
import pytest
from django.utils import translation
from openpyxl.styles import PatternFill

from importing import spreadsheets
from importing.spreadsheets import UnreadableFile, read_table

from .conftest import xlsx_bytes

ROWS = [["name", "kind", "country"], ["Wuxi", "city", "CN"], ["Nanjing", "city", "CN"]]
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
        for n in range(1, 10)
    )
    + "]>\n"
)


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English; an earlier test's request may leave Danish active.
    with translation.override("en"):
        yield


def rewrite(data, name, change):
    """``data`` (an XLSX file) with the archive member ``name`` passed through ``change``."""
    source = zipfile.ZipFile(io.BytesIO(data))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for entry in source.infolist():
            content = source.read(entry.filename)
            if entry.filename == name:
                content = change(content.decode()).encode()
            target.writestr(entry.filename, content)
    return buffer.getvalue()


def zip_of(**members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


def test_defusedxml_guards_openpyxl():
    assert openpyxl.DEFUSEDXML is True


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(xlsx_bytes(ROWS)[:1500], id="truncated"),
        pytest.param(zip_of(readme__txt="not a workbook"), id="no workbook parts"),
        pytest.param(b"PK\x03\x04" + bytes(range(256)) * 8, id="random bytes after PK"),
        pytest.param(
            rewrite(xlsx_bytes(ROWS), "xl/worksheets/sheet1.xml", lambda xml: xml[: len(xml) // 2]),
            id="sheet cut short",
        ),
        pytest.param(
            rewrite(xlsx_bytes(ROWS), "xl/workbook.xml", lambda xml: "<workbook"),
            id="broken workbook part",
        ),
    ],
)
def test_damaged_workbooks(data):
    with pytest.raises(UnreadableFile, match="damaged or in another format"):
        read_table(data, "places.xlsx")


@pytest.mark.parametrize(
    "member", ["xl/worksheets/sheet1.xml", "xl/workbook.xml", "[Content_Types].xml"]
)
def test_entity_bombs_are_refused(member):
    bomb = rewrite(
        xlsx_bytes(ROWS),
        member,
        lambda xml: BILLION_LAUGHS + xml.split("?>", 1)[-1].replace("Wuxi", "&lol9;"),
    )
    with pytest.raises(UnreadableFile, match="XML entity declarations"):
        read_table(bomb, "bomb.xlsx")


def test_a_sheet_with_too_many_columns_is_refused_at_its_first_wide_row():
    wide = [[f"column {n}" for n in range(201)]] + [["x"] * 201] * 5
    with pytest.raises(UnreadableFile, match="Row 1 has values in 201 columns; at most 200"):
        read_table(xlsx_bytes(wide), "wide.xlsx")


def test_a_sheet_with_too_many_cells_is_refused(monkeypatch):
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_CELLS", 50)
    rows = [["a", "b", "c", "d", "e"]] + [[1, 2, 3, 4, 5]] * 20
    with pytest.raises(UnreadableFile, match="more than 50 cells"):
        read_table(xlsx_bytes(rows), "many.xlsx")


def test_a_sheet_claiming_the_whole_grid_is_read_by_its_cells(settings):
    # Programs write <dimension ref="A1:XFD1048576"/>; openpyxl would pad every row to
    # 16,384 cells and add a million empty rows after the data.
    settings.ATLAS_IMPORT_MAX_ROWS = 100
    data = rewrite(
        xlsx_bytes(ROWS),
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace('<dimension ref="A1:C3"', '<dimension ref="A1:XFD1048576"'),
    )
    assert b"XFD1048576" in zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    table = read_table(data, "claims.xlsx")
    assert table.header == ROWS[0]
    assert table.rows == [(2, ROWS[1]), (3, ROWS[2])]


def test_formatted_empty_cells_beyond_the_data_do_not_count_as_columns():
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for line in ROWS:
        sheet.append(line)
    sheet.cell(row=2, column=500).fill = PatternFill("solid", fgColor="FFFF00")
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "formatted.xlsx")
    assert table.rows == [(2, ROWS[1]), (3, ROWS[2])]


def test_escaped_characters_in_workbook_text():
    data = xlsx_bytes([["name"], ["a_x000D_b_x0000_c"], ["_x005F_x0041_"]])
    assert [row[1] for row in read_table(data, "x.xlsx").rows] == [["a\rbc"], ["_x0041_"]]


def test_a_nul_late_in_a_csv_file_is_refused():
    data = b"name,kind,country\r\n" + b"Wuxi,city,CN\r\n" * 400 + b"Bad\x00,city,CN\r\n"
    with pytest.raises(UnreadableFile, match="not a spreadsheet"):
        read_table(data, "late-nul.csv")


def test_a_workbook_with_too_much_xml_is_refused_unread(monkeypatch):
    monkeypatch.setattr(spreadsheets, "XLSX_MAX_XML", 2000)
    with pytest.raises(UnreadableFile, match="unpacks to far more"):
        read_table(xlsx_bytes(ROWS), "places.xlsx")
