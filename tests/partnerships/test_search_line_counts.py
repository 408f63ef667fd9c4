"""What a search's matches count in each facet (``partnerships.filters.line_counts``) is
counted once by each worker per counts version and set of matches: never stale, since
the keeper moves the counts version with any partnership's values, even when no count
moves (two partnerships that swap their themes in one batch)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core import versioning
from partnerships.models import Partnership, Theme
from tests.factories import PartnershipFactory, PlaceFactory, ThemeFactory
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


@pytest.fixture
def ties():
    """Two partnerships of the same two places, kind and status: only their themes
    differ. Searched by title, only the first is found."""
    parties = [PlaceFactory(name="Wuxi", country="CN"), PlaceFactory(name="Aarhus", country="DK")]
    health, water = ThemeFactory(name="Health", slug="health"), ThemeFactory(slug="water")
    alpha = PartnershipFactory(title="Alpha tie", kind="sister_city", parties=parties)
    beta = PartnershipFactory(title="Beta tie", kind="sister_city", parties=parties)
    alpha.themes.add(health)
    beta.themes.add(water)
    return alpha, beta


def searched(client, facet):
    """The counts of ``facet`` on the partnership list searched for "alpha", built anew,
    and whether the facet lines were read to count them."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url("partnerships:partnership-list", query="q=alpha"))
    assert response["X-Cache"] == "MISS"
    found = next(shown for shown in response.context["facets"] if shown.name == facet)
    read = any("facetline" in query["sql"] for query in queries)
    return {option.value: option.count for option in found.options}, read


def test_a_write_that_moves_no_value_counts_nothing_again(client, ties):
    alpha, _beta = ties
    assert searched(client, "kind") == ({"sister_city": 1}, True)
    alpha.description_en = "A description"
    alpha.save()
    assert searched(client, "kind") == ({"sister_city": 1}, False)
    Partnership.objects.filter(pk=alpha.pk).update(kind="office")
    assert searched(client, "kind") == ({"office": 1}, True)


def test_values_that_move_with_every_count_as_it_was_are_counted_again(client, ties):
    alpha, beta = ties
    assert searched(client, "theme") == ({"health": 1}, True)
    counts = versioning.part_versions(["counts"])
    # In one batch, as an import writes: every count is as it was.
    with versioning.batch():
        alpha.themes.set([Theme.objects.get(slug="water")])
        beta.themes.set([Theme.objects.get(slug="health")])
    assert versioning.part_versions(["counts"]) != counts
    assert searched(client, "theme") == ({"water": 1}, True)
