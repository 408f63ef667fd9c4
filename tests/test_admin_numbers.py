"""The admin reads and shows numbers as staff of its language write them."""

from decimal import Decimal

import pytest
from django.urls import reverse

from places.models import Place
from tests.factories import PlaceFactory, PlaceFigureFactory, SourceFactory
from tests.test_admin import inline_management

pytestmark = pytest.mark.django_db


def place_data(source, **fields):
    return {
        "name_en": "Aarhus Municipality",
        "slug": "",
        "kind": "municipality",
        "country": "DK",
        **inline_management("other_names"),
        **inline_management("figures", total=2),
        "figures-0-kind": "population",
        "figures-0-year": "2024",
        "figures-0-source": str(source.pk),
        "figures-1-kind": "area_km2",
        "figures-1-year": "2024",
        "figures-1-source": str(source.pk),
        **fields,
    }


def test_the_danish_admin_takes_danish_numbers(admin_client):
    source = SourceFactory()
    data = place_data(
        source,
        **{
            "latitude": "56,1567",
            "longitude": "10,210",  # a decimal comma: three decimals are not thousands here
            "geonames_id": "2.624.652",
            "figures-0-value": "367.095",
            "figures-1-value": "1.234,5",
        },
    )
    response = admin_client.post(reverse("admin:places_place_add"), data, HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 302, response.context["errors"]
    place = Place.objects.get()
    assert (place.latitude, place.longitude) == (Decimal("56.1567"), Decimal("10.21"))
    assert place.geonames_id == 2_624_652
    figures = {figure.kind: figure.value for figure in place.figures.all()}
    assert figures == {"population": Decimal("367095"), "area_km2": Decimal("1234.5")}


def test_the_english_admin_takes_english_numbers(admin_client):
    source = SourceFactory()
    data = place_data(
        source,
        **{
            "latitude": "56.1567",
            "longitude": "10.2108",
            "figures-0-value": "367,095",
            "figures-1-value": "1,234.5",
        },
    )
    response = admin_client.post(reverse("admin:places_place_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302, response.context["errors"]
    place = Place.objects.get()
    assert place.latitude == Decimal("56.1567")
    figures = {figure.kind: figure.value for figure in place.figures.all()}
    assert figures == {"population": Decimal("367095"), "area_km2": Decimal("1234.5")}


def test_a_number_the_language_would_not_write_is_refused_with_a_message(admin_client):
    source = SourceFactory()
    data = place_data(source, **{"figures-0-value": "36.70.95", "figures-1-value": "12"})
    response = admin_client.post(reverse("admin:places_place_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Enter a number." in str(response.context["errors"])
    assert not Place.objects.exists()


def test_the_danish_admin_shows_numbers_the_danish_way(admin_client):
    place = PlaceFactory(latitude=Decimal("56.1567"), longitude=Decimal("10.2108"))
    PlaceFigureFactory(place=place, value=Decimal("367095"), year=2024)
    response = admin_client.get(
        reverse("admin:places_place_change", args=[place.pk]), HTTP_ACCEPT_LANGUAGE="da"
    )
    content = response.content.decode()
    assert 'value="367.095,00"' in content
    assert 'value="56,156700"' in content
    assert 'value="2024"' in content  # a year is no quantity: never 2.024


def test_coordinates_copied_from_an_encyclopaedia_are_read_in_either_language(admin_client):
    # Danish Wikipedia writes east as Ø; English, and maps, as E.
    for language, longitude in (("da", "10°12′14″Ø"), ("en", "10°12'14\"E")):
        Place.objects.all().delete()
        data = place_data(SourceFactory(), latitude="56°09′46″N", longitude=longitude)
        data.update({"figures-0-value": "", "figures-1-value": "", **inline_management("figures")})
        response = admin_client.post(
            reverse("admin:places_place_add"), data, HTTP_ACCEPT_LANGUAGE=language
        )
        assert response.status_code == 302, response.context["errors"]
        place = Place.objects.get()
        assert (place.latitude, place.longitude) == (Decimal("56.162778"), Decimal("10.203889"))


def test_a_coordinate_of_the_other_axis_is_refused_with_a_message(admin_client):
    data = place_data(SourceFactory(), latitude="10°12′14″Ø", longitude="56°09′46″")
    data.update(inline_management("figures"))
    response = admin_client.post(reverse("admin:places_place_add"), data, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors["latitude"] == [
        "'10°12′14″Ø' is a longitude (Ø); a latitude is north (N) or south (S)"
    ]
    assert errors["longitude"] == [
        "'56°09′46″' needs its hemisphere: east (E or Ø) or west (W or V)"
    ]
    assert not Place.objects.exists()
