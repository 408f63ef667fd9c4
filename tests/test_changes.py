"""The public change feed: /changes/ and its Atom feeds, read from the records' history."""

import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse
from django.utils import translation

from places.models import Place

from .factories import OrganisationFactory, PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"


def entries(response):
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    return feed, feed.findall(f"{ATOM}entry")


def test_added_changed_and_deleted_records_show_newest_first(client):
    odense = PlaceFactory(name_en="Odense", name_da="Odense")
    PartnershipFactory(title_en="Odense–Suzhou", title_da="Odense–Suzhou")
    odense.description_da = "By på Fyn."
    odense.save()
    gone = OrganisationFactory(name_en="Closed Centre")
    gone.delete()

    page = client.get("/en/changes/").content.decode()

    deleted, changed = page.index("Closed Centre"), page.index("description (Danish)")
    added = page.index("Odense–Suzhou")
    assert deleted < changed < added
    assert f'href="{odense.get_absolute_url()}"' in page


def test_a_save_that_changes_nothing_shown_is_not_news(client):
    place = PlaceFactory(name_en="Vejle")
    place.save()

    page = client.get("/en/changes/").content.decode()

    assert page.count("Vejle</a>") == 1


def test_names_are_in_the_readers_language_and_marked_when_only_in_the_other(client):
    PlaceFactory(name_en="Copenhagen Municipality", name_da="Københavns Kommune")
    PlaceFactory(name_en="Harbin", name_da="")

    page = client.get("/da/changes/").content.decode()

    assert "Københavns Kommune" in page
    assert "Copenhagen Municipality" not in page
    assert '<span lang="en">Harbin</span>' in page


def test_no_staff_names_are_shown(client, editor):
    place = PlaceFactory(name_en="Aalborg")
    place.history.update(history_user=editor)

    page = client.get("/en/changes/").content.decode()

    assert "Aalborg" in page
    assert editor.username not in page


def test_older_changes_page_back_in_time(client, settings):
    for number in range(4):
        PlaceFactory(name_en=f"Town {number}")

    from atlas.changes_views import ChangesView

    ChangesView.page_size = 2
    try:
        first = client.get("/en/changes/")
        older = first.context["older"]
        second = client.get("/en/changes/", {"before": older})
    finally:
        ChangesView.page_size = 50

    assert [c.name for c in first.context["changes"]] == ["Town 3", "Town 2"]
    assert [c.name for c in second.context["changes"]] == ["Town 1", "Town 0"]


def test_a_bad_moment_is_a_clear_400_not_an_error(client):
    response = client.get("/en/changes/", {"before": "yesterday"})

    assert response.status_code == 400
    assert "is not a date and time" in response.content.decode()


@pytest.mark.parametrize(
    "moment, shown",
    [
        # In Copenhagen, the first day of year 1 begins in year 0 in UTC.
        ("0001-01-01", []),
        ("0001-01-01T00:30:00+05:00", []),
        # The last hours of 9999 west of Greenwich are in year 10000 in UTC.
        ("9999-12-31T23:00:00-05:00", ["Town"]),
        ("9999-12-31", ["Town"]),
    ],
)
def test_a_moment_at_the_ends_of_the_calendar_pages_back_from_there(client, moment, shown):
    PlaceFactory(name_en="Town")

    response = client.get("/en/changes/", {"before": moment})

    assert response.status_code == 200
    assert [change.name for change in response.context["changes"]] == shown


def test_query_count_does_not_grow_with_the_registry(client, django_assert_max_num_queries):
    for number in range(3):
        PlaceFactory(name_en=f"Small {number}").save()
    with django_assert_max_num_queries(12) as small:
        client.get("/en/changes/")
    for number in range(30):
        place = PlaceFactory(name_en=f"Large {number}")
        place.description_en = "Changed."
        place.save()
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get("/en/changes/")


def test_registry_feed_is_atom_with_stable_ids(client):
    place = PlaceFactory(name_en="Aarhus Municipality", name_da="Aarhus Kommune")
    place.description_en = "Second city."
    place.save()

    feed, items = entries(client.get("/en/changes/feed/"))
    again = [entry.find(f"{ATOM}id").text for entry in entries(client.get("/en/changes/feed/"))[1]]

    assert feed.find(f"{ATOM}title").text == "Partnership Atlas: recent changes"
    assert [entry.find(f"{ATOM}title").text for entry in items] == [
        "Aarhus Municipality (place): changed",
        "Aarhus Municipality (place): added",
    ]
    assert [entry.find(f"{ATOM}id").text for entry in items] == again
    assert items[0].find(f"{ATOM}updated").text
    assert items[0].find(f"{ATOM}summary").text == "Changed: description (English)"


def test_danish_feed_names_records_in_danish(client):
    PlaceFactory(name_en="Aarhus Municipality", name_da="Aarhus Kommune")

    _feed, items = entries(client.get("/da/changes/feed/"))

    assert items[0].find(f"{ATOM}title").text.startswith("Aarhus Kommune")


def test_record_feed_has_only_that_records_changes(client):
    aarhus = PlaceFactory(name_en="Aarhus")
    PlaceFactory(name_en="Odense")
    aarhus.description_en = "A city."
    aarhus.save()

    url = reverse("atlas:record-changes-feed", kwargs={"kind": "place", "slug": aarhus.slug})
    _feed, items = entries(client.get(url))

    assert len(items) == 2
    assert all("Aarhus" in entry.find(f"{ATOM}title").text for entry in items)


@pytest.mark.parametrize("kind,slug", [("place", "nowhere"), ("planet", "mars")])
def test_record_feed_of_unknown_record_is_404(client, kind, slug):
    url = reverse("atlas:record-changes-feed", kwargs={"kind": kind, "slug": slug})
    assert client.get(url).status_code == 404


def test_a_change_shows_at_once_with_the_page_cache_on(client, settings):
    settings.ATLAS_CACHE_PAGES = True
    place = PlaceFactory(name_en="Horsens")
    assert "change-deleted" not in client.get("/en/changes/").content.decode()

    with translation.override("en"):
        Place.objects.get(pk=place.pk).delete()
    page = client.get("/en/changes/").content.decode()

    assert 'class="change-kind change-deleted">Deleted' in page


def test_the_menu_marks_no_other_section(client):
    page = client.get("/en/changes/").content.decode()

    assert 'aria-current="page"' not in page
