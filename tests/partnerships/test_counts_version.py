"""The counts version (``core.versioning``): the facets of a list filtered only by what
the kept counts hold, and the kept counts each process reads (``core.cache.read_once``),
are kept under it and outlive every write that changes no count, and never one that does.

Each test serves the public lists with the page cache on, writes, and compares what the
next reader gets with the counts taken afresh, with nothing kept.
"""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import versioning
from core.models import Publication
from partnerships.models import Participant, Partnership, Theme
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory, ThemeFactory
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

# Lists whose facets the kept values alone decide, and one of each kind that they do not.
COUNTED = [
    "",
    "kind=sister_city&country=DK&country=CN&status=active&as_of=2010",
    "kind=sister_city",
    "country=US",
    "place=jiangsu",
    "theme=water&status=active",
]
ORGANISATION = "organisation=aalborg-university"
MONTH = "as_of=2011-05"


@pytest.fixture
def registry():
    """Two Suzhous, a Ringsted in Denmark and one in Iowa, two universities in Aarhus."""
    jiangsu = PlaceFactory(name="Jiangsu", slug="jiangsu", kind="province", country="CN")
    suzhou = PlaceFactory(name="Suzhou", slug="suzhou", parent=jiangsu, country="CN")
    suzhou_anhui = PlaceFactory(name="Suzhou", slug="suzhou-anhui", country="CN")
    ringsted = PlaceFactory(name="Ringsted", slug="ringsted", kind="municipality", country="DK")
    ringsted_iowa = PlaceFactory(name="Ringsted", slug="ringsted-iowa", country="US")
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", kind="municipality", country="DK")
    university = OrganisationFactory(
        name="Aarhus University", slug="aarhus-university", place=aarhus
    )
    # Based in Aarhus too, for the test of a tie it joins.
    aalborg = OrganisationFactory(
        name="Aalborg University", slug="aalborg-university", place=aarhus
    )
    water = ThemeFactory(name="Water", slug="water")
    twins = PartnershipFactory(
        title="Ringsted–Suzhou",
        kind=Partnership.Kind.SISTER_CITY,
        start="1990",
        parties=[ringsted, suzhou],
    )
    twins.themes.add(water)
    research = PartnershipFactory(
        title="Aarhus University–Suzhou",
        kind=Partnership.Kind.RESEARCH_COLLABORATION,
        status=Partnership.Status.ENDED,
        start="2011-06",
        parties=[university, suzhou_anhui],
    )
    iowa = PartnershipFactory(
        title="Ringsted (Iowa)–Suzhou",
        kind=Partnership.Kind.SISTER_CITY,
        start="2012",
        parties=[ringsted_iowa, suzhou],
    )
    return locals()


def shown(client, query):
    """{facet: {value: count}} of the list with ``query`` as ``client`` gets it built,
    with the number of partnerships it says it holds: after a write elsewhere, which moves
    the registry version alone."""
    versioning.bump(model=Partnership)
    response = client.get(url("partnerships:partnership-list", query=query))
    assert response.status_code == 200
    assert response["X-Cache"] == "MISS"
    facets = {
        facet.name: {option.value: option.count for option in facet.options}
        for facet in response.context["facets"]
    }
    return facets, response.context["paginator"].count


def afresh(query, settings):
    """The same, counted with nothing kept: no page cache, no kept facets or reads."""
    settings.ATLAS_CACHE_PAGES = False
    try:
        response = Client().get(url("partnerships:partnership-list", query=query))
        return {
            facet.name: {option.value: option.count for option in facet.options}
            for facet in response.context["facets"]
        }, response.context["paginator"].count
    finally:
        settings.ATLAS_CACHE_PAGES = True


def counts_version():
    return versioning.part_versions(["counts"])[0]


@pytest.fixture
def reader(registry):
    """An anonymous reader who has had every list below built, its facets kept."""
    reader = Client()
    for query in [*COUNTED, ORGANISATION, MONTH]:
        shown(reader, query)
    return reader


def assert_fresh(reader, settings, queries=(*COUNTED, ORGANISATION, MONTH)):
    for query in queries:
        assert shown(reader, query) == afresh(query, settings), query


def test_a_write_that_changes_no_count_keeps_the_facets(reader, registry, settings):
    before = {query: shown(reader, query) for query in COUNTED}
    version = counts_version()
    twins = registry["twins"]
    twins.description = "Signed in Ringsted town hall."
    twins.save()
    assert counts_version() == version
    with CaptureQueriesContext(connection) as queries:
        after = {query: shown(reader, query) for query in COUNTED}
    assert after == before
    # Neither the kept counts nor every theme, which the facets name. (The theme filter
    # reads the theme it names; the card of the partnership written, its themes.)
    read = [
        sql
        for sql in (query["sql"] for query in queries)
        if 'FROM "partnerships_facetcount"' in sql
        or ('FROM "partnerships_theme"' in sql and "WHERE" not in sql)
    ]
    assert read == []


def _status(registry):
    twins = registry["twins"]
    twins.status = Partnership.Status.ENDED
    twins.save()


def _update(registry):
    Partnership.objects.filter(pk=registry["iowa"].pk).update(kind=Partnership.Kind.COOPERATION)


def _participant_added(registry):
    Participant.objects.create(
        partnership=registry["iowa"], place=PlaceFactory(name="Odense", country="DK")
    )


def _participant_deleted(registry):
    Participant.objects.filter(partnership=registry["twins"], place=registry["ringsted"]).delete()


def _theme_added(registry):
    registry["iowa"].themes.add(registry["water"])


def _theme_renamed(registry):
    water = registry["water"]
    water.slug = "fresh-water"
    water.name = "Fresh water"
    water.save()


def _theme_renamed_in_bulk(registry):
    Theme.objects.filter(pk=registry["water"].pk).update(slug="clean-water")


def _country_moved(registry):
    ringsted = registry["ringsted_iowa"]
    ringsted.country = "CA"
    ringsted.save()


def _parent_moved(registry):
    suzhou = registry["suzhou_anhui"]
    suzhou.parent = registry["jiangsu"]
    suzhou.save()


def _unpublished(registry):
    Partnership.objects.filter(pk=registry["twins"].pk).update(publication=Publication.DRAFT)


def _deleted(registry):
    registry["iowa"].delete()


def _new(registry):
    PartnershipFactory(
        kind=Partnership.Kind.SISTER_CITY,
        start="2005",
        parties=[registry["ringsted"], registry["suzhou_anhui"]],
    )


@pytest.mark.parametrize(
    "write",
    [
        _status,
        _update,
        _participant_added,
        _participant_deleted,
        _theme_added,
        _theme_renamed,
        _theme_renamed_in_bulk,
        _country_moved,
        _parent_moved,
        _unpublished,
        _deleted,
        _new,
    ],
)
def test_a_write_that_changes_a_count_shows_at_once(reader, registry, settings, write):
    version = counts_version()
    write(registry)
    assert counts_version() != version
    assert_fresh(reader, settings)


def test_an_organisation_taking_part_counts_after_any_write(reader, registry, settings):
    # Aalborg University joins a tie that has a Danish university based in Aarhus
    # already: no kept value changes, but the list of Aalborg's ties does.
    version = counts_version()
    assert shown(reader, ORGANISATION)[1] == 0
    Participant.objects.create(partnership=registry["research"], organisation=registry["aalborg"])
    assert counts_version() == version
    assert shown(reader, ORGANISATION)[1] == 1
    assert_fresh(reader, settings)


def test_as_of_a_month_counts_after_any_write(reader, registry, settings):
    # A start moved within its year changes no kept value (the year it starts, the first
    # year as of which it is listed), but what a month as of holds.
    version = counts_version()
    assert shown(reader, MONTH)[1] == 1  # the twin towns; the research starts in June
    research = registry["research"]
    research.start = "2011-04"
    research.save()
    assert counts_version() == version
    assert shown(reader, MONTH)[1] == 2
    assert_fresh(reader, settings)


def test_staff_count_their_own(reader, registry, admin_client):
    # A draft the public does not see: staff count it, and the public's kept reads stay.
    PartnershipFactory(
        kind=Partnership.Kind.SISTER_CITY,
        publication=Publication.DRAFT,
        parties=[registry["ringsted"], registry["suzhou"]],
    )
    staff = admin_client.get(url("partnerships:partnership-list", query="kind=sister_city"))
    assert staff.context["paginator"].count == 3
    assert shown(reader, "kind=sister_city")[1] == 2
    assert shown(reader, "")[0]["kind"]["sister_city"] == 2


def test_the_network_around_a_place_after_a_tie_moves_in(reader, registry):
    # Its first step's partnerships are the ties within the place, which each worker keeps
    # under the counts version (``ties_within_kept``).
    def around():
        versioning.bump(model=Partnership)
        response = reader.get("/api/network/?around=place:jiangsu")
        assert response["X-Cache"] == "MISS"
        return sorted(
            node["label"] for node in response.json()["nodes"] if node["type"] == "partnership"
        )

    assert around() == ["Ringsted (Iowa)–Suzhou", "Ringsted–Suzhou"]
    _parent_moved(registry)  # the other Suzhou, of the research, into Jiangsu
    assert around() == ["Aarhus University–Suzhou", "Ringsted (Iowa)–Suzhou", "Ringsted–Suzhou"]
