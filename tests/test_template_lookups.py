"""Templates ask a record, or a row of the map, only for what it has.

When an attribute is missing, Django's template engine lists every attribute of the
object (``dir()``) to tell a missing one from a property that raised; for a model
instance that is about 30 µs, once per card of a page.
"""

import sys

import django.template.base
import pytest

from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory, ThemeFactory
from tests.pages import url

pytestmark = pytest.mark.django_db


@pytest.fixture
def missed(monkeypatch):
    """The (type, attribute) of every lookup the templates make that finds nothing."""
    found = []

    def listing(obj):
        found.append((type(obj).__name__, sys._getframe(1).f_locals.get("bit")))
        return dir(obj)

    # The engine calls the builtin by its bare name: a module global comes first.
    monkeypatch.setattr(django.template.base, "dir", listing, raising=False)
    return found


def test_pages_of_cards_and_the_map_ask_for_no_missing_attribute(client, missed):
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    aarhus = PlaceFactory(
        name="Aarhus", slug="aarhus", parent=denmark, country="DK", latitude=56.2, longitude=10.2
    )
    odense = PlaceFactory(
        name="Odense", parent=denmark, country="DK", latitude=55.4, longitude=10.4
    )
    harbin = PlaceFactory(name="Harbin", latitude=45.8, longitude=126.5)
    university = OrganisationFactory(name="Aarhus University", place=aarhus)
    theme = ThemeFactory(name="Education")
    for title, parties in [
        ("Aarhus–Harbin", [aarhus, harbin]),
        ("Aarhus–Harbin, culture", [aarhus, harbin]),
        ("Odense–Harbin", [odense, harbin]),
        ("University–Harbin", [university, harbin]),
    ]:
        PartnershipFactory(title=title, parties=parties).themes.add(theme)

    pages = [
        url("partnerships:partnership-list"),
        url("places:place-detail", slug="aarhus"),
        url("organisations:organisation-detail", slug=university.slug),
        url("search", query="q=Aarhus"),
        # Lines of several partnerships and of one, which links it.
        url("atlas:map"),
    ]
    for address in pages:
        response = client.get(address)
        assert response.status_code == 200
        assert "Aarhus" in response.content.decode()
    assert Partnership.objects.count() == 4
    # ``figures.0`` on a list is looked up as an attribute first, and costs nothing.
    assert [(kind, bit) for kind, bit in missed if kind != "list"] == []
