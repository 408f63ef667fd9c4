"""Any page of a long list, public or in the API, holds the rows of the list in order and
costs about what the first does: read from the nearer end, by ids first
(``core.pagination``)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from core.models import Publication
from core.translation import Localized
from partnerships.models import Partnership
from partnerships.views import PartnershipListView
from tests.factories import PartnershipFactory

pytestmark = pytest.mark.django_db

PER_PAGE = 2


@pytest.fixture
def registry(monkeypatch):
    """Titles that repeat, so that only the tie-break orders them; drafts among them; one
    partnership titled in Danish only."""
    monkeypatch.setattr(PartnershipListView, "paginate_by", PER_PAGE)
    titles = ["Beta", "Alpha", "Beta", "Gamma", "Alpha", "Beta", "Delta", "Beta", "Alpha"]
    for number, title in enumerate(titles):
        draft = number % 4 == 3
        PartnershipFactory(
            title=title, publication=Publication.DRAFT if draft else Publication.PUBLISHED
        )
    PartnershipFactory(title_en="", title_da="Aalborg-samarbejdet")


def expected(language):
    with translation.override(language):
        order = Localized("title").asc()
        return list(
            Partnership.objects.published().order_by(order, "pk").values_list("slug", flat=True)
        )


def listed_slugs(response):
    return [partnership.slug for partnership in response.context["page_obj"].object_list]


@pytest.mark.parametrize("language", ["en", "da"])
def test_every_page_of_the_public_list_holds_the_list_in_order(client, registry, language):
    whole = expected(language)
    assert len(whole) == 8
    pages = []
    for number in range(1, 5):
        response = client.get(f"/{language}/partnerships/", {"page": number})
        assert response.status_code == 200
        pages.append(listed_slugs(response))
    assert [len(page) for page in pages] == [2, 2, 2, 2]
    assert [slug for page in pages for slug in page] == whole


def test_every_page_of_the_api_list_holds_the_list_in_order(client, registry):
    whole = expected("en")
    pages = []
    for number in range(1, 5):
        response = client.get("/api/partnerships/", {"page": number, "page_size": 2})
        assert response.status_code == 200
        pages.append([row["slug"] for row in response.json()["results"]])
    assert [slug for page in pages for slug in page] == whole


def test_a_page_past_the_first_reads_its_ids_first_from_the_nearer_end(client, registry):
    # (page, its ids read first, read from the far end)
    for number, ids_first, from_end in [
        (1, False, False),
        (2, True, False),
        (3, True, True),
        (4, False, True),
    ]:
        with CaptureQueriesContext(connection) as queries:
            response = client.get("/en/partnerships/", {"page": number})
        assert response.status_code == 200
        pages = [
            query["sql"]
            for query in queries.captured_queries
            if query["sql"].startswith('SELECT "partnerships_partnership"."id", ')
        ]
        assert len(pages) == 1, number
        assert ("IN (SELECT" in pages[0]) == ids_first, number
        # From the far end, the order reversed: the last page is the first from there.
        assert (" DESC" in pages[0]) == from_end, number
