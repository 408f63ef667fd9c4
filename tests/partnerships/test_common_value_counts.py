"""A list filtered to one common participant value ("from Denmark", nearly every
partnership), or by a search that finds most partnerships ("China"), counts its other
facets as the kept counts less those of the few partnerships left out: the same counts
as counting those it keeps."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext

from core.models import Publication
from partnerships.filters import PartnershipFilter
from partnerships.models import Partnership
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry():
    # SDU is Danish but based nowhere: a tie of the country DK, not of the place Denmark.
    denmark = PlaceFactory(name="Denmark", country="DK", kind="country")
    aarhus = PlaceFactory(name="Aarhus", country="DK", kind="municipality", parent=denmark)
    ringsted_dk = PlaceFactory(name="Ringsted", country="DK", kind="municipality", parent=denmark)
    ringsted_us = PlaceFactory(name="Ringsted", country="US", kind="city")
    suzhou = PlaceFactory(name="Suzhou", country="CN")
    sdu = OrganisationFactory(name="SDU", country="DK")
    energy, water = (
        ThemeFactory(slug="energy", name="Energy"),
        ThemeFactory(slug="water", name="Water"),
    )
    for parties, status, kind, themes, publication in [
        ([aarhus, suzhou], "active", "sister_city", [energy], Publication.PUBLISHED),
        ([ringsted_dk, suzhou], "ended", "sister_city", [energy, water], Publication.PUBLISHED),
        ([sdu, suzhou], "active", "cooperation_agreement", [water], Publication.PUBLISHED),
        ([sdu, ringsted_us], "proposed", "cooperation_agreement", [], Publication.PUBLISHED),
        ([aarhus, ringsted_us], "active", "sister_city", [energy], Publication.DRAFT),
        ([ringsted_us, suzhou], "active", "sister_city", [water], Publication.PUBLISHED),
        (
            [suzhou, PlaceFactory(country="SE")],
            "ended",
            "cooperation_agreement",
            [],
            Publication.PUBLISHED,
        ),
    ]:
        partnership = PartnershipFactory(
            parties=parties, status=status, kind=kind, publication=publication
        )
        partnership.themes.set(themes)


def facet_counts(query, user, monkeypatch, kept_less_the_rest=True):
    if not kept_less_the_rest:
        monkeypatch.setattr(PartnershipFilter, "kept_less_the_rest", lambda self, skip=(): {})
    cache.clear()  # counts are kept per registry version: count afresh each time
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid()
    return filterset.facet_counts()


@pytest.mark.parametrize(
    "query",
    [
        "country=DK",
        "country=DK&country=US",
        "place=denmark",
        "place_kind=municipality",
        "organisation_kind=university",
        "q=suzhou",
        "q=ringsted",
        "q=ringsted+sdu",
    ],
)
@pytest.mark.parametrize("reader", ["public", "staff"])
def test_a_common_value_counts_the_other_facets_as_counting_would(
    registry, monkeypatch, query, reader
):
    # Every value counts as common and every search as broad here; in the registry, a
    # value held by over a tenth, a search that finds nine tenths.
    monkeypatch.setattr(PartnershipFilter, "RARE", 0)
    monkeypatch.setattr(PartnershipFilter, "BROAD", 0)
    user = AnonymousUser() if reader == "public" else UserFactory(is_staff=True, is_superuser=True)
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid()
    assert filterset.kept_less_the_rest(), "the kept counts were not used"
    ours = facet_counts(query, user, monkeypatch)
    theirs = facet_counts(query, user, monkeypatch, kept_less_the_rest=False)
    assert ours == theirs
    assert ours["status"]  # something was counted


def test_a_rare_value_or_two_filters_count_the_records(registry, monkeypatch):
    staff = UserFactory(is_staff=True, is_superuser=True)
    for query, rare in [
        ("country=SE", 0.5),
        ("country=DK&status=active", 0),
        ("q=sdu", 0),  # a search that finds two of six: counted, not taken from the rest
        ("q=suzhou&status=active", 0),
    ]:
        monkeypatch.setattr(PartnershipFilter, "RARE", rare)
        filterset = PartnershipFilter(
            QueryDict(query), queryset=Partnership.objects.visible_to(staff)
        )
        assert filterset.is_valid()
        assert filterset.kept_less_the_rest() == {}


@pytest.mark.parametrize("query", ["country=DK", "place_kind=municipality", "q=suzhou"])
@pytest.mark.parametrize("reader", ["public", "staff"])
def test_a_common_value_charts_the_starts_as_counting_would(
    registry, client, monkeypatch, query, reader
):
    monkeypatch.setattr(PartnershipFilter, "RARE", 0)
    monkeypatch.setattr(PartnershipFilter, "BROAD", 0)
    # Starts of every kind: years, a decade, none.
    for start, partnership in zip(
        ["1998", "2001-05", "1980s", "c. 2010", "2001"],
        Partnership.objects.order_by("pk"),
        strict=False,
    ):
        partnership.start = start
        partnership.save()
    if reader == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))

    def chart():
        cache.clear()
        response = client.get(f"/en/partnerships/?{query}")
        assert response.status_code == 200
        page = response.content.decode()
        start = page.index('<section class="chart"')
        return page[start : page.index("</section>", start)]

    ours = chart()
    monkeypatch.setattr(PartnershipFilter, "left_out", lambda self: None)
    assert ours == chart()
    assert "<rect x=" in ours


@pytest.mark.parametrize(
    "query", ["q=suzhou", "q=ringsted", "q=sdu&status=active", "kind=sister_city"]
)
@pytest.mark.parametrize("reader", ["public", "staff"])
def test_facets_counted_together_match_each_facets_own_count(registry, query, reader):
    """One GROUP BY over the kept values of the facets nothing is chosen in gives what
    each facet's own counter (the record's fields, its themes, its participants) gives."""
    user = AnonymousUser() if reader == "public" else UserFactory(is_staff=True, is_superuser=True)
    cache.clear()
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid()
    together = filterset.shared_counts()
    assert len(together) >= 5  # every facet but the one chosen, if any
    for name, counts in together.items():
        own = dict(filterset.facets[name](filterset, filterset.queryset_without(name).order_by()))
        assert counts == {value: count for value, count in own.items() if count}, name


@pytest.mark.parametrize(
    "query",
    [
        "country=DK",
        "country=DK&country=US&sort=-start",
        "place=denmark",
        "place=Denmark&sort=title",
        "place_kind=municipality",
    ],
)
@pytest.mark.parametrize("reader", ["public", "staff"])
def test_a_common_value_lists_what_its_filter_keeps(registry, client, monkeypatch, query, reader):
    """The list and the API of a filter that keeps nearly every partnership: every
    partnership less the few it leaves out, read by id, are those the filter keeps."""
    monkeypatch.setattr(PartnershipFilter, "RARE", 0)
    monkeypatch.setattr(PartnershipFilter, "BROAD", 0)
    login_and_date(client, reader)
    used = spy_on(monkeypatch, "less_the_rest")
    ours = listed(client, query)
    assert any(less is not None for less in used), "the filter was applied as before"
    everyone = Partnership.objects.all() if reader == "staff" else Partnership.objects.published()
    assert 0 < ours[1] < everyone.count(), "the filter kept something and left out something"
    monkeypatch.setattr(PartnershipFilter, "less_the_rest", lambda self, queryset: None)
    assert ours == listed(client, query)


@pytest.mark.parametrize(
    "query",
    [
        "country=DK&kind=sister_city",
        "country=DK&country=US&status=active&sort=-start",
        "place_kind=municipality&status=active",
        "organisation_kind=university&place=Suzhou",
    ],
)
@pytest.mark.parametrize("reader", ["public", "staff"])
def test_a_common_value_among_other_filters_leaves_out_those_lacking_it(
    registry, client, monkeypatch, query, reader
):
    """With other filters chosen, a value nearly every partnership has leaves out the
    few partnerships lacking it, read by id: the same list, count, facets and API as
    testing each partnership for it."""
    monkeypatch.setattr(PartnershipFilter, "RARE", 0)
    monkeypatch.setattr(PartnershipFilter, "BROAD", 0)
    login_and_date(client, reader)
    used = spy_on(monkeypatch, "lacking")
    ours = listed(client, query)
    if connection.vendor == "sqlite":  # PostgreSQL tests each partnership (with_value)
        assert used and any(used), "the partnerships lacking the value were not read"
    monkeypatch.setattr(PartnershipFilter, "BROAD", 2)  # no value that common: EXISTS
    assert ours == listed(client, query)
    assert ours[1] > 0


def login_and_date(client, reader):
    """Log staff in; give the registry's partnerships starts, for the chart."""
    if reader == "staff":
        client.force_login(UserFactory(is_staff=True, is_superuser=True))
    for number, partnership in enumerate(Partnership.objects.order_by("pk")):
        partnership.start = str(2000 + number * 7 % 5)
        partnership.save()


def spy_on(monkeypatch, name):
    """What each call of ``PartnershipFilter.<name>`` returns, from now on."""
    returned = []
    method = getattr(PartnershipFilter, name)

    def spy(self, *args):
        returned.append(method(self, *args))
        return returned[-1]

    monkeypatch.setattr(PartnershipFilter, name, spy)
    return returned


def listed(client, query):
    """The list's partnerships, their number and facets, and the API's titles."""
    cache.clear()
    page = client.get(f"/en/partnerships/?{query}")
    api = client.get(f"/api/partnerships/?{query}")
    assert page.status_code == api.status_code == 200
    return (
        [partnership.pk for partnership in page.context["object_list"]],
        page.context["paginator"].count,
        [(facet.name, facet.options) for facet in page.context["facets"]],
        [row["title"] for row in api.json()["results"]],
    )


def test_the_place_of_a_country_keeps_its_ties_not_its_country_code(registry, client, monkeypatch):
    """Denmark's ties leave out SDU's, a Danish university based nowhere, where the
    country DK keeps them: the rest is that of the place's own filter."""
    monkeypatch.setattr(PartnershipFilter, "RARE", 0)
    monkeypatch.setattr(PartnershipFilter, "BROAD", 0)
    by_place = client.get("/en/partnerships/?place=denmark").context["paginator"].count
    by_country = client.get("/en/partnerships/?country=DK").context["paginator"].count
    assert (by_place, by_country) == (2, 4)


def test_a_value_every_partnership_has_is_not_tested_for(monkeypatch):
    """When the kept counts say that every partnership has a Danish participant, the
    filter keeps them all without testing a partnership for it."""
    aarhus = PlaceFactory(name="Aarhus", country="DK", kind="municipality")
    for kind in ("sister_city", "sister_city", "cooperation_agreement"):
        PartnershipFactory(parties=[aarhus, PlaceFactory(country="CN")], kind=kind)
    PartnershipFactory(parties=[aarhus, PlaceFactory()], publication=Publication.DRAFT)

    def filtered():
        cache.clear()
        filterset = PartnershipFilter(
            QueryDict("country=DK&kind=sister_city"), queryset=Partnership.objects.published()
        )
        assert filterset.is_valid()
        return str(filterset.qs.query), filterset.qs.count()

    untested, kept = filtered()
    assert "country" not in untested and "json_each" not in untested
    kept_share = PartnershipFilter._kept_share
    monkeypatch.setattr(
        PartnershipFilter, "_kept_share", lambda self, *args: (kept_share(self, *args)[0], False)
    )
    tested, kept_when_tested = filtered()
    assert tested != untested
    assert kept == kept_when_tested == 2


@pytest.fixture
def danish_everywhere():
    """Aarhus or SDU, both Danish, take part in every partnership; one is a draft."""
    aarhus = PlaceFactory(name="Aarhus", country="DK", kind="municipality")
    sdu = OrganisationFactory(name="SDU", country="DK", kind="university")
    energy = ThemeFactory(slug="energy", name="Energy")
    for party, other, kind, status, themes, publication in [
        (aarhus, "CN", "sister_city", "active", [energy], Publication.PUBLISHED),
        (aarhus, "SE", "sister_city", "ended", [], Publication.PUBLISHED),
        (aarhus, "CN", "cooperation", "active", [energy], Publication.PUBLISHED),
        (sdu, "CN", "sister_city", "active", [], Publication.PUBLISHED),
        (sdu, "US", "sister_city", "active", [energy], Publication.DRAFT),
    ]:
        partnership = PartnershipFactory(
            parties=[party, PlaceFactory(country=other)],
            kind=kind,
            status=status,
            publication=publication,
        )
        partnership.themes.set(themes)


def counted_with_queries(query, user):
    cache.clear()
    filterset = PartnershipFilter(QueryDict(query), queryset=Partnership.objects.visible_to(user))
    assert filterset.is_valid()
    with CaptureQueriesContext(connection) as queries:
        counts = filterset.facet_counts()
        count = filterset.known_count()
    assert count in (None, filterset.qs.count())
    return counts, count, [query["sql"].lower() for query in queries]


READING_RECORDS = ("facetline", "facetvalue", "partnerships_partnership", "themes")


@pytest.mark.parametrize(
    "query, kept",
    [
        # Counted with the facets nothing is chosen in: one read of the lines for both.
        ("country=DK&country=CN&place_kind=municipality&status=active", False),
        ("country=DK&theme=energy&status=active", False),
        # What is kept for the other filters stands for it: no partnership is read.
        ("country=DK", True),
        ("country=DK&kind=sister_city", True),
        ("country=DK&kind=sister_city&status=active", True),
        ("theme=energy&country=DK", True),
        ("organisation_kind=university&country=DK", False),
    ],
)
@pytest.mark.parametrize("staff", [False, True])
def test_a_value_every_partnership_has_narrows_no_count(
    danish_everywhere, query, kept, staff, monkeypatch
):
    """A filter that keeps every partnership changes no count: each facet counts what it
    would count without it, read as if it were not chosen."""
    user = UserFactory(is_staff=True) if staff else AnonymousUser()
    counts, count, sql = counted_with_queries(query, user)
    assert not [one for one in sql if "facetvalue" in one and "'country'" in one]
    reading = [one for one in sql if any(table in one for table in READING_RECORDS)]
    assert not reading if kept else reading
    monkeypatch.setattr(PartnershipFilter, "keeps_every", lambda self, name: False)
    counted_apart, count_apart, sql_apart = counted_with_queries(query, user)
    # Not known to keep every partnership, it is tested for (alone, it is the one filter
    # that leaves out none: ``left_out``).
    if "&" in query:
        assert [one for one in sql_apart if any(table in one for table in READING_RECORDS)]
    assert counted_apart == counts
    assert count in (None, count_apart)
