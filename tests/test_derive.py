"""The derived fields and rules that save(), the admin and the bulk writers share."""

import datetime
from collections import ChainMap

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from core.models import ParentsInDatabase, Source, contains_itself
from core.text import search_key
from organisations.models import Organisation
from partnerships import facets
from partnerships.models import Event, Partnership
from places.models import Place, PlaceName
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def test_derive_numbers_slugs_against_a_set_of_taken_slugs_without_asking_the_database(
    django_assert_num_queries,
):
    PlaceFactory(name="Suzhou")  # in the database, but the caller's set is what counts
    taken = {"suzhou", "suzhou-2"}
    first, second = Place(name="Suzhou"), Place(name="Suzhou")
    with django_assert_num_queries(0):
        first.derive(names=["Suzhou", "苏州"], taken_slugs=taken)
        second.derive(names=["Suzhou"], taken_slugs=taken)
    assert (first.slug, second.slug) == ("suzhou-3", "suzhou-4")
    assert taken == {"suzhou", "suzhou-2", "suzhou-3", "suzhou-4"}
    assert first.search_key == search_key(["Suzhou", "苏州"])


def test_derive_without_a_set_numbers_against_the_database_and_keeps_a_given_slug():
    PlaceFactory(name="Jilin")
    place = Place(name="Jilin", kind=Place.Kind.CITY, country="CN")
    place.derive()
    assert place.slug == "jilin-2"
    kept = Place(name="Jilin", slug="jilin-city")
    kept.derive(taken_slugs=set())
    assert kept.slug == "jilin-city"


def test_partnership_derive_fills_the_date_range_as_save_does():
    partnership = Partnership(title="Aarhus – Harbin", start="1980s", end="2001-05")
    partnership.derive(taken_slugs=set())
    assert partnership.slug == "aarhus-harbin"
    assert partnership.start_on == datetime.date(1980, 1, 1)
    assert partnership.end_on == datetime.date(2001, 5, 31)
    event = Event(date="2010-03")
    event.derive()
    assert event.date_on == datetime.date(2010, 3, 1)


def test_the_parent_cycle_rule_works_on_parents_not_yet_saved():
    province = PlaceFactory(name="Jilin", kind=Place.Kind.PROVINCE)
    city = PlaceFactory(name="Jilin", parent=province)
    in_database = ParentsInDatabase(Place)
    assert not contains_itself(city.pk, province.pk, in_database)
    # An import that moves the province under the city: the row is checked before saving.
    assert contains_itself(province.pk, city.pk, in_database)
    # ... unless the same import also moves the city out of the province.
    assert not contains_itself(province.pk, city.pk, ChainMap({city.pk: None}, in_database))
    assert contains_itself(1, 2, {2: 3, 3: 1})
    assert not contains_itself(1, 2, {2: 3, 3: 2})  # a cycle elsewhere does not loop forever
    assert not contains_itself(None, 2, {})


def test_the_participant_minimum_is_one_rule():
    Partnership.check_participant_count(2)
    with pytest.raises(ValidationError) as error, translation.override("en"):
        Partnership.check_participant_count(1)
    assert error.value.code == "too_few_participants"
    with translation.override("en"):
        assert "at least 2 participants" in error.value.messages[0]
    PartnershipFactory()  # the factory's two parties pass


# QuerySet.update() of what others are derived from (core.models.DerivedQuerySet) -------


def test_an_update_of_names_gives_new_search_keys():
    suzhou = PlaceFactory(name="Suzhou", native_name="苏州")
    other = PlaceFactory(name="Suzhou")  # the other Suzhou, not renamed
    Place.objects.filter(pk=suzhou.pk).update(name_en="Soochow", native_name="")
    assert list(Place.objects.search("soochow")) == [suzhou]
    assert list(Place.objects.search("suzhou")) == [other]
    assert not Place.objects.search("苏州").exists()
    university = OrganisationFactory(name="Soochow University")
    Organisation.objects.filter(pk=university.pk).update(short_name="SUDA")
    assert list(Organisation.objects.search("suda")) == [university]
    source = SourceFactory(title="Census 2020")
    Source.objects.filter(pk=source.pk).update(title="Census 2021")
    assert list(Source.objects.search("census 2021")) == [source]


def test_an_update_of_dates_derives_the_days_and_recounts_the_chart():
    partnership = PartnershipFactory(start="1990")
    event = EventFactory(partnership=partnership, date="1991")
    Partnership.objects.filter(pk=partnership.pk).update(start="c. 2010", end="2015-05")
    partnership.refresh_from_db()
    assert partnership.start_on == datetime.date(2010, 1, 1)
    assert partnership.end_on == datetime.date(2015, 5, 31)
    started = facets.counts(facets.ALL, ["started"])["started"]
    assert started.get(f"2010|{partnership.kind}") == 1
    assert f"1990|{partnership.kind}" not in started
    Event.objects.filter(pk=event.pk).update(date="2011-03")
    event.refresh_from_db()
    assert event.date_on == datetime.date(2011, 3, 1)


def test_an_update_that_derives_nothing_reads_no_records():
    place = PlaceFactory()
    with CaptureQueriesContext(connection) as queries:
        Place.objects.filter(pk=place.pk).update(latitude=31.3, longitude=120.6)
    assert not [q["sql"] for q in queries if '"places_place"."search_key"' in q["sql"]]
    with CaptureQueriesContext(connection) as queries:
        Place.objects.filter(pk=place.pk).update(name_en="Suzhou")
    assert [q["sql"] for q in queries if '"places_place"."search_key"' in q["sql"]]


def test_an_update_of_other_names_gives_new_search_keys():
    suzhou = PlaceFactory(name="Suzhou")
    wuxi = PlaceFactory(name="Wuxi")
    PlaceName.objects.create(place=suzhou, name="Gusu")
    PlaceName.objects.filter(name="Gusu").update(name="Wu")
    assert set(Place.objects.search("wu")) == {suzhou, wuxi}
    assert not Place.objects.search("gusu").exists()
    # A name given to another record: both keys change.
    PlaceName.objects.filter(name="Wu").update(name="Gusu", place=wuxi)
    assert list(Place.objects.search("gusu")) == [wuxi]
