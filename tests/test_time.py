"""The registry read "as of" a date, and a status that carries its own "as of"."""

import datetime

import pytest
from django.utils import timezone

from tests.factories import PartnershipFactory
from tests.pages import url

pytestmark = pytest.mark.django_db

THIS_YEAR = timezone.localdate().year


def as_of(client, date, language="en"):
    """{title: status badge text} of the partnership list as of ``date``."""
    address = url("partnerships:partnership-list", language, query=f"as_of={date}")
    response = client.get(address)
    assert response.status_code == 200
    page = response.content.decode()
    found = {}
    for partnership in response.context["object_list"]:
        # A title in another language than the reader's is marked so: <span lang="en">.
        card = page[page.index(f">{partnership.title}<") :]
        badge = card[card.index('class="status ') :]
        found[partnership.title] = badge[badge.index(">") + 1 : badge.index("</span>")]
    return found


def test_a_decade_start_is_active_after_it_and_possibly_active_within_it(client):
    PartnershipFactory(title="Since the 1980s", status="active", start="1980s")
    assert as_of(client, "1990") == {"Since the 1980s": "Active in 1990"}
    assert as_of(client, "1985") == {"Since the 1980s": "Possibly active in 1985"}
    assert as_of(client, "1975") == {}


def test_the_danish_list_says_what_was_so_then_in_danish(client):
    PartnershipFactory(title="Since the 1980s", status="active", start="1980s")
    PartnershipFactory(title="Ended", status="ended", start="1990", end="1995")
    PartnershipFactory(title="Planned 2012", status="planned", status_as_of="2012")
    assert as_of(client, "1985", "da") == {"Since the 1980s": "Muligvis aktiv i 1985"}
    assert as_of(client, "1993", "da")["Since the 1980s"] == "Aktiv i 1993"
    assert as_of(client, "2000", "da")["Ended"] == "Afsluttet senest i 2000"
    assert as_of(client, "2013", "da")["Planned 2012"] == "Planlagt i 2013"
    assert as_of(client, "2020", "da")["Planned 2012"] == "Ubekræftet i 2020"


def test_circa_widens_a_year_by_one_each_way(client):
    PartnershipFactory(title="About 2008", status="active", start="c. 2008")
    assert as_of(client, "2006") == {}
    assert as_of(client, "2007") == {"About 2008": "Possibly active in 2007"}
    assert as_of(client, "2008") == {"About 2008": "Possibly active in 2008"}
    assert as_of(client, "2010") == {"About 2008": "Active in 2010"}


def test_a_month_counts_by_its_days(client):
    PartnershipFactory(title="May 2011", status="active", start="2011-05")
    assert as_of(client, "2011-04") == {}
    assert as_of(client, "2011-05") == {"May 2011": "Active in May 2011"}
    assert as_of(client, "2011") == {"May 2011": "Active in 2011"}


def test_a_day_is_read_on_that_day_in_both_languages(client):
    PartnershipFactory(title="May 2011", status="active", start="2011-05")
    PartnershipFactory(title="Ended", status="ended", start="2000", end="2005")
    PartnershipFactory(title="Planned", status="planned", status_as_of="2011-01")
    assert as_of(client, "2011-05-03") == {
        "May 2011": "Possibly active on May 3, 2011",
        "Ended": "Ended by May 3, 2011",
        "Planned": "Planned on May 3, 2011",
    }
    assert as_of(client, "2011-06-01", "da") == {
        "May 2011": "Aktiv den 1. juni 2011",
        "Ended": "Afsluttet senest den 1. juni 2011",
        "Planned": "Planlagt den 1. juni 2011",
    }
    # A day "c." is a span of three years, read "in" as a year is.
    assert as_of(client, "c. 2011-06-01")["Ended"] == "Ended by c. June 1, 2011"


def test_without_a_start_a_tie_is_known_from_its_confirmation(client):
    PartnershipFactory(title="Confirmed 2012", status="active", status_as_of="2012")
    PartnershipFactory(title="Never dated", status="active")
    assert as_of(client, "2010") == {}
    assert as_of(client, "2013") == {"Confirmed 2012": "Active in 2013"}
    # Five years after its confirmation the registry no longer vouches for it.
    assert as_of(client, "2020") == {"Confirmed 2012": "Possibly active in 2020"}


def test_an_ended_tie_with_a_vague_end(client):
    PartnershipFactory(title="Ended in the 2010s", status="ended", start="2000", end="2010s")
    assert as_of(client, "2005") == {"Ended in the 2010s": "Active in 2005"}
    assert as_of(client, "2012") == {"Ended in the 2010s": "Possibly active in 2012"}
    assert as_of(client, "2021") == {"Ended in the 2010s": "Ended by 2021"}


def test_an_ended_tie_without_an_end_is_only_possibly_active(client):
    PartnershipFactory(title="Ended sometime", status="ended", start="2000", status_as_of="2012")
    assert as_of(client, "2005") == {"Ended sometime": "Possibly active in 2005"}
    assert as_of(client, "2013") == {"Ended sometime": "Ended by 2013"}


def test_a_plan_is_known_from_its_confirmation(client):
    PartnershipFactory(title="Planned 2012", status="planned", status_as_of="2012")
    PartnershipFactory(title="Planned now", status="planned")
    assert as_of(client, "2011") == {}
    assert as_of(client, "2013") == {"Planned 2012": "Planned in 2013"}
    assert as_of(client, "2020")["Planned 2012"] == "Unconfirmed in 2020"
    assert as_of(client, str(THIS_YEAR))["Planned now"] == f"Planned in {THIS_YEAR}"


def test_as_of_combines_with_other_filters_and_facets(client):
    PartnershipFactory(title="Old", kind="sister_city", status="active", start="1990")
    PartnershipFactory(title="New", kind="sister_city", status="active", start="2015")
    response = client.get(url("partnerships:partnership-list", query="as_of=2000&kind=sister_city"))
    assert [str(p) for p in response.context["object_list"]] == ["Old"]
    kind = next(facet for facet in response.context["facets"] if facet.name == "kind")
    assert [(option.value, option.count) for option in kind.options] == [("sister_city", 1)]
    assert "as of 2000" in response.content.decode()


@pytest.mark.parametrize("date", ["soon", "2011-13", "12"])
def test_a_bad_date_says_what_to_write_and_finds_nothing(client, date):
    PartnershipFactory(title="Tie", start="2000")
    response = client.get(url("partnerships:partnership-list", query=f"as_of={date}"))
    assert response.status_code == 200
    assert list(response.context["object_list"]) == []
    page = response.content.decode()
    assert "errorlist" in page


def test_the_api_takes_as_of_and_rejects_a_bad_one(client):
    PartnershipFactory(title="Since the 1980s", slug="eighties", status="active", start="1980s")
    PartnershipFactory(title="Later", status="active", start="2001")
    body = client.get("/api/partnerships/", {"as_of": "1995"}).json()
    assert [item["slug"] for item in body["results"]] == ["eighties"]
    assert client.get("/api/partnerships/", {"as_of": "someday"}).status_code == 400


def test_a_status_shows_when_it_was_confirmed(client):
    recent = str(THIS_YEAR - 1)
    PartnershipFactory(title="Fresh", slug="fresh", status="active", status_as_of=recent)
    PartnershipFactory(title="Stale", slug="stale", status="active", status_as_of="c. 2012")
    PartnershipFactory(title="Ended", slug="ended", status="ended", status_as_of="2012")
    page = client.get(url("partnerships:partnership-list")).content.decode()
    as_of = '</span> <span class="status-as-of">'
    assert f"Active{as_of}(as of {recent}, per source)" in page
    assert f"Unconfirmed{as_of}(active as of c. 2012, per source)" in page
    assert f"Ended{as_of}(as of 2012, per source)" in page
    detail = client.get(url("partnerships:partnership-detail", slug="stale")).content.decode()
    assert 'Unconfirmed</span> <span class="status-as-of">(active as of c. 2012' in detail
    api = client.get("/api/partnerships/stale/").json()
    assert (api["status"], api["status_as_of"]["text"], api["status_today"]) == (
        "active",
        "c. 2012",
        "unconfirmed",
    )
    assert client.get("/api/partnerships/fresh/").json()["status_today"] == "active"


def test_confirmation_expires_five_years_after_the_last_day_it_may_mean():
    from partnerships.as_of import current_state
    from partnerships.models import Partnership

    tie = Partnership(status="active", status_as_of="2012")
    assert current_state(tie, datetime.date(2017, 12, 31)) == "active"
    assert current_state(tie, datetime.date(2018, 1, 1)) == "unconfirmed"
    assert current_state(Partnership(status="active"), datetime.date(2030, 1, 1)) == "active"


def test_years_at_the_end_of_the_calendar_are_read_on_every_page(client):
    # A typo staff may make ("9998" for "1998") and the last date a reader may ask for:
    # a year on from 9999, or five on from a confirmation in 9998, is past the calendar.
    PartnershipFactory(title="Typo", slug="typo", status="active", status_as_of="9998")
    PartnershipFactory(title="Far", slug="far", status="active", start="c. 9999")
    PartnershipFactory(title="Old", slug="old", status="active", start="c. 1000")
    for address in [
        url("partnerships:partnership-list"),
        url("partnerships:partnership-detail", slug="typo"),
        url("partnerships:partnership-detail", slug="far"),
        "/api/partnerships/typo/",
        "/api/partnerships/far/",
    ]:
        assert client.get(address).status_code == 200, address

    last_day = as_of(client, "9999-12-31")
    assert last_day.keys() == {"Typo", "Far", "Old"}
    assert (last_day["Typo"], last_day["Old"]) == ("Active on Dec. 31, 9999",) * 2
    assert as_of(client, "9998") == {
        "Typo": "Active in 9998",
        "Far": "Possibly active in 9998",
        "Old": "Active in 9998",
    }
    assert as_of(client, "1000") == {"Old": "Possibly active in 1000"}
    for address in [
        url("atlas:map", query="as_of=9999-12-31"),
        url("atlas:network", query="as_of=9999-12-31"),
        "/api/partnerships/?as_of=9999-12-31",
        "/api/partnerships/far/?as_of=9999-12-31",
        "/api/map/?as_of=9999-12-31",
        "/api/network/?as_of=9999-12-31",
    ]:
        assert client.get(address).status_code == 200, address
