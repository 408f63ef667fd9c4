"""The failed rows go back in the uploaded file's own form, ready to correct and upload."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest

from importing.readers import clean_cell
from importing.spreadsheets import file_type, read_table, write_failed_rows

from .conftest import csv_bytes, xlsx_bytes

DANISH = [
    ["navn", "art", "land", "indbyggere"],
    ["Køge", "by", "Danmark", "37.000"],
    ["Græsted", "nowhere", "Danmark", ""],
    ["'=1+1", "by", "Danmark", "lots"],
]
PROBLEMS = {
    1: ["row 1: unknown column 'populaton'"],
    3: ["row 3: art: 'nowhere' is not one of: city, town"],
    4: ["row 4: indbyggere: 'lots' is not a number", "row 4: second problem"],
}


def parse_csv(data, encoding, delimiter):
    return list(csv.reader(io.StringIO(data.decode(encoding), newline=""), delimiter=delimiter))


def test_a_cp1252_semicolon_file_comes_back_as_cp1252_with_semicolons():
    table = read_table(csv_bytes(DANISH, ";", "cp1252"), "byer.csv")
    data = write_failed_rows(table, PROBLEMS, "fejl")
    data.decode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert parse_csv(data, "cp1252", ";") == [
        ["navn", "art", "land", "indbyggere", "fejl"],
        ["", "", "", "", "row 1: unknown column 'populaton'"],
        ["Græsted", "nowhere", "Danmark", "", "row 3: art: 'nowhere' is not one of: city, town"],
        [
            "'=1+1",
            "by",
            "Danmark",
            "lots",
            "row 4: indbyggere: 'lots' is not a number\nrow 4: second problem",
        ],
    ]
    assert file_type(table, data) == ("text/csv; charset=windows-1252", "csv")
    # Uploaded again, the file reads as the same cells.
    again = read_table(data, "byer-failed-rows.csv")
    assert (again.delimiter, again.encoding) == (";", "cp1252")
    assert clean_cell(again.rows[-1][1][0]) == "=1+1"


def test_a_tab_separated_text_file_from_excel_comes_back_as_one():
    # Excel's "Tekst (tabulatorsepareret)": tabs between cells, Windows-1252, a .txt.
    table = read_table(csv_bytes(DANISH, "\t", "cp1252"), "byer.txt")
    assert table.header == ["navn", "art", "land", "indbyggere"]
    data = write_failed_rows(table, PROBLEMS, "fejl")
    assert parse_csv(data, "cp1252", "\t")[2][:2] == ["Græsted", "nowhere"]
    assert file_type(table, data) == ("text/tab-separated-values; charset=windows-1252", "txt")
    again = read_table(data, "byer-failed-rows.txt")
    assert (again.delimiter, again.encoding) == ("\t", "cp1252")


def test_text_cp1252_cannot_hold_turns_the_file_into_utf8_with_a_bom():
    table = read_table(csv_bytes(DANISH, ";", "cp1252"), "byer.csv")
    # Messages are never imported, so only a formula start is escaped in them.
    data = write_failed_rows(
        table, {3: ["'Sūzhōu 苏州' names more than one place"], 4: ["=x", "y"]}, "fejl"
    )
    assert data.startswith(b"\xef\xbb\xbf")
    lines = parse_csv(data[3:], "utf-8", ";")
    assert [line[-1] for line in lines[1:]] == [
        "'Sūzhōu 苏州' names more than one place",
        "'=x\ny",
    ]
    assert file_type(table, data) == ("text/csv; charset=utf-8", "csv")
    again = read_table(data, "byer-failed-rows.csv")
    assert (again.delimiter, again.encoding) == (";", "utf-8-sig")


@pytest.mark.parametrize(("encoding", "bom"), [("utf-8", b""), ("utf-8-sig", b"\xef\xbb\xbf")])
def test_utf8_files_keep_their_bom_or_its_absence(encoding, bom):
    table = read_table(csv_bytes(DANISH, ",", encoding), "byer.csv")
    assert table.encoding == encoding
    data = write_failed_rows(table, {2: ["wrong"]}, "errors")
    assert data.startswith(bom + b"navn,art,land,indbyggere,errors\r\n")
    assert data.endswith("Køge,by,Danmark,37.000,wrong\r\n".encode())
    assert file_type(table, data) == ("text/csv; charset=utf-8", "csv")


def test_a_workbook_comes_back_as_a_workbook_with_its_cell_types():
    data = xlsx_bytes(
        [
            ["Name", "Area", "Founded"],
            ["Ringsted", 18.125, datetime.datetime(2011, 5, 3)],
            ["@cmd", 7, "x"],
            ["Fine", 1, "y"],
        ]
    )
    table = read_table(data, "byer.xlsx")
    failed = write_failed_rows(table, {2: ["a problem"], 3: ["另一个"]}, "fejl")
    assert file_type(table, failed) == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
    )
    sheet = openpyxl.load_workbook(io.BytesIO(failed)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows == [
        ["Name", "Area", "Founded", "fejl"],
        ["Ringsted", 18.125, datetime.datetime(2011, 5, 3), "a problem"],
        ["'@cmd", 7, "x", "另一个"],
    ]
    assert not any(cell.data_type == "f" for row in sheet.iter_rows() for cell in row)
    again = read_table(failed, "byer-failed-rows.xlsx")
    assert [clean_cell(cell) for cell in again.rows[0][1][:2]] == ["Ringsted", Decimal("18.125")]
    assert clean_cell(again.rows[1][1][0]) == "@cmd"


def test_rows_wider_or_narrower_than_the_header_keep_the_errors_in_their_own_column():
    data = b"name,kind\r\nWuxi\r\nNanjing,city,extra,\r\n"
    table = read_table(data, "f.csv")
    failed = write_failed_rows(table, {2: ["short"], 3: ["long"], 0: ["file problem"]}, "errors")
    assert parse_csv(failed, "utf-8", ",") == [
        ["name", "kind", "", "errors"],
        ["", "", "", "file problem"],
        ["Wuxi", "", "", "short"],
        ["Nanjing", "city", "extra", "long"],
    ]
