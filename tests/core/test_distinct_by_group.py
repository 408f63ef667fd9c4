"""core.search.distinct_by_group: distinct values per group, counted in the database."""

import pytest
from django.db.models.functions import Coalesce

from core.search import distinct_by_group
from partnerships.models import Participant
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def test_counts_each_value_once_per_group_and_leaves_unmapped_keys_out(
    django_assert_num_queries,
):
    suzhou, gusu, wuxi, ringsted = (
        PlaceFactory(name=name) for name in ("Suzhou", "Gusu", "Wuxi", "Ringsted")
    )
    soochow = OrganisationFactory(name="Soochow University", place=gusu)
    twice = PartnershipFactory(parties=[gusu, soochow])  # twice in Suzhou's group
    both = PartnershipFactory(parties=[suzhou, wuxi])  # once in each group
    PartnershipFactory(parties=[ringsted, wuxi])
    PartnershipFactory(parties=[ringsted, OrganisationFactory()])  # nowhere mapped
    ties = Participant.objects.annotate(where=Coalesce("place_id", "organisation__place_id"))
    groups = {suzhou.pk: suzhou.pk, gusu.pk: suzhou.pk, wuxi.pk: wuxi.pk}

    with django_assert_num_queries(1):
        counts = distinct_by_group(ties, "where", "partnership_id", groups)
    assert counts == {suzhou.pk: 2, wuxi.pk: 2}
    only = ties.filter(partnership__in=[twice.pk, both.pk])
    assert distinct_by_group(only, "where", "partnership_id", groups) == {
        suzhou.pk: 2,
        wuxi.pk: 1,
    }
    with django_assert_num_queries(0):
        assert distinct_by_group(ties, "where", "partnership_id", {}) == {}
