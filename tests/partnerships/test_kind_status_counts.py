"""A list filtered by kind or status alone, or by one theme alone, takes its other facets
and its chart of starts from the counts the writes keep per kind and status and per
theme: the same counts as counting the partnerships it keeps, after every
kind of write."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from partnerships import facets
from partnerships.filters import PartnershipFilter
from partnerships.models import Partnership, Theme
from partnerships.templatetags.explore_tags import started_per_year
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

QUERIES = [
    "status=active",
    "kind=sister_city",
    "status=active&status=ended",
    "kind=sister_city&status=active",
    "kind=sister_city&kind=cooperation_agreement&status=ended",
]
THEME_QUERIES = ["theme=energy", "theme=water"]


@pytest.fixture
def registry():
    # Two Suzhous and a Ringsted in Denmark and in the US: one name, several places.
    suzhou_jiangsu = PlaceFactory(name="Suzhou", country="CN")
    suzhou_anhui = PlaceFactory(name="Suzhou", country="CN", kind="city")
    ringsted_dk = PlaceFactory(name="Ringsted", country="DK", kind="municipality")
    ringsted_us = PlaceFactory(name="Ringsted", country="US", kind="city")
    sdu = OrganisationFactory(name="SDU", country="DK")
    energy, water = ThemeFactory(slug="energy"), ThemeFactory(slug="water")
    for parties, status, kind, themes, publication in [
        ([ringsted_dk, suzhou_jiangsu], "active", "sister_city", [energy], Publication.PUBLISHED),
        ([ringsted_dk, suzhou_anhui], "ended", "sister_city", [water], Publication.PUBLISHED),
        ([sdu, suzhou_jiangsu], "active", "cooperation_agreement", [water], Publication.PUBLISHED),
        ([sdu, ringsted_us], "ended", "cooperation_agreement", [], Publication.PUBLISHED),
        ([ringsted_us, suzhou_anhui], "active", "sister_city", [energy], Publication.DRAFT),
    ]:
        partnership = PartnershipFactory(
            parties=parties,
            status=status,
            kind=kind,
            publication=publication,
            start=f"{2001 + len(themes)}",
        )
        partnership.themes.set(themes)
    # Known only to the decade: the chart counts it apart.
    PartnershipFactory(
        parties=[sdu, suzhou_anhui], status="ended", kind="sister_city", start="1990s"
    )


def reader(kind):
    return AnonymousUser() if kind == "public" else UserFactory(is_staff=True, is_superuser=True)


def facet_counts(query, user):
    cache.clear()  # counts are kept per registry version: count afresh each time
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid()
    return filterset.facet_counts()


def assert_kept_as_counted(query, user, monkeypatch):
    with CaptureQueriesContext(connection) as kept_queries:
        kept = facet_counts(query, user)
    # Nothing read of the partnerships' own values: all from the kept counts.
    assert not any("partnerships_facetvalue" in q["sql"] for q in kept_queries)
    with monkeypatch.context() as counting:
        counting.setattr(PartnershipFilter, "kept_for_chosen", lambda self, skip=(): {})
        counted = facet_counts(query, user)
    assert kept == counted, query
    # The chart of starts too.
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid()
    assert filterset.kept_starts() == started_per_year(filterset.qs), query
    return kept


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("who", ["public", "staff"])
def test_kind_and_status_filters_count_as_counting_would(registry, monkeypatch, query, who):
    counts = assert_kept_as_counted(query, reader(who), monkeypatch)
    assert counts["country"] and counts["kind"] and counts["status"]


@pytest.mark.parametrize("query", THEME_QUERIES)
@pytest.mark.parametrize("who", ["public", "staff"])
def test_one_theme_counts_as_counting_would(registry, monkeypatch, query, who):
    counts = assert_kept_as_counted(query, reader(who), monkeypatch)
    assert counts["country"] and counts["kind"] and counts["status"]
    # The theme facet itself counts every partnership, as it does without the filter.
    assert set(counts["theme"]) == {"energy", "water"}


@pytest.mark.parametrize(
    "query", ["theme=energy", "kind=sister_city&status=ended", "status=active"]
)
def test_the_list_reads_its_chart_from_the_kept_counts(client, registry, query):
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/en/partnerships/?{query}")
    assert page.status_code == 200 and "chart-heading" in page.content.decode()
    # Neither the facets nor the chart counted the records: no GROUP BY over them.
    assert not any(
        "GROUP BY" in q["sql"] and "partnerships_facetcount" not in q["sql"] for q in queries
    )


@pytest.mark.parametrize("query", ["kind=sister_city&status=ended", "status=active"])
def test_the_facets_and_chart_of_kinds_and_statuses_are_one_read(
    client, registry, query, settings, _private_cache
):
    """While a public page is served, its facets and its chart, asked apart, come from
    one read of the counts kept for its kinds and statuses."""
    settings.ATLAS_CACHE_PAGES = True
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/en/partnerships/?{query}")
    assert page["X-Cache"] == "MISS" and "chart-heading" in page.content.decode()
    narrow = [q["sql"] for q in queries if "facetcount" in q["sql"] and ":" in q["sql"]]
    assert len(narrow) == 1, narrow


def chart_of(client, query):
    with CaptureQueriesContext(connection) as queries:
        page = client.get(f"/en/partnerships/?{query}")
    text = page.content.decode()
    start = text.index('<section class="chart"')
    return text[start : text.index("</section>", start)], [q["sql"] for q in queries]


@pytest.mark.parametrize(
    "query",
    [
        "kind=sister_city&country=DK",
        "status=ended&place_kind=municipality",
        "q=suzhou",
        "q=ringsted&status=ended",
        # As of a month: the year's kept counts do not say (``as_of.kept_year``).
        "status=ended&as_of=2010-06",
    ],
)
@pytest.mark.parametrize("who", ["public", "staff"])
def test_a_filtered_list_draws_its_chart_from_the_lines_its_facets_read(
    client, registry, monkeypatch, query, who
):
    """Each partnership's line holds its start: the facets' one read of what the filters
    keep gives the chart too, with no count of its own, and the same chart."""
    if who == "staff":
        client.force_login(reader("staff"))
    drawn, sql = chart_of(client, query)
    assert "<table" in drawn
    assert not [q for q in sql if "SUBSTRING" in q.upper() or "SUBSTR(" in q.upper()], sql
    monkeypatch.setattr(PartnershipFilter, "counted_starts", lambda self: None)
    counted, sql = chart_of(client, query)
    assert [q for q in sql if "SUBSTR" in q.upper()]
    assert drawn == counted


def test_the_counts_follow_every_kind_of_write(registry, monkeypatch):
    staff = reader("staff")
    first, second, *_rest = Partnership.objects.order_by("pk")
    first.kind = "cooperation_agreement"  # save(): moves between kinds
    first.save()
    Partnership.objects.filter(pk=second.pk).update(status="active")  # update()
    second.themes.add(ThemeFactory(slug="culture"))  # m2m
    Partnership.objects.order_by("pk").last().delete()
    place = PlaceFactory(name="Suzhou", country="CN")
    PartnershipFactory(parties=[place, OrganisationFactory(country="SE")], status="ended")
    place.country = "TW"  # a party's country: its partnerships' values move
    place.save()
    Theme.objects.get(slug="water").delete()  # its rows go, and its kept scope empties
    second.themes.add(ThemeFactory(slug="water"))
    for who in ["public", "staff"]:
        for query in QUERIES + THEME_QUERIES + ["theme=culture"]:
            assert_kept_as_counted(query, staff if who == "staff" else reader(who), monkeypatch)
    # And a recount from the records keeps exactly what the writes kept.
    before = sorted(
        facets.FacetCount.objects.filter(count__gt=0).values_list(
            "scope", "facet", "value", "count"
        )
    )
    facets.recount()
    after = sorted(
        facets.FacetCount.objects.filter(count__gt=0).values_list(
            "scope", "facet", "value", "count"
        )
    )
    assert before == after
    assert any(":" in scope for scope, *_ in after)
    assert any("~" in scope for scope, *_ in after)


@pytest.mark.parametrize(
    "query, kept",
    [
        # Each facet chosen counts what the other filter keeps: one kept scope.
        ("kind=sister_city&country=DK", {"kind", "country"}),
        ("status=active&place_kind=municipality", {"status", "place_kind"}),
        ("theme=energy&status=active", {"theme", "status"}),
        ("theme=water&country=CN", {"theme", "country"}),
        ("status=ended&kind=sister_city&country=US", {"country"}),
        # Two countries: a partnership with both would count twice in kind's counts.
        ("country=DK&country=US&kind=sister_city", {"country"}),
        # As of a whole year, every facet: kept per first year as of which, kind and
        # status (``facets.dated``).
        (
            "status=active&as_of=2010",
            {"status", "kind", "theme", "country", "place_kind", "organisation_kind"},
        ),
        # What a search, a month as of or two themes keep is not counted by the writes.
        ("status=active&q=suzhou", set()),
        ("status=active&as_of=2010-06", set()),
        ("theme=energy&theme=water", set()),
    ],
)
@pytest.mark.parametrize("who", ["public", "staff"])
def test_other_filters_keep_each_chosen_facet_counted(registry, monkeypatch, query, kept, who):
    """With two or more filters the facets nothing is chosen in count the records; a
    chosen facet's counts, those of what the other filters keep, are the kept ones when
    the writes keep them, and the same as counting."""
    filterset = PartnershipFilter(
        QueryDict(query), queryset=Partnership.objects.visible_to(reader(who))
    )
    assert filterset.is_valid()
    assert set(filterset.kept_for_chosen()) == kept, query
    with monkeypatch.context() as counting:
        counting.setattr(PartnershipFilter, "kept_for_chosen", lambda self, skip=(): {})
        counted = facet_counts(query, reader(who))
    assert facet_counts(query, reader(who)) == counted, query
    assert all(counted[name] for name in kept), counted
