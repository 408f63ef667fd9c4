"""Every section of a record's page shows one page of cards and links to the rest."""

import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.views import SECTION_SIZE
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.organisations import test_views as organisations_views
from tests.pages import queries_for, url
from tests.places import test_views as places_views

pytestmark = pytest.mark.django_db

MANY = SECTION_SIZE + 5


def page(client, address):
    response = client.get(address)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def cards_in(text, heading_id):
    """How many cards the section under ``heading_id`` shows."""
    section = text.split(f'id="{heading_id}"', 1)[1].split("</section>", 1)[0]
    return section.count('<li class="card">')


@pytest.fixture
def china():
    return PlaceFactory(name="China", kind=Place.Kind.COUNTRY)


def fill_country(country, size):
    """``size`` provinces, each with a city holding an organisation."""
    for number in range(size):
        province = PlaceFactory(
            name=f"Province {number:03}", kind=Place.Kind.PROVINCE, parent=country
        )
        city = PlaceFactory(parent=province)
        OrganisationFactory(name=f"Organisation {number:03}", place=city)


def test_a_country_shows_the_first_places_and_links_to_all_of_them(client, china):
    fill_country(china, MANY)
    text = page(client, url("places:place-detail", slug=china.slug))
    assert cards_in(text, "children-heading") == SECTION_SIZE
    assert f'<span class="count">{MANY}</span>' in text.split('id="children-heading"')[1]
    assert "Province 000" in text
    assert f"Province {MANY - 1:03}" not in text.split('id="organisations-heading"')[0]
    link = url("places:place-list", query=f"parent={china.slug}")
    assert f'href="{link}">All {MANY} places in China, with filters' in text
    listed = client.get(link)
    assert listed.context["paginator"].count == MANY


def test_a_country_shows_the_first_organisations_and_links_to_all_of_them(client, china):
    fill_country(china, MANY)
    text = page(client, url("places:place-detail", slug=china.slug))
    assert cards_in(text, "organisations-heading") == SECTION_SIZE
    assert f'<span class="count">{MANY}</span>' in text.split('id="organisations-heading"')[1]
    link = url("organisations:organisation-list", query=f"place={china.slug}")
    assert f'href="{link}">All {MANY} organisations in China, with filters' in text
    # The list counts those based anywhere inside the country, as the page does.
    assert client.get(link).context["paginator"].count == MANY


def test_a_small_place_shows_everything_without_a_link(client, china):
    fill_country(china, 3)
    with CaptureQueriesContext(connection) as queries:
        text = page(client, url("places:place-detail", slug=china.slug))
    # Each section is counted by the query that reads it, with no COUNT of its own.
    counts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT COUNT(")]
    assert not [sql for sql in counts if 'FROM "organisations_organisation"' in sql]
    assert not [sql for sql in counts if 'FROM "places_place"' in sql]
    assert '<span class="count">3</span>' in text.split('id="organisations-heading"')[1]
    assert cards_in(text, "children-heading") == 3
    assert cards_in(text, "organisations-heading") == 3
    assert "places in China, with filters" not in text
    assert "organisations in China, with filters" not in text


def test_an_organisation_shows_its_first_parts_and_links_to_all_of_them(client):
    parent = OrganisationFactory(name="Aarhus University", slug="au")
    for number in range(MANY):
        OrganisationFactory(name=f"Department {number:03}", parent=parent)
    text = page(client, url("organisations:organisation-detail", slug=parent.slug))
    assert "Department 000" in text
    assert f"Department {MANY - 1:03}" not in text
    link = url("organisations:organisation-list", query="parent=au")
    assert f'href="{link}">all {MANY} parts, with filters' in text
    assert client.get(link).context["paginator"].count == MANY


def test_the_organisation_list_filters_by_any_name_of_the_parent(client):
    parent = OrganisationFactory(name="Aarhus University", short_name="AU")
    OrganisationFactory(name="Department of Physics", parent=parent)
    OrganisationFactory(name="Unrelated")
    for query in ("parent=Aarhus University", "parent=aarhus-university", "parent=Arhus"):
        names = [
            organisation.name
            for organisation in client.get(
                url("organisations:organisation-list", query=query)
            ).context["object_list"]
        ]
        assert names == ["Department of Physics"], query


@pytest.mark.parametrize(
    "name, budget",
    [
        ("places:place-detail", places_views.DETAIL_QUERY_BUDGET),
        ("organisations:organisation-detail", organisations_views.DETAIL_QUERY_BUDGET),
    ],
)
def test_bounded_pages_run_the_same_queries_for_5_25_and_50(
    client, django_assert_max_num_queries, name, budget
):
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    parent = OrganisationFactory(name="Parent", place=china)
    record = china if name.startswith("places") else parent

    def grow(size):
        fill_country(china, size)
        for _ in range(size):
            OrganisationFactory(parent=parent)
            PartnershipFactory(parties=[parent, PlaceFactory(parent=china, country="CN")])

    grow(5)
    small = queries_for(client, url(name, slug=record.slug))
    grow(20)
    full = queries_for(client, url(name, slug=record.slug))
    grow(25)
    with django_assert_max_num_queries(budget):
        large = queries_for(client, url(name, slug=record.slug))
    # Each section is counted by the query that reads its first page.
    assert small <= full == large


def test_a_countrys_first_organisations_are_those_of_its_list_in_name_order(
    client, admin_client, china
):
    fill_country(china, MANY)
    province = Place.objects.get(name="Province 007")
    OrganisationFactory(name="Aaa, a draft", place=province, publication="draft")
    for reader, drafts in ((client, False), (admin_client, True)):
        with CaptureQueriesContext(connection) as queries:
            response = reader.get(url("places:place-detail", slug=china.slug))
        # Sorted as ids alone, and counted as they are; the rows, with where each is
        # based, read after by id.
        sql = [query["sql"] for query in queries.captured_queries]
        (ordered,) = [
            query
            for query in sql
            if query.startswith('SELECT "organisations_organisation"."id"')
            and "ORDER BY COALESCE" in query
            and "LIMIT 20" in query
        ]
        assert ordered.split(" FROM ")[0] == (
            'SELECT "organisations_organisation"."id" AS "pk", '
            'COUNT("organisations_organisation"."id") OVER () AS "section_total"'
        )
        assert "JOIN" not in ordered
        assert not [
            query
            for query in sql
            if query.startswith("SELECT COUNT(") and 'FROM "organisations_organisation"' in query
        ]
        shown = [organisation.name for organisation in response.context["organisations"]]
        expected = ["Aaa, a draft"] * drafts + [f"Organisation {n:03}" for n in range(MANY)]
        assert shown == expected[:SECTION_SIZE]
        assert response.context["total"] == MANY + drafts
        # Each card names where the organisation is based, read with it.
        assert shown[-1] in response.content.decode()


def test_the_parent_filter_is_a_text_box_not_a_list_of_every_place(client, china):
    fill_country(china, 30)
    text = page(client, url("places:place-list"))
    form = text.split('id="filter-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="parent"' in form
    assert "<select" not in form.split('name="parent"')[0].rsplit("<div", 1)[1]
    assert "Province 029" not in form


@pytest.mark.parametrize("value", ["China", "china", "CHINA", "中国"])
def test_the_parent_filter_takes_any_name_or_the_slug(client, china, value):
    china.native_name = "中国"
    china.save()
    fill_country(china, 2)
    PlaceFactory(name="Elsewhere", kind=Place.Kind.PROVINCE)
    response = client.get(url("places:place-list", query=f"parent={value}"))
    assert [place.name for place in response.context["object_list"]] == [
        "Province 000",
        "Province 001",
    ]


def test_an_unknown_parent_finds_nothing_and_says_so_without_an_error(client, china):
    fill_country(china, 2)
    response = client.get(url("places:place-list", query="parent=atlantis"))
    assert response.status_code == 200
    assert response.context["paginator"].count == 0


def test_cards_name_kinds_and_countries_in_the_readers_language(client, china):
    jiangsu = PlaceFactory(name="Jiangsu", name_da="Jiangsu", parent=china)
    city = PlaceFactory(name="Wuxi", name_da="Wuxi", parent=jiangsu)
    organisation = OrganisationFactory(
        name="Aarhus University", name_da="Aarhus Universitet", country="DK"
    )
    PartnershipFactory(title="Wuxi–Aarhus", parties=[city, organisation])
    danish = page(client, url("partnerships:partnership-list", language="da"))
    english = page(client, url("partnerships:partnership-list"))
    assert 'Wuxi <span class="country">(Kina)</span>' in danish
    assert 'Wuxi <span class="country">(China)</span>' in english
    places = page(client, url("places:place-list", language="da", query="q=wuxi"))
    assert "By i Jiangsu" in places
    organisations = page(client, url("organisations:organisation-list", language="da"))
    assert "Universitet" in organisations.split("Aarhus Universitet</a>", 1)[1][:200]
