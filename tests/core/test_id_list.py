"""``core.search.id_list``: ids for ``pk__in=`` as one parameter, on either database."""

import pytest
from django.db import connection

from core.search import id_list, level_ids, text_list
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


@pytest.mark.parametrize("weighed", [True, False])
def test_texts_are_one_parameter_too(places, weighed):
    # Quotes, commas, braces, backslashes and the word NULL: what a PostgreSQL array
    # literal or JSON must escape or quote, sent as it is.
    awkward = ['Ring"sted', "a,b", "{x}", "back\\slash", "NULL", " spaced ", "Ærø"]
    sent = []

    def texts(values):
        # Weighed or not, PostgreSQL reads the same array (``InIdList``).
        return text_list(values, weighed=weighed)

    def record(execute, sql, params, many, context):
        sent.append(params)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        found = list(Place.objects.filter(slug__in=texts([*awkward, places[2].slug])))
    assert found == [places[2]]
    assert [len(params) for params in sent] == [1]
    for place, name in zip(places, awkward[:5], strict=True):
        place.slug = name
        place.save()
    found = Place.objects.filter(slug__in=texts([*awkward[:5], "absent"]))
    assert set(found) == set(places)
    assert set(Place.objects.filter(slug__in=texts(awkward[3:5]))) == set(places[3:5])
    assert not Place.objects.filter(slug__in=texts([])).exists()


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


def test_rows_by_id_are_the_rows_django_reads_compiled_once_per_language(places):
    from django.db.models import F
    from django.utils import translation

    from core.search import RowsById
    from core.translation import Localized

    for place, (danish, english) in zip(
        places, [("Århus", "Aarhus"), ("Bornholm", "Zealand"), ("Ølby", "Ashby")], strict=False
    ):
        place.name_da, place.name_en = danish, english
        place.save()
    built = []

    def build(ids):
        built.append(ids)
        return (
            Place.objects.filter(pk__in=ids)
            .order_by(Localized("name").asc(), "pk")
            .values_list("pk", "slug", F("parent_id"))
        )

    rows = RowsById(build)
    chosen = [places[0].pk, places[1].pk, places[2].pk, places[4].pk]
    for language in ("en", "da", "en"):
        with translation.override(language):
            expected = list(build(chosen))
            assert rows.rows(chosen) == expected, language
            assert rows.rows(chosen[1:2]) == list(build(chosen[1:2])), language
            assert rows.rows([]) == []
    with translation.override("en"):
        english = [slug for _pk, slug, _parent in rows.rows(chosen)]
    with translation.override("da"):
        danish = [slug for _pk, slug, _parent in rows.rows(chosen)]
    assert english[0] == places[0].slug  # Aarhus
    assert danish[0] == places[1].slug  # Bornholm
    # Compiled once for each language; the other calls above built their expected rows.
    assert sum(1 for ids in built if not isinstance(ids, list)) == 2


def test_rows_by_id_are_converted_as_django_converts_them(places):
    from decimal import Decimal

    from core.search import RowsById
    from places.models import PlaceFigure
    from tests.factories import PlaceFigureFactory

    PlaceFigureFactory(place=places[0], value=Decimal("1234.5"), year=2020)
    PlaceFigureFactory(place=places[1], value=Decimal("77300000"), year=2021)

    def build(ids):
        return (
            PlaceFigure.objects.filter(place_id__in=ids)
            .order_by("place_id")
            .values_list("place_id", "value", "year", "place__created_at")
        )

    chosen = [places[0].pk, places[1].pk]
    rows = RowsById(build).rows(chosen)
    assert rows == [tuple(row) for row in build(chosen)]
    assert [type(value) for value in rows[0]] == [type(value) for value in build(chosen)[0]]
    assert isinstance(rows[0][1], Decimal) and rows[0][3].tzinfo is not None
