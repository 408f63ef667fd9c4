"""values() and values_list() skip modeltranslation's per-row work only where it gives nothing."""

import pytest
from django.utils import translation

from core.translation import Localized
from places.models import Place
from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def only_danish():
    place = PlaceFactory(name_en="", name_da="Kun på dansk", slug="kun-paa-dansk")
    Place.objects.filter(pk=place.pk).update(name_en="")  # as an import leaves it
    return place


def test_a_translated_field_asked_for_by_name_is_read_in_the_readers_language(only_danish):
    # The plain ``name`` column holds whichever language was written last: English here.
    PlaceFactory(name_da="Sjælland", name_en="Zealand", slug="zealand")
    places = Place.objects.order_by("slug")
    with translation.override("da"):
        assert list(places.values_list("name", flat=True)) == ["Kun på dansk", "Sjælland"]
        assert list(places.values("slug", "name")) == [
            {"slug": "kun-paa-dansk", "name": "Kun på dansk"},
            {"slug": "zealand", "name": "Sjælland"},
        ]
    with translation.override("en"):
        assert list(places.values_list("name", flat=True)) == ["Kun på dansk", "Zealand"]


def test_other_columns_and_expressions_read_as_django_reads_them(only_danish):
    rows = Place.objects.values_list("pk", "slug", "name_en", Localized("name"))
    assert rows._iterable_class.__module__.startswith("django.")
    assert list(rows) == [(only_danish.pk, "kun-paa-dansk", "", "Kun på dansk")]
    assert list(Place.objects.values("slug", "parent_id")) == [
        {"slug": "kun-paa-dansk", "parent_id": None}
    ]
    assert list(Place.objects.values_list("pk", flat=True)) == [only_danish.pk]


def test_every_column_is_still_left_to_modeltranslation(only_danish):
    # values() with no field names gives the original fields, as before.
    (row,) = Place.objects.values()
    assert row["name"] == "Kun på dansk" and "name_en" not in row
