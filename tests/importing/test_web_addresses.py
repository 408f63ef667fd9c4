"""Web addresses as staff type them: "www.sdu.dk" is https://www.sdu.dk, as the admin's
own form reads it."""

import pytest

from core.models import Source
from organisations.models import Organisation

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db

HEADER = ["navn", "type", "land", "hjemmeside"]


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("www.sdu.dk", "https://www.sdu.dk"),
        ("vestas.com/da", "https://vestas.com/da"),
        ("http://www.njnu.edu.cn", "http://www.njnu.edu.cn"),
        ("https://www.aau.dk/", "https://www.aau.dk/"),
    ],
)
def test_an_address_without_its_scheme_is_read_as_https(written, stored):
    rows = [HEADER, ["Syddansk Universitet", "universitet", "Danmark", written]]
    report = run("organisations", csv_bytes(rows, delimiter=";"))
    assert messages(report) == []
    assert Organisation.objects.get().website == stored


def test_what_is_no_address_is_still_refused():
    rows = [HEADER, ["Syddansk Universitet", "universitet", "Danmark", "ring til os"]]
    report = run("organisations", csv_bytes(rows, delimiter=";"))
    assert messages(report) == ["row 2: hjemmeside: Enter a valid URL."]
    assert not Organisation.objects.exists()


def test_a_sources_address_too():
    rows = [["titel", "webadresse"], ["Baggrundsnotat", "www.kk.dk/notat.pdf"]]
    report = run("sources", csv_bytes(rows))
    assert messages(report) == []
    assert Source.objects.get().url == "https://www.kk.dk/notat.pdf"
