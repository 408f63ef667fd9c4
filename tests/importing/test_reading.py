"""Files as offices make them: encodings, delimiters, XLSX, blank rows, Danish headers."""

import io
import re
import zipfile
from decimal import Decimal

import pytest

from importing.readers import CellError, parse_coordinate, parse_number
from importing.spreadsheets import UnreadableFile, read_table
from places.models import Place

from .conftest import csv_bytes, run, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [["name", "kind", "country"], ["København", "municipality", "DK"], ["Wuxi", "city", "CN"]]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_encodings_and_delimiters(encoding, delimiter):
    data = csv_bytes(ROWS, delimiter, encoding)
    table = read_table(data, "places.csv")
    assert (table.format, table.delimiter, table.encoding) == ("csv", delimiter, encoding)
    assert table.header == ROWS[0]
    assert table.rows == [(2, ROWS[1]), (3, ROWS[2])]
    report = run("places", data)
    assert report.problems == []
    assert set(Place.objects.values_list("name", flat=True)) == {"København", "Wuxi"}


@pytest.mark.parametrize(
    "text",
    [
        "name;aliases;kind\r\nWuxi;Wutsih, Wu-hsi, Wuhsi;city\r\n",
        "name,aliases,kind\r\nWuxi,Wutsih; Wu-hsi; Wuhsi,city\r\nNanjing,Nanking; Jinling,city\r\n",
    ],
)
def test_the_header_line_decides_the_delimiter(text):
    table = read_table(text.encode(), "places.csv")
    assert table.header == ["name", "aliases", "kind"]
    assert len(table.rows[0][1]) == 3


def test_semicolon_file_with_commas_in_cells():
    text = 'navn;type;land;beskrivelse\r\nWuxi;by;Kina;"Big, old; city"\r\n'
    report = run("places", text.encode("cp1252"))
    assert report.problems == []
    assert Place.objects.get().description == "Big, old; city"


def test_xlsx_with_blank_rows_and_numbers():
    data = xlsx_bytes(
        [
            ["Name", "Kind", "Country", "Latitude", "Longitude"],
            [None, None, None, None, None],
            ["Wuxi", "City", "China", 31.49, 120.31],
            [],
            ["Nanjing", "city", "CN", "32,06", "118,79"],
        ]
    )
    report = run("places", data, file_name="places.xlsx")
    assert report.problems == []
    assert [row.number for row in report.rows] == [3, 5]
    assert Place.objects.get(name="Nanjing").latitude == Decimal("32.06")
    assert Place.objects.get(name="Wuxi").longitude == Decimal("120.31")


def test_blank_csv_rows_are_ignored_and_rows_keep_their_numbers():
    data = csv_bytes([ROWS[0], ["", "", ""], ROWS[1], [" ", "", " "], ["Wuxi", "nowhere", "CN"]])
    report = run("places", data)
    assert [str(problem) for problem in report.problems] == [
        "row 5: kind: 'nowhere' is not one of: country, state, province, province-level city, "
        "region, county, city, municipality, district, other"
    ]


def test_danish_headers_choice_labels_and_country_names(source):
    rows = [
        [
            "Navn",
            "Art",
            "Land",
            "Del af",
            "Indbyggere",
            "Areal",
            "År",
            "Areal år",
            "Breddegrad",
            "Længdegrad",
            "Kilde",
            "Andre navne",
        ],
        [
            "Jiangsu",
            "Provins",
            "Kina",
            "",
            "77,3 mio.",
            "102.600",
            "2009",
            "2009",
            "32,9",
            "119,8",
            "Background note",
            "江苏; Kiangsu",
        ],
        ["Wuxi", "by", "china", "Kiangsu", "", "", "", "", "", "", "", ""],
        [
            "Aarhus Kommune",
            "Kommune",
            "Danmark",
            "",
            "1.234.567",
            "",
            "2020",
            "",
            "",
            "",
            "Background note",
            "",
        ],
    ]
    report = run("places", csv_bytes(rows, ";"))
    assert report.problems == []
    jiangsu = Place.objects.get(name="Jiangsu")
    assert (jiangsu.kind, jiangsu.country.code) == ("province", "CN")
    assert Place.objects.get(name="Wuxi").parent == jiangsu
    figures = {figure.kind: (figure.value, figure.year) for figure in jiangsu.figures.all()}
    assert figures == {
        "population": (Decimal("77300000"), 2009),
        "area_km2": (Decimal("102600"), 2009),
    }
    assert Place.objects.get(name="Aarhus Kommune").figures.get().value == 1234567
    assert sorted(jiangsu.other_names.values_list("name", flat=True)) == ["Kiangsu", "江苏"]


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.234.567", 1234567),
        ("1,234,567", 1234567),
        ("1234567", 1234567),
        ("77,3 mio.", 77300000),
        ("77.3 million", 77300000),
        ("102,600", 102600),
        ("102.600", 102600),
        ("1.234,5", Decimal("1234.5")),
        ("1,234.5", Decimal("1234.5")),
        ("7,5", Decimal("7.5")),
        ("1 234 567", 1234567),
        ("2 mia.", 2_000_000_000),
        ("1,250 mio.", 1_250_000),
    ],
)
def test_numbers_as_spreadsheets_write_them(text, value):
    assert parse_number(text) == value


@pytest.mark.parametrize("text", ["many", "1.2.3", "1,23,4", "--5", "12a"])
def test_not_numbers(text):
    with pytest.raises(CellError):
        parse_number(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("55,6761", "55.676100"),
        ("55.6761", "55.676100"),
        ("-8,2", "-8.200000"),
        ("12.3456789", "12.345679"),
    ],
)
def test_coordinates(text, value):
    assert parse_coordinate(text) == Decimal(value)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00", "not a spreadsheet"),
        (b"PK\x03\x04 broken", "not an Excel workbook"),
        ("navn\r\nK\u00f8ge\x81\x8d".encode("cp1252", errors="ignore") + b"\x81\x8d", "encoding"),
    ],
)
def test_unreadable_files(data, message):
    with pytest.raises(UnreadableFile, match=message):
        read_table(data, "file.csv")


def test_xlsx_bomb_is_refused_unread():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<row/>" * 2_000_000)
    with pytest.raises(UnreadableFile, match="unpacks to far more"):
        read_table(buffer.getvalue(), "bomb.xlsx")


def test_too_many_rows(settings):
    settings.ATLAS_IMPORT_MAX_ROWS = 3
    with pytest.raises(UnreadableFile, match="at most 3"):
        read_table(csv_bytes([ROWS[0]] + [ROWS[1]] * 5), "big.csv")


def test_line_breaks_separate_values_in_a_cell():
    data = csv_bytes(
        [["name", "kind", "country", "aliases"], ["Wuxi", "city", "CN", "无锡\nWutsih"]]
    )
    report = run("places", data)
    assert report.problems == []
    assert sorted(Place.objects.get().other_names.values_list("name", flat=True)) == [
        "Wutsih",
        "无锡",
    ]


@pytest.mark.parametrize(
    ("text", "axis", "value"),
    [
        ("55°40′34″N", "latitude", "55.676111"),
        ("55° 40' 34\" N", "latitude", "55.676111"),
        ("55°40'34.0\"N", "latitude", "55.676111"),  # as Google Maps writes it
        ("N 55°40′34″", "latitude", "55.676111"),
        ("33°52′S", "latitude", "-33.866667"),
        ("12°34′06″Ø", "longitude", "12.568333"),  # Danish: øst
        ("12°34′06″E", "longitude", "12.568333"),
        ("8°12′V", "longitude", "-8.200000"),  # Danish: vest
        ("55,6761° N", "latitude", "55.676100"),
    ],
)
def test_coordinates_in_degrees_minutes_and_seconds(text, axis, value):
    assert parse_coordinate(text, axis) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "axis", "message"),
    [
        ("55°40′34″E", "latitude", "is a longitude (E); a latitude is north (N) or south (S)"),
        ("12°34′N", "longitude", "is a latitude (N); a longitude is east (E or Ø) or west"),
        ("55°40′34″", "latitude", "needs its hemisphere: north (N) or south (S)"),
        ("55°70′N", "latitude", "has 60 or more minutes or seconds"),
        ("N 55°40′ N", "latitude", "is not a coordinate in decimal degrees"),
    ],
)
def test_coordinates_in_degrees_that_say_something_else(text, axis, message):
    with pytest.raises(CellError, match=re.escape(message)):
        parse_coordinate(text, axis)
