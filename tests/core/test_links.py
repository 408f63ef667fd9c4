"""Records' addresses come from ``core.links``, reversed once per language: they must be
exactly what ``reverse()`` gives, in each language, for every kind of record."""

import pytest
from django.test import RequestFactory
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from core.links import Addresses
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def test_a_records_address_is_the_one_reverse_gives_in_each_language():
    records = {
        "places:place-detail": PlaceFactory(name="Suzhou"),
        "organisations:organisation-detail": OrganisationFactory(name="Aalborg Universitet"),
        "partnerships:partnership-detail": PartnershipFactory(),
    }
    seen = set()
    # Both languages in one process: an address kept for one must not serve the other.
    for language in ("en", "da", "en"):
        with translation.override(language):
            for view_name, record in records.items():
                address = record.get_absolute_url()
                assert address == reverse(view_name, kwargs={"slug": record.slug})
                assert address.startswith(f"/{language}/")
                seen.add(address)
    assert len(seen) == 2 * len(records)


@pytest.mark.parametrize("model", [Place, Organisation, Partnership])
def test_a_record_without_a_slug_has_no_address(model):
    with pytest.raises(NoReverseMatch):
        model().get_absolute_url()


@pytest.mark.parametrize("absolute", [False, True])
def test_an_api_responses_addresses_are_those_reverse_and_the_request_give(absolute):
    """``Addresses``, which links the records of one API response, answers as reverse()
    and ``request.build_absolute_uri()`` do, in the language it was made in."""
    place = PlaceFactory(name="Suzhou")
    source = SourceFactory()
    request = RequestFactory().get("/api/", secure=True) if absolute else None

    def made(path):
        return request.build_absolute_uri(path) if request else path

    for language in ("da", "en"):
        with translation.override(language):
            addresses = Addresses(request)
            expected = {
                "record": made(reverse("places:place-detail", kwargs={"slug": place.slug})),
                "slug": made(reverse("api:place-detail", kwargs={"slug": place.slug})),
                "lookup": made(reverse("api:source-detail", kwargs={"pk": source.pk})),
                "view": made(reverse("partnerships:partnership-list")),
            }
        # Made under that language, whatever is active when they are asked for.
        assert addresses.record(place) == expected["record"]
        assert addresses.slug("api:place-detail", place.slug) == expected["slug"]
        assert addresses.lookup("api:source-detail", "pk", source.pk) == expected["lookup"]
        assert addresses.view("partnerships:partnership-list") == expected["view"]
        origin = "https://testserver" if absolute else ""
        assert expected["record"] == f"{origin}/{language}/places/suzhou/"
