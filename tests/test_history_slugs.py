"""A changed slug keeps the old public address working with a permanent redirect."""

import pytest
from django.urls import reverse

from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.test_history import change_place

pytestmark = pytest.mark.django_db


def test_a_slug_changed_in_the_admin_redirects_from_the_old_address(client, admin_client):
    place = PlaceFactory(name="Wutshi")
    old_url = place.get_absolute_url()
    change_place(admin_client, place, name="Wuxi", slug="wuxi")
    response = client.get(old_url)
    assert response.status_code == 301
    assert response["Location"] == reverse("places:place-detail", args=["wuxi"])
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.parametrize("factory", [PlaceFactory, OrganisationFactory, PartnershipFactory])
def test_every_earlier_slug_saved_anywhere_redirects(client, factory):
    record = factory()
    addresses = [record.get_absolute_url()]
    for slug in ("second-name", "third-name"):
        record.slug = slug
        record.save()  # as in the shell, the API or an import
        addresses.append(record.get_absolute_url())
    for address in addresses[:-1]:
        response = client.get(address)
        assert response.status_code == 301
        assert response["Location"] == addresses[-1]


def test_a_slug_changed_by_queryset_update_redirects_from_the_one_history_holds(client):
    # update() writes no history: the slug the record was created with is known, and so
    # its address keeps working; see RecordQuerySet.formerly_at.
    place = PlaceFactory(name="Ringsted")
    Place.objects.filter(pk=place.pk).update(slug="ringsted-municipality")
    response = client.get(reverse("places:place-detail", args=["ringsted"]))
    assert response.status_code == 301
    assert response["Location"] == reverse("places:place-detail", args=["ringsted-municipality"])


def test_a_slug_taken_over_by_another_record_shows_that_record(client):
    first = PlaceFactory(name="Suzhou")
    first.slug = "suzhou-jiangsu"
    first.save()
    second = PlaceFactory(name="Suzhou", country="CN", slug="suzhou")
    response = client.get(reverse("places:place-detail", args=["suzhou"]))
    assert response.status_code == 200
    assert response.context["object"] == second


def test_an_address_no_record_ever_had_is_not_found(client, django_assert_max_num_queries):
    PlaceFactory(name="Wuxi")
    with django_assert_max_num_queries(3):
        response = client.get(reverse("places:place-detail", args=["nowhere"]))
    assert response.status_code == 404
    deleted = PlaceFactory(name="Gone")
    url = deleted.get_absolute_url()
    deleted.delete()
    assert client.get(url).status_code == 404
