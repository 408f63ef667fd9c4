"""A place named in a spreadsheet with or without the word for its kind, as staff write it:
"Ballerup" for Ballerup Kommune, "Jiangsu Province" and 江苏省 for Jiangsu. Read as a
looser spelling: found only where no name fits exactly, and warned of in the preview."""

import pytest

from core.text import PLACE_WORDS
from importing.names import bare
from partnerships.models import Participant, Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PlaceFactory

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    jiangsu = PlaceFactory(
        name="Jiangsu", kind="province", country="CN", native_name="江苏", slug="jiangsu"
    )
    PlaceFactory(name="Wuxi", kind="city", country="CN", parent=jiangsu, slug="wuxi")
    hovedstaden = PlaceFactory(
        name="Region Hovedstaden", kind="region", country="DK", slug="hovedstaden"
    )
    PlaceFactory(
        name="Ballerup Kommune",
        kind="municipality",
        country="DK",
        parent=hovedstaden,
        slug="ballerup",
    )
    odense_municipality = PlaceFactory(
        name="Odense Kommune", kind="municipality", country="DK", slug="odense-kommune"
    )
    PlaceFactory(
        name="Odense", kind="city", country="DK", parent=odense_municipality, slug="odense"
    )
    # Two Suzhous.
    PlaceFactory(name="Suzhou", kind="city", country="CN", parent=jiangsu, slug="suzhou")
    PlaceFactory(name="Suzhou", kind="city", country="CN", slug="suzhou-anhui")
    OrganisationFactory(name="Aarhus Universitet", country="DK", slug="au")


def parties(cell):
    header = ["title", "kind", "participants"]
    return run("partnerships", csv_bytes([header, ["X", "cooperation", cell]]))


BALLERUP = "Ballerup Kommune (municipality, in Region Hovedstaden, slug ballerup)"
HOVEDSTADEN = "Region Hovedstaden (region, Denmark, slug hovedstaden)"
JIANGSU = "Jiangsu (province, China, slug jiangsu)"
WUXI = "Wuxi (city, in Jiangsu, slug wuxi)"


@pytest.mark.parametrize(
    ("written", "read_as"),
    [
        ("Ballerup", BALLERUP),
        ("Hovedstaden", HOVEDSTADEN),
        ("Jiangsu Province", JIANGSU),
        ("jiangsu sheng", JIANGSU),
        ("Provinsen Jiangsu", JIANGSU),
        ("Jiangsu-provinsen", JIANGSU),
        ("江苏省", JIANGSU),
        ("Wuxi Shi", WUXI),
    ],
)
def test_a_place_is_found_with_or_without_the_word_for_its_kind(registry, written, read_as):
    report = parties(f"{written}; Aarhus Universitet")
    assert messages(report) == []
    assert report.rows[0].warnings == [f"participants: read '{written}' as {read_as}"]
    slug = read_as.rsplit("slug ", 1)[1].rstrip(")")
    assert Participant.objects.get(place__isnull=False).place.slug == slug


def test_a_name_that_fits_exactly_comes_first(registry):
    # Odense is a city of its own, inside Odense Municipality.
    report = parties("Odense; Aarhus Universitet")
    assert messages(report) == [] and report.rows[0].warnings == []
    assert Participant.objects.get(place__isnull=False).place.slug == "odense"


def test_the_word_never_chooses_between_two_places(registry):
    report = parties("Suzhou Shi; Aarhus Universitet")
    [message] = messages(report)
    assert message.startswith("row 2: participants: 'Suzhou Shi' names more than one")
    assert "slug suzhou)" in message and "slug suzhou-anhui)" in message
    assert not Partnership.objects.exists()


def test_a_places_parent_is_found_the_same_way(registry):
    header = ["name", "kind", "country", "parent"]
    report = run("places", csv_bytes([header, ["Egedal", "municipality", "DK", "Hovedstaden"]]))
    assert messages(report) == []
    assert Place.objects.get(name_en="Egedal").parent.slug == "hovedstaden"


def test_an_organisation_keeps_every_word_of_its_name(registry):
    # Only places are written without their kind: "Aarhus" is no university.
    report = parties("Aarhus; Wuxi")
    [message] = messages(report)
    assert message.startswith("row 2: participants: unknown place or organisation 'Aarhus'")


@pytest.mark.parametrize(
    ("name", "without"),
    [
        ("Ballerup Kommune", "ballerup"),
        ("Region Hovedstaden", "hovedstaden"),
        ("Central Denmark Region", "centraldenmark"),
        ("苏州市", "苏州"),
        # Not a kind word where it stands, or the whole name.
        ("Shi Jiazhuang", ""),
        ("Stoke by Nayland", ""),
        ("Baden-Württemberg", ""),
        ("Kommune", ""),
        ("省会", ""),
    ],
)
def test_the_kind_word_is_taken_off_only_where_it_goes(name, without):
    assert bare(name, PLACE_WORDS) == without
