"""A place's own parts of its page (the place with its names, figures and sources, where it
lies, the places in it) are kept under the places version (``core.versioning``): a write
to a partnership or an organisation leaves them, and every write that changes them moves
that version, whatever path it takes."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import versioning
from core.models import Publication, Source
from partnerships.models import Partnership
from places.models import Place, PlaceFigure, PlaceName
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    SourceFactory,
)
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

# What only a place's own parts read: its other names, figures and sources.
OWN_TABLES = ("places_placename", "places_placefigure", "places_place_sources")


@pytest.fixture
def suzhou():
    """Suzhou in Jiangsu, with another name, a figure and a source, and a district; and
    the other Suzhou, in Anhui, which must never lend it anything."""
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, parent=china)
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE, parent=china)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    PlaceFactory(name="Suzhou", parent=anhui, description="In the north of Anhui.")
    PlaceName.objects.create(place=suzhou, name="Soochow")
    PlaceFigureFactory(
        place=suzhou, value=12_700_000, year=2020, source=SourceFactory(title="Census 2020")
    )
    PlaceFactory(name="Gusu", kind=Place.Kind.DISTRICT, parent=suzhou)
    return suzhou


def page(place, client=None):
    """The place's page as a reader gets it after a write: a miss."""
    response = (client or Client()).get(url("places:place-detail", slug=place.slug))
    assert response.status_code == 200
    assert response["X-Cache"] == "MISS"
    return response.content.decode().replace("\N{NO-BREAK SPACE}", " ")


def read_with_own_queries(place):
    """The place's page after a write, and those of its queries that read its own names,
    figures or sources."""
    with CaptureQueriesContext(connection) as queries:
        content = page(place)
    own = [query["sql"] for query in queries if any(t in query["sql"] for t in OWN_TABLES)]
    return content, own


def test_a_write_to_a_partnership_or_an_organisation_keeps_the_parts(suzhou):
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    assert read_with_own_queries(suzhou)[1]  # read once
    PartnershipFactory(title="Suzhou and Aarhus", parties=[suzhou, aarhus])
    content, own = read_with_own_queries(suzhou)
    assert not own
    # What the partnership wrote is there all the same, beside the parts kept.
    assert "Suzhou and Aarhus" in content
    assert "Soochow" in content and "Census 2020" in content and "Gusu" in content
    OrganisationFactory(name="Suzhou University", place=suzhou)
    content, own = read_with_own_queries(suzhou)
    assert not own and "Suzhou University" in content
    # A partnership's update(), through the bulk path, keeps them too.
    Partnership.objects.filter(title="Suzhou and Aarhus").update(title="Suzhou and Vejle")
    content, own = read_with_own_queries(suzhou)
    assert not own and "Suzhou and Vejle" in content


@pytest.mark.parametrize(
    "write, shown, gone",
    [
        pytest.param(
            lambda s: PlaceName.objects.bulk_create([PlaceName(place=s, name="Gusu-cheng")]),
            "Gusu-cheng",
            None,
            id="other name, bulk_create",
        ),
        pytest.param(
            lambda s: PlaceName.objects.filter(place=s).delete(),
            None,
            "Soochow",
            id="other name, delete",
        ),
        pytest.param(
            lambda s: PlaceFigure.objects.filter(place=s).update(year=2019),
            "2019",
            None,
            id="figure, update()",
        ),
        pytest.param(
            lambda s: Source.objects.filter(title="Census 2020").update(title="Census 2021"),
            "Census 2021",
            "Census 2020",
            id="a figure's source, update()",
        ),
        pytest.param(
            lambda s: s.sources.add(SourceFactory(title="Yearbook of Suzhou")),
            "Yearbook of Suzhou",
            None,
            id="sources, m2m add",
        ),
        pytest.param(
            lambda s: PlaceFactory(name="Wuzhong", kind=Place.Kind.DISTRICT, parent=s),
            "Wuzhong",
            None,
            id="a place in it, save",
        ),
        pytest.param(
            lambda s: Place.objects.filter(name="Gusu").update(publication=Publication.DRAFT),
            None,
            "Gusu",
            id="a place in it made a draft, update()",
        ),
        pytest.param(
            lambda s: PlaceFigureFactory(
                place=Place.objects.get(name="Gusu"), value=950_000, year=2021
            ),
            "950,000 inhabitants (2021)",
            None,
            id="the population on a card of a place in it",
        ),
        pytest.param(
            lambda s: Place.objects.filter(pk=s.pk).update(parent=Place.objects.get(name="Anhui")),
            "Anhui",
            "Jiangsu",
            id="moved to another province, update()",
        ),
    ],
)
def test_every_write_to_what_they_show_is_shown_at_once(suzhou, write, shown, gone):
    before = page(suzhou)
    assert gone is None or gone in before
    assert shown is None or shown not in before
    write(suzhou)
    after = page(suzhou)
    assert shown is None or shown in after
    assert gone is None or gone not in after
    # The other Suzhou's page is its own.
    other = Place.objects.exclude(pk=suzhou.pk).get(name="Suzhou")
    assert "In the north of Anhui." in page(other)


def test_raw_sql_with_a_bump_is_shown(suzhou):
    page(suzhou)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE places_place SET description_en = %s WHERE id = %s",
                ["On the Grand Canal.", suzhou.pk],
            )
        versioning.bump()
    assert "On the Grand Canal." in page(suzhou)


def test_a_draft_is_404_until_published_and_404_again_once_deleted(suzhou):
    draft = PlaceFactory(name="Kunshan", parent=suzhou, publication=Publication.DRAFT)
    address = url("places:place-detail", slug=draft.slug)
    assert Client().get(address).status_code == 404
    Place.objects.filter(pk=draft.pk).update(publication=Publication.PUBLISHED)
    assert "Kunshan" in page(draft)
    Place.objects.filter(pk=draft.pk).delete()
    assert Client().get(address).status_code == 404


def test_staff_and_the_public_each_get_their_own_parts(suzhou, admin_client):
    PlaceFactory(name="Kunshan", parent=suzhou, publication=Publication.DRAFT)
    address = url("places:place-detail", slug=suzhou.slug)
    assert "Kunshan" not in page(suzhou)
    assert "Kunshan" in admin_client.get(address).content.decode()
    assert "Kunshan" not in Client().get(address).content.decode()
    # And after a write that keeps both.
    PartnershipFactory(parties=[suzhou, Place.objects.get(name="Jiangsu")])
    assert "Kunshan" not in page(suzhou)
    assert "Kunshan" in admin_client.get(address).content.decode()


def test_each_language_gets_its_own_parts(suzhou):
    Place.objects.filter(pk=suzhou.pk).update(name_da="Suzhou (da)")
    english = Client().get(url("places:place-detail", slug=suzhou.slug))
    danish = Client().get(url("places:place-detail", language="da", slug=suzhou.slug))
    assert "Suzhou (da)" in danish.content.decode()
    assert "Suzhou (da)" not in english.content.decode()


def test_the_writes_to_these_models_move_the_places_version():
    place = PlaceFactory()
    for write in (
        lambda: PlaceName.objects.create(place=place, name="Another"),
        lambda: PlaceFigureFactory(place=place),
        lambda: place.sources.add(SourceFactory()),
        lambda: Source.objects.update(author="Danmarks Statistik"),
    ):
        before = versioning.places_version()
        write()
        assert versioning.places_version() != before
    other = PlaceFactory()
    before = versioning.places_version()
    PartnershipFactory(parties=[place, other])
    OrganisationFactory(place=place)
    assert versioning.places_version() == before
