"""Every way the list takes its counts from what the writes keep gives what counting the
records gives: facets, count and chart, for random filters on a random registry.

The shortcuts (a filter every partnership passes, a facet counted with the ones nothing is
chosen in, kinds and statuses, one theme, one participant value, the chart from the facet
lines) each stand for a count of the records. Here every shortcut is turned off in turn
(monkeypatched) and the answers compared, for the public and staff, over filters drawn
from a fixed seed: a registry where Denmark is in every partnership but one draft, with
repeated names, drafts, undated starts and starts known to the decade only.
"""

import random

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import QueryDict

from core.models import Publication
from partnerships.filters import PartnershipFilter
from partnerships.models import Partnership
from partnerships.templatetags.explore_tags import started_per_year
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

KINDS = ["sister_city", "cooperation", "office", "research_collaboration"]
STATUSES = ["active", "ended", "planned", "unknown"]
THEMES = ["energy", "water", "health"]
STARTS = ["2001", "2004", "c. 2008", "2012", "1990s", "2015-03", None, None]


@pytest.fixture
def registry():
    draw = random.Random(31)
    aarhus = PlaceFactory(name="Aarhus", country="DK", kind="municipality")
    danish = [
        aarhus,
        PlaceFactory(name="Ringsted", country="DK", kind="municipality"),
        OrganisationFactory(name="SDU", country="DK", kind="university"),
    ]
    abroad = [
        PlaceFactory(name="Suzhou", country="CN", kind="city"),
        PlaceFactory(name="Suzhou", country="CN", kind="district"),
        PlaceFactory(name="Ringsted", country="US", kind="city"),
        PlaceFactory(name="Jiangsu", country="CN", kind="province"),
        OrganisationFactory(name="Fudan", country="CN", kind="university"),
        OrganisationFactory(name="Haier", country="CN", kind="company"),
        PlaceFactory(name="Malmö", country="SE", kind="municipality"),
    ]
    themes = [ThemeFactory(slug=slug, name=slug.title()) for slug in THEMES]
    for number in range(36):
        parties = [draw.choice(danish), *draw.sample(abroad, draw.randint(1, 2))]
        partnership = PartnershipFactory(
            title=f"Tie {number:02}",
            parties=parties,
            kind=draw.choice(KINDS),
            status=draw.choice(STATUSES),
            start=draw.choice(STARTS),
            publication=Publication.DRAFT if draw.random() < 0.15 else Publication.PUBLISHED,
        )
        partnership.themes.set(draw.sample(themes, draw.randint(0, 2)))
    # A draft without a Danish participant: Denmark is in every one the public sees.
    PartnershipFactory(title="Draft abroad", parties=abroad[:2], publication=Publication.DRAFT)


def queries():
    draw = random.Random(5)
    choices = {
        "kind": KINDS,
        "status": STATUSES,
        "theme": THEMES,
        "country": ["DK", "CN", "US", "SE"],
        "place_kind": ["municipality", "city", "province"],
        "organisation_kind": ["university", "company"],
        "as_of": ["2005", "2013"],
    }
    found = ["country=DK", "country=DK&kind=office", "country=DK&country=SE&status=ended"]
    while len(found) < 40:
        names = draw.sample(sorted(choices), draw.randint(1, 3))
        query = []
        for name in names:
            values = choices[name]
            many = 1 if name == "as_of" else draw.randint(1, 2)
            query += [f"{name}={value}" for value in draw.sample(values, many)]
        found.append("&".join(query))
    return found


def answers(query, user):
    """The facets, the count and the chart of ``query``, as the list gives them."""
    cache.clear()  # kept per registry version: answer afresh
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid(), query
    counts = filterset.facet_counts()
    count = filterset.known_count()
    chart = filterset.kept_starts() or filterset.counted_starts()
    return counts, count, chart, filterset.qs


@pytest.mark.parametrize("who", ["public", "staff"])
def test_every_kept_count_is_what_counting_gives(registry, monkeypatch, who):
    user = AnonymousUser() if who == "public" else UserFactory(is_staff=True, is_superuser=True)
    kept = {query: answers(query, user) for query in queries()}
    with monkeypatch.context() as counting:
        for name in ("kept_for_chosen", "kept_less_the_rest"):
            counting.setattr(PartnershipFilter, name, lambda self, skip=(): {})
        counting.setattr(PartnershipFilter, "kept_counts", lambda self, names: {})
        counting.setattr(PartnershipFilter, "keeps_every", lambda self, name: False)
        counting.setattr(PartnershipFilter, "known_count", lambda self: None)
        for query, (counts, count, chart, records) in kept.items():
            counted, _count, _chart, _records = answers(query, user)
            assert counts == counted, query
            assert count in (None, records.count()), query
            if chart is not None:
                assert chart == started_per_year(records), query
    # The shortcuts were taken: most queries counted nothing of their own chosen facets.
    assert sum(chart is not None for _counts, _count, chart, _records in kept.values()) > 20
