"""Cells merged over several rows (a country or a province over the rows of its towns, as
sheets kept for people have them) are read as their value in every row they cover, with
a warning; the workbook gives the value to the first row only."""

import io

import openpyxl
import pytest
from django.urls import reverse

from importing.spreadsheets import _fill_merged, _merged_down
from places.models import Place
from tests.factories import PlaceFactory

from .conftest import messages, run

pytestmark = pytest.mark.django_db


def workbook(lines, merges=()):
    book = openpyxl.Workbook()
    sheet = book.active
    for cells in lines:
        sheet.append(list(cells))
    for merge in merges:
        sheet.merge_cells(merge)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TOWNS = [
    ["navn", "type", "land", "overordnet"],
    ["Wuxi", "by", "Kina", "Jiangsu"],
    ["Changzhou", "by", None, None],
    ["Nantong", "by", None, None],
    ["Aarhus", "by", "Danmark", None],
]


def test_a_country_and_a_province_merged_over_their_towns():
    PlaceFactory(name="Jiangsu", kind="province", country="CN")

    report = run("places", workbook(TOWNS, ["C2:C4", "D2:D4"]), file_name="byer.xlsx")

    assert messages(report) == []
    assert report.warnings == [
        "cells merged over several rows are read as their value in each of those rows: "
        "C2:C4 (‘Kina’); D2:D4 (‘Jiangsu’)"
    ]
    towns = Place.objects.filter(kind="city").order_by("name")
    assert [(t.name, t.country.code, t.parent and t.parent.name) for t in towns] == [
        ("Aarhus", "DK", None),
        ("Changzhou", "CN", "Jiangsu"),
        ("Nantong", "CN", "Jiangsu"),
        ("Wuxi", "CN", "Jiangsu"),
    ]


def test_without_the_merge_the_same_sheet_is_refused_row_by_row():
    # What the merge is for: the covered cells are empty in the file.
    PlaceFactory(name="Jiangsu", kind="province", country="CN")
    report = run("places", workbook(TOWNS), file_name="byer.xlsx")
    assert messages(report) == [
        "row 3: land: a value is required",
        "row 4: land: a value is required",
    ]
    assert report.warnings == []


def test_a_merge_reaching_past_the_data_adds_no_rows():
    lines = [*TOWNS[:2], ["Changzhou", "by", None, None], [None] * 4, [None] * 4]
    PlaceFactory(name="Jiangsu", kind="province", country="CN")

    report = run("places", workbook(lines, ["C2:C5"]), file_name="byer.xlsx")

    assert messages(report) == []
    assert len(report.rows) == 2
    assert Place.objects.get(name="Changzhou").country.code == "CN"


def test_a_title_merged_across_the_columns_above_the_header():
    lines = [["Byer i Jiangsu, 2024", None, None, None], [None] * 4, *TOWNS[:2]]
    PlaceFactory(name="Jiangsu", kind="province", country="CN")

    report = run("places", workbook(lines, ["A1:D2"]), file_name="byer.xlsx")

    assert messages(report) == []
    assert report.warnings == ["the column names are in row 3; the rows above them are skipped"]
    assert Place.objects.get(name="Wuxi").parent.name == "Jiangsu"


def test_a_covered_cell_with_a_value_of_its_own_keeps_it():
    lines = [(1, ["a", "x"]), (2, ["b", None]), (3, ["c", "y"]), (4, ["d", None])]
    filled = []

    read = list(_fill_merged(iter(lines), [(1, 1, 4, "B1:B4")], filled))

    assert read == [(1, ["a", "x"]), (2, ["b", "x"]), (3, ["c", "y"]), (4, ["d", "x"])]
    assert filled == [("B1:B4", "x")]


class Sheet:
    """A worksheet's XML as openpyxl's read-only sheet hands it out."""

    def __init__(self, xml):
        self.xml = xml

    def _get_source(self):
        return io.BytesIO(self.xml)


def test_merges_are_found_with_a_namespace_prefix_and_across_the_read_pieces():
    head = b"<x:worksheet><x:sheetData><x:row>"
    middle = b'</x:row></x:sheetData><x:mergeCells count="3"><x:mergeCell ref="AB10:'
    tail = b'AB12"/><x:mergeCell ref="C2:E2"/><x:mergeCell ref="B3:C5"/></x:mergeCells>'
    # The first range's element is cut by the end of the first megabyte read.
    padding = b"x" * ((1 << 20) - 2 - len(head) - len(middle))
    xml = head + padding + middle + tail + b"</x:worksheet>"
    assert xml.index(b"AB10") < 1 << 20 < xml.index(b"AB12") + 4

    assert _merged_down(Sheet(xml)) == [(1, 3, 5, "B3:C5"), (27, 10, 12, "AB10:AB12")]


def test_the_admin_preview_names_the_merged_cells(editor_client):
    PlaceFactory(name="Jiangsu", kind="province", country="CN")
    file = io.BytesIO(workbook(TOWNS, ["C2:C4"]))
    file.name = "byer.xlsx"

    response = editor_client.post(reverse("admin:places_place_import"), {"file": file})

    page = response.content.decode()
    assert "C2:C4 (‘Kina’)" in page
    assert "4 new, 0 changed, 0 unchanged" in page
