"""Several names in one cell separated by commas, as a Danish spreadsheet lists partners:
read as a list only where the whole cell names nothing and every part names one record."""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships.models import Participant, Partnership
from tests.factories import (
    OrganisationFactory,
    PlaceFactory,
    PlaceNameFactory,
    ThemeFactory,
)

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db

HEADER = ["titel", "type", "deltagere", "temaer"]


@pytest.fixture
def registry():
    jiangsu = PlaceFactory(name="Jiangsu", kind="province", country="CN")
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", parent=jiangsu)
    PlaceNameFactory(place=wuxi, name="Wutshi")
    # Two Suzhous: one name, two records.
    PlaceFactory(name="Suzhou", kind="city", country="CN", parent=jiangsu, slug="suzhou")
    PlaceFactory(name="Suzhou", kind="city", country="CN", slug="suzhou-anhui")
    aarhus = PlaceFactory(name="Aarhus", kind="city", country="DK")
    OrganisationFactory(name="Aarhus Universitet", country="DK", place=aarhus)
    OrganisationFactory(name="Bycirklen", country="DK")
    ThemeFactory(name="Education", name_da="Uddannelse", slug="education")
    ThemeFactory(name="Health", name_da="Sundhed", slug="health")
    return {"wuxi": wuxi, "aarhus": aarhus}


def test_parties_and_themes_between_commas_are_read_with_a_warning(registry):
    row = [
        "Bycirklen og Wuxi",
        "samarbejde",
        "Bycirklen (koordinator), Wuxi",
        "uddannelse, sundhed",
    ]
    report = run("partnerships", csv_bytes([HEADER, row], delimiter=";"))
    assert messages(report) == []
    assert report.rows[0].warnings == [
        "deltagere: read 'Bycirklen (koordinator), Wuxi' as 2 names between commas: "
        "Bycirklen (koordinator); Wuxi",
        "temaer: read 'uddannelse, sundhed' as 2 names between commas: uddannelse; sundhed",
    ]
    partnership = Partnership.objects.get()
    roles = {str(p): p.role for p in Participant.objects.filter(partnership=partnership)}
    assert roles == {"Bycirklen": "coordinator", "Wuxi": "partner"}
    assert set(partnership.themes.values_list("slug", flat=True)) == {"education", "health"}


@pytest.mark.parametrize(
    "cell, unknown",
    [
        # A part that names nothing: the whole cell is unknown, and the message says how
        # to list several.
        ("Aalborg Kommune, Wuxi", "Aalborg Kommune, Wuxi"),
        # A part that names two records (the two Suzhous) is never chosen between.
        ("Suzhou, Bycirklen", "Suzhou, Bycirklen"),
        # Nor a part found only by a looser spelling (Arhus for Aarhus): one guess a cell.
        ("Arhus, Bycirklen", "Arhus, Bycirklen"),
        # A place with where it lies is one party, not two.
        ("Wuxi, Jiangsu", "Wuxi, Jiangsu"),
        ("Aarhus Universitet, Aarhus", "Aarhus Universitet, Aarhus"),
    ],
)
def test_a_cell_whose_parts_do_not_each_name_one_party_is_an_error(registry, cell, unknown):
    report = run("partnerships", csv_bytes([HEADER, ["X", "samarbejde", cell, ""]]))
    [message] = messages(report)
    assert message.startswith(f"row 2: deltagere: unknown place or organisation '{unknown}'")
    assert message.endswith("; separate several with ; or a line break")
    assert not Partnership.objects.exists()


def test_a_name_with_a_comma_comes_before_its_parts(registry):
    OrganisationFactory(name="Aarhus Universitet, Institut for Kemi", country="DK")
    OrganisationFactory(name="Institut for Kemi", country="DK")
    cell = "Aarhus Universitet, Institut for Kemi; Wuxi"
    report = run("partnerships", csv_bytes([HEADER, ["X", "samarbejde", cell, ""]]))
    assert messages(report) == []
    assert report.rows[0].warnings == []
    parties = Participant.objects.values_list("organisation__name", "place__name")
    assert sorted(parties, key=str) == sorted(
        [("Aarhus Universitet, Institut for Kemi", None), (None, "Wuxi")], key=str
    )


def test_two_organisations_in_one_city_are_two_parties(registry):
    OrganisationFactory(name="VIA University College", country="DK", place=registry["aarhus"])
    cell = "Aarhus Universitet, VIA University College"
    report = run("partnerships", csv_bytes([HEADER, ["X", "samarbejde", cell, ""]]))
    assert messages(report) == []
    assert Participant.objects.count() == 2


def test_the_command_refuses_as_the_admin_does(registry, tmp_path):
    path = tmp_path / "partnerskaber.csv"
    rows = [["A", "samarbejde", "Bycirklen, Wuxi", ""], ["B", "samarbejde", "Wuxi, Jiangsu", ""]]
    path.write_bytes(csv_bytes([HEADER, *rows], delimiter=";", encoding="cp1252"))
    err = io.StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("import_records", "partnerships", str(path), stdout=io.StringIO(), stderr=err)
    assert raised.value.returncode == 1
    assert err.getvalue().startswith(
        "row 3: deltagere: unknown place or organisation 'Wuxi, Jiangsu' "
    )
    assert not Partnership.objects.exists()


def test_comma_cells_are_read_with_the_same_queries_for_2_rows_and_20(registry):
    # Where each party lies is read once an import, not for each cell with commas.
    def queries(count):
        rows = [[f"Tie {n}", "samarbejde", "Bycirklen, Wuxi", ""] for n in range(count)]
        with CaptureQueriesContext(connection) as captured:
            run("partnerships", csv_bytes([HEADER, *rows]), dry_run=True)
        return len(captured)

    queries(1)  # what any import reads once per process
    assert queries(2) == queries(20)
