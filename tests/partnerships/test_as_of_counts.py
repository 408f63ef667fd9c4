"""A list as of a whole year (``?as_of=2010``, alone or with kinds and statuses) takes its
facets, its count and its chart from the counts the writes keep per first year as of which
each partnership is listed (``facets.AS_OF_FROM``, ``facets.dated``): the same as counting
what ``queryset_as_of`` keeps, for every rule of it, after every kind of write."""

import datetime

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import Publication
from partnerships import facets
from partnerships.as_of import first_year_as_of, queryset_as_of
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

THIS_YEAR = timezone.localdate().year


@pytest.fixture
def registry():
    """A partnership for each rule of ``queryset_as_of``, with repeated names (two
    Suzhous, Ringsted in Denmark and in the US) and a draft."""
    suzhou = PlaceFactory(name="Suzhou", country="CN", kind="city")
    suzhou_anhui = PlaceFactory(name="Suzhou", country="CN", kind="district")
    ringsted = PlaceFactory(name="Ringsted", country="DK", kind="municipality")
    ringsted_iowa = PlaceFactory(name="Ringsted", country="US", kind="city")
    sdu = OrganisationFactory(name="SDU", country="DK", kind="university")
    water = ThemeFactory(slug="water")
    ties = {
        # Started in a year, a month, a decade, or about a year (a year earlier too).
        "started": {"start": "2001", "parties": [ringsted, suzhou]},
        "month": {"start": "2008-06", "kind": "sister_city", "parties": [ringsted, suzhou_anhui]},
        "decade": {"start": "1990s", "status": "ended", "end": "2004", "parties": [sdu, suzhou]},
        "circa": {"start": "c. 2009", "kind": "sister_city", "parties": [sdu, ringsted_iowa]},
        # No start: from its confirmation, or every year once it has an end, or never.
        "confirmed": {"status_as_of": "2007-03", "parties": [ringsted_iowa, suzhou]},
        "ended, no start": {"status": "ended", "end": "2012", "parties": [sdu, suzhou_anhui]},
        "never": {"status": "unknown", "parties": [ringsted, ringsted_iowa]},
        # Plans: from their confirmation, or, unconfirmed, from the current year on.
        "plan": {"status": "planned", "status_as_of": "2011", "parties": [sdu, suzhou]},
        "unconfirmed plan": {"status": "planned", "kind": "sister_city", "parties": [sdu, suzhou]},
        "draft": {
            "start": "2005",
            "publication": Publication.DRAFT,
            "parties": [ringsted_iowa, suzhou_anhui],
        },
    }
    made = {}
    for name, fields in ties.items():
        made[name] = PartnershipFactory(title=name, **fields)
    made["started"].themes.add(water)
    made["plan"].themes.add(water)
    return made


def reader(kind):
    return AnonymousUser() if kind == "public" else UserFactory(is_staff=True, is_superuser=True)


def answers(query, user):
    """The facets, the count and the chart of ``query``, and the partnerships it keeps."""
    cache.clear()  # kept per registry version: answer afresh
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid(), query
    return filterset.facet_counts(), filterset.known_count(), filterset.kept_starts(), filterset.qs


def assert_kept_as_counted(query, user, monkeypatch):
    with CaptureQueriesContext(connection) as kept_queries:
        counts, count, chart, records = answers(query, user)
    # Nothing read of the partnerships themselves: all from the kept counts.
    read = " ".join(q["sql"] for q in kept_queries)
    assert "partnerships_partnership" not in read and "partnerships_facetline" not in read
    with monkeypatch.context() as counting:
        counting.setattr(PartnershipFilter, "kept_for_chosen", lambda self, skip=(): {})
        counting.setattr(PartnershipFilter, "known_count", lambda self: None)
        counted, _count, _chart, _records = answers(query, user)
    assert counts == counted, query
    assert count == records.count(), query
    assert chart == started_per_year(records), query
    return count


YEARS = [1989, 1990, 2000, 2001, 2006, 2007, 2008, 2011, 2012, THIS_YEAR - 1, THIS_YEAR]
QUERIES = ["as_of={}", "as_of={}&kind=sister_city", "as_of={}&status=planned"]
QUERIES += ["as_of={}&kind=sister_city&kind=cooperation_agreement&status=active&status=planned"]


@pytest.mark.parametrize("who", ["public", "staff"])
def test_a_whole_year_counts_as_counting_would(registry, monkeypatch, who):
    user = reader(who)
    found = {}
    for year in YEARS:
        for query in QUERIES:
            found[query.format(year)] = assert_kept_as_counted(
                query.format(year), user, monkeypatch
            )
    assert_kept_as_counted("as_of=1990s&status=active", user, monkeypatch)
    # Each rule counted as of its first year and not before; staff see the draft of 2005.
    draft = int(who == "staff")
    assert found["as_of=1989"] == 1  # an end without a start: every year
    assert found["as_of=1990"] == 2  # the 1990s
    assert found["as_of=2007"] == 4 + draft  # 2001, and the confirmation of March 2007
    assert found["as_of=2008"] == 6 + draft  # June 2008, and c. 2009: a year earlier too
    assert found["as_of=2011"] == 7 + draft  # the plan confirmed in 2011
    assert found[f"as_of={THIS_YEAR}"] == 8 + draft  # the unconfirmed plan
    assert found[f"as_of={THIS_YEAR}&status=planned"] == 2


def test_the_first_year_as_of_which_reads_queryset_as_of_for_whole_years(registry):
    """Every partnership is kept as of exactly the years from its first one on."""
    every = Partnership.objects.all()
    for partnership in every:
        first = dict(facets.compute([partnership.pk])[partnership.pk]).get(facets.AS_OF_FROM)
        for year in range(1985, THIS_YEAR + 3):
            kept = queryset_as_of(every, _year(year)).filter(pk=partnership.pk).exists()
            expected = first is not None and (
                (first == "plan" and year >= THIS_YEAR) or (first != "plan" and int(first) <= year)
            )
            assert kept == expected, (partnership.title, year, first)
    assert first_year_as_of("active", False, None, None, None) is None


def _year(year):
    from core.dates import PartialDate

    return PartialDate.parse(str(year))


def test_an_unconfirmed_plan_counts_from_the_current_year_on(registry, monkeypatch):
    """Kept as a plan, not as a year: it moves with the date, with no write."""
    user = reader("public")
    assert assert_kept_as_counted("as_of=2030&status=planned", user, monkeypatch) == 2
    monkeypatch.setattr(timezone, "localdate", lambda *args: datetime.date(2031, 1, 1))
    assert assert_kept_as_counted("as_of=2030&status=planned", user, monkeypatch) == 1
    assert assert_kept_as_counted("as_of=2031&status=planned", user, monkeypatch) == 2


def test_every_kind_of_write_moves_the_years(registry, monkeypatch):
    never, plan = registry["never"], registry["plan"]
    never.end = "2015"  # save(): an end, and no start: every year
    never.save()
    Partnership.objects.filter(pk=plan.pk).update(status_as_of="2003")  # update()
    Partnership.objects.filter(pk=registry["circa"].pk).update(start="2010")  # no longer about
    Partnership.objects.filter(pk=registry["confirmed"].pk).update(end="2020")  # every year
    registry["started"].delete()
    PartnershipFactory(start="c. 1995", status="ended", parties=[PlaceFactory(), PlaceFactory()])
    for who in ["public", "staff"]:
        for year in (1993, 1994, 2003, 2009, 2010, THIS_YEAR):
            for query in QUERIES:
                assert_kept_as_counted(query.format(year), reader(who), monkeypatch)
    # Three ends without a start, every year; the 1990s and c. 1995 from 1990 and 1994.
    assert assert_kept_as_counted("as_of=1989", reader("public"), monkeypatch) == 3
    assert assert_kept_as_counted("as_of=1994", reader("public"), monkeypatch) == 5
    # And a recount from the records keeps exactly what the writes kept.
    columns = ("scope", "facet", "value", "count")
    before = sorted(facets.FacetCount.objects.filter(count__gt=0).values_list(*columns))
    facets.recount()
    after = sorted(facets.FacetCount.objects.filter(count__gt=0).values_list(*columns))
    assert before == after
    assert any("@" in scope for scope, *_ in after)


def test_a_month_is_counted_from_the_records(registry):
    """The kept counts say nothing of a month: its facets count what it keeps."""
    filterset = PartnershipFilter(QueryDict("as_of=2008-05&kind=sister_city"))
    assert filterset.is_valid()
    assert filterset.kinds_and_statuses() is None
    # c. 2009: within a year after May 2008.
    assert filterset.known_count() == filterset.qs.count() == 1


def test_the_list_as_of_a_year_reads_no_partnership_to_count(client, registry):
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/en/partnerships/?as_of=2008&kind=sister_city&status=active")
    text = page.content.decode()
    assert page.status_code == 200 and "chart-heading" in text and ">circa<" in text
    assert ">month<" in text and ">draft<" not in text
    counting = [
        q["sql"]
        for q in queries
        if "GROUP BY" in q["sql"] or "COUNT(" in q["sql"] or "facetline" in q["sql"]
    ]
    assert all("partnerships_facetcount" in sql for sql in counting), counting


def test_kinds_and_statuses_as_of_a_year_read_the_registrys_pairs_alone(client, registry, settings):
    # The kind and status facets, each narrowed by the other, come from the pairs of the
    # whole registry as of the year; nothing else is asked of those years. Served as
    # production serves it, where what a page asks of some counts is read together.
    settings.ATLAS_CACHE_PAGES = True
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/en/partnerships/?as_of=2008&kind=sister_city&status=active")
    assert page.status_code == 200
    whole_years = [q["sql"] for q in queries if "'published@" in q["sql"]]
    assert len(whole_years) == 1
    assert "\"facet\" IN ('kind_status')" in whole_years[0]
