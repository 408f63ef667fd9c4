import pytest
from django.urls import reverse

from places.models import Place
from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db


def change_place(client, place, **changes):
    data = {
        "name_en": place.name_en,
        "slug": place.slug,
        "kind": place.kind,
        "country": str(place.country),
        "native_name": place.native_name,
        "other_names-TOTAL_FORMS": "0",
        "other_names-INITIAL_FORMS": "0",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
        **changes,
    }
    response = client.post(reverse("admin:places_place_change", args=[place.pk]), data)
    assert response.status_code == 302, response.context["errors"]


def test_history_records_who_changed_what_and_the_earlier_values(editor_client, editor):
    place = PlaceFactory(name="Wutshi")
    change_place(editor_client, place, name_en="Wuxi", native_name="无锡")
    newest, oldest = place.history.all()[:2]
    assert newest.history_user == editor
    assert (oldest.name, newest.name) == ("Wutshi", "Wuxi")
    delta = newest.diff_against(oldest)
    assert {change.field for change in delta.changes} >= {"name", "native_name"}

    page = editor_client.get(reverse("admin:places_place_history", args=[place.pk]))
    assert page.status_code == 200
    assert "editors" in page.content.decode()


def test_an_earlier_version_can_be_restored(admin_client):
    place = PlaceFactory(name="Wutshi")
    change_place(admin_client, place, name_en="Wuxi")
    earliest = place.history.earliest()
    url = reverse("admin:places_place_simple_history", args=[place.pk, earliest.history_id])
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "Wutshi" in page.content.decode()
    change_place_data = {
        "name_en": "Wutshi",
        "slug": place.slug,
        "kind": place.kind,
        "country": str(place.country),
        "other_names-TOTAL_FORMS": "0",
        "other_names-INITIAL_FORMS": "0",
        "figures-TOTAL_FORMS": "0",
        "figures-INITIAL_FORMS": "0",
    }
    response = admin_client.post(url, change_place_data)
    assert response.status_code == 302
    place.refresh_from_db()
    assert place.name == "Wutshi"
    assert Place.objects.matching(["wutshi"]).get() == place
    assert place.history.count() == 3
