"""The places each partnership lies in, kept by the writes (``facets`` ``WITHIN``): what a
place's page counts and what the list's place filter reads.

The truth they must always equal: the partnerships with a participant among a place and
every place below it, or based in one, found through the participants (``for_places``).
"""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atlas.registry import IMPORT_SPECS
from core.models import Publication
from importing.engine import Importer
from partnerships import facets, models
from partnerships.models import FacetCount, Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory, UserFactory
from tests.importing.conftest import csv_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    """Two Suzhous, two Ringsteds, a hierarchy six levels deep, an organisation based deep
    in it, a draft place and a draft partnership."""
    china = PlaceFactory(name="China", slug="china", kind="country")
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind="province", parent=china)
    anhui = PlaceFactory(name="Anhui", slug="anhui", kind="province", parent=china)
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", parent=jiangsu)
    suzhou_anhui = PlaceFactory(name="Suzhou", slug="suzhou-anhui", parent=anhui)
    gusu = PlaceFactory(name="Gusu", slug="gusu", kind="district", parent=suzhou)
    pingjiang = PlaceFactory(name="Pingjiang", slug="pingjiang", kind="district", parent=gusu)
    street = PlaceFactory(name="Pingjiang Road", slug="road", kind="district", parent=pingjiang)
    lane = PlaceFactory(
        name="A lane", slug="lane", kind="district", parent=street, publication=Publication.DRAFT
    )
    denmark = PlaceFactory(name="Denmark", slug="denmark", kind="country", country="DK")
    zealand = PlaceFactory(
        name="Region Zealand", slug="zealand", kind="region", country="DK", parent=denmark
    )
    ringsted = PlaceFactory(
        name="Ringsted", slug="ringsted", kind="municipality", country="DK", parent=zealand
    )
    iowa = PlaceFactory(name="Iowa", slug="iowa", kind="province", country="US")
    ringsted_iowa = PlaceFactory(name="Ringsted", slug="ringsted-iowa", country="US", parent=iowa)
    university = OrganisationFactory(
        name="Soochow University", slug="soochow", country="CN", place=pingjiang
    )
    ties = {
        "ringsted-suzhou": [ringsted, suzhou],
        "university-ringsted": [university, ringsted],
        # Both in Jiangsu: one tie of Jiangsu's, not two.
        "jiangsu-suzhou": [jiangsu, suzhou],
        "lane-denmark": [lane, denmark],
    }
    for slug, parties in ties.items():
        PartnershipFactory(slug=slug, parties=parties)
    PartnershipFactory(
        slug="draft-iowa-anhui",
        publication=Publication.DRAFT,
        parties=[ringsted_iowa, suzhou_anhui],
    )
    return locals()


@pytest.fixture(params=[5000, 0], ids=["ids-read-first", "subquery"])
def read_first(request, monkeypatch):
    """Whether a place's few ties are read first or in a subquery changes how, not what."""
    monkeypatch.setattr(models, "READ_FIRST", request.param)


def through_participants(place, queryset):
    return set(queryset.for_places(Place.subtree_ids([place.pk])).values_list("slug", flat=True))


def assert_true_to_the_hierarchy():
    """For every place and both scopes: the kept ties and their count are those found
    through the participants of the place and every place below it."""
    for place in Place.objects.all():
        for scope, queryset in (
            (facets.ALL, Partnership.objects.all()),
            (facets.PUBLISHED, Partnership.objects.published()),
        ):
            expected = through_participants(place, queryset)
            found = set(queryset.within([place.pk]).values_list("slug", flat=True))
            assert found == expected, place
            assert facets.count(scope, "within", str(place.pk)) == len(expected), place


def test_a_place_has_the_ties_of_every_place_below_it(world):
    assert_true_to_the_hierarchy()
    published = Partnership.objects.published()
    slugs = lambda place: set(published.within([place.pk]).values_list("slug", flat=True))  # noqa: E731
    # Through a district five levels down, and a draft place there: the page of a place
    # shows the public a published tie whoever takes part in it, as the list does.
    assert slugs(world["china"]) == {
        "ringsted-suzhou",
        "university-ringsted",
        "jiangsu-suzhou",
        "lane-denmark",
    }
    assert slugs(world["gusu"]) == {"university-ringsted", "lane-denmark"}
    # The other Suzhou and the other Ringsted have only the draft; Anhui's is not Jiangsu's.
    assert slugs(world["suzhou_anhui"]) == set()
    assert slugs(world["ringsted_iowa"]) == set()
    assert set(
        Partnership.objects.within([world["suzhou_anhui"].pk]).values_list("slug", flat=True)
    ) == {"draft-iowa-anhui"}
    assert facets.count(facets.PUBLISHED, "within", str(world["jiangsu"].pk)) == 4


def test_moves_in_the_hierarchy_move_the_ties_at_every_depth(world):
    # Jiangsu to Denmark, by a save: the lane, five levels below it, moves too.
    jiangsu = world["jiangsu"]
    jiangsu.parent = world["denmark"]
    jiangsu.save()
    assert_true_to_the_hierarchy()
    assert "lane-denmark" not in through_participants(world["china"], Partnership.objects.all())
    # Back, in a bulk update, as a merge or a shell would.
    Place.objects.filter(pk=jiangsu.pk).update(parent=world["china"])
    assert_true_to_the_hierarchy()
    # The district out of its city, and the university to another Ringsted.
    Place.objects.filter(slug="pingjiang").update(parent=world["iowa"])
    assert_true_to_the_hierarchy()
    university = world["university"]
    university.place = world["ringsted_iowa"]
    university.save()
    assert_true_to_the_hierarchy()
    university.place = None
    university.save()
    assert_true_to_the_hierarchy()
    assert facets.count(facets.ALL, "within", str(world["iowa"].pk)) == 2


def ties_shown(response):
    """The count in the heading of a place page's partnerships section."""
    found = re.search(r'id="partnerships-heading">[^<]*<span class="count">(\d+)<', response.text)
    return int(found.group(1))


def test_a_places_page_counts_its_ties_from_the_kept_counts(client, world, read_first):
    url = world["china"].get_absolute_url()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert ties_shown(response) == 4
    # No query counts the partnerships: the number was kept as they were written.
    counts = [
        q["sql"] for q in queries if "COUNT(" in q["sql"] and "partnerships_partnership" in q["sql"]
    ]
    assert counts == []
    assert {p.slug for p in response.context["partnerships"]} == {
        "ringsted-suzhou",
        "university-ringsted",
        "jiangsu-suzhou",
        "lane-denmark",
    }
    # Staff see the draft tie of the other Suzhou in China too.
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(url)
    assert ties_shown(response) == 5
    response = client.get(world["suzhou_anhui"].get_absolute_url())
    assert ties_shown(response) == 1


def listed(client, query):
    response = client.get(reverse("partnerships:partnership-list") + "?" + query)
    assert response.status_code == 200
    return response.context["paginator"].count, {p.slug for p in response.context["object_list"]}


def test_the_list_of_a_place_reads_its_kept_ties(client, world, read_first):
    assert listed(client, "place=jiangsu") == (
        4,
        {"ringsted-suzhou", "university-ringsted", "jiangsu-suzhou", "lane-denmark"},
    )
    assert listed(client, "place=gusu") == (2, {"university-ringsted", "lane-denmark"})
    assert listed(client, "place=suzhou-anhui") == (0, set())
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert listed(client, "place=suzhou-anhui") == (1, {"draft-iowa-anhui"})


def test_a_country_in_every_tie_keeps_them_all_and_one_without_it_is_left_out(
    client, world, read_first
):
    # China and Denmark take part in every published tie; the draft is in the US and China.
    every = {"ringsted-suzhou", "university-ringsted", "jiangsu-suzhou", "lane-denmark"}
    assert listed(client, "place=china") == (4, every)
    assert listed(client, "place=denmark") == (3, every - {"jiangsu-suzhou"})
    # A tie in Iowa alone, published: China no longer holds every one.
    PartnershipFactory(slug="iowa-only", parties=[world["ringsted_iowa"], world["iowa"]])
    assert listed(client, "place=china") == (4, every)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert listed(client, "place=china") == (5, every | {"draft-iowa-anhui"})
    response = client.get(reverse("partnerships:partnership-list") + "?place=china")
    shown = {f.name: {o.value: o.count for o in f.options} for f in response.context["facets"]}
    assert shown["country"] == {"CN": 5, "DK": 3, "US": 1}


def test_a_country_in_every_tie_counts_from_the_kept_counts_alone(client, world, read_first):
    """None is left out, so the facets are the kept counts: nothing is read to take the
    values of the partnerships left out off them."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("partnerships:partnership-list") + "?place=china")
    shown = {f.name: {o.value: o.count for o in f.options} for f in response.context["facets"]}
    assert shown["country"] == {"CN": 4, "DK": 3}
    assert shown["status"] and shown["kind"]
    assert not [q for q in queries if "facetline" in q["sql"]]


def test_the_kept_ties_are_rebuilt_by_a_recount(world):
    FacetCount.objects.filter(facet="within").delete()
    facets.recount()
    assert_true_to_the_hierarchy()


def test_an_import_that_moves_a_place_and_its_undo(world, editor, editor_client):
    # The spreadsheet puts Jiangsu's Suzhou, with its districts and the university based
    # in one, under Anhui; the undo puts it back.
    data = csv_bytes(
        [["slug", "name", "kind", "country", "parent"], ["suzhou", "Suzhou", "city", "CN", "anhui"]]
    )
    report = Importer(IMPORT_SPECS["places"], user=editor).run(data, "places.csv")
    assert report.problems == []
    assert Place.objects.get(slug="suzhou").parent == world["anhui"]
    assert_true_to_the_hierarchy()
    assert "university-ringsted" in through_participants(world["anhui"], Partnership.objects.all())
    response = editor_client.post(reverse("admin:core_importbatch_undo", args=[report.batch.pk]))
    assert response.status_code == 302
    assert Place.objects.get(slug="suzhou").parent == world["jiangsu"]
    assert_true_to_the_hierarchy()
