"""Typed cells: what a workbook stored as a number or a date reaches the readers as one."""

import datetime
from decimal import Decimal

import pytest
from django.utils import translation

from core.dates import PartialDate
from importing.readers import (
    CellError,
    ChoiceReader,
    CountryReader,
    cell_text,
    clean_cell,
    parse_coordinate,
    parse_date,
    parse_integer,
    parse_number,
    split_list,
)
from importing.spreadsheets import Table, read_table

from .conftest import csv_bytes, xlsx_bytes

HEADER = ["name", "area", "year", "founded", "latitude"]


@pytest.fixture(autouse=True)
def english():
    # Messages are asserted in English; an earlier test's request may leave Danish active.
    with translation.override("en"):
        yield


def xlsx_row(*cells):
    table = read_table(xlsx_bytes([HEADER, list(cells)]), "figures.xlsx")
    return [clean_cell(cell) for cell in table.rows[0][1]]


def test_a_number_cell_with_three_decimals_is_not_read_as_thousands():
    # Excel stores 18.125 as a number; read as the text '18.125' it became 18125.
    name, area, *_rest = xlsx_row("Ringsted", 18.125)
    assert area == Decimal("18.125")
    assert parse_number(area) == Decimal("18.125")
    # The same text typed into a CSV still follows the README's thousands rule.
    assert parse_number("18.125") == 18125


def test_workbook_cells_keep_their_types():
    cells = xlsx_row(
        "Wuxi", 2.0, 2009, datetime.datetime(2011, 5, 3), -8.25, None, datetime.date(2024, 1, 2)
    )
    assert cells[:5] == ["Wuxi", 2, 2009, datetime.date(2011, 5, 3), Decimal("-8.25")]
    assert type(cells[1]) is int and type(cells[2]) is int
    assert cells[5:] == ["", datetime.date(2024, 1, 2)]


def test_a_time_of_day_survives_as_a_datetime():
    (_name, _area, _year, founded, _latitude) = xlsx_row(
        "x", 1, 1, datetime.datetime(2011, 5, 3, 14, 30), 1
    )
    assert founded == datetime.datetime(2011, 5, 3, 14, 30)
    assert cell_text(founded) == "2011-05-03 14:30:00"


def test_number_cells_in_text_columns_read_as_their_plain_text():
    name, area, year, founded, latitude = xlsx_row(8000, 18.125, 2009.0, 1e20, 0.1)
    assert [cell_text(cell) for cell in (name, area, year, founded, latitude)] == [
        "8000",
        "18.125",
        "2009",
        "100000000000000000000",
        "0.1",
    ]
    assert split_list(name) == ["8000"]


def test_csv_cells_stay_text_and_tables_say_what_the_file_was():
    table = read_table(csv_bytes([HEADER, ["Wuxi", "18.125", "2009", "", ""]], ";"), "f.csv")
    assert isinstance(table, Table)
    assert (table.format, table.delimiter, table.encoding) == ("csv", ";", "utf-8")
    assert table.rows == [(2, ["Wuxi", "18.125", "2009", "", ""])]
    header, rows = table  # the shape callers used before
    assert header == HEADER and rows == table.rows
    workbook = read_table(xlsx_bytes([HEADER, ["Wuxi"]]), "f.xlsx")
    assert (workbook.format, workbook.delimiter, workbook.encoding) == ("xlsx", None, None)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        (None, ""),
        ("  Aarhus \t", "Aarhus"),
        ("line one\r\nline two\n", "line one\nline two"),
        ("'=1+1", "=1+1"),
        ("''quoted", "'quoted"),
        ("'quoted", "'quoted"),
        ("'\tindented", "\tindented"),
        ("'\rreturn", "\rreturn"),
        ("  '-2+3  ", "-2+3"),
        ("-8.2", "-8.2"),
        ("'", "'"),
        (1.5, Decimal("1.5")),
        (3.0, 3),
        (Decimal("18.125"), Decimal("18.125")),
        (datetime.datetime(2020, 1, 2), datetime.date(2020, 1, 2)),
        (datetime.time(14, 30), "14:30:00"),
        (True, True),
    ],
)
def test_clean_cell(raw, clean):
    cleaned = clean_cell(raw)
    assert cleaned == clean and type(cleaned) is type(clean)


@pytest.mark.parametrize(
    ("cell", "value"),
    [
        (18125, Decimal("18125")),
        (Decimal("18.125"), Decimal("18.125")),
        (18.125, Decimal("18.125")),
        (-35.5, Decimal("-35.5")),
        (0, Decimal("0")),
    ],
)
def test_parse_number_takes_number_cells_as_they_are(cell, value):
    assert parse_number(cell) == value


@pytest.mark.parametrize(
    "cell", [datetime.date(2020, 1, 2), True, float("nan"), Decimal("Infinity")]
)
def test_parse_number_refuses_cells_that_are_no_number(cell):
    with pytest.raises(CellError, match="is not a number"):
        parse_number(cell)


def test_parse_integer_and_coordinate_take_number_cells():
    assert parse_integer(2009) == 2009
    assert parse_integer(Decimal("367095")) == 367095
    with pytest.raises(CellError, match="'18.125' is not a whole number"):
        parse_integer(Decimal("18.125"))
    assert parse_coordinate(Decimal("55.67613")) == Decimal("55.676130")
    assert parse_coordinate(-8) == Decimal("-8.000000")
    with pytest.raises(CellError, match="'2020-01-02' is not a coordinate"):
        parse_coordinate(datetime.date(2020, 1, 2))


@pytest.mark.parametrize("cell", ["1e30", Decimal("1E+30"), "1e999999"])
def test_a_huge_coordinate_is_a_cell_error_not_a_crash(cell):
    with pytest.raises(CellError, match="is not a coordinate"):
        parse_coordinate(cell)


def test_parse_date_takes_dates_and_year_numbers():
    assert parse_date(datetime.date(2011, 5, 3)) == PartialDate.parse("2011-05-03")
    assert parse_date(2009) == PartialDate.parse("2009")
    assert parse_date(Decimal("2009")) == PartialDate.parse("2009")
    with pytest.raises(CellError):
        parse_date(Decimal("2009.5"))


def test_choice_and_country_readers_take_number_cells():
    assert ChoiceReader([("1", "One"), ("2", "Two")])(2) == "2"
    with pytest.raises(CellError, match="'208' is not a country"):
        CountryReader()(208)
