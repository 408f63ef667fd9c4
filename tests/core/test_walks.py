"""Walks down a hierarchy in one query (core.search), as the place pages use them."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import subtree_ids
from core.search import levels_below, subtree
from organisations.models import Organisation
from places.models import Place
from tests.factories import OrganisationFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def test_subtree_ids_are_the_given_ones_then_every_record_below_in_one_query():
    country = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY)
    region = PlaceFactory(name="Zealand", parent=country)
    town = PlaceFactory(name="Ringsted", parent=region)
    # Deeper than any walk a search takes, and drafts too.
    deep, parent = [], town
    for level in range(6):
        parent = PlaceFactory(name=f"Part {level}", parent=parent, publication="draft")
        deep.append(parent.pk)
    PlaceFactory(name="Ringsted, Iowa")  # same name, not below
    with CaptureQueriesContext(connection) as queries:
        ids = subtree_ids(Place, [town.pk, country.pk, town.pk])
    assert len(queries) == 1
    assert ids[:2] == [town.pk, country.pk]
    assert len(ids) == len(set(ids))
    assert set(ids) == {country.pk, region.pk, town.pk, *deep}
    assert country.descendant_ids()[0] != country.pk
    assert set(country.descendant_ids()) == {region.pk, town.pk, *deep}
    assert subtree_ids(Place, []) == []


def test_subtree_ids_end_where_an_update_made_parents_loop():
    top = OrganisationFactory(name="Group")
    part = OrganisationFactory(name="Division", parent=top)
    unit = OrganisationFactory(name="Unit", parent=part)
    Organisation.objects.filter(pk=top.pk).update(parent=unit)
    assert sorted(subtree_ids(Organisation, [part.pk])) == sorted([top.pk, part.pk, unit.pk])


def test_a_place_page_shows_organisations_based_anywhere_below_it(client):
    country = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY)
    town = PlaceFactory(name="Ringsted", parent=PlaceFactory(name="Zealand", parent=country))
    OrganisationFactory(name="Ringsted Business Council", place=town)
    OrganisationFactory(name="Iowa Business Council", place=PlaceFactory(name="Ringsted, IA"))
    page = client.get(country.get_absolute_url()).content.decode()
    assert "Ringsted Business Council" in page
    assert "Iowa Business Council" not in page


def test_a_walk_from_nothing_finds_nothing_beside_one_from_something():
    group = OrganisationFactory(name="Group")
    unit = OrganisationFactory(name="Unit", parent=group)
    assert subtree(Place.objects.none()) == []
    places, organisations = levels_below(
        [Place.objects.none(), Organisation.objects.filter(pk=group.pk)], 4
    )
    assert places == []
    assert organisations == [(group.pk, None, 0), (unit.pk, group.pk, 1)]


def test_a_seed_that_selects_a_record_twice_walks_it_once():
    """The walk starts from the rows the seed selects: a join that repeats a record (two
    of its other names match) starts it once, as does a record that is also below
    another seed record."""
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    suzhou = PlaceFactory(name="Suzhou", parent=china)
    district = PlaceFactory(name="Gusu", parent=suzhou)
    suzhou.other_names.create(name="Soochow", language="en")
    suzhou.other_names.create(name="Sou-chou", language="fr")
    china.other_names.create(name="Zhongguo", language="zh")
    seed = Place.objects.filter(other_names__name__in=["Soochow", "Sou-chou", "Zhongguo"])
    assert seed.count() == 3  # Suzhou twice
    [rows] = levels_below([seed], 4)
    assert sorted(rows) == sorted(
        [
            (china.pk, None, 0),
            (suzhou.pk, china.pk, 0),
            (suzhou.pk, china.pk, 1),
            (district.pk, suzhou.pk, 1),
            (district.pk, suzhou.pk, 2),
        ]
    )
    assert sorted(subtree(seed)) == sorted([china.pk, suzhou.pk, district.pk])
