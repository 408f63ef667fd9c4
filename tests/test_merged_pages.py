"""A list of several kinds and statuses reads each page as the merge of each pair's rows,
each in the list's order (``core.pagination.Merged``, ``PartnershipFilter.merged``): every
page holds the list in order, in both languages, for the public, staff and the API."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from core.models import Publication
from core.pagination import Merged
from core.translation import Localized
from partnerships.as_of import queryset_as_of
from partnerships.models import Partnership
from partnerships.views import PartnershipListView
from tests.factories import PartnershipFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 2
KINDS = [Partnership.Kind.SISTER_CITY, Partnership.Kind.COOPERATION]
STATUSES = [Partnership.Status.ACTIVE, Partnership.Status.ENDED]
CHOSEN = {"kind": KINDS, "status": STATUSES}


@pytest.fixture
def registry(monkeypatch):
    """Titles that repeat across kinds and statuses, so that the tie-break orders them;
    drafts among them, ties of a kind or status not chosen, some without a start, one
    titled in Danish only. Every list is merged, however short, on any database."""
    monkeypatch.setattr(PartnershipListView, "paginate_by", PER_PAGE)
    monkeypatch.setattr(Merged, "MERGED_FROM", 0)
    monkeypatch.setattr(Merged, "VENDORS", frozenset({connection.vendor}))
    kinds = [*KINDS, Partnership.Kind.OFFICE]
    statuses = [*STATUSES, Partnership.Status.PLANNED]
    titles = ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Beta", "Delta", "Beta", "Alpha"]
    for number, title in enumerate(titles * 2):
        PartnershipFactory(
            title=title,
            kind=kinds[number % 3],
            status=statuses[number // 3 % 3],
            start=None if number % 5 == 0 else str(2000 + number),
            publication=Publication.DRAFT if number % 7 == 3 else Publication.PUBLISHED,
        )
    PartnershipFactory(
        title_en="", title_da="Aalborg-samarbejdet", kind=KINDS[1], status=STATUSES[0]
    )


def expected(language, *order, records=None, as_of=None):
    records = Partnership.objects.published() if records is None else records
    records = records.filter(kind__in=KINDS, status__in=STATUSES)
    if as_of is not None:
        records = queryset_as_of(records, as_of)
    with translation.override(language):
        order = order or (Localized("title").asc(),)
        return list(records.order_by(*order, "pk").values_list("slug", flat=True))


def pages_of(whole):
    return -(-len(whole) // PER_PAGE)


def read_pages(client, address, params, pages):
    """The slugs of ``pages`` pages of the list, and whether each was read merged."""
    slugs, merged = [], []
    for number in range(1, pages + 1):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(address, {**params, "page": number})
        assert response.status_code == 200
        slugs += [partnership.slug for partnership in response.context["page_obj"]]
        merged.append(any('"_merged_0"' in query["sql"] for query in queries.captured_queries))
    return slugs, merged


@pytest.mark.parametrize("language", ["en", "da"])
def test_every_page_holds_the_list_in_order(client, registry, language):
    whole = expected(language)
    assert pages_of(whole) >= 4
    slugs, merged = read_pages(client, f"/{language}/partnerships/", CHOSEN, pages_of(whole))
    assert slugs == whole
    assert all(merged)  # the last pages from the far end, the order reversed


def test_staff_see_the_drafts_in_their_place(editor_client, registry):
    whole = expected("en", records=Partnership.objects.all())
    assert len(whole) > len(expected("en"))
    slugs, merged = read_pages(editor_client, "/en/partnerships/", CHOSEN, pages_of(whole))
    assert slugs == whole
    assert all(merged)


@pytest.mark.parametrize(
    ("sort", "order"),
    [
        ("-title", (Localized("title").desc(),)),
        ("start", ("start_on",)),
        ("-start", ("-start_on",)),
    ],
)
def test_a_chosen_order(client, registry, sort, order):
    # A tie without a start sorts where the database puts NULL, in every part alike.
    whole = expected("en", *order)
    params = {**CHOSEN, "sort": sort}
    slugs, merged = read_pages(client, "/en/partnerships/", params, pages_of(whole))
    assert slugs == whole
    assert all(merged)


def test_with_a_year_as_of(client, registry):
    as_of = datetime.date(2010, 12, 31)
    whole = expected("en", as_of=type("AsOf", (), {"latest": as_of})())
    assert 0 < len(whole) < len(expected("en"))
    params = {**CHOSEN, "as_of": "2010"}
    slugs, _merged = read_pages(client, "/en/partnerships/", params, pages_of(whole))
    assert slugs == whole


def test_the_api_reads_the_same_pages(client, registry):
    whole, slugs = expected("en"), []
    for number in range(1, pages_of(whole) + 1):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                "/api/partnerships/", {**CHOSEN, "page": number, "page_size": PER_PAGE}
            )
        assert response.status_code == 200
        assert response.json()["count"] == len(whole)
        assert any('"_merged_0"' in query["sql"] for query in queries.captured_queries)
        slugs += [row["slug"] for row in response.json()["results"]]
    assert slugs == whole


@pytest.mark.parametrize(
    "params",
    [
        {"kind": KINDS[:1], "status": STATUSES[:1]},  # one part: in the index's order already
        {"kind": KINDS},  # every status: many parts
        {"status": STATUSES},
        {**CHOSEN, "q": "beta"},  # a search: read as it finds them
    ],
)
def test_what_is_not_merged(client, registry, params):
    _slugs, merged = read_pages(client, "/en/partnerships/", params, 1)
    assert merged == [False]


def test_a_short_list_is_sorted_whole(client, registry, monkeypatch):
    whole = expected("en")
    monkeypatch.setattr(Merged, "MERGED_FROM", len(whole) + 1)
    slugs, merged = read_pages(client, "/en/partnerships/", CHOSEN, pages_of(whole))
    assert slugs == whole
    assert not any(merged)


def test_a_partnership_deleted_meanwhile_is_left_out(registry, monkeypatch):
    rows = Partnership.objects.published().filter(kind__in=KINDS, status__in=STATUSES)
    parts = [
        {"publication": Publication.PUBLISHED.value, "kind": kind, "status": status}
        for kind in KINDS
        for status in STATUSES
    ]
    read_ids = Merged._ids

    def deleting_the_first(self, *args, **kwargs):
        ids = read_ids(self, *args, **kwargs)
        Partnership.objects.filter(pk=ids[0]).delete()
        return ids

    whole = expected("en")
    with translation.override("en"):
        merged = Merged.of(rows, parts, rows.count)
        assert isinstance(merged, Merged)
        monkeypatch.setattr(Merged, "_ids", deleting_the_first)
        assert [record.slug for record in merged[0:3]] == whole[1:3]
