"""A partnership's status in the words Danish and English sheets use for it."""

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
