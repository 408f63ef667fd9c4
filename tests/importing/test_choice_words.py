"""A partnership's kind and status in the words Danish and English sheets use for them."""

import pytest

from partnerships.models import Partnership
from tests.factories import PlaceFactory

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def places():
    PlaceFactory(name="Aarhus", country="DK")
    PlaceFactory(name="Harbin", country="CN")


@pytest.mark.parametrize(
    ("written", "status"),
    [
        ("Under forhandling", "planned"),
        ("under negotiation", "planned"),
        ("Igangværende", "active"),
        ("ongoing", "active"),
        ("Ophørt", "ended"),
        ("udløbet", "ended"),
        # The labels themselves, as before.
        ("planlagt", "planned"),
        ("Afsluttet", "ended"),
    ],
)
def test_a_status_word_is_read_as_its_status(written, status):
    rows = [
        ["titel", "type", "status", "deltagere"],
        ["A", "venskabsby", written, "Aarhus; Harbin"],
    ]
    report = run("partnerships", csv_bytes(rows, delimiter=";"))
    assert messages(report) == []
    assert Partnership.objects.get().status == status


def test_a_word_that_is_no_status_lists_the_statuses():
    rows = [
        ["titel", "type", "status", "deltagere"],
        ["A", "venskabsby", "sovende", "Aarhus; Harbin"],
    ]
    [message] = messages(run("partnerships", csv_bytes(rows, delimiter=";")))
    assert message == ("row 2: status: 'sovende' is not one of: planned, active, ended, unknown")


@pytest.mark.parametrize(
    ("written", "kind"),
    [
        ("Twin town", "sister_city"),
        ("søsterbyaftale", "sister_city"),
        ("Venskabsbyaftale", "friendship_city"),
        ("MoU", "cooperation_agreement"),
        ("Hensigtserklæring", "cooperation_agreement"),
        ("Forskningsprojekt", "research_collaboration"),
        # The labels themselves, as before.
        ("Venskabsby", "friendship_city"),
        ("samarbejdsaftale", "cooperation_agreement"),
    ],
)
def test_a_kind_word_is_read_as_its_kind(written, kind):
    rows = [["titel", "type", "deltagere"], ["A", written, "Aarhus; Harbin"]]
    report = run("partnerships", csv_bytes(rows, delimiter=";"))
    assert messages(report) == []
    assert Partnership.objects.get().kind == kind


def test_a_word_that_is_no_kind_is_refused():
    rows = [["titel", "type", "deltagere"], ["A", "aftale", "Aarhus; Harbin"]]
    [message] = messages(run("partnerships", csv_bytes(rows, delimiter=";")))
    assert message.startswith("row 2: type: 'aftale' is not one of: sister city, ")
