"""``core.search.id_list``: ids for ``pk__in=`` as one parameter, on either database."""

import pytest
from django.db import connection

from core.search import id_list, level_ids
from places.models import Place
from tests.factories import PlaceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places():
    return PlaceFactory.create_batch(5)


def test_the_ids_given_are_the_records_found(places):
    chosen = [places[0].pk, places[3].pk]
    assert set(Place.objects.filter(pk__in=id_list(chosen))) == {places[0], places[3]}
    assert set(Place.objects.exclude(pk__in=id_list(chosen))) == set(places) - {
        places[0],
        places[3],
    }


def test_any_iterable_of_ids_and_none_at_all(places):
    assert Place.objects.filter(pk__in=id_list(p.pk for p in places[:2])).count() == 2
    assert Place.objects.filter(pk__in=id_list({places[4].pk})).get() == places[4]
    assert not Place.objects.filter(pk__in=id_list([])).exists()


def test_thousands_of_ids_are_one_parameter(places):
    sent = []

    def record(execute, sql, params, many, context):
        sent.append((sql, params))
        return execute(sql, params, many, context)

    ids = [places[1].pk, *range(10**6, 10**6 + 5_000)]
    with connection.execute_wrapper(record):
        assert list(Place.objects.filter(pk__in=id_list(ids))) == [places[1]]
    ((sql, params),) = sent
    # Placeholders cost Python time to build and the database time to parse, per query.
    assert len(params) == 1
    assert len(sql) < 2_000


def test_a_walk_down_finds_the_same_below_a_short_or_a_long_level(places, monkeypatch):
    # A short level goes as plain values, for PostgreSQL to walk the parent index
    # (``level_ids``); a long one as one parameter. Either finds the same records.
    parent, *children = places
    for child in children[:3]:
        child.parent = parent
        child.save()
    level = [parent.pk, *range(10**6, 10**6 + 150)]
    short = set(Place.objects.filter(parent__in=level_ids(level[:1])))
    monkeypatch.setattr("core.search.SHORT_LEVEL", 0)
    long = set(Place.objects.filter(parent__in=level_ids(level)))
    assert short == long == set(children[:3])
