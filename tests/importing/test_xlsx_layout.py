"""An XLSX export opens as an Excel user expects: the column names bold, kept in view and
filterable, and the columns wide enough to read; it still imports back unchanged."""

import io

import openpyxl
import pytest
from django.urls import reverse

from tests.factories import PlaceFactory

from .conftest import run

pytestmark = pytest.mark.django_db

TITLE = "Baggrundsnotat om Jiangsu provinsen – og om udvalgte danske regioner og kommuner"


@pytest.fixture
def exported(editor_client):
    PlaceFactory(
        name="Jiangsu", kind="province", native_name="江苏省人民政府外事办公室", slug="jiangsu"
    )
    PlaceFactory(name="Wuxi", kind="city", description_en=TITLE * 2, slug="wuxi")
    response = editor_client.get(reverse("admin:places_place_export") + "?format=xlsx")
    assert response.status_code == 200
    return response.content


def test_the_header_is_bold_frozen_and_filtered(exported):
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
    header = [cell.value for cell in sheet[1]]
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])
    assert sheet.freeze_panes == "A2"
    last = openpyxl.utils.get_column_letter(len(header))
    assert sheet.auto_filter.ref == f"A1:{last}3"


def test_columns_are_as_wide_as_their_values_within_bounds(exported):
    sheet = openpyxl.load_workbook(io.BytesIO(exported)).active
    header = [cell.value for cell in sheet[1]]

    def width(name):
        return sheet.column_dimensions[
            openpyxl.utils.get_column_letter(header.index(name) + 1)
        ].width

    # The longest slug, 'jiangsu', and a margin.
    assert width("slug") == len("jiangsu") + 2
    # Twelve Chinese characters show as wide as 24 Latin ones.
    assert width("native_name") == 24 + 2
    # A long description is cut at the widest.
    assert width("description_en") == 60


def test_the_laid_out_export_imports_back_unchanged(exported):
    report = run("places", exported, dry_run=True, file_name="steder.xlsx")
    assert report.problems == []
    assert [row.action for row in report.rows] == ["unchanged", "unchanged"]


def test_the_worksheet_is_named_for_what_it_holds_in_the_admins_language(editor_client):
    PlaceFactory(name="Wuxi")
    url = reverse("admin:places_place_export") + "?format=xlsx"
    names = {
        language: openpyxl.load_workbook(
            io.BytesIO(editor_client.get(url, HTTP_ACCEPT_LANGUAGE=language).content)
        ).sheetnames
        for language in ("da", "en")
    }
    assert names == {"da": ["Steder"], "en": ["Places"]}
    template = editor_client.get(
        reverse("admin:places_place_import_template") + "?format=xlsx", HTTP_ACCEPT_LANGUAGE="da"
    )
    assert openpyxl.load_workbook(io.BytesIO(template.content)).sheetnames == ["Steder"]
