"""Anonymous downloads written per client address and period (ATLAS_DOWNLOAD_ANON_RATE).

The CSV of 100,000 partnerships takes seconds to write, and an address with a query of
its own is written anew: without a limit one client could keep every worker busy.
"""

import pytest
from django.test import Client

from tests.factories import PartnershipFactory, UserFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

DOWNLOADS = [
    ("partnerships:partnership-export", ""),
    ("places:place-export", ""),
    ("organisations:organisation-export", ""),
    ("atlas:network-gexf", ""),
    ("atlas:network-edges", ""),
]


@pytest.fixture(autouse=True)
def two_an_hour(settings):
    settings.ATLAS_DOWNLOAD_ANON_RATE = "2/hour"
    PartnershipFactory(title="Suzhou and Ringsted")


def test_a_client_past_the_rate_is_told_when_to_come_back_in_its_language():
    reader = Client(REMOTE_ADDR="203.0.113.7")
    for query in ("kind=sister_city", "kind=cooperation"):
        assert reader.get(url("partnerships:partnership-export", query=query)).status_code == 200
    refused = reader.get(url("partnerships:partnership-export", "da", query="status=active"))
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert refused["Content-Type"] == "text/plain; charset=utf-8"
    assert "For mange downloads fra denne adresse" in refused.content.decode()
    english = reader.get(url("atlas:network-gexf"))
    assert english.status_code == 429
    assert "Too many downloads from this address" in english.content.decode()
    # Pages are no downloads; another address has its own count.
    assert reader.get(url("partnerships:partnership-list")).status_code == 200
    other = Client(REMOTE_ADDR="198.51.100.2")
    assert other.get(url("places:place-export")).status_code == 200


@pytest.mark.parametrize(("name", "query"), DOWNLOADS)
def test_every_download_counts(name, query):
    reader = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [reader.get(url(name, query=f"{query}&n={n}")).status_code for n in range(3)]
    assert statuses == [200, 200, 429]


def test_a_forged_forwarded_for_header_does_not_reset_the_count():
    reader = Client(REMOTE_ADDR="203.0.113.7")
    statuses = [
        reader.get(
            url("places:place-export", query=f"n={n}"), HTTP_X_FORWARDED_FOR=f"10.0.0.{n}"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_a_download_served_from_the_page_cache_is_not_counted(settings):
    settings.ATLAS_CACHE_PAGES = True
    reader = Client(REMOTE_ADDR="203.0.113.7")
    address = url("partnerships:partnership-export")
    responses = [reader.get(address) for _ in range(5)]
    assert [response.status_code for response in responses] == [200] * 5
    assert [response["X-Cache"] for response in responses] == ["MISS"] + ["HIT"] * 4
    assert reader.get(url("places:place-export")).status_code == 200
    assert reader.get(url("organisations:organisation-export")).status_code == 429


def test_staff_are_never_counted():
    staff = Client(REMOTE_ADDR="203.0.113.7")
    staff.force_login(UserFactory(is_staff=True))
    statuses = {staff.get(url("places:place-export", query=f"n={n}")).status_code for n in range(4)}
    assert statuses == {200}


def test_off_lifts_the_limit(settings):
    settings.ATLAS_DOWNLOAD_ANON_RATE = "off"
    reader = Client(REMOTE_ADDR="203.0.113.7")
    statuses = {
        reader.get(url("places:place-export", query=f"n={n}")).status_code for n in range(4)
    }
    assert statuses == {200}


def test_a_made_up_session_cookie_is_counted_as_anyone_else():
    reader = Client(REMOTE_ADDR="203.0.113.7")
    reader.cookies["sessionid"] = "made-up"
    statuses = [
        reader.get(url("places:place-export", query=f"n={n}")).status_code for n in range(3)
    ]
    assert statuses == [200, 200, 429]
