"""A date cell read as precisely as the workbook shows it: Excel turns "2011-05" typed into
a cell into the first of May shown as "maj-11", and that month must not become a day."""

import datetime
import io

import openpyxl
import pytest

from importing.spreadsheets import _date_as_shown
from partnerships.models import Partnership
from tests.factories import PlaceFactory

from .conftest import messages, run

pytestmark = pytest.mark.django_db


def workbook(start, number_format):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["title", "kind", "participants", "start"])
    sheet.append(["Aarhus – Harbin", "sister city", "Aarhus; Harbin", start])
    sheet["D2"].number_format = number_format
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("number_format", "start"),
    [
        ("mmm-yy", "2011-05"),  # what Excel makes of "2011-05" typed in
        ("mmmm yyyy", "2011-05"),
        ("[$-406]mmmm\\ yyyy;@", "2011-05"),  # the Danish long month, as Excel writes it
        ("yyyy", "2011"),
        ("dd-mm-yyyy", "2011-05-01"),
        ("mm-dd-yy", "2011-05-01"),  # Excel's short date
    ],
)
def test_a_date_cell_is_as_vague_as_it_is_shown(number_format, start):
    PlaceFactory(name="Aarhus", country="DK")
    PlaceFactory(name="Harbin", country="CN")
    data = workbook(datetime.datetime(2011, 5, 1), number_format)
    report = run("partnerships", data, file_name="partnerships.xlsx")
    assert messages(report) == []
    assert str(Partnership.objects.get().start) == start


def test_a_time_of_day_or_a_format_of_days_keeps_the_value():
    at_noon = datetime.datetime(2011, 5, 1, 12, 0)
    assert _date_as_shown(at_noon, "mmm-yy") is at_noon
    first = datetime.datetime(2011, 5, 1)
    for number_format in ("d-mmm-yy", "mm-dd-yy h:mm", "[h]:mm:ss", "", None):
        assert _date_as_shown(first, number_format) is first
