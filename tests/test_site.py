import re
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.conf import settings
from django.db.models.signals import post_init
from django.test import RequestFactory
from django.urls import clear_script_prefix, set_script_prefix, translate_url
from django.utils import translation

from core.exports import csv_text, neutralise
from core.models import Publication
from core.numbers import grouped, large_number
from core.sitemaps import LocalisedSitemap
from core.templatetags.atlas import page_in_languages
from core.views import server_error
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import queries_for, sitemap, url

# One more than before the chart of partnerships started per year: its GROUP BY.
HOME_QUERY_BUDGET = 8


@pytest.mark.django_db
def test_home_shows_counts_search_recent_records_and_kinds(client):
    wuxi = PlaceFactory(name="Wuxi")
    OrganisationFactory(name="Jiangnan University")
    PartnershipFactory(title="Bycirklen cooperation", parties=[wuxi, PlaceFactory()])
    PartnershipFactory(kind=Partnership.Kind.SISTER_CITY, status=Partnership.Status.PLANNED)

    response = client.get(url("home"))

    page = response.content.decode()
    assert response.status_code == 200
    assert response.context["counts"] == {"places": 4, "organisations": 1, "partnerships": 2}
    assert '<input type="search" id="q" name="q"' in page
    assert 'action="/en/search/"' in page
    assert "Bycirklen cooperation" in page  # recently updated
    assert "/en/partnerships/?kind=sister_city&amp;status=planned" in page


@pytest.mark.django_db
def test_home_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries):
    def build(size):
        for _ in range(size):
            PartnershipFactory(parties=[PlaceFactory(), OrganisationFactory()])

    build(3)
    small = queries_for(client, url("home"))
    build(27)
    with django_assert_max_num_queries(HOME_QUERY_BUDGET):
        large = queries_for(client, url("home"))
    assert small == large


@pytest.mark.django_db
def test_about_page_runs_no_query(client, django_assert_num_queries):
    # The benchmark's baseline: the base template alone, no database.
    with django_assert_num_queries(0):
        response = client.get(url("about"))
    assert response.status_code == 200
    assert "About the registry" in response.content.decode()


def test_every_page_has_landmarks_labels_and_a_language_switcher(client):
    page = client.get(url("about")).content.decode()
    assert '<a class="skip-link" href="#main">' in page
    assert '<main id="main"' in page
    assert "<header" in page and "<footer" in page
    assert '<nav class="site-nav" aria-label="Main">' in page
    assert '<nav class="language-links" aria-label="Language">' in page
    assert '<a href="/da/about/" hreflang="da" lang="da">Dansk</a>' in page
    assert 'aria-current="page"' in page  # "About" is marked in the menu
    assert '<link rel="stylesheet" href="/static/css/site.css">' in page


@pytest.mark.django_db
def test_switching_language_keeps_the_page_and_its_query(client):
    page = client.get(url("places:place-list", query="kind=city&q=aarhus")).content.decode()
    assert 'href="/da/places/?kind=city&amp;q=aarhus" hreflang="da"' in page
    danish = client.get("/da/places/?kind=city&q=aarhus").content.decode()
    assert 'href="/en/places/?kind=city&amp;q=aarhus" hreflang="en" lang="en">English</a>' in danish


@pytest.mark.django_db
def test_the_other_languages_address_follows_the_record_and_the_script_prefix(client):
    """The translated addresses are kept per process (``atlas._translated``): one
    record's never stands for another's, nor one mounting of the site for another."""
    for slug in ("aarhus", "ringsted"):
        place = PlaceFactory(name=slug, slug=slug)
        page = client.get(place.get_absolute_url() + "?x=%C3%A5").content.decode()
        expected = translate_url(place.get_absolute_url(), "da")
        assert f'<link rel="alternate" hreflang="da" href="http://testserver{expected}">' in page
        assert f'href="{expected}?x=%C3%A5" hreflang="da" lang="da">Dansk</a>' in page
    # Served under /atlas/ (SCRIPT_NAME), as behind a proxy that mounts it there, and not.
    for prefix in ("/", "/atlas/", "/"):
        set_script_prefix(prefix)
        try:
            request = RequestFactory().get("/en/about/?x=1")
            links = {link["code"]: link for link in page_in_languages({"request": request})}
        finally:
            clear_script_prefix()
        assert links["da"]["path"] == f"{prefix}da/about/?x=1"
        assert links["da"]["url"] == f"http://testserver{prefix}da/about/"


@pytest.mark.django_db
def test_no_language_form_endpoint_is_left_to_post_to(client):
    """The switch is a link to the other language's address; Django's set_language view
    (a form with a CSRF token on every page) is not mounted."""
    assert client.post("/i18n/setlang/", {"language": "da", "next": "/"}).status_code == 404


def test_danish_interface(client):
    page = client.get(url("about", "da")).content.decode()
    assert '<html lang="da">' in page
    assert 'hreflang="en" href="http://testserver/en/about/"' in page
    assert '<link rel="canonical" href="http://testserver/da/about/">' in page


@pytest.mark.django_db
def test_unknown_address_is_the_sites_404(client):
    for address in ["/en/no-such-page/", "/no-such-page/"]:
        response = client.get(address)
        assert response.status_code == 404
        page = response.content.decode()
        assert "Page not found" in page
        assert "Partnership Atlas" in page
        assert 'id="q"' in page


def test_server_error_page_is_in_the_sites_style():
    request = RequestFactory().get("/en/places/")
    with translation.override("en"):
        response = server_error(request)
    assert response.status_code == 500
    page = response.content.decode()
    assert "Something went wrong" in page
    assert "/static/css/site.css" in page


@pytest.mark.django_db
def test_sitemap_lists_every_record_in_both_languages(client):
    place = PlaceFactory(name="Wuxi")
    organisation = OrganisationFactory(name="Jiangnan University")
    partnership = PartnershipFactory(title="Bycirklen cooperation")
    body = sitemap(client)
    for language in ["en", "da"]:
        assert f"http://testserver/{language}/places/{place.slug}/" in body
        assert f"http://testserver/{language}/organisations/{organisation.slug}/" in body
        assert f"http://testserver/{language}/partnerships/{partnership.slug}/" in body
        assert f"<loc>http://testserver/{language}/about/</loc>" in body
    assert 'hreflang="da"' in body


def sitemap_locations(client, address):
    response = client.get(address)
    assert response.status_code == 200, address
    return re.findall(r"<url><loc>(.*?)</loc>", response.content.decode())


@pytest.mark.django_db
def test_sitemap_is_an_index_of_pages_that_each_read_only_their_records(
    client, monkeypatch, request
):
    # At 100,000 partnerships one sitemap of everything took 12 s and 37 MB: each page
    # now holds `limit` addresses, and a record's two languages may fall on two pages.
    monkeypatch.setattr(LocalisedSitemap, "limit", 3)
    places = [PlaceFactory(name=f"Ringsted {number}") for number in range(5)]
    PlaceFactory(name="Ringsted draft", publication=Publication.DRAFT)
    languages = [code for code, _ in settings.LANGUAGES]
    expected = [
        f"http://testserver/{language}/places/{place.slug}/"
        for place in sorted(places, key=lambda place: place.pk)
        for language in languages
    ]

    made = []

    def made_one(sender, instance, **kwargs):
        made.append(instance)

    post_init.connect(made_one, sender=Place, weak=False)
    request.addfinalizer(lambda: post_init.disconnect(made_one, sender=Place))
    index = client.get("/sitemap.xml").content.decode()
    assert not made, "the index read records"
    section = "http://testserver/sitemap-places.xml"
    pages = [section, *(f"{section}?p={number}" for number in range(2, 5))]
    assert [loc for loc in re.findall(r"<loc>(.*?)</loc>", index) if "places" in loc] == pages

    found = []
    for address in pages:
        made.clear()
        locations = sitemap_locations(client, address.removeprefix("http://testserver"))
        assert 1 <= len(locations) <= 3
        # The records of its own addresses, not the six of the section.
        assert len(made) == len({location.split("/")[-2] for location in locations})
        found += locations
    assert found == expected
    assert client.get(f"{section}?p=5".removeprefix("http://testserver")).status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("address", "status"),
    [
        ("/sitemap-places.xml?p=0", 404),
        ("/sitemap-places.xml?p=2", 404),
        ("/sitemap-places.xml?p=x", 404),
        ("/sitemap-nowhere.xml", 404),
        # Refused before any view, as every address with a control character is.
        ("/sitemap-places.xml?p=%00", 400),
    ],
)
def test_a_sitemap_page_that_does_not_exist_is_refused(client, address, status):
    PlaceFactory(name="Suzhou")
    assert client.get(address).status_code == status


@pytest.mark.django_db
def test_the_sitemap_index_dates_a_section_by_its_latest_published_record(client):
    older = PlaceFactory(name="Suzhou")
    newer = PlaceFactory(name="Suzhou")
    draft = PlaceFactory(name="Suzhou draft", publication=Publication.DRAFT)
    Place.objects.filter(pk=older.pk).update(updated_at=datetime(2020, 1, 2, tzinfo=UTC))
    Place.objects.filter(pk=newer.pk).update(updated_at=datetime(2024, 5, 6, tzinfo=UTC))
    Place.objects.filter(pk=draft.pk).update(updated_at=datetime(2025, 1, 1, tzinfo=UTC))
    index = client.get("/sitemap.xml").content.decode()
    entry = re.search(r"<loc>[^<]*sitemap-places\.xml</loc><lastmod>([^<]*)</lastmod>", index)
    assert entry and entry[1].startswith("2024-05-06"), index


def test_the_icon_is_where_browsers_look_for_it_unasked(client):
    # Pages that name no icon (the admin's, the API's in a browser) sent browsers to a 404.
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"].startswith("/static/img/favicon")
    assert response["Location"].endswith(".svg")


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    body = response.content.decode()
    assert "Disallow: /admin/" in body
    assert "Sitemap: http://testserver/sitemap.xml" in body


@pytest.mark.parametrize(
    "value, cell",
    [
        ("=1+1", "'=1+1"),
        ("+45 12 34", "'+45 12 34"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("-8.25", "-8.25"),
        ("-12", "-12"),
        ("+3.5e2", "+3.5e2"),
        (-35.5, "-35.5"),
        ("Aarhus", "Aarhus"),
        ("a=b", "a=b"),
        (None, ""),
    ],
)
def test_neutralise(value, cell):
    assert neutralise(value) == cell


def test_csv_text_starts_with_a_bom_and_uses_crlf():
    text = csv_text(["name", "longitude"], [["=cmd", "-8.2"]])
    assert text == "\ufeffname,longitude\r\n'=cmd,-8.2\r\n"


@pytest.mark.parametrize(
    "language, value, text",
    [
        ("en", 77_300_000, "77.3\N{NO-BREAK SPACE}million"),
        ("da", 77_300_000, "77,3\N{NO-BREAK SPACE}mio."),
        ("en", Decimal("8000000.00"), "8\N{NO-BREAK SPACE}million"),
        ("da", 1_400_000_000, "1,4\N{NO-BREAK SPACE}mia."),
        ("en", 102_600, "102,600"),
        ("da", 102_600, "102.600"),
        ("da", Decimal("4.5"), "4,5"),
    ],
)
def test_large_numbers_in_the_readers_language(language, value, text):
    with translation.override(language):
        assert large_number(value) == text


@pytest.mark.parametrize(
    "language, value, text",
    [
        ("da", 999, "999"),
        ("da", 1000, "1.000"),
        ("en", 1000, "1,000"),
        ("en", -999, "-999"),
        ("en", -1000, "-1,000"),
        ("da", 0, "0"),
        ("da", 12.5, "12,5"),
        ("da", Decimal("999.5"), "999,5"),
        ("en", 5, "5"),
    ],
)
def test_numbers_grouped_in_the_readers_language(language, value, text):
    # Small whole numbers skip Django's formatting: the same text either way.
    with translation.override(language):
        assert grouped(value) == text


@pytest.mark.django_db
def test_place_kind_labels_follow_the_language(client):
    place = PlaceFactory(name="Wuxi", kind=Place.Kind.CITY)
    english = client.get(url("places:place-detail", slug=place.slug)).content.decode()
    danish = client.get(url("places:place-detail", "da", slug=place.slug)).content.decode()
    assert "City" in english
    assert '<nav class="language-links" aria-label="Sprog">' in danish
