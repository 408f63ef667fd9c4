"""Facets with counts on every list and on the search page."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partnerships.models import Partnership
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    ThemeFactory,
)
from tests.pages import queries_for, url

pytestmark = pytest.mark.django_db


def facets(response):
    return {
        facet.name: {option.value: (option.count, option.selected) for option in facet.options}
        for facet in response.context["facets"]
    }


def titles(response):
    return sorted(str(record) for record in response.context["object_list"])


@pytest.fixture
def ties():
    suzhou = PlaceFactory(name="Suzhou", country="CN")
    aarhus = PlaceFactory(name="Aarhus", country="DK", kind="municipality")
    hamburg = PlaceFactory(name="Hamburg", country="DE", kind="state")
    university = OrganisationFactory(name="Aarhus University", country="DK")
    health = ThemeFactory(name="Health", slug="health")
    a = PartnershipFactory(title="A", kind="sister_city", status="active", parties=[suzhou, aarhus])
    a.themes.add(health)
    PartnershipFactory(title="B", kind="sister_city", status="ended", parties=[hamburg, suzhou])
    PartnershipFactory(title="C", kind="cooperation", status="active", parties=[university, suzhou])
    PartnershipFactory(title="D", kind="office", status="planned", parties=[hamburg, aarhus])


def test_counts_follow_the_other_filters_but_not_their_own(client, ties):
    response = client.get(url("partnerships:partnership-list", query="kind=sister_city"))
    assert titles(response) == ["A", "B"]
    counted = facets(response)
    # Choosing another kind would add to the list: the kind facet ignores its own filter.
    assert counted["kind"] == {
        "sister_city": (2, True),
        "cooperation": (1, False),
        "office": (1, False),
    }
    assert counted["status"] == {"active": (1, False), "ended": (1, False)}
    assert counted["country"] == {"CN": (2, False), "DK": (1, False), "DE": (1, False)}
    assert counted["theme"] == {"health": (1, False)}
    assert counted["place_kind"]["city"] == (2, False)
    assert counted["place_kind"]["municipality"] == (1, False)


def test_a_chosen_theme_counts_the_themes_of_what_the_other_filters_keep(client, ties):
    from partnerships.models import Partnership, Theme

    water = ThemeFactory(name="Water", slug="water")
    Partnership.objects.get(title="C").themes.add(water, Theme.objects.get(slug="health"))
    Partnership.objects.get(title="D").themes.add(water)  # planned: left out by the status
    response = client.get(url("partnerships:partnership-list", query="theme=health&status=active"))
    assert titles(response) == ["A", "C"]
    counted = facets(response)
    assert counted["theme"] == {"health": (2, True), "water": (1, False)}
    assert counted["status"] == {"active": (2, True)}


def test_values_of_one_facet_add_up_and_facets_narrow_each_other(client, ties):
    either = client.get(url("partnerships:partnership-list", query="kind=sister_city&kind=office"))
    assert titles(either) == ["A", "B", "D"]
    both = client.get(
        url("partnerships:partnership-list", query="kind=sister_city&kind=office&country=DK")
    )
    assert titles(both) == ["A", "D"]
    assert both.context["paginator"].count == 2
    assert facets(both)["country"]["DK"] == (2, True)


@pytest.mark.parametrize(
    ("address", "query", "column", "found"),
    [
        ("partnerships:partnership-list", "kind=sister_city&kind=office", "kind", 3),
        ("partnerships:partnership-list", "status=ended&status=planned", "status", 2),
        ("places:place-list", "kind=municipality&kind=state", "kind", 2),
        ("places:place-list", "country=DK&country=DE", "country", 2),
        ("organisations:organisation-list", "country=DK&country=CN", "country", 1),
        ("api:partnership-list", "kind=office&kind=sister_city", "kind", 3),
    ],
)
def test_values_of_one_facet_are_one_in_of_the_column(client, ties, address, query, column, found):
    # An OR of equalities is no condition PostgreSQL can search an index for: with two
    # kinds, the faceted list read every published partnership in each of its counts.
    with CaptureQueriesContext(connection) as context:
        response = client.get(url(address, query=query))
    assert response.status_code == 200
    assert (
        response.json()["count"]
        if address.startswith("api:")
        else response.context["paginator"].count
    ) == found
    sql = "\n".join(query["sql"] for query in context.captured_queries)
    assert f'"{column}" IN (' in sql
    assert not re.search(rf'"{column}" = \S+ OR "?\w*"?\.?"{column}" =', sql)


def test_the_facets_read_what_the_filters_keep_as_one_array_on_postgresql(client, ties):
    """The lines of the partnerships the filters keep are read by their ids, made once:
    for ``IN (SELECT …)`` PostgreSQL may hash the ids and read every line there is."""
    with CaptureQueriesContext(connection) as context:
        response = client.get(
            url("partnerships:partnership-list", query="kind=sister_city&place_kind=city")
        )
    assert titles(response) == ["A", "B"]
    assert facets(response)["status"] == {"active": (1, False), "ended": (1, False)}
    assert facets(response)["theme"] == {"health": (1, False)}
    lines = [q["sql"] for q in context.captured_queries if "facetline" in q["sql"]]
    assert lines
    written = "= ANY(ARRAY(SELECT" if connection.vendor == "postgresql" else "IN (SELECT"
    assert all(written in sql for sql in lines), lines


def test_participants_kinds(client, ties):
    response = client.get(
        url("partnerships:partnership-list", query="organisation_kind=university")
    )
    assert titles(response) == ["C"]
    response = client.get(url("partnerships:partnership-list", query="place_kind=state"))
    assert titles(response) == ["B", "D"]


def test_facets_work_without_javascript(client, ties):
    page = client.get(url("partnerships:partnership-list", query="kind=office")).content.decode()
    # Check boxes belong to the filter form, which a button submits.
    assert 'form="filter-form" name="kind" value="office" id="facet-kind-office" checked' in page
    assert 'form="filter-form" name="kind" value="sister_city"' in page
    assert 'id="filter-form"' in page
    assert '<button type="submit" form="filter-form"' in page
    assert '<script src="/static/js/facets.js" defer></script>' in page


def test_a_chip_removes_one_value(client, ties):
    response = client.get(
        url("partnerships:partnership-list", query="kind=sister_city&kind=office&status=active")
    )
    chips = {chip.label: chip.remove_url for chip in response.context["chips"]}
    assert chips["Kind: sister city"] == "?kind=office&status=active"
    assert chips["Status: active"] == "?kind=sister_city&kind=office"
    page = response.content.decode()
    assert 'class="chip" data-explore-link href="?kind=office&amp;status=active"' in page
    assert (
        titles(client.get(url("partnerships:partnership-list", query="kind=office&status=active")))
        == []
    )


def test_places_and_organisations_have_facets(client, ties):
    places = client.get(url("places:place-list", query="country=CN&country=DE"))
    assert titles(places) == ["Hamburg", "Suzhou"]
    assert facets(places)["country"]["DK"] == (1, False)
    assert facets(places)["kind"] == {"city": (1, False), "state": (1, False)}
    organisations = client.get(url("organisations:organisation-list", query="kind=university"))
    assert facets(organisations)["kind"] == {"university": (1, True)}


def test_an_unknown_value_is_a_message_not_an_error(client, ties):
    response = client.get(url("partnerships:partnership-list", query="kind=nonsense"))
    assert response.status_code == 200
    assert titles(response) == []
    assert "errorlist" in response.content.decode()


def test_the_api_takes_several_values(client, ties):
    body = client.get("/api/partnerships/?kind=sister_city&kind=office&ordering=title").json()
    assert [item["title"] for item in body["results"]] == ["A", "B", "D"]
    assert client.get("/api/partnerships/?kind=nonsense").status_code == 400
    assert client.get("/api/places/?country=DK&country=DE").json()["count"] == 2


def test_the_search_page_has_facets(client, ties):
    response = client.get(url("search", query="q=suzhou&status=active"))
    counted = facets(response)
    assert counted["type"] == {
        "places": (1, False),
        "organisations": (0, False),
        "partnerships": (2, False),
    }
    assert counted["status"]["active"] == (2, True)
    assert counted["status"]["ended"] == (1, False)
    only = client.get(url("search", query="q=suzhou&type=partnerships"))
    page = only.content.decode()
    assert 'id="section-partnerships"' in page and 'id="section-places"' not in page
    assert "2 records match" not in page


def build(size):
    for number in range(size):
        place = PlaceFactory(country="DK" if number % 2 else "CN")
        tie = PartnershipFactory(parties=[place, OrganisationFactory()], kind="sister_city")
        tie.themes.add(ThemeFactory())


@pytest.mark.parametrize(
    "query",
    ["", "kind=sister_city&kind=office&country=DK&theme=theme-1&place_kind=city&as_of=2010"],
)
def test_facets_cost_the_same_queries_for_3_and_30(client, django_assert_max_num_queries, query):
    build(3)
    small = queries_for(client, url("partnerships:partnership-list", query=query))
    build(27)
    # count, page, participants, themes, six facets, the themes' slugs and names, the chart
    with django_assert_max_num_queries(12):
        large = queries_for(client, url("partnerships:partnership-list", query=query))
    assert small == large


def test_a_bad_value_on_the_search_page_says_so(client, ties):
    response = client.get(url("search", query="q=suzhou&as_of=soon"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "is not a date this registry understands" in page
    assert [str(p) for p in response.context["results"][0]["records"]] == ["Suzhou"]


def test_the_chart_of_partnerships_started_per_year(client):
    PartnershipFactory(kind="sister_city", start="2005")
    PartnershipFactory(kind="sister_city", start="2005-03")
    PartnershipFactory(kind="office", start="c. 2007")
    PartnershipFactory(kind="office", start="1980s")  # only the decade: counted apart
    PartnershipFactory(kind="office")  # no start
    home = client.get(url("home")).content.decode()
    chart = home[
        home.index('<section class="chart"') : home.index(
            "</section>", home.index('<section class="chart"')
        )
    ]
    assert 'role="img"' in chart and "<title id=" in chart and "<desc id=" in chart
    assert "3 partnerships with a known year of start; at most 2 in one year." in chart
    assert chart.count("<rect x=") == 2
    assert "<title>2005: sister city, 2</title>" in chart
    assert '<th scope="row">2007</th><td class="number">1</td><td>Office 1</td>' in chart
    assert "Not shown: 1 partnership whose start is known only to the decade." in chart
    # Under the list, for the list as filtered.
    listed = client.get(url("partnerships:partnership-list", query="kind=office")).content.decode()
    assert "1 partnership with a known year of start" in listed


def test_the_chart_is_drawn_once_for_the_same_starts(client):
    """Drawn once per process for the same counts and language: a write that moves no
    start draws nothing anew; one that moves a start draws its new bar."""
    from partnerships.templatetags.explore_tags import drawn_chart

    tie = PartnershipFactory(kind="sister_city", start="2005")
    drawn_chart.cache_clear()
    client.get(url("partnerships:partnership-list"))
    tie.title = "Renamed"
    tie.save()
    listed = client.get(url("partnerships:partnership-list")).content.decode()
    assert drawn_chart.cache_info().hits == 1 and drawn_chart.cache_info().misses == 1
    assert "<title>2005: sister city, 1</title>" in listed
    tie.start = "2006"
    tie.save()
    listed = client.get(url("partnerships:partnership-list")).content.decode()
    assert "<title>2006: sister city, 1</title>" in listed and "2005: sister" not in listed
    danish = client.get(url("partnerships:partnership-list", "da")).content.decode()
    assert "<title>2006: søsterby, 1</title>" in danish
    assert drawn_chart.cache_info().misses == 3


def test_theme_labels_are_in_the_readers_language(client):
    water = ThemeFactory(name_en="Water", name_da="Vand", slug="water")
    elder_care = ThemeFactory(name_en="", name_da="Ældrepleje", slug="elder-care")
    tie = PartnershipFactory(parties=[PlaceFactory(), PlaceFactory()])
    tie.themes.add(water, elder_care)

    def labels(language):
        response = client.get(
            url("partnerships:partnership-list", language, query="q=" + tie.title)
        )
        (theme,) = [facet for facet in response.context["facets"] if facet.name == "theme"]
        return {option.value: option.label for option in theme.options}

    assert labels("en") == {"water": "Water", "elder-care": "Ældrepleje"}  # no English name
    assert labels("da") == {"water": "Vand", "elder-care": "Ældrepleje"}


@pytest.mark.parametrize(
    "address", ["partnerships:partnership-list", "places:place-list", "search"]
)
def test_fixed_labels_are_in_the_readers_language_whichever_asked_first(client, ties, address):
    def labels(language, name):
        response = client.get(url(address, language, query="q=a"))
        (facet,) = [facet for facet in response.context["facets"] if facet.name == name]
        return {option.value: option.label for option in facet.options}

    # Labelled once per language and shared: each language keeps its own.
    for _ in range(2):
        assert labels("da", "country")["DE"] == "Tyskland"
        assert labels("en", "country")["DE"] == "Germany"
    if address != "places:place-list":
        assert labels("da", "status")["active"] == "aktiv"
        assert labels("en", "status")["active"] == "active"


def test_an_option_is_a_labelled_check_box_with_its_count(client, ties):
    theme = ThemeFactory(name_en="Water & <air>", name_da="Vand & <luft>", slug="water-air")
    for partnership in Partnership.objects.all():
        partnership.themes.add(theme)  # the office ("D") too

    def option(language, name, value):
        page = client.get(url("partnerships:partnership-list", language, query="kind=office"))
        text = page.content.decode()
        start = text.index(
            f'<li><input type="checkbox" form="filter-form" name="{name}" value="{value}"'
        )
        return text[start : text.index("</li>", start) + 5]

    assert option("en", "kind", "office") == (
        '<li><input type="checkbox" form="filter-form" name="kind" value="office" '
        'id="facet-kind-office" checked><label for="facet-kind-office">Office '
        '<span class="facet-count"><span class="visually-hidden">(</span>1'
        '<span class="visually-hidden">)</span></span></label></li>'
    )
    assert option("da", "theme", "water-air") == (
        '<li><input type="checkbox" form="filter-form" name="theme" value="water-air" '
        'id="facet-theme-water-air"><label for="facet-theme-water-air">Vand &amp; &lt;luft&gt; '
        '<span class="facet-count"><span class="visually-hidden">(</span>1'
        '<span class="visually-hidden">)</span></span></label></li>'
    )


@pytest.mark.parametrize(
    ("countries", "english", "danish"), [(9, "1 more", "1 mere"), (10, "2 more", "2 flere")]
)
def test_a_facet_of_many_values_shows_eight_and_the_rest_on_demand(
    client, countries, english, danish
):
    codes = ["CN", "DK", "DE", "SE", "NO", "FI", "US", "GB", "FR", "NL"][:countries]
    for index, code in enumerate(codes):
        # Fewer partnerships country by country: the facet shows the first eight.
        for _tie in range(len(codes) - index):
            PartnershipFactory(parties=[PlaceFactory(country=code), PlaceFactory(country=code)])
    for language, more in (("en", english), ("da", danish)):
        response = client.get(url("partnerships:partnership-list", language))
        page = response.content.decode()
        label = next(f.label for f in response.context["facets"] if f.name == "country")
        start = page.index(f"<legend>{label}</legend>")
        panel = page[start : page.index("</fieldset>", start)]
        assert panel.count('type="checkbox"') == countries
        shown, rest = panel.split('<details class="facet-more">')
        assert shown.count('type="checkbox"') == 8
        assert f'<summary>{more}<span class="visually-hidden">: {label}</span></summary>' in rest
        assert f'value="{codes[-1]}"' in rest and f'value="{codes[0]}"' in shown
        heading = {"en": "Narrow down", "da": "Afgræns"}[language]
        apply = {"en": "Apply filters", "da": "Anvend filtre"}[language]
        assert f'class="facets-heading">{heading}</h2>' in page
        assert f'class="facet-apply">{apply}</button>' in page
