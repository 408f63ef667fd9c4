import datetime
import html

import pytest
from django.core.management import call_command

from core.models import Publication
from places.models import Place, PlaceFigure
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    PlaceNameFactory,
    SourceFactory,
)
from tests.pages import queries_for, url

pytestmark = pytest.mark.django_db

LIST_QUERY_BUDGET = 6
# The first places and organisations in it and their numbers; its partnerships' number,
# kept, and the ids of its few ties (partnerships.models.ties_within).
DETAIL_QUERY_BUDGET = 18  # its organisations: their ids first, then their rows


@pytest.fixture
def wuxi():
    jiangsu = PlaceFactory(name="Jiangsu", native_name="江苏", kind=Place.Kind.PROVINCE)
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡", parent=jiangsu, native_language="zh")
    PlaceNameFactory(place=wuxi, name="Wutshi")
    return wuxi


def names_in(response):
    return [place.name for place in response.context["object_list"]]


def test_list_and_detail_answer(client, wuxi):
    response = client.get(url("places:place-list"))
    assert response.status_code == 200
    assert "Wuxi" in names_in(response)
    response = client.get(url("places:place-detail", slug=wuxi.slug))
    assert response.status_code == 200
    assert "无锡" in response.content.decode()


def test_bare_address_redirects_to_the_readers_language(client):
    response = client.get("/places/", HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 302
    assert response["Location"] == "/da/places/"


@pytest.mark.parametrize("query", ["Wuxi", "wuxi", "Wutshi", "无锡", "WUXI "])
def test_search_finds_any_name(client, wuxi, query):
    response = client.get(url("places:place-list", query=f"q={query}"))
    assert names_in(response) == ["Wuxi"]


def test_search_folds_accents(client):
    PlaceFactory(name="Östergötland", country="SE", kind=Place.Kind.REGION)
    PlaceFactory(name="Jiangsu")
    response = client.get(url("places:place-list", query="q=Ostergotland"))
    assert names_in(response) == ["Östergötland"]


def test_filters_by_kind_country_and_parent(client, wuxi):
    aarhus = PlaceFactory(name="Aarhus", country="DK", kind=Place.Kind.MUNICIPALITY)
    nanjing = PlaceFactory(name="Nanjing", parent=wuxi.parent)
    assert names_in(client.get(url("places:place-list", query="kind=municipality"))) == ["Aarhus"]
    assert names_in(client.get(url("places:place-list", query="country=DK"))) == [aarhus.name]
    response = client.get(url("places:place-list", query=f"parent={wuxi.parent.slug}"))
    assert names_in(response) == [nanjing.name, "Wuxi"]


def test_sorting_by_population(client):
    small = PlaceFactory(name="Aaa small")
    large = PlaceFactory(name="Zzz large")
    PlaceFigureFactory(place=small, value=1_000)
    PlaceFigureFactory(place=large, value=9_000_000)
    assert names_in(client.get(url("places:place-list", query="sort=-population"))) == [
        large.name,
        small.name,
    ]
    assert names_in(client.get(url("places:place-list", query="sort=-name"))) == [
        large.name,
        small.name,
    ]
    # The API sorts by the same figures, though it shows none of them in its list.
    middling = PlaceFactory(name="Mmm middling")
    PlaceFigureFactory(place=middling, value=50_000, kind=PlaceFigure.Kind.AREA)
    PlaceFigureFactory(place=small, value=10, kind=PlaceFigure.Kind.AREA)

    def api_names(query):
        return [place["name"] for place in client.get(f"/api/places/?{query}").json()["results"]]

    assert api_names("sort=-population") == [large.name, small.name, middling.name]
    assert api_names("sort=-area") == [middling.name, small.name, large.name]
    assert api_names("sort=name") == [small.name, middling.name, large.name]


def test_count_and_pagination_keep_the_query(client):
    PlaceFactory.create_batch(25, kind=Place.Kind.CITY)
    PlaceFactory(name="Elsewhere", kind=Place.Kind.REGION)
    response = client.get(url("places:place-list", query="q=place&kind=city"))
    page = html.unescape(response.content.decode())
    assert "25 results" in page
    assert "?q=place&kind=city&page=2" in page
    response = client.get(url("places:place-list", query="q=place&kind=city&page=2"))
    assert len(response.context["object_list"]) == 5


def test_empty_state_suggests_what_to_try(client, wuxi):
    response = client.get(url("places:place-list", query="q=atlantis&kind=city"))
    page = response.content.decode()
    assert response.context["paginator"].count == 0
    assert "Nothing here matches “atlantis”" in page
    assert "another spelling" in page
    assert "/en/search/?q=atlantis" in page
    assert "Clear all filters" in page


def test_invalid_filter_shows_nothing_rather_than_everything(client, wuxi):
    response = client.get(url("places:place-list", query="parent=no-such-place"))
    assert response.status_code == 200
    assert names_in(response) == []


def test_detail_shows_hierarchy_figures_and_sources(client, wuxi):
    old_source = SourceFactory(title="Statistical yearbook 2000")
    new_source = SourceFactory(title="Statistical yearbook 2010")
    PlaceFigureFactory(place=wuxi, value=4_300_000, year=2000, source=old_source)
    PlaceFigureFactory(place=wuxi, value=6_400_000, year=2010, source=new_source)
    child = PlaceFactory(name="Binhu District", parent=wuxi, kind=Place.Kind.DISTRICT)
    OrganisationFactory(name="Jiangnan University", place=child, country="CN")
    wuxi.last_reviewed_on = datetime.date(2011, 5, 3)
    wuxi.save()

    page = client.get(url("places:place-detail", slug=wuxi.slug)).content.decode()

    assert f'<a href="/en/places/{wuxi.parent.slug}/">Jiangsu</a>' in page
    assert '<span class="native" lang="zh">无锡</span>' in page
    assert "6.4\N{NO-BREAK SPACE}million" in page
    assert "Statistical yearbook 2010" in page
    # The older figure stays, behind a disclosure.
    assert "Show 1 older figure" in page
    # ... written as the current one is, not as 4,300,000.00.
    assert "4.3\N{NO-BREAK SPACE}million" in page
    assert "4,300,000" not in page
    assert "Binhu District" in page
    assert "Jiangnan University" in page
    assert "Last reviewed on" in page
    assert "May 3, 2011" in page


def test_province_page_shows_ties_of_its_cities(client):
    # The seed's Jiangsu: Wuxi (Bycirklen) and Suzhou (Esbjerg) are inside it.
    call_command("loaddata", "seed", verbosity=0)
    page = client.get(url("places:place-detail", slug="jiangsu")).content.decode()
    assert "Bycirklen–Wuxi cooperation" in page
    assert "Esbjerg–Suzhou cooperation" in page


def test_a_place_with_no_facts_shows_no_empty_facts_box(client):
    bare = PlaceFactory(name_en="Bareby", latitude=None, longitude=None)
    assert 'class="facts"' not in client.get(bare.get_absolute_url()).content.decode()
    located = PlaceFactory(name_en="Pinned", latitude=56.1, longitude=10.2)
    assert 'class="facts"' in client.get(located.get_absolute_url()).content.decode()


def test_unknown_place_is_the_sites_404(client):
    response = client.get(url("places:place-detail", slug="atlantis"))
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page
    assert '<nav class="language-links"' in page


def test_csv_download_is_filtered_excel_ready_and_defused(client):
    source = SourceFactory(title="@SUM(A1) report")
    evil = PlaceFactory(
        name="=HYPERLINK(1)",
        native_name="+45 1234",
        description="-2+3",
        latitude=-8.25,
        longitude=-35.5,
        country="BR",
    )
    evil.sources.add(source)
    PlaceNameFactory(place=evil, name="\tTabbed")
    PlaceFigureFactory(place=evil, value=77_300_000, year=2009)
    PlaceFactory(name="Not exported", country="DK")

    response = client.get(url("places:place-export", query="country=BR"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    assert body.startswith("\ufeffslug,name_da,name_en,kind,country,parent,capital,")
    assert "Not exported" not in body
    row = body.splitlines()[1]
    assert "'=HYPERLINK(1)" in row
    assert "'+45 1234" in row
    assert "'-2+3" in row
    assert "'\tTabbed" in row
    assert "'@SUM(A1) report" in row
    # Numbers stay numbers, the negative ones too.
    assert ",77300000,2009," in row
    assert ",-8.25,-35.5," in row


def test_csv_download_keeps_the_search(client, wuxi):
    PlaceFactory(name="Nanjing")
    response = client.get(url("places:place-export", query="q=wutshi"))
    lines = response.content.decode("utf-8").splitlines()
    assert len(lines) == 2
    # No Danish name: its column stays empty rather than repeat the English one.
    assert lines[1].startswith(f"{wuxi.slug},,Wuxi,city,CN,Jiangsu,,无锡,zh,Wutshi,")


def test_danish_page_uses_danish_numbers_dates_and_names(client, wuxi):
    PlaceFigureFactory(place=wuxi, value=77_300_000, year=2009)
    PlaceFigureFactory(place=wuxi, value=7_700_000, year=2000)
    wuxi.last_reviewed_on = datetime.date(2011, 5, 3)
    wuxi.save()
    english = client.get(url("places:place-detail", slug=wuxi.slug)).content.decode()
    danish = client.get(url("places:place-detail", "da", slug=wuxi.slug)).content.decode()
    assert '<html lang="en">' in english
    assert '<html lang="da">' in danish
    assert "77.3\N{NO-BREAK SPACE}million" in english
    assert "77,3\N{NO-BREAK SPACE}mio." in danish
    assert "7,7\N{NO-BREAK SPACE}mio." in danish  # the older figure too
    assert "7.700.000" not in danish
    assert "3. maj 2011" in danish
    assert "Kina" in danish and "Kina" not in english


def test_canonical_and_language_alternates(client, wuxi):
    page = client.get(url("places:place-detail", slug=wuxi.slug, query="x=1")).content.decode()
    assert f'<link rel="canonical" href="http://testserver/en/places/{wuxi.slug}/">' in page
    assert (
        f'<link rel="alternate" hreflang="da" href="http://testserver/da/places/{wuxi.slug}/">'
        in page
    )
    assert "<title>Wuxi (无锡) – Partnership Atlas</title>" in page
    assert '<meta name="description" content="' in page


def build_places(size):
    source = SourceFactory()
    country = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    for _ in range(size):
        place = PlaceFactory(parent=country)
        PlaceNameFactory(place=place)
        PlaceFigureFactory(place=place, source=source)
        PlaceFigureFactory(place=place, source=source, kind=PlaceFigure.Kind.AREA)


def build_place_page(size):
    source = SourceFactory()
    province = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE)
    province.sources.add(source)
    for year in range(2000, 2000 + size):
        PlaceFigureFactory(place=province, year=year, source=source)
    for _ in range(size):
        city = PlaceFactory(parent=province)
        PlaceFactory(parent=city, kind=Place.Kind.DISTRICT)
        PlaceNameFactory(place=province)
        organisation = OrganisationFactory(place=city)
        PartnershipFactory(parties=[city, PlaceFactory(country="DK")])
        PartnershipFactory(parties=[organisation, PlaceFactory(country="DK")])
    return province


@pytest.mark.parametrize(
    "query", ["", "q=place", "kind=city&country=CN&sort=-population", "parent=china"]
)
def test_list_runs_the_same_queries_for_3_and_30_places(
    client, django_assert_max_num_queries, query
):
    build_places(3)
    small = queries_for(client, url("places:place-list", query=query))
    build_places(27)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = queries_for(client, url("places:place-list", query=query))
    assert small == large


def test_export_runs_the_same_queries_for_3_and_30_places(client, django_assert_max_num_queries):
    build_places(3)
    small = queries_for(client, url("places:place-export"))
    build_places(27)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = queries_for(client, url("places:place-export"))
    assert small == large


@pytest.mark.parametrize("size", [3, 30])
def test_detail_query_budget(client, django_assert_max_num_queries, size):
    province = build_place_page(size)
    with django_assert_max_num_queries(DETAIL_QUERY_BUDGET):
        queries_for(client, url("places:place-detail", slug=province.slug))


def test_detail_runs_the_same_queries_whatever_the_size(client):
    small, full, large = (
        queries_for(client, url("places:place-detail", slug=build_place_page(size).slug))
        for size in (3, 30, 60)
    )
    # A section shorter than a page is not counted: it holds every record there is.
    assert small <= full == large


def test_a_place_with_many_ties_shows_the_latest_and_links_to_all(client):
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE)
    cities = [PlaceFactory(name=f"City {n}", parent=jiangsu) for n in range(3)]
    for number in range(25):
        PartnershipFactory(
            title=f"Tie {number:02d}",
            start=str(1990 + number),
            parties=[cities[number % 3], PlaceFactory()],
        )
    response = client.get(url("places:place-detail", slug=jiangsu.slug))
    content = response.content.decode()
    shown = [p.title for p in response.context["partnerships"]]
    assert len(shown) == 20
    assert shown[0] == "Tie 24"  # newest start first
    assert "All 25 partnerships here, with filters and “as of”" in content
    more = url("partnerships:partnership-list", query=f"place={jiangsu.slug}")
    assert f'href="{more}"' in content
    assert client.get(more).context["paginator"].count == 25


def test_coordinates_read_with_compass_points_in_the_readers_language(client):
    place = PlaceFactory(name="Jiangsu", latitude="33.0", longitude="119.7")
    english = client.get(url("places:place-detail", slug=place.slug)).content.decode()
    danish = client.get(url("places:place-detail", "da", slug=place.slug)).content.decode()
    assert "33° N, 119.7° E" in english
    assert "33° N, 119,7° Ø" in danish
    assert "openstreetmap.org/?mlat=33.000000&amp;mlon=119.700000" in english


def test_the_timeline_holds_its_ties_events_and_events_held_there(client, wuxi, admin_client):
    """Events of the place's ties, and events of other ties held at the place; an event of
    a draft partnership only for staff."""
    own = PartnershipFactory(title="Wuxi–Aarhus", parties=[wuxi])
    EventFactory(partnership=own, text_en="Agreement signed")
    elsewhere = PartnershipFactory(title="Suzhou–Odense", parties=[PlaceFactory()])
    EventFactory(partnership=elsewhere, place=wuxi, text_en="Delegation met in Wuxi")
    EventFactory(partnership=elsewhere, text_en="Meeting in Odense")
    draft = PartnershipFactory(title="Not yet", publication=Publication.DRAFT)
    EventFactory(partnership=draft, place=wuxi, text_en="Draft visit")
    address = url("places:place-detail", slug=wuxi.slug)
    public = client.get(address).content.decode()
    assert "Agreement signed" in public and "Delegation met in Wuxi" in public
    assert "Meeting in Odense" not in public and "Draft visit" not in public
    staff = admin_client.get(address).content.decode()
    assert "Draft visit" in staff and "Meeting in Odense" not in staff
