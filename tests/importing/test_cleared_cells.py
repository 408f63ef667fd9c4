"""An empty cell clears what is stored, and the preview says so as a warning: a
spreadsheet's blank often means "not filled in"."""

from decimal import Decimal

import pytest

from places.models import Place
from tests.factories import PlaceFactory

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db

HEADER = ["navn", "type", "land", "breddegrad", "længdegrad", "beskrivelse_da"]


@pytest.fixture
def wuxi():
    return PlaceFactory(
        name="Wuxi",
        kind="city",
        country="CN",
        slug="wuxi",
        latitude=Decimal("31.4912"),
        longitude=Decimal("120.3119"),
        description_da="By i Jiangsu.",
    )


def test_a_row_that_empties_stored_values_warns_which(wuxi):
    row = ["Wuxi", "by", "Kina", "", "", "By i Jiangsu."]
    report = run("places", csv_bytes([HEADER, row], delimiter=";"), dry_run=True)
    assert messages(report) == []
    assert report.rows[0].warnings == [
        "empty cells remove what is stored: breddegrad, længdegrad; to keep a value, fill "
        "in the cell or leave the column out of the file"
    ]
    # Confirmed, it does what it said.
    run("places", csv_bytes([HEADER, row], delimiter=";"))
    wuxi.refresh_from_db()
    assert (wuxi.latitude, wuxi.longitude) == (None, None)


def test_no_warning_for_a_changed_value_or_a_new_record(wuxi):
    rows = [
        ["Wuxi", "by", "Kina", "31,5", "120,3", "By i Jiangsu."],
        ["Changzhou", "by", "Kina", "", "", ""],
    ]
    report = run("places", csv_bytes([HEADER, *rows], delimiter=";"))
    assert messages(report) == []
    assert [row.warnings for row in report.rows] == [[], []]
    assert Place.objects.get(slug="wuxi").latitude == Decimal("31.5")


def test_a_column_left_out_keeps_its_value(wuxi):
    report = run("places", csv_bytes([["navn", "type", "land"], ["Wuxi", "by", "Kina"]]))
    assert report.rows[0].warnings == []
    wuxi.refresh_from_db()
    assert wuxi.latitude == Decimal("31.4912")
