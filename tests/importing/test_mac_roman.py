"""Excel for Mac saves "Comma Separated Values" in Mac Roman, which no byte tells from
Windows-1252: the reading with the letters European names have is taken, with a warning."""

import pytest

from core.exports import BOM
from importing.spreadsheets import read_table, write_failed_rows
from places.models import Place
from tests.factories import PlaceFactory

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db

LINES = [
    ["navn", "type", "land"],
    ["Københavns Kommune", "kommune", "Danmark"],
    ["Århus", "by", "Danmark"],
    ["München", "by", "Tyskland"],
]
MAC_ROMAN = (
    "the file is read as Mac Roman, the text encoding of Excel for Mac's ‘Comma Separated "
    "Values’ (its letters read as no other encoding's would); check the names below, or "
    "save it as ‘CSV UTF-8’"
)


def test_a_mac_roman_file_is_read_as_one():
    PlaceFactory(name="Københavns Kommune", kind="municipality", country="DK")

    report = run("places", csv_bytes(LINES, ";", "mac_roman"))

    assert messages(report) == []
    assert report.warnings == [MAC_ROMAN]
    assert [row.action for row in report.rows] == ["unchanged", "new", "new"]
    assert {str(place) for place in Place.objects.all()} == {
        "Københavns Kommune",
        "Århus",
        "München",
    }


def test_the_same_letters_from_windows_are_read_as_windows():
    report = run("places", csv_bytes(LINES, ";", "cp1252"), dry_run=True)
    assert messages(report) == []
    assert report.warnings == []
    assert [row.cells["name"] for row in report.rows] == ["Københavns Kommune", "Århus", "München"]


def test_a_mac_file_without_a_letter_windows_lacks_is_read_as_mac_too():
    # 'ø' from a Mac is '¿' in Windows-1252, a sign in the middle of a name.
    report = run("places", csv_bytes(LINES[:2], ";", "mac_roman"), dry_run=True)
    assert report.rows[0].cells["name"] == "Københavns Kommune"


def test_its_failed_rows_come_back_as_utf8_which_excel_for_mac_reads_too():
    table = read_table(csv_bytes([*LINES, ["Göteborg", "planet", "Sverige"]], ";", "mac_roman"))
    data = write_failed_rows(table, {5: ["kind: 'planet' is not a kind"]}, "fejl")
    assert data.startswith(BOM.encode("utf-8"))
    assert (
        data.decode("utf-8-sig").splitlines()[1]
        == "Göteborg;planet;Sverige;kind: 'planet' is not a kind"
    )
