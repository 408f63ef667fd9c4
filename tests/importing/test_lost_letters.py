"""A file saved in an 8-bit encoding has question marks where the registry's text had
letters the encoding cannot hold (Danish Excel's "CSV (semikolonsepareret)" is
Windows-1252: 苏州 comes back as ??). The stored text stays, with a warning; text that is
nothing but question marks is refused."""

import csv
import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from atlas.registry import IMPORT_SPECS
from importing.engine import export_table
from organisations.models import Organisation
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    OrganisationNameFactory,
    PlaceFactory,
)

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db


def saved_as_danish_excel_csv(data):
    """Our CSV export as Danish Excel saves it: semicolons, Windows-1252, '?' for the rest."""
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("cp1252", errors="replace"), rows[0]


def exported(name):
    spec = IMPORT_SPECS[name]
    return export_table(spec, spec.model._default_manager.order_by("pk"), "csv")


@pytest.fixture
def registry():
    jiangsu = PlaceFactory(name="Jiangsu", kind="province", slug="jiangsu", native_name="江苏")
    PlaceFactory(
        name="Suzhou", slug="suzhou", parent=jiangsu, native_name="苏州", description_en="A city."
    )
    PlaceFactory(name="Łódź", slug="lodz", country="PL", native_name="Łódź")
    cas = OrganisationFactory(
        name="University of Chinese Academy of Sciences", country="CN", native_name="中国科学院大学"
    )
    OrganisationNameFactory(organisation=cas, name="中国科学院研究生院")
    OrganisationNameFactory(organisation=cas, name="GUCAS")
    return cas


def test_an_export_saved_as_windows_1252_imports_unchanged_with_warnings(registry):
    data, _header = saved_as_danish_excel_csv(exported("places"))
    assert b"??" in data  # the file really lost the Chinese

    report = run("places", data, dry_run=True)

    assert messages(report) == []
    assert [row.action for row in report.rows] == ["unchanged"] * 3
    warnings = {row.number: row.warnings for row in report.rows}
    assert warnings[3] == [
        "what is stored stays where the file has question marks or underscores for "
        "letters it cannot hold: native_name ‘苏州’ (‘??’)"
    ]
    # What to do, once for the file.
    assert report.warnings == [
        "3 rows have question marks or underscores where the registry has letters the "
        "file's encoding cannot hold (a CSV saved as Windows-1252, as Excel's ‘CSV "
        "(semikolonsepareret)’ is, or as Mac Roman): what is stored stays. To change such "
        "text, save the file as ‘CSV UTF-8’ or as an Excel workbook"
    ]
    # Łódź keeps the ó Windows-1252 has, and loses Ł and ź: '?ód?' in the name columns.
    assert "name_en ‘Łódź’ (‘?ód?’)" in warnings[4][0]


def test_a_row_edited_in_such_a_file_changes_only_what_was_edited(registry):
    data, header = saved_as_danish_excel_csv(exported("places"))
    text = data.decode("cp1252").replace("A city.", "A city in Jiangsu.")

    report = run("places", text.encode("cp1252"))

    assert messages(report) == []
    suzhou = report.rows[1]
    assert (suzhou.action, suzhou.changes) == ("updated", ["description_en"])
    assert Place.objects.get(slug="suzhou").native_name == "苏州"
    assert Place.objects.get(slug="suzhou").description_en == "A city in Jiangsu."
    assert Place.objects.get(slug="lodz").name_en == "Łódź"


def test_other_names_keep_the_lost_one_and_take_the_new_one(registry):
    header = ["slug", "name", "kind", "country", "native_name", "aliases"]
    row = [
        registry.slug,
        registry.name_en,
        "university",
        "CN",
        "???????",
        "?????????; GUCAS; UCAS",
    ]
    report = run("organisations", csv_bytes([header, row], ";", "cp1252"))

    assert messages(report) == []
    assert report.rows[0].changes == ["aliases"]
    cas = Organisation.objects.get(pk=registry.pk)
    assert cas.native_name == "中国科学院大学"
    assert sorted(cas.other_names.values_list("name", flat=True)) == [
        "GUCAS",
        "UCAS",
        "中国科学院研究生院",
    ]


@pytest.mark.parametrize(
    "cells",
    [
        # A new record: nothing to keep.
        ["Wuxi", "city", "CN", "??"],
        # A stored record with no native name.
        ["Jiangsu", "province", "CN", "?? ??"],
        # Excel for Mac writes underscores.
        ["Wuxi", "city", "CN", "__"],
    ],
)
def test_text_that_is_only_question_marks_is_refused(cells):
    PlaceFactory(name="Jiangsu", kind="province", slug="jiangsu")
    header = ["name", "kind", "country", "native_name"]

    report = run("places", csv_bytes([header, cells], ";", "cp1252"))

    assert messages(report) == [
        "row 2: native_name: only question marks or underscores: a spreadsheet program "
        "writes them for letters the file's encoding cannot hold (Chinese, in a CSV saved "
        "as Windows-1252 or Mac Roman). Save the file as ‘CSV UTF-8’ or as an Excel "
        "workbook, or leave the cell empty"
    ]
    assert not Place.objects.filter(name="Wuxi").exists()
    assert Place.objects.get(slug="jiangsu").native_name == ""


def test_a_question_mark_that_is_a_change_is_taken_as_written(registry):
    # Not the stored text with letters lost: what the editor wrote.
    header = ["slug", "name", "kind", "country", "native_name", "description_en"]
    row = ["suzhou", "Suzhou", "city", "CN", "苏州?", "Which Suzhou?"]
    run("places", csv_bytes([header, row]))
    suzhou = Place.objects.get(slug="suzhou")
    assert (suzhou.native_name, suzhou.description_en) == ("苏州?", "Which Suzhou?")


def test_the_admin_preview_warns_and_the_confirmation_keeps_the_names(registry, editor_client):
    data, _header = saved_as_danish_excel_csv(exported("organisations"))
    file = io.BytesIO(data)
    file.name = "organisationer.csv"

    response = editor_client.post(
        reverse("admin:organisations_organisation_import"), {"file": file}
    )

    page = response.content.decode()
    assert "0 new, 0 changed, 1 unchanged" in page
    assert "‘中国科学院研究生院’ (‘?????????’)" in page
    editor_client.post(
        reverse("admin:organisations_organisation_import_confirm"),
        {"token": response.context["token"]},
    )
    cas = Organisation.objects.get(pk=registry.pk)
    assert cas.native_name == "中国科学院大学"
    assert "中国科学院研究生院" in cas.other_names.values_list("name", flat=True)


def test_the_command_says_so_too(registry, tmp_path):
    data, _header = saved_as_danish_excel_csv(exported("places"))
    path = tmp_path / "steder.csv"
    path.write_bytes(data)
    out = io.StringIO()

    call_command("import_records", "places", str(path), "--dry-run", stdout=out)

    assert "native_name ‘江苏’ (‘??’)" in out.getvalue()
    assert "0 new, 0 updated, 3 unchanged places" in out.getvalue()


def test_underscores_from_a_mac_keep_the_stored_text_too(registry):
    header = ["slug", "name", "kind", "country", "native_name", "description_en"]
    row = ["suzhou", "Suzhou", "city", "CN", "__", "A city in Jiangsu."]
    report = run("places", csv_bytes([header, row], ";", "mac_roman"))
    assert messages(report) == []
    assert report.rows[0].changes == ["description_en"]
    assert Place.objects.get(slug="suzhou").native_name == "苏州"
