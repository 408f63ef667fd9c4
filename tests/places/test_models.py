from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from core.text import query_terms
from places.models import Place, PlaceFigure
from tests.factories import PlaceFactory, PlaceFigureFactory, PlaceNameFactory, SourceFactory

pytestmark = pytest.mark.django_db


def test_slug_is_derived_from_the_name_and_kept_unique():
    first = PlaceFactory(name="Region Sjælland")
    second = PlaceFactory(name="Region Sjælland", country="DK")
    assert first.slug == "region-sjaelland"
    assert second.slug == "region-sjaelland-2"


def test_a_place_cannot_be_its_own_parent_in_the_database():
    place = PlaceFactory()
    place.parent_id = place.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        place.save()


def test_a_place_cannot_lie_inside_its_own_descendant():
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", parent=china)
    nanjing = PlaceFactory(name="Nanjing", parent=jiangsu)
    china.parent = nanjing
    with pytest.raises(ValidationError) as error:
        china.full_clean()
    assert "parent" in error.value.message_dict
    jiangsu.parent = jiangsu
    with pytest.raises(ValidationError):
        jiangsu.full_clean()


def test_ancestors_and_descendants_follow_the_hierarchy():
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", parent=china)
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    PlaceFactory(name="Zhejiang", parent=china)
    assert wuxi.ancestors() == [jiangsu, china]
    assert set(jiangsu.descendant_ids()) == {wuxi.pk, suzhou.pk}
    assert len(china.descendant_ids()) == 4


@pytest.mark.parametrize(
    ("latitude", "longitude"), [(Decimal("90.5"), 0), (0, Decimal("-180.1")), (-91, 10)]
)
def test_coordinates_out_of_range_are_refused(latitude, longitude):
    place = PlaceFactory.build(latitude=latitude, longitude=longitude)
    with pytest.raises(ValidationError):
        place.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        place.save()


def test_half_a_coordinate_is_refused():
    place = PlaceFactory.build(latitude=Decimal("32.06"), longitude=None)
    with pytest.raises(ValidationError):
        place.full_clean()


def test_negative_figures_are_refused():
    figure = PlaceFigureFactory.build(
        place=PlaceFactory(), source=SourceFactory(), value=Decimal("-1")
    )
    with pytest.raises(ValidationError):
        figure.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        figure.save()


def test_the_newest_figure_is_current_and_older_ones_are_kept():
    place = PlaceFactory(name="Jiangsu")
    source = SourceFactory()
    PlaceFigureFactory(place=place, source=source, value=74_000_000, year=2005)
    PlaceFigureFactory(place=place, source=source, value=77_300_000, year=2009)
    PlaceFigureFactory(place=place, source=source, kind=PlaceFigure.Kind.AREA, value=102_600)
    annotated = Place.objects.with_current_figures().get(pk=place.pk)
    assert annotated.current_population == 77_300_000
    assert annotated.current_population_year == 2009
    assert annotated.current_area == 102_600
    assert place.current_figure(PlaceFigure.Kind.POPULATION).year == 2009
    # A card's places read the same population after them, in a query of their own.
    bare = PlaceFactory(name="Bare")
    carded = {p.pk: p for p in Place.objects.with_card_parts().filter(pk__in=[place.pk, bare.pk])}
    assert (carded[place.pk].current_population, carded[place.pk].current_population_year) == (
        annotated.current_population,
        2009,
    )
    assert type(carded[place.pk].current_population) is type(annotated.current_population)
    assert (carded[bare.pk].current_population, carded[bare.pk].current_population_year) == (
        None,
        None,
    )
    assert place.figures.filter(kind=PlaceFigure.Kind.POPULATION).count() == 2


def test_every_name_finds_the_place_and_the_key_follows_name_changes():
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡")
    other = PlaceNameFactory(place=wuxi, name="Wutshi", language="da")
    for query in ["Wuxi", "wutshi", "无锡", "WUX"]:
        assert list(Place.objects.matching(query_terms(query))) == [wuxi]
    other.name = "Wu-hsi"
    other.save()
    assert not Place.objects.matching(query_terms("wutshi")).exists()
    assert list(Place.objects.matching(query_terms("wuhsi"))) == [wuxi]
    other.delete()
    assert not Place.objects.matching(query_terms("wuhsi")).exists()
    PlaceNameFactory(place=wuxi, name="Wutshi")
    wuxi.other_names.all().delete()
    assert not Place.objects.matching(query_terms("wutshi")).exists()


def test_wikidata_ids_are_checked():
    place = PlaceFactory.build(wikidata_id="42")
    with pytest.raises(ValidationError) as error:
        place.full_clean()
    assert "wikidata_id" in error.value.message_dict
