"""Text is stored without what copying from a web page, a PDF or a Mac adds and no one
sees (no-break spaces, characters of no width, a decomposed å), whichever way it is
written: the admin with its inlines, the API, the import, and the shell's save(),
update() and bulk_create(). Such a name looked like the stored one and was a change."""

import unicodedata

import pytest
from django.db import connection
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st
from rest_framework.test import APIClient

from atlas.registry import IMPORT_SPECS
from core.text import tidy
from importing.engine import Importer
from organisations.models import Organisation
from partnerships.models import Event, Theme
from places.models import Place, PlaceName
from tests.factories import PartnershipFactory, PlaceFactory
from tests.importing.conftest import csv_bytes
from tests.test_admin import inline_management

pytestmark = pytest.mark.django_db

NFD_SKAANE = unicodedata.normalize("NFD", "Region Skåne")
# As a web page gives it: a no-break space, a soft hyphen and a zero-width space.
PASTED = "Aarhus\u00a0Kom\u00admune\u200b"


def test_the_admin_stores_names_and_inline_names_tidied(admin_client):
    assert NFD_SKAANE != "Region Skåne"
    data = {
        "name_en": NFD_SKAANE,
        "slug": "",
        "kind": "region",
        "country": "SE",
        **inline_management("other_names", total=1),
        "other_names-0-name": "Sk\u00e5ne\u00a0l\u00e4n",
        "other_names-0-language": "sv",
        "other_names-0-kind": "alternative",
        **inline_management("figures"),
    }

    response = admin_client.post(reverse("admin:places_place_add"), data)

    assert response.status_code == 302
    place = Place.objects.get()
    # The slug is made from the composed name: 'skaane', not the 'skane' of 'a' + ring.
    assert (place.name_en, place.slug) == ("Region Skåne", "region-skaane")
    assert place.other_names.get().name == "Skåne län"


def test_the_api_stores_and_answers_tidied(editor):
    api = APIClient()
    api.force_authenticate(editor)

    response = api.post(
        "/api/organisations/",
        {"name": PASTED, "kind": "government_body", "country": "DK"},
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["name"] == "Aarhus Kommune"
    assert Organisation.objects.get().name_en == "Aarhus Kommune"


def test_an_import_of_pasted_text_is_no_change_and_a_new_record_is_stored_tidied(editor):
    PlaceFactory(name="Region Skåne", kind="region", country="SE", slug="region-skaane")
    header = ["name", "kind", "country", "description_en"]
    rows = [
        [NFD_SKAANE, "region", "SE", ""],
        [PASTED, "municipality", "DK", "Lies\u00a0in\u00a0Jutland."],
    ]

    report = Importer(IMPORT_SPECS["places"], user=editor).run(
        csv_bytes([header, *rows]), "steder.csv"
    )

    assert report.problems == []
    assert [row.action for row in report.rows] == ["unchanged", "new"]
    aarhus = Place.objects.get(kind="municipality")
    assert (aarhus.name_en, aarhus.slug, aarhus.description_en) == (
        "Aarhus Kommune",
        "aarhus-kommune",
        "Lies in Jutland.",
    )


def test_a_value_stored_before_tidying_reads_as_the_same(editor):
    place = PlaceFactory(name="Aarhus Kommune", kind="municipality", country="DK")
    # Written past the model, as rows stored before tidying was are.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE places_place SET name_en = %s WHERE id = %s", ["Aarhus\u00a0Kommune", place.pk]
        )
    data = csv_bytes(
        [["slug", "name", "kind", "country"], [place.slug, PASTED, "municipality", "DK"]]
    )

    report = Importer(IMPORT_SPECS["places"], user=editor).run(data, "p.csv", dry_run=True)

    assert [row.action for row in report.rows] == ["unchanged"]


def test_the_shell_save_update_and_bulk_create_tidy_too():
    place = PlaceFactory(name=PASTED, kind="municipality", country="DK")
    assert place.name_en == "Aarhus Kommune"

    Place.objects.filter(pk=place.pk).update(description_en=f"{NFD_SKAANE}\u202flies near.")
    PlaceName.objects.bulk_create([PlaceName(place=place, name="Århus\u00a0Kommune")])
    place.refresh_from_db()
    assert place.description_en == "Region Skåne lies near."
    assert place.other_names.get().name == "Århus Kommune"

    theme = Theme.objects.create(name="Sundhed\u200b", slug="sundhed")
    event = Event.objects.create(
        partnership=PartnershipFactory(),
        date="2010",
        kind=Event.Kind.CONFERENCE,
        text_en="Visit\u00a0to Wuxi",
    )
    assert Theme.objects.get(pk=theme.pk).name == "Sundhed"
    assert Event.objects.get(pk=event.pk).text_en == "Visit to Wuxi"


def test_chinese_full_width_space_and_script_joiners_stay():
    place = PlaceFactory(name="Nanjing", native_name="南京\u3000市", description_en="a\u200db")
    place.refresh_from_db()
    assert (place.native_name, place.description_en) == ("南京\u3000市", "a\u200db")


@given(st.text(max_size=20))
def test_tidying_twice_changes_nothing(text):
    assert tidy(tidy(text)) == tidy(text)
