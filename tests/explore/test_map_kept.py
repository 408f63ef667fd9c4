"""The map without a filter draws from the counts the writes keep (``partnerships.facets``):
it must draw exactly what counting every participant draws, for the public and for staff,
after every kind of write that moves a place, a tie or a region."""

import pytest
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.test.utils import CaptureQueriesContext

from atlas import explore
from core.cache import records_sql
from core.models import Publication
from organisations.models import Organisation
from partnerships import facets
from partnerships.models import FacetCount, Participant, Partnership
from places.models import Place
from tests.explore.drawing import named
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory, UserFactory

pytestmark = pytest.mark.django_db

DRAFT = Publication.DRAFT


@pytest.fixture
def registry():
    """Repeated names, places without coordinates, drafts, a three-way tie, a party with no
    place, a region without coordinates, and one more than four levels deep."""
    denmark = PlaceFactory(
        name="Denmark", kind=Place.Kind.COUNTRY, country="DK", latitude=56, longitude=10
    )
    south = PlaceFactory(
        name="Region of Southern Denmark", kind=Place.Kind.REGION, country="DK", parent=denmark
    )
    sonderborg = PlaceFactory(
        name="Sønderborg",
        kind=Place.Kind.MUNICIPALITY,
        country="DK",
        parent=south,
        latitude=54.9,
        longitude=9.8,
    )
    odense = PlaceFactory(name="Odense", country="DK", parent=south, latitude=55.4, longitude=10.4)
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY, latitude=35, longitude=103)
    jiangsu = PlaceFactory(
        name="Jiangsu", kind=Place.Kind.PROVINCE, parent=china, latitude=33, longitude=120
    )
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE, parent=china)
    suzhou_j = PlaceFactory(name="Suzhou", parent=jiangsu, latitude=31.3, longitude=120.6)
    suzhou_a = PlaceFactory(name="Suzhou", parent=anhui, latitude=33.6, longitude=116.9)
    district = PlaceFactory(name="Gusu", kind=Place.Kind.DISTRICT, parent=suzhou_j)
    street = PlaceFactory(
        name="Pingjiang Road",
        kind=Place.Kind.DISTRICT,
        parent=district,
        latitude=31.31,
        longitude=120.63,
    )
    nowhere = PlaceFactory(name="Nowhere")
    hidden = PlaceFactory(name="Draft town", publication=DRAFT, latitude=30, longitude=118)
    sdu = OrganisationFactory(name="SDU", place=odense)
    draft_org = OrganisationFactory(name="Draft company", place=suzhou_a, publication=DRAFT)
    nomads = OrganisationFactory(name="Nomads")
    PartnershipFactory(parties=[sonderborg, suzhou_j])
    PartnershipFactory(parties=[sonderborg, suzhou_j])
    PartnershipFactory(parties=[sdu, suzhou_j, suzhou_a])
    PartnershipFactory(parties=[sonderborg, nowhere])
    PartnershipFactory(parties=[draft_org, sonderborg, nomads])
    PartnershipFactory(parties=[hidden, suzhou_j])
    PartnershipFactory(parties=[sonderborg, suzhou_a], publication=DRAFT)
    PartnershipFactory(parties=[nomads, street, odense])
    PartnershipFactory(parties=[draft_org])
    PartnershipFactory(parties=[])
    return {
        "south": south,
        "jiangsu": jiangsu,
        "anhui": anhui,
        "suzhou_a": suzhou_a,
        "odense": odense,
        "sdu": sdu,
        "draft_org": draft_org,
        "hidden": hidden,
        "district": district,
    }


def places(data):
    return {f["properties"]["slug"] for f in data["features"] if f["geometry"]["type"] == "Point"}


def readers():
    return [AnonymousUser(), UserFactory(is_staff=True, is_superuser=True)]


def drawn(user, tally):
    partnerships = Partnership.objects.visible_to(user)
    participants = explore.visible_participants(user)
    urls = explore.Urls()
    if tally == "kept":
        tally = explore._kept_tally(partnerships, user)
        assert tally is not None
    else:
        tally = explore._Counted(partnerships, participants)
    return named(tally, partnerships, urls)


def assert_kept_draws_as_counted(monkeypatch, lines=explore.MAX_LINES):
    monkeypatch.setattr(explore, "MAX_LINES", lines)
    for user in readers():
        counted = drawn(user, "counted")
        assert drawn(user, "kept") == counted, user
    return counted


@pytest.mark.parametrize("lines", [explore.MAX_LINES, 2])
@pytest.mark.parametrize("unlocated_in_sql", [explore.UNLOCATED_IN_SQL, 0])
@pytest.mark.parametrize("points", [explore.MAX_POINTS, 2, 1])
def test_the_kept_map_draws_what_counting_draws(
    registry, monkeypatch, lines, unlocated_in_sql, points
):
    # The ties of places without coordinates left out by the query, or past that many
    # such places, skipped as they are read. Past MAX_POINTS, the kept map reads the
    # places with the most partnerships only, and counts the rest.
    monkeypatch.setattr(explore, "UNLOCATED_IN_SQL", unlocated_in_sql)
    monkeypatch.setattr(explore, "MAX_POINTS", points)
    staff = assert_kept_draws_as_counted(monkeypatch, lines)
    assert staff["meta"]["line_level"] == ("place" if lines > 2 else "region")
    public = drawn(AnonymousUser(), "kept")
    # Drafts stay off the public map, and staff see them.
    assert registry["hidden"].slug not in places(public)
    if points > 2:  # every place drawn
        assert registry["hidden"].slug in places(staff)
    assert public["meta"]["partnerships"] < staff["meta"]["partnerships"]


def test_the_kept_map_reads_only_the_places_it_may_draw(registry, monkeypatch):
    """For the public, Sønderborg and Suzhou in Jiangsu have four partnerships each, every
    other place fewer. With one point to draw, the kept map reads those two (the name
    decides between them) and the next place, and counts the rest in the database."""
    monkeypatch.setattr(explore, "MAX_POINTS", 1)
    read = []
    ranked = facets.ranked

    def counting(*args, **kwargs):
        for row in ranked(*args, **kwargs):
            read.append(row)
            yield row

    monkeypatch.setattr(facets, "ranked", counting)
    public = drawn(AnonymousUser(), "kept")
    assert public == drawn(AnonymousUser(), "counted")
    assert [
        f["properties"]["name"]
        for f in public["features"]
        if "count" in f["properties"] and f["geometry"]["type"] == "Point"
    ] == ["Suzhou"]
    assert [count for _value, count in read] == [4, 4, read[2][1]]
    assert read[2][1] < 4
    assert public["meta"]["places_omitted"] == 5  # six places counted, one drawn


@pytest.mark.parametrize("lines", [4, 5])
def test_past_max_lines_the_kept_map_reads_no_tie_and_joins_up_to_regions(
    registry, monkeypatch, lines
):
    # The public map's five ties between located places: Sønderborg–Suzhou (Jiangsu),
    # twice; SDU's Odense, Suzhou (Jiangsu) and Suzhou (Anhui), each two; the street in
    # Suzhou–Odense. Nowhere has no coordinates, and drafts are not the public's.
    monkeypatch.setattr(explore, "MAX_LINES", lines)
    asked, at_most = [], facets.at_most

    def recording(*args, **kwargs):
        asked.append(at_most(*args, **kwargs))
        return asked[-1]

    monkeypatch.setattr(facets, "at_most", recording)
    public = drawn(AnonymousUser(), "kept")
    assert public == drawn(AnonymousUser(), "counted")
    if lines == 4:
        assert public["meta"]["line_level"] == "region"
        assert asked == [None]
    else:
        assert public["meta"]["line_level"] == "place"
        assert sorted(count for _value, count in asked[0]) == [1, 1, 1, 1, 2]


def test_at_most_reads_every_value_up_to_the_number_and_none_past_it(registry):
    every = dict(
        FacetCount.objects.filter(scope=facets.PUBLISHED, facet="tie", count__gt=0).values_list(
            "value", "count"
        )
    )
    assert len(every) > 2
    for number in (len(every), len(every) + 1, 1000):
        assert dict(facets.at_most(facets.PUBLISHED, "tie", number)) == every
    for number in (len(every) - 1, 1, 0):
        assert facets.at_most(facets.PUBLISHED, "tie", number) is None
    # None counted at all is no ties, not too many.
    FacetCount.objects.filter(facet="tie").delete()
    assert facets.at_most(facets.PUBLISHED, "tie", 2) == []


def test_at_most_leaves_out_the_ties_of_places_it_is_told_to(registry):
    odense = registry["odense"].pk
    every = {value for value, _count in facets.at_most(facets.PUBLISHED, "tie", 100)}
    of_odense = {value for value in every if odense in facets.ends(value)}
    assert len(of_odense) == 3  # with both Suzhous and with the street
    ties = facets.at_most(facets.PUBLISHED, "tie", 100, leaving_out={odense})
    assert {value for value, _count in ties} == every - of_odense


@pytest.mark.parametrize("lines", [explore.MAX_LINES, 2])
def test_every_write_that_moves_the_map_keeps_it(registry, monkeypatch, lines):
    r = registry
    writes = [
        # A place moves to another province: its region and its ties' regions move.
        lambda: setattr(r["suzhou_a"], "parent", r["jiangsu"]) or r["suzhou_a"].save(),
        # A province becomes a country: the regions of the places below it move.
        lambda: setattr(r["jiangsu"], "kind", Place.Kind.COUNTRY) or r["jiangsu"].save(),
        # The same through update(), as a merge or the shell writes.
        lambda: Place.objects.filter(pk=r["district"].pk).update(parent=r["south"]),
        lambda: Place.objects.filter(pk=r["south"].pk).update(kind=Place.Kind.PROVINCE),
        # Publishing a party puts it on the public map.
        lambda: setattr(r["hidden"], "publication", Publication.PUBLISHED) or r["hidden"].save(),
        lambda: Organisation.objects.filter(pk=r["draft_org"].pk).update(
            publication=Publication.PUBLISHED
        ),
        # An organisation moves to another place.
        lambda: setattr(r["sdu"], "place", r["suzhou_a"]) or r["sdu"].save(),
        lambda: Organisation.objects.filter(pk=r["sdu"].pk).update(place=None),
        # Participants and partnerships come and go.
        lambda: Participant.objects.filter(organisation=r["sdu"]).update(
            place=r["odense"], organisation=None
        ),
        lambda: Partnership.objects.filter(publication=DRAFT).update(
            publication=Publication.PUBLISHED
        ),
        lambda: Partnership.objects.filter(participants__place=r["odense"]).first().delete(),
    ]
    for write in writes:
        write()
        assert_kept_draws_as_counted(monkeypatch, lines)


def test_staff_who_see_draft_places_but_not_organisations_get_the_counted_map(registry):
    user = UserFactory(is_staff=True)
    for codename in ("view_place", "view_partnership"):
        user.user_permissions.add(Permission.objects.get(codename=codename))
    user = type(user).objects.get(pk=user.pk)  # permissions are cached per instance
    partnerships = Partnership.objects.visible_to(user)
    # The kept counts hold draft parties of both kinds together or not at all.
    assert explore._kept_tally(partnerships, user) is None
    data = explore.map_data(partnerships, user=user)
    assert registry["hidden"].slug in places(data)  # a draft place this reader may see
    urls = explore.Urls()
    counted = explore._Counted(partnerships, explore.visible_participants(user))
    assert data == named(counted, partnerships, urls)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lines", [explore.MAX_LINES, 2])
def test_the_kept_counts_are_streamed_where_the_database_streams_them(
    registry, monkeypatch, client, lines
):
    # Outside a transaction PostgreSQL works out every row of a server-side cursor
    # before the first is read (Django declares it WITH HOLD): the map stops reading its
    # ties after MAX_LINES, so it reads them in one. SQLite streams either way, and a
    # transaction there would take the write lock.
    monkeypatch.setattr(explore, "MAX_LINES", lines)
    inside = []

    def record(execute, sql, params, many, context):
        if "partnerships_facetcount" in sql:
            inside.append(context["connection"].in_atomic_block)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        response = client.get("/api/map/")
    assert response.status_code == 200
    assert response.json()["meta"]["line_level"] == ("place" if lines > 2 else "region")
    assert inside, "the map read no kept counts"
    assert set(inside) == {connection.vendor == "postgresql"}
    assert not connection.in_atomic_block


def ranked_rows(facet=None):
    rows = FacetCount.objects.filter(scope=facets.PUBLISHED, count__gt=0)
    if facet:
        rows = rows.filter(facet=facet)
    return rows.order_by("-count", "facet", "value").values_list("facet", "value", "count")


@pytest.mark.parametrize("size", [1, 2, 7, 1000])
def test_a_stream_in_an_order_reads_each_row_once_in_slices(registry, size):
    expected = list(ranked_rows())
    assert len(expected) > 7
    with CaptureQueriesContext(connection) as queries, facets.streaming():
        stream = facets._stream(("test", "every facet"), ranked_rows, size, DEFAULT_DB_ALIAS)
        assert list(stream) == expected
    if connection.vendor == "postgresql":
        # A query a slice, to the first that comes back short; no server-side cursor.
        assert len(queries) == len(expected) // size + 1
        assert all("LIMIT" in query["sql"] for query in queries)


@pytest.mark.django_db(transaction=True)
def test_the_slices_of_a_stream_see_what_the_first_saw(registry):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite reads a stream through one cursor, and streaming() leaves it alone")
    expected = list(ranked_rows("place"))
    other = connections.create_connection(DEFAULT_DB_ALIAS)  # another worker
    try:
        with facets.streaming():
            stream = facets._stream(
                ("test", "place"), lambda: ranked_rows("place"), 1, DEFAULT_DB_ALIAS
            )
            first = next(stream)
            with other.cursor() as cursor:
                cursor.execute(
                    "UPDATE partnerships_facetcount SET count = count + 100"
                    " WHERE facet = 'place' AND value <> %s",
                    [first[1]],
                )
            assert [first, *stream] == expected
        # Read again, the write shows.
        assert list(ranked_rows("place")) != expected
    finally:
        other.close()


def test_the_kept_map_builds_its_queries_once(registry, monkeypatch):
    """The SQL of the map's reads is kept (``facets._sql``) under what it depends on:
    drawn again, the map builds none of them; with a place that can no longer be placed,
    its ties are left out by a query of their own."""
    monkeypatch.setattr(explore, "MAX_LINES", 5)  # every tie drawn, read by ``at_most``
    first = drawn(AnonymousUser(), "kept")
    built, kept_rows = [], facets._kept_rows

    def building(scope, names, using, leaving_out=()):
        built.append(leaving_out)
        return kept_rows(scope, names, using, leaving_out)

    monkeypatch.setattr(facets, "_kept_rows", building)
    assert drawn(AnonymousUser(), "kept") == first
    assert built == []
    odense = registry["odense"]
    Place.objects.filter(pk=odense.pk).update(latitude=None, longitude=None)
    Place.objects.filter(pk=odense.parent_id).update(latitude=None, longitude=None)
    Place.objects.filter(name="Denmark").update(latitude=None, longitude=None)
    moved = drawn(AnonymousUser(), "kept")
    assert moved == drawn(AnonymousUser(), "counted")
    assert odense.slug not in places(moved)
    assert any(odense.pk in leaving_out for leaving_out in built)


def test_each_view_of_drafts_describes_its_own_participants(registry):
    """What the map and the network keep is kept under the SQL of the participants the
    reader sees (``visible_participants``), written once for each view of drafts."""
    staff, public = UserFactory(is_staff=True, is_superuser=True), AnonymousUser()
    written = {}
    for user in (staff, public):
        explore._VISIBLE.clear()
        written[user.is_staff] = records_sql(explore.visible_participants(user))
    assert written[True] != written[False]
    assert "publication" in written[False] and "publication" not in written[True]
    # Kept, in either order, each view gets its own.
    for order in ([staff, public], [public, staff]):
        explore._VISIBLE.clear()
        for user in order * 2:
            assert records_sql(explore.visible_participants(user)) == written[user.is_staff]
    # Each reader gets a copy: what one reads is not kept for the next.
    first = explore.visible_participants(public)
    assert list(first) and first._result_cache is not None
    again = explore.visible_participants(public)
    assert again is not first and again._result_cache is None


@pytest.mark.parametrize("points,rows", [(3, 1), (3, 2), (2, 1), (explore.MAX_POINTS, 2)])
def test_the_page_lists_the_first_places_the_map_draws(registry, monkeypatch, points, rows):
    """The map page lists the first ``TABLE_ROWS`` places the map draws and counts the
    others as the map does; with more places counted than the map draws, besides those it
    cannot place, it reads only those it lists."""
    monkeypatch.setattr(explore, "MAX_POINTS", points)
    monkeypatch.setattr(explore, "TABLE_ROWS", rows)
    read, ranked = [], facets.ranked

    def reading(*args, **kwargs):
        for row in ranked(*args, **kwargs):
            read.append(row)
            yield row

    monkeypatch.setattr(facets, "ranked", reading)
    urls = explore.Urls()
    for user in readers():
        partnerships = Partnership.objects.visible_to(user)
        read.clear()
        drawn_whole = named(explore._kept_tally(partnerships, user), partnerships, urls)
        read_whole = len(read)
        read.clear()
        listed = explore._map_data(explore._kept_tally(partnerships, user), urls, features=False)
        drawn_points = [
            f["properties"] for f in drawn_whole["features"] if f["geometry"]["type"] == "Point"
        ]
        assert listed["places"] == drawn_points[:rows]
        assert listed["data"]["meta"] == drawn_whole["meta"]
        assert listed["data"]["features"] == []
        assert len(read) <= read_whole
        if (points, rows) == (3, 1):  # more than 3 places counted, besides the one unplaced
            assert len(read) < read_whole
