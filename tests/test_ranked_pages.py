"""A search that finds many partnerships reads its pages rank by rank
(``PartnershipFilter.in_pages``, ``core.pagination.Ranked``): those titled with the words
first, then those of a participant so named, then the rest from the front (or the far end)
of the list's order. Every page must hold what sorting all the matches by rank gives.

Each test compares the pages read rank by rank (``RANKED_FROM`` and ``RANKED_SHARE`` 0,
however many the search finds) with the threshold out of reach, where the database sorts
every match by rank in one query.
"""

import pytest
from django.db.models import Case, QuerySet, Value, When

from core.models import Publication
from core.pagination import Ranked
from partnerships import filters
from partnerships.filters import PartnershipFilter
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url
from tests.spies import calls_of

pytestmark = pytest.mark.django_db

SISTER = Partnership.Kind.SISTER_CITY


@pytest.fixture
def china():
    """China, two provinces, two cities named Suzhou, and ties to them of every rank, with
    titles that repeat (the list's order then falls back on the key), a draft, and ties
    that have nothing to do with China (two Ringsteds)."""
    country = PlaceFactory(name="China", kind=Place.Kind.COUNTRY, country="CN", slug="china")
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, parent=country)
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE, parent=country)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu, slug="suzhou-jiangsu")
    other_suzhou = PlaceFactory(name="Suzhou", parent=anhui, slug="suzhou-anhui")
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu)
    council = OrganisationFactory(name="China Council", country="CN", place=country)
    university = OrganisationFactory(name="Soochow University", place=suzhou, country="CN")
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    ringsted = PlaceFactory(name="Ringsted", country="DK")
    iowa = PlaceFactory(name="Ringsted", country="US", slug="ringsted-iowa")
    # The first rank: the title names China.
    PartnershipFactory(title="China week", parties=[aarhus, wuxi])
    PartnershipFactory(title="A China tie", parties=[aarhus, suzhou])
    # The second: a participant does.
    PartnershipFactory(title="Embassy", parties=[country, aarhus])
    PartnershipFactory(title="Council", parties=[council, aarhus], kind=SISTER)
    # The rest, through the places and organisations in China.
    for number in range(9):
        PartnershipFactory(
            title=f"Aarhus–Suzhou {number % 3}",
            parties=[aarhus, suzhou if number % 2 else other_suzhou],
            kind=SISTER if number % 3 else Partnership.Kind.COOPERATION_AGREEMENT,
            status=Partnership.Status.ENDED if number % 4 == 0 else Partnership.Status.ACTIVE,
        )
    for number in range(4):
        PartnershipFactory(title=f"Wuxi {number}", parties=[wuxi, ringsted], kind=SISTER)
    PartnershipFactory(title="Research", parties=[university, OrganisationFactory()])
    PartnershipFactory(title="Wuxi draft", parties=[wuxi, aarhus], publication=Publication.DRAFT)
    PartnershipFactory(title="Ringsted–Ringsted", parties=[ringsted, iowa])
    return country


def ranked_from_the_first(monkeypatch):
    monkeypatch.setattr(PartnershipFilter, "RANKED_FROM", 0)
    monkeypatch.setattr(PartnershipFilter, "RANKED_SHARE", 0)


def read_pages(client, address, monkeypatch, per_page):
    """[(title, pk, rank)] of every page of the list at ``address``, and what it paged."""
    monkeypatch.setattr("partnerships.views.PartnershipListView.paginate_by", per_page)
    first = client.get(address)
    assert first.status_code == 200
    paginator = first.context["paginator"]
    rows = []
    for number in paginator.page_range:
        response = client.get(f"{address}&page={number}")
        rows += [
            (str(record), record.pk, getattr(record, "search_rank", None))
            for record in response.context["page_obj"].object_list
        ]
    return rows, paginator.object_list


def both_ways(client, address, monkeypatch, per_page=4):
    """The pages read rank by rank, and sorted by rank in the database."""
    ranked_from_the_first(monkeypatch)
    ranked, paged = read_pages(client, address, monkeypatch, per_page)
    assert isinstance(paged, Ranked)
    monkeypatch.setattr(PartnershipFilter, "RANKED_SHARE", 2)
    sorted_, paged = read_pages(client, address, monkeypatch, per_page)
    assert isinstance(paged, QuerySet)
    return ranked, sorted_


@pytest.mark.parametrize("per_page", [3, 4, 7, 30])
def test_every_page_holds_what_sorting_by_rank_gives(client, china, monkeypatch, per_page):
    address = url("partnerships:partnership-list", query="q=china")
    ranked, sorted_ = both_ways(client, address, monkeypatch, per_page)
    assert ranked == sorted_
    titles = [title for title, _pk, _rank in ranked]
    assert titles[:4] == ["A China tie", "China week", "Council", "Embassy"]
    assert [rank for _title, _pk, rank in ranked] == [0, 0, 1, 1] + [2] * 14
    # Repeated titles in the order of their keys, the draft and the Ringsteds left out.
    assert len(set(titles)) == 12 and "Wuxi draft" not in titles
    assert "Ringsted–Ringsted" not in titles


def test_staff_see_the_draft_in_its_place(editor_client, china, monkeypatch):
    address = url("partnerships:partnership-list", query="q=china")
    ranked, sorted_ = both_ways(editor_client, address, monkeypatch)
    assert ranked == sorted_
    assert "Wuxi draft" in [title for title, _pk, _rank in ranked]


def test_in_danish(client, china, monkeypatch):
    address = url("partnerships:partnership-list", language="da", query="q=china")
    ranked, sorted_ = both_ways(client, address, monkeypatch)
    assert ranked == sorted_
    assert [rank for _title, _pk, rank in ranked] == [0, 0, 1, 1] + [2] * 14


def test_with_another_filter_and_several_words(client, china, monkeypatch):
    for query in ("q=china&kind=sister_city", "q=china+aarhus", "q=suzhou+china&status=active"):
        address = url("partnerships:partnership-list", query=query)
        ranked, sorted_ = both_ways(client, address, monkeypatch)
        assert ranked == sorted_, query
        assert ranked, query


def test_a_chosen_order_is_not_ranked(client, china, monkeypatch):
    ranked_from_the_first(monkeypatch)
    response = client.get(url("partnerships:partnership-list", query="q=china&sort=-title"))
    assert isinstance(response.context["paginator"].object_list, QuerySet)
    titles = [str(record) for record in response.context["page_obj"].object_list]
    assert titles == sorted(titles, reverse=True)


@pytest.mark.parametrize("per_page", [2, 3, 4, 7])
@pytest.mark.parametrize("few", [1, 2])
def test_too_many_in_the_first_ranks_are_read_from_their_front(
    client, china, monkeypatch, few, per_page
):
    # "china" names two records (China, China Council): past one, its first ranks are
    # read from the front of the list's order, page by page, not by their ids. A third
    # title naming China puts three in the first rank, past two.
    PartnershipFactory(title="China fair", parties=[PlaceFactory(), PlaceFactory()])
    monkeypatch.setattr(PartnershipFilter, "FEW_RANKED", few)
    address = url("partnerships:partnership-list", query="q=china")
    ranked, sorted_ = both_ways(client, address, monkeypatch, per_page)
    assert ranked == sorted_
    assert [rank for _title, _pk, rank in ranked][:5] == [0, 0, 0, 1, 1]
    ranked_from_the_first(monkeypatch)
    paged = client.get(address).context["paginator"].object_list
    assert [isinstance(rank, QuerySet) for rank in paged.first] == [few < 3, few < 2]
    monkeypatch.setattr(PartnershipFilter, "FEW_RANKED", 3)
    paged = client.get(address).context["paginator"].object_list
    assert [isinstance(rank, list) for rank in paged.first] == [True, True]


@pytest.mark.parametrize(
    "ranked_from, share, ranked",
    # It finds 19 of the 20 partnerships, the draft among them.
    [(0, 0.96, False), (0, 0.95, True), (20, 0, False), (19, 0, True)],
)
def test_a_search_that_finds_few_sorts_in_the_database(
    client, china, monkeypatch, ranked_from, share, ranked
):
    monkeypatch.setattr(PartnershipFilter, "RANKED_FROM", ranked_from)
    monkeypatch.setattr(PartnershipFilter, "RANKED_SHARE", share)
    response = client.get(url("partnerships:partnership-list", query="q=china"))
    paged = response.context["paginator"].object_list
    assert isinstance(paged, Ranked if ranked else QuerySet)


def test_the_search_page_reads_the_same_records_and_groups(client, china, monkeypatch):
    def read():
        response = client.get(url("search", query="q=china"))
        section = response.context["results"][2]
        records = [(str(r), getattr(r, "found_via", "")) for r in section["records"]]
        groups = [(str(g["named"]), g["parts"]) for g in section["groups"]]
        return records, groups, section["count"]

    ranked_from_the_first(monkeypatch)
    ranked = read()
    monkeypatch.setattr(PartnershipFilter, "RANKED_SHARE", 2)
    assert ranked == read()
    records, groups, count = ranked
    assert count == 18
    assert records[4] == ("Aarhus–Suzhou 0", "in China: Anhui")
    assert groups == [("China", [("Jiangsu", 11), ("Anhui", 5)])]


def facets_of(response):
    return {
        facet.name: {option.value: option.count for option in facet.options}
        for facet in response.context["facets"]
        if facet.name in ("status", "kind", "country")
    }


def expected_facets(filters, left_out):
    """The facets the list shows for the published partnerships with ``filters``, less the
    titles ``left_out``: each facet counted without its own filter."""
    published = Partnership.objects.published().exclude(title__in=left_out)
    found = {}
    for name in ("status", "kind"):
        rows = published.filter(**{k: v for k, v in filters.items() if k != name})
        found[name] = {}
        for value in rows.values_list(name, flat=True):
            found[name][value] = found[name].get(value, 0) + 1
    return found


@pytest.mark.parametrize(
    "query, filters",
    [
        ("q=china", {}),
        ("q=china&status=active", {"status": "active"}),
        ("q=china&kind=sister_city&status=ended", {"kind": SISTER, "status": "ended"}),
    ],
)
def test_a_search_that_finds_every_partnership_filters_nothing(
    client, china, monkeypatch, query, filters
):
    """Found among every partnership (the draft too), it keeps every one: known from the
    number it found, and the facets are the kept counts. One not found is still left out,
    by the list, its count and its facets."""
    address = url("partnerships:partnership-list", query=query)
    ranked_from_the_first(monkeypatch)
    Partnership.objects.filter(title="Ringsted–Ringsted").delete()
    for left_out in ([], ["Ringsted again"]):
        response = client.get(address)
        titles = [str(record) for record in response.context["page_obj"].object_list]
        published = Partnership.objects.published().filter(**filters).exclude(title__in=left_out)
        assert response.context["paginator"].count == published.count()
        assert len(titles) == min(published.count(), 20)
        assert "Ringsted again" not in titles
        shown = facets_of(response)
        for name, counts in expected_facets(filters, left_out).items():
            assert shown[name] == counts, (name, left_out)
        PartnershipFactory(
            title="Ringsted again",
            parties=[PlaceFactory(country="DK")],
            kind=SISTER,
            status=Partnership.Status.ENDED,
        )


@pytest.fixture
def searched(monkeypatch):
    """The calls that look the search up partnership by partnership (``search_matches``);
    none when the kept counts say it finds every one (``finds_every``)."""
    return calls_of(monkeypatch, filters, "search_matches")


def test_a_place_every_partnership_has_a_tie_in_finds_every_one_unread(client, china, searched):
    Partnership.objects.filter(title="Ringsted–Ringsted").delete()
    response = client.get(url("partnerships:partnership-list", query="q=china"))
    assert searched == []
    assert response.context["paginator"].count == 18  # the draft left out, as ever
    titles = [str(record) for record in response.context["page_obj"].object_list]
    assert titles[:4] == ["A China tie", "China week", "Council", "Embassy"]
    # Two words: Aarhus takes part in some only, so the search reads what it finds.
    response = client.get(url("partnerships:partnership-list", query="q=china+aarhus"))
    assert len(searched) == 1
    assert "Wuxi 0" not in [str(record) for record in response.context["page_obj"].object_list]


def test_a_tie_deeper_than_the_search_walks_is_not_found(client, china, searched):
    """China's kept count has every partnership, but one lies five levels below China,
    where the search does not walk: it reads what it finds, and leaves that one out."""
    Partnership.objects.filter(title="Ringsted–Ringsted").delete()
    place = Place.objects.get(slug="suzhou-jiangsu")
    for level in range(3):
        place = PlaceFactory(name=f"Level {level}", parent=place)
    PartnershipFactory(title="Too deep", parties=[place, PlaceFactory(country="DK")])
    response = client.get(url("partnerships:partnership-list", query="q=china"))
    assert len(searched) == 1
    assert response.context["paginator"].count == 18
    response = client.get(url("partnerships:partnership-list", query="q=china&page=1&sort=-title"))
    assert "Too deep" not in [str(record) for record in response.context["page_obj"].object_list]


@pytest.mark.parametrize("address", ["/api/map/", "/api/network/"])
def test_the_map_and_network_of_a_search_that_finds_every_partnership(
    client, china, searched, address
):
    """Drawn from the kept counts, as with no search, and the same; one partnership the
    search does not find is left off them."""
    Partnership.objects.filter(title="Ringsted–Ringsted").delete()
    every = client.get(address).json()
    assert client.get(f"{address}?q=china").json() == every
    assert searched == []
    PartnershipFactory(title="Ringsted–Ringsted", parties=[PlaceFactory(name="Odense")])
    found, every = client.get(f"{address}?q=china").json(), client.get(address).json()
    assert len(searched) == 1
    if address == "/api/map/":  # the factory's places have no coordinates to draw
        assert found["meta"]["partnerships"] == every["meta"]["partnerships"] - 1 == 18
    else:
        assert "Odense" in str(every) and "Odense" not in str(found)


def api_pages(client, query, monkeypatch):
    """[slug] of every page of the API's partnerships for ``query``, four a page, and how
    many pages were read rank by rank."""
    read = calls_of(monkeypatch, Ranked, "__getitem__")
    slugs, address = [], f"/api/partnerships/?{query}&page_size=4"
    while address:
        response = client.get(address)
        assert response.status_code == 200, response.content
        slugs += [row["slug"] for row in response.json()["results"]]
        address = response.json()["next"]
    return slugs, len(read)


@pytest.mark.parametrize("staff", [False, True])
@pytest.mark.parametrize("query", ["q=china", "q=china&kind=sister_city", "q=china+aarhus"])
def test_the_api_reads_the_same_pages(client, editor, china, monkeypatch, query, staff):
    if staff:
        client.force_login(editor)
    ranked_from_the_first(monkeypatch)
    ranked, ranked_pages = api_pages(client, query, monkeypatch)
    monkeypatch.setattr(PartnershipFilter, "RANKED_SHARE", 2)
    sorted_, sorted_pages = api_pages(client, query, monkeypatch)
    assert ranked == sorted_ and ranked
    assert ranked_pages == (len(ranked) + 3) // 4 and sorted_pages == 0
    draft = Partnership.objects.get(title="Wuxi draft").slug
    assert (draft in ranked) is (staff and "kind" not in query)


def test_the_api_sorts_as_asked(client, china, monkeypatch):
    ranked_from_the_first(monkeypatch)
    slugs, pages = api_pages(client, "q=china&ordering=-title", monkeypatch)
    titles = dict(Partnership.objects.values_list("slug", "title"))
    assert [titles[slug] for slug in slugs] == sorted(
        (titles[slug] for slug in slugs), reverse=True
    )
    assert pages == 0


class TestRanked:
    """The list itself, on partnerships titled 0 to 9 with 7 and 8 ranked first, then 2:
    7, 8, 2, 0, 1, 3, 4, 5, 6, 9."""

    ORDER = ["7", "8", "2", "0", "1", "3", "4", "5", "6", "9"]

    @pytest.fixture
    def ranked(self):
        for number in range(10):
            PartnershipFactory(title=str(number), parties=[])
        rows = Partnership.objects.order_by("title", "pk")
        first = [
            list(rows.filter(title__in=["7", "8"]).values_list("pk", flat=True)),
            list(rows.filter(title="2").values_list("pk", flat=True)),
        ]
        return Ranked(first, rows.exclude(title__in=["7", "8", "2"]), rows, 10, "rank")

    def test_slices_across_the_ranks(self, ranked):
        assert [(str(r), r.rank) for r in ranked[1:4]] == [("8", 0), ("2", 1), ("0", 2)]
        assert [str(r) for r in ranked[0:10]] == self.ORDER
        assert [str(r) for r in ranked[8:20]] == ["6", "9"]  # past the end, as a list
        assert ranked[5:5] == []

    def test_an_index_and_the_count(self, ranked):
        assert str(ranked[2]) == "2" and ranked[2].rank == 1
        assert len(ranked) == ranked.count() == 10
        with pytest.raises(IndexError):
            ranked[10]

    @pytest.mark.parametrize("start, stop", [(0, 2), (0, 10), (2, 5), (6, 9), (8, 10)])
    def test_a_page_reads_its_records_in_one_query(
        self, ranked, django_assert_num_queries, start, stop
    ):
        # One for the rest's ids (from its far end past the middle), one for the records
        # of the page, whichever ranks it spans; none of the rest's when it is not reached.
        with django_assert_num_queries(1 if stop <= 3 else 2):
            assert [str(r) for r in ranked[start:stop]] == self.ORDER[start:stop]

    @pytest.mark.parametrize("fronts", [(True, False), (False, True), (True, True)])
    def test_ranks_read_from_their_front(self, ranked, django_assert_max_num_queries, fronts):
        """A first rank given as a queryset of ids is read from its front, page by page;
        its size is known from the page that reads past its end, or counted."""
        rows = ranked.records.values_list("pk", flat=True)
        ranks = [rows.filter(title__in=["7", "8"]), rows.filter(title="2")]
        first = [rank if front else list(rank) for rank, front in zip(ranks, fronts, strict=True)]
        for start, stop in [(0, 1), (0, 2), (1, 4), (2, 3), (3, 6), (5, 10), (8, 20), (0, 10)]:
            fresh = Ranked(first, ranked.rest, ranked.records, 10, "rank")
            # Each rank read from its front once, and a count of those the page starts
            # past; the rest's ids and the records of the page.
            with django_assert_max_num_queries(2 * sum(fronts) + 2):
                page = fresh[start:stop]
            assert [str(r) for r in page] == self.ORDER[start:stop], (start, stop)
            expected = [0, 0, 1] + [2] * 7
            assert [r.rank for r in page] == expected[start:stop]

    @pytest.mark.parametrize("start, stop", [(0, 3), (1, 5), (3, 7), (6, 10), (0, 10)])
    def test_a_rest_of_several_ranks_gives_each_its_rank(self, ranked, start, stop):
        """7 and 8 first, then 0 and 1 ranked by the rest itself, then the others."""
        rows = ranked.records.annotate(
            rank=Case(When(title__in=["0", "1"], then=Value(1)), default=Value(2))
        )
        rest = rows.exclude(title__in=["7", "8"]).order_by("rank", "title", "pk")
        fresh = Ranked(ranked.first[:1], rest, ranked.records, 10, "rank", ranked_rest=True)
        order = ["7", "8", "0", "1", "2", "3", "4", "5", "6", "9"]
        page = fresh[start:stop]
        assert [str(r) for r in page] == order[start:stop]
        assert [r.rank for r in page] == ([0, 0, 1, 1] + [2] * 6)[start:stop]

    def test_a_record_deleted_meanwhile_is_left_out(self, ranked):
        Partnership.objects.filter(title="8").delete()
        assert [str(r) for r in ranked[0:3]] == ["7", "2"]


def titled_first(monkeypatch, reads=True):
    """Whether a search that finds few enough to sort reads those titled with its words
    first (``PartnershipFilter.titled_first``): from a match on, or never."""
    monkeypatch.setattr(PartnershipFilter, "RANKED_SHARE", 2)
    monkeypatch.setattr(PartnershipFilter, "TITLED_FIRST_FROM", 0 if reads else 10**9)


def titled_both_ways(client, address, monkeypatch, per_page):
    """The pages with the titled read first, and sorted by rank in the database."""
    titled_first(monkeypatch)
    titled, paged = read_pages(client, address, monkeypatch, per_page)
    assert isinstance(paged, Ranked) and isinstance(paged.first[0], list)
    titled_first(monkeypatch, reads=False)
    sorted_, paged = read_pages(client, address, monkeypatch, per_page)
    assert isinstance(paged, QuerySet)
    return titled, sorted_


@pytest.mark.parametrize("per_page", [1, 2, 3, 4, 7, 30])
@pytest.mark.parametrize(
    "query", ["q=china", "q=suzhou", "q=suzhou&kind=sister_city", "q=suzhou+aarhus"]
)
def test_the_titled_read_first_give_the_pages_sorting_by_rank_gives(
    client, china, monkeypatch, per_page, query
):
    address = url("partnerships:partnership-list", query=query)
    titled, sorted_ = titled_both_ways(client, address, monkeypatch, per_page)
    assert titled == sorted_
    ranks = [rank for _title, _pk, rank in titled]
    assert ranks == sorted(ranks) and ranks[0] == 0
    if query == "q=china":  # every rank, the last two read sorted by rank
        assert ranks == [0, 0, 1, 1] + [2] * 14


def test_the_titled_read_first_with_drafts_and_in_danish(editor_client, china, monkeypatch):
    for language in ("en", "da"):
        address = url("partnerships:partnership-list", language=language, query="q=wuxi")
        titled, sorted_ = titled_both_ways(editor_client, address, monkeypatch, 2)
        assert sorted_ == titled
        titles = [title for title, _pk, _rank in titled]
        # The draft among those its title names, in title order; China week through its
        # place in Wuxi.
        assert titles == ["Wuxi 0", "Wuxi 1", "Wuxi 2", "Wuxi 3", "Wuxi draft", "China week"]


def test_the_search_page_and_the_api_read_the_titled_first(client, china, monkeypatch):
    def read():
        response = client.get(url("search", query="q=china"))
        section = response.context["results"][2]
        records = [(str(r), getattr(r, "found_via", "")) for r in section["records"]]
        slugs, _pages = api_pages(client, "q=china", monkeypatch)
        return records, section["count"], slugs

    titled_first(monkeypatch)
    read_titled = calls_of(monkeypatch, Ranked, "__getitem__")
    titled = read()
    assert read_titled
    titled_first(monkeypatch, reads=False)
    assert titled == read()
    assert titled[1] == 18
    assert titled[0][4] == ("Aarhus–Suzhou 0", "in China: Anhui")


@pytest.mark.parametrize(
    "query, why",
    [
        ("q=anhui", "no title names Anhui"),
        ("q=wu", "a word shorter than the index's trigrams"),
    ],
)
def test_without_titled_or_with_a_short_word_the_search_sorts_in_one_query(
    client, china, monkeypatch, query, why
):
    titled_first(monkeypatch)
    response = client.get(url("partnerships:partnership-list", query=query))
    assert isinstance(response.context["paginator"].object_list, QuerySet), why
    assert response.context["page_obj"].object_list, why


def test_a_search_that_finds_fewer_sorts_in_one_query(client, china, monkeypatch):
    titled_first(monkeypatch)
    monkeypatch.setattr(PartnershipFilter, "TITLED_FIRST_FROM", 19)
    response = client.get(url("partnerships:partnership-list", query="q=china"))
    assert isinstance(response.context["paginator"].object_list, Ranked)  # 19 found
    monkeypatch.setattr(PartnershipFilter, "TITLED_FIRST_FROM", 20)
    response = client.get(url("partnerships:partnership-list", query="q=china"))
    assert isinstance(response.context["paginator"].object_list, QuerySet)
