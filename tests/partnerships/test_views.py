import datetime

import pytest
from django.db.models.sql.compiler import SQLCompiler

from partnerships.models import Partnership, Theme
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
)
from tests.pages import SEARCH_WALK, queries_for, url
from tests.spies import calls_of

pytestmark = pytest.mark.django_db

# One more than before the kept counts: how many partnerships a chosen country or kind
# has, read from them, picks how the filter reads (PartnershipFilter.with_value).
LIST_QUERY_BUDGET = 13
DETAIL_QUERY_BUDGET = 6


@pytest.fixture
def places():
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE)
    wuxi = PlaceFactory(name="Wuxi", native_name="无锡", parent=jiangsu)
    PlaceNameFactory(place=wuxi, name="Wutshi")
    return {
        "denmark": denmark,
        "jiangsu": jiangsu,
        "wuxi": wuxi,
        "suzhou": PlaceFactory(name="Suzhou", parent=jiangsu),
        "ballerup": PlaceFactory(name="Ballerup", parent=denmark, country="DK"),
        "esbjerg": PlaceFactory(name="Esbjerg", parent=denmark, country="DK"),
        "aarhus": PlaceFactory(name="Aarhus", parent=denmark, country="DK"),
        "harbin": PlaceFactory(name="Harbin"),
    }


@pytest.fixture
def ties(places):
    return {
        "bycirklen": tie(
            title="Bycirklen cooperation",
            start="2007",
            parties=[places["ballerup"], places["wuxi"]],
            themes=[ThemeFactory(name="Elderly care", slug="elderly-care")],
            last_reviewed_on=datetime.date(2024, 6, 1),
        ),
        "esbjerg": PartnershipFactory(
            title="Esbjerg–Suzhou cooperation",
            kind=Partnership.Kind.SISTER_CITY,
            start="1980s",
            parties=[places["esbjerg"], places["suzhou"]],
        ),
        "harbin": PartnershipFactory(
            title="Aarhus–Harbin friendship city",
            kind=Partnership.Kind.FRIENDSHIP_CITY,
            status=Partnership.Status.ENDED,
            start="c. 2008",
            end="2011",
            parties=[places["aarhus"], places["harbin"]],
        ),
    }


def tie(themes=(), **fields):
    partnership = PartnershipFactory(**fields)
    partnership.themes.set(themes)
    return partnership


def titles_in(response):
    return [partnership.title for partnership in response.context["object_list"]]


def listing(client, query=""):
    return titles_in(client.get(url("partnerships:partnership-list", query=query)))


def test_list_and_detail_answer(client, ties):
    assert len(listing(client)) == 3
    response = client.get(url("partnerships:partnership-detail", slug=ties["bycirklen"].slug))
    assert response.status_code == 200


@pytest.mark.parametrize("query", ["Wuxi", "Wutshi", "无锡", "wutshi ballerup", "bycirklen"])
def test_search_finds_partnerships_by_their_participants_names(client, ties, query):
    assert listing(client, f"q={query}") == ["Bycirklen cooperation"]


def test_search_through_an_organisation_participant(client, places):
    dtu = OrganisationFactory(name="Technical University of Denmark", short_name="DTU")
    PartnershipFactory(title="Research collaboration", parties=[dtu, places["wuxi"]])
    assert listing(client, "q=dtu") == ["Research collaboration"]


def test_search_does_not_repeat_a_partnership(client, places):
    PartnershipFactory(title="Wuxi pair", parties=[places["wuxi"], PlaceFactory(name="Wuxi Other")])
    assert listing(client, "q=wuxi") == ["Wuxi pair"]


def test_filters(client, ties, places):
    assert listing(client, "kind=sister_city") == ["Esbjerg–Suzhou cooperation"]
    assert listing(client, "status=ended") == ["Aarhus–Harbin friendship city"]
    assert listing(client, "theme=elderly-care") == ["Bycirklen cooperation"]
    assert listing(client, "country=DK") == [
        "Aarhus–Harbin friendship city",
        "Bycirklen cooperation",
        "Esbjerg–Suzhou cooperation",
    ]
    assert listing(client, f"place={places['wuxi'].slug}") == ["Bycirklen cooperation"]
    assert listing(client, "start_from=2000") == [
        "Aarhus–Harbin friendship city",
        "Bycirklen cooperation",
    ]
    assert listing(client, "start_from=1980&start_to=2007") == [
        "Bycirklen cooperation",
        "Esbjerg–Suzhou cooperation",
    ]
    assert listing(client, "reviewed_since=2024-01-01") == ["Bycirklen cooperation"]


def test_participant_place_includes_its_sub_places(client, ties, places):
    assert listing(client, f"place={places['jiangsu'].slug}") == [
        "Bycirklen cooperation",
        "Esbjerg–Suzhou cooperation",
    ]


def test_participant_organisation_and_organisations_inside_a_place(client, places):
    university = OrganisationFactory(name="Jiangnan University", place=places["wuxi"])
    PartnershipFactory(title="University tie", parties=[university, PlaceFactory()])
    assert listing(client, f"organisation={university.slug}") == ["University tie"]
    assert listing(client, f"place={places['jiangsu'].slug}") == ["University tie"]


def test_invalid_year_is_reported_not_a_crash(client, ties):
    response = client.get(url("partnerships:partnership-list", query="start_from=99999"))
    assert response.status_code == 200
    assert titles_in(response) == []
    assert 'class="errorlist' in response.content.decode()


def test_sorting(client, ties):
    assert listing(client, "sort=start") == [
        "Esbjerg–Suzhou cooperation",
        "Bycirklen cooperation",
        "Aarhus–Harbin friendship city",
    ]
    assert listing(client, "sort=-title")[0] == "Esbjerg–Suzhou cooperation"


def test_dates_as_people_write_them(client, ties):
    page = client.get(url("partnerships:partnership-list")).content.decode()
    assert "since the 1980s" in page
    assert "2007–" in page
    assert "c. 2008–2011" in page


@pytest.mark.parametrize(
    "fields, expected",
    [
        ({"start": "1980s"}, "since the 1980s"),
        ({"start": "2007"}, "2007–"),
        ({"start": "2007", "end": "2011", "status": "ended"}, "2007–2011"),
        ({"start": "c. 2008", "status": "unknown"}, "c. 2008"),
        ({"status": "planned"}, "planned"),
        ({"status": "planned", "start": "2012"}, "planned for 2012"),
        ({}, "dates unknown"),
    ],
)
def test_partnership_dates_filter(fields, expected):
    from partnerships.templatetags.partnership_tags import partnership_dates

    partnership = PartnershipFactory(**fields)
    assert partnership_dates(partnership) == expected


def test_detail_shows_participants_dates_themes_timeline_and_sources(client, ties, places):
    partnership = ties["bycirklen"]
    partnership.sources.add(SourceFactory(title="Background note", url="https://example.org/n"))
    EventFactory(partnership=partnership, date="2010", text="Joint education conference")
    EventFactory(
        partnership=partnership,
        date="2011-05-03",
        text="Delegation visit",
        source=SourceFactory(title="Press release"),
    )
    page = client.get(url("partnerships:partnership-detail", slug=partnership.slug)).content
    page = page.decode()
    assert "Ballerup" in page and "Wuxi" in page
    assert "Jiangsu" in page  # where the participant is
    assert "2007–" in page
    assert "Elderly care" in page
    assert "Joint education conference" in page
    assert "May 3, 2011" in page
    assert '<a href="https://example.org/n">Region Midtjylland, Background note</a>' in page
    assert "Press release" in page
    assert "Jun. 1, 2024" in page or "June 1, 2024" in page


def test_csv_download(client, ties):
    response = client.get(url("partnerships:partnership-export", query="q=wuxi"))
    lines = response.content.decode("utf-8").splitlines()
    assert lines[0] == (
        "\ufeffslug,title_da,title_en,kind,status,status_as_of,participants,start,end,themes,"
        "description_da,description_en,source,publication"
    )
    assert lines[1] == (
        "bycirklen-cooperation,,Bycirklen cooperation,cooperation_agreement,active,,"
        "Ballerup; Wuxi,2007,,Elderly care,,,,published"
    )
    assert len(lines) == 2


def test_a_filtered_download_writes_its_rows_as_the_whole_download_does(client):
    # A filtered download reads participants, themes and sources for its partnerships
    # alone (``Job.exported``); the whole registry's download reads them for all.
    theme, source = ThemeFactory(name="Elderly care"), SourceFactory(title="Background note")
    for kind in ("sister_city", "cooperation_agreement", "sister_city"):
        partnership = PartnershipFactory(
            kind=kind, parties=[PlaceFactory(), OrganisationFactory(place=PlaceFactory())]
        )
        partnership.themes.add(theme, ThemeFactory())
        partnership.sources.add(source)

    def rows(query=""):
        response = client.get(url("partnerships:partnership-export", query=query))
        return response.content.decode("utf-8").splitlines()

    whole, sisters = rows(), rows("kind=sister_city")
    assert len(whole) == 4 and len(sisters) == 3
    assert sisters == [whole[0], *(row for row in whole[1:] if ",sister_city," in row)]
    assert all("Elderly care" in row and "Background note" in row for row in sisters[1:])


def test_danish_dates(client, ties):
    page = client.get(
        url("partnerships:partnership-detail", "da", slug=ties["bycirklen"].slug)
    ).content.decode()
    assert "1. juni 2024" in page


def build_partnerships(size):
    theme = ThemeFactory()
    for _ in range(size):
        organisation = OrganisationFactory(place=PlaceFactory())
        partnership = tie(
            parties=[PlaceFactory(parent=PlaceFactory()), organisation, PlaceFactory()],
            themes=[theme, ThemeFactory()],
        )
        EventFactory(partnership=partnership)


def build_partnership_page(size):
    partnership = tie(
        parties=[PlaceFactory(parent=PlaceFactory()) for _ in range(size)]
        + [OrganisationFactory(place=PlaceFactory()) for _ in range(size)],
        themes=[ThemeFactory() for _ in range(size)],
    )
    for _ in range(size):
        partnership.sources.add(SourceFactory())
        EventFactory(partnership=partnership, place=PlaceFactory(), source=SourceFactory())
    return partnership


@pytest.mark.parametrize(
    "query",
    ["", "q=place", "kind=cooperation_agreement&status=active&country=CN&sort=-start"],
)
def test_list_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries, query):
    build_partnerships(3)
    small = queries_for(client, url("partnerships:partnership-list", query=query))
    build_partnerships(27)
    budget = LIST_QUERY_BUDGET + (SEARCH_WALK if query.startswith("q=") else 0)
    with django_assert_max_num_queries(budget):
        large = queries_for(client, url("partnerships:partnership-list", query=query))
    assert small == large


def test_list_filtered_by_place_runs_the_same_queries(client, django_assert_max_num_queries):
    # Neither the data size nor the depth of the hierarchy below the place costs queries:
    # each partnership keeps the places it lies in.
    province = PlaceFactory(kind=Place.Kind.PROVINCE)
    city = PlaceFactory(parent=province)
    PartnershipFactory.create_batch(3, parties=None)
    PartnershipFactory(parties=[city, PlaceFactory()])
    query = f"place={province.slug}"
    small = queries_for(client, url("partnerships:partnership-list", query=query))
    for _ in range(27):
        PartnershipFactory(parties=[PlaceFactory(parent=city), PlaceFactory()])
    PlaceFactory(parent=PlaceFactory(parent=province))  # same depth, more places
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = queries_for(client, url("partnerships:partnership-list", query=query))
    assert large == small  # the new grandchildren add no level to walk


def test_export_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries):
    build_partnerships(3)
    small = queries_for(client, url("partnerships:partnership-export"))
    build_partnerships(27)
    with django_assert_max_num_queries(LIST_QUERY_BUDGET):
        large = queries_for(client, url("partnerships:partnership-export"))
    assert small == large


def test_detail_runs_the_same_queries_for_3_and_30(client, django_assert_max_num_queries):
    small = build_partnership_page(3)
    count_small = queries_for(client, url("partnerships:partnership-detail", slug=small.slug))
    large = build_partnership_page(30)
    with django_assert_max_num_queries(DETAIL_QUERY_BUDGET):
        count_large = queries_for(client, url("partnerships:partnership-detail", slug=large.slug))
    assert count_small == count_large


def test_a_card_names_its_parties_and_themes_wherever_it_shows(client):
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    university = OrganisationFactory(name="Aarhus University", place=aarhus, country="DK")
    harbin = PlaceFactory(name="Harbin", country="CN")
    tie = PartnershipFactory(title="Aarhus–Harbin", parties=[university, harbin])
    tie.themes.add(ThemeFactory(name="Education"), ThemeFactory(name="Health"))
    card = (
        '<span class="party">Aarhus University <span class="country">(Denmark)</span></span>'
        '<span aria-hidden="true"> ↔ </span><span class="visually-hidden">, </span>'
        '<span class="party">Harbin <span class="country">(China)</span></span>'
    )
    themes = '<span class="tag">Education</span><span class="tag">Health</span>'
    for address in [
        url("partnerships:partnership-list"),
        url("search", query="q=harbin"),
        url("places:place-detail", slug=aarhus.slug),
        url("organisations:organisation-detail", slug=university.slug),
    ]:
        page = client.get(address).content.decode()
        assert card in page, address
        assert themes in page, address


def test_a_list_with_no_theme_chosen_writes_no_query_of_themes(client, ties, monkeypatch):
    # Django's empty choice is a queryset that cannot run; each test of it compiled one.
    compiled = calls_of(monkeypatch, SQLCompiler, "as_sql")
    assert listing(client, "status=active&kind=sister_city") == ["Esbjerg–Suzhou cooperation"]
    empty = [call for call in compiled if call[0].query.model is Theme and call[0].query.is_empty()]
    assert not empty
    # Chosen, the themes still narrow the list.
    assert listing(client, "status=active&theme=elderly-care") == ["Bycirklen cooperation"]
