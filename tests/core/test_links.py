"""Records' addresses come from ``core.links``, reversed once per language: they must be
exactly what ``reverse()`` gives, in each language, for every kind of record."""

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import translation

from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory

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
