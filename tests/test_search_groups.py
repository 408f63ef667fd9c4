"""The search page's "in Jiangsu: Suzhou (3), Wuxi (1)" labels, through deep hierarchies."""

import pytest

from organisations.models import Organisation
from partnerships import filters
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url
from tests.spies import calls_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def provinces():
    """Ties found three levels below a named place, some twice over, and one that ended."""
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    wuxi = PlaceFactory(name="Wuxi", parent=jiangsu)
    gusu = PlaceFactory(name="Gusu", parent=suzhou, kind=Place.Kind.DISTRICT)
    pingjiang = PlaceFactory(name="Pingjiang", parent=gusu)
    north = PlaceFactory(name="Jiangsu North", kind=Place.Kind.PROVINCE)
    xuzhou = PlaceFactory(name="Xuzhou", parent=north)
    academy = OrganisationFactory(name="Jiangsu Academy")
    lab = OrganisationFactory(name="Nanjing Lab", parent=academy)
    based_in_street = OrganisationFactory(name="Soochow Lab", place=pingjiang)
    aarhus = PlaceFactory(name="Aarhus")
    PartnershipFactory(title="Canal tie", parties=[gusu, aarhus])
    PartnershipFactory(title="Lab tie", parties=[based_in_street, aarhus])
    PartnershipFactory(title="Two cities", parties=[wuxi, pingjiang])
    PartnershipFactory(title="Twice in Suzhou", parties=[gusu, based_in_street])
    PartnershipFactory(title="North tie", parties=[xuzhou, aarhus])
    PartnershipFactory(title="Province tie", parties=[jiangsu, aarhus])
    PartnershipFactory(title="Research tie", parties=[lab, OrganisationFactory()])
    PartnershipFactory(title="Ended tie", parties=[wuxi, aarhus], status="ended")


def partnerships(response):
    return response.context["results"][2]


def groups(response):
    return [
        (str(group["named"]), group["kind"], group["parts"])
        for group in partnerships(response)["groups"]
    ]


def shown(response):
    """What a search page shows of the partnerships: count, records, groups and facets."""
    section = partnerships(response)
    facets = [
        (facet.name, [(o.value, o.count, o.selected) for o in facet.options])
        for facet in response.context["facets"]
    ]
    return section["count"], [str(p) for p in section["records"]], groups(response), facets


def test_ties_count_once_for_the_part_just_below_the_named_place(client, provinces):
    response = client.get(url("search", query="q=jiangsu"))
    assert groups(response) == [
        ("Jiangsu", "place", [("Suzhou", 4), ("Wuxi", 2)]),
        ("Jiangsu North", "place", [("Xuzhou", 1)]),
        ("Jiangsu Academy", "organisation", [("Nanjing Lab", 1)]),
    ]
    labels = {str(p): getattr(p, "found_via", "") for p in partnerships(response)["records"]}
    assert labels["Canal tie"] == "in Jiangsu: Suzhou"
    assert labels["Lab tie"] == "in Jiangsu: Suzhou"  # based in a street of a district
    assert labels["North tie"] == "in Jiangsu North: Xuzhou"
    assert labels["Research tie"] == "in Jiangsu Academy: Nanjing Lab"
    assert labels["Province tie"] == ""


def test_the_groups_count_only_the_ties_the_other_filters_let_through(client, provinces):
    response = client.get(url("search", query="q=jiangsu&status=active"))
    assert groups(response)[0] == ("Jiangsu", "place", [("Suzhou", 4), ("Wuxi", 1)])


@pytest.mark.parametrize("query", ["q=jiangsu", "q=jiangsu&status=active", "q=suzhou+aarhus"])
def test_many_matches_find_the_same_as_few(client, provinces, monkeypatch, query):
    """Past MATCHED_IDS the search stays a subquery instead of a list of ids: same page."""

    few = shown(client.get(url("search", query=query)))
    monkeypatch.setattr("partnerships.filters.MATCHED_IDS", 0)
    many = shown(client.get(url("search", query=query)))
    assert few == many
    assert few[0] > 0


SEVERAL_WORDS = ["aarhus jiangsu", "suzhou aarhus", "lab aarhus", "jiangsu north", "wuxi pingjiang"]


@pytest.mark.parametrize("words", [*SEVERAL_WORDS, "aarhus nowhere", "nowhere jiangsu"])
def test_several_words_find_the_same_read_one_after_another_or_together(
    client, provinces, monkeypatch, words
):
    """The word naming fewest records is read first and the others looked for among its
    matches; or every word's matches are intersected; or, finding more than its names
    promised, the first falls back to the intersection. The same page every way."""
    # A second Suzhou, in another province, and a second Aarhus tie through it.
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE)
    other_suzhou = PlaceFactory(name="Suzhou", parent=anhui)
    PartnershipFactory(title="Anhui tie", parties=[other_suzhou, Place.objects.get(name="Aarhus")])

    address = url("search", query=f"q={words.replace(' ', '+')}")
    one_after_another = shown(client.get(address))
    monkeypatch.setattr(filters, "NARROW_NAMED", -1)
    together = shown(client.get(address))
    monkeypatch.setattr(filters, "NARROW_NAMED", 200)
    monkeypatch.setattr(filters, "NARROW_IDS", 0)
    fallen_back = shown(client.get(address))
    assert one_after_another == together == fallen_back
    assert (one_after_another[0] > 0) == ("nowhere" not in words)


def test_the_word_naming_fewest_is_read_first_and_the_others_among_its_matches(
    client, provinces, monkeypatch
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    address = url("search", query="q=jiangsu+aarhus")
    with CaptureQueriesContext(connection) as narrowed:
        client.get(address)
    monkeypatch.setattr(filters, "NARROW_NAMED", -1)
    with CaptureQueriesContext(connection) as together:
        client.get(address)
    # Aarhus names one place, Jiangsu three records and six below them: Aarhus's six ties
    # are read, then Jiangsu's among them; together, one query intersects both.
    assert len(narrowed) == len(together) + 1


def test_a_query_of_two_words_groups_below_the_places_named_by_both(client, provinces):
    response = client.get(url("search", query="q=jiangsu+north"))
    assert groups(response) == [("Jiangsu North", "place", [("Xuzhou", 1)])]


def test_a_named_place_right_below_another_has_groups_of_its_own(client, provinces):
    # "su" names Gusu, Jiangsu, Jiangsu North and Suzhou: Suzhou lies right below Jiangsu
    # and Gusu right below Suzhou, so neither is a part; each groups what lies below it.
    response = client.get(url("search", query="q=su"))
    assert groups(response) == [
        ("Gusu", "place", [("Pingjiang", 3)]),
        ("Jiangsu", "place", [("Wuxi", 2)]),
        ("Jiangsu North", "place", [("Xuzhou", 1)]),
        ("Jiangsu Academy", "organisation", [("Nanjing Lab", 1)]),
    ]


def test_a_named_place_deeper_below_another_counts_in_its_part(client, provinces):
    # "jiang" names Pingjiang too, three levels below Jiangsu: its ties count for Suzhou.
    response = client.get(url("search", query="q=jiang"))
    assert groups(response)[:2] == [
        ("Jiangsu", "place", [("Suzhou", 4), ("Wuxi", 2)]),
        ("Jiangsu North", "place", [("Xuzhou", 1)]),
    ]


def test_the_public_never_sees_a_draft_named_in_the_groups(client, provinces):
    Place.objects.filter(name="Suzhou").update(publication="draft")
    secret = PlaceFactory(name="Secretville", publication="draft")
    town = PlaceFactory(name="Opentown", parent=secret)
    PartnershipFactory(title="Open tie", parties=[town, PlaceFactory(name="Vejle")])
    draft_lab = OrganisationFactory(name="Jiangsu Draft Lab", publication="draft")
    PartnershipFactory(title="Draft lab tie", parties=[draft_lab, PlaceFactory()])
    hidden_part = OrganisationFactory(
        name="Hidden Unit",
        parent=Organisation.objects.get(name="Jiangsu Academy"),
        publication="draft",
    )
    PartnershipFactory(title="Unit tie", parties=[hidden_part, PlaceFactory()])

    response = client.get(url("search", query="q=jiangsu"))
    # Suzhou's ties are still found through Jiangsu, but Suzhou is named nowhere.
    assert groups(response) == [
        ("Jiangsu", "place", [("Wuxi", 2)]),
        ("Jiangsu North", "place", [("Xuzhou", 1)]),
        ("Jiangsu Academy", "organisation", [("Nanjing Lab", 1)]),
    ]
    found = {str(p): getattr(p, "found_via", "") for p in partnerships(response)["records"]}
    assert found["Canal tie"] == ""
    assert found["Unit tie"] == ""  # its card names the draft unit, unlinked, as the README says
    page = response.content.decode()
    # The draft lab is named only by itself: nothing is found through it.
    for draft in ("Suzhou (", "in Jiangsu: Suzhou", "Jiangsu Draft Lab"):
        assert draft not in page
    # A draft's own name finds nothing through it, as the place filter would not.
    response = client.get(url("search", query="q=secretville"))
    assert partnerships(response)["records"] == []
    assert "Secretville" not in response.content.decode().split('id="q"')[1]


def test_staff_see_the_drafts_named_in_the_groups(viewer_client, provinces):
    Place.objects.filter(name="Suzhou").update(publication="draft")
    response = viewer_client.get(url("search", query="q=jiangsu"))
    assert groups(response)[0] == ("Jiangsu", "place", [("Suzhou", 4), ("Wuxi", 2)])
    secret = PlaceFactory(name="Secretville", publication="draft")
    PartnershipFactory(title="Open tie", parties=[PlaceFactory(parent=secret), PlaceFactory()])
    response = viewer_client.get(url("search", query="q=secretville"))
    assert [str(p) for p in partnerships(response)["records"]] == ["Open tie"]


@pytest.fixture
def counted_from_participants(monkeypatch):
    """The calls that count the groups from the matches' participants; none when they
    are read from the kept counts (``walked_whole``)."""
    return calls_of(monkeypatch, filters, "distinct_by_group")


def seen(client, query):
    response = client.get(url("search", query=query))
    labels = [(str(p), getattr(p, "found_via", "")) for p in partnerships(response)["records"]]
    return groups(response), labels


def with_drafts():
    """A draft district below Suzhou with a tie, and a draft partnership in Wuxi."""
    hidden = PlaceFactory(name="Hidden district", parent=Place.objects.get(name="Suzhou"))
    Place.objects.filter(pk=hidden.pk).update(publication="draft")
    PartnershipFactory(title="Hidden tie", parties=[hidden, PlaceFactory(name="Vejle")])
    PartnershipFactory(
        title="Draft tie", parties=[Place.objects.get(name="Wuxi")], publication="draft"
    )


@pytest.mark.parametrize("staff", [False, True])
@pytest.mark.parametrize("drafts", [False, True])
def test_every_tie_found_counts_the_parts_as_kept(
    client, viewer, provinces, counted_from_participants, monkeypatch, staff, drafts
):
    """ "jiangsu" finds every partnership: each part's ties are read from the kept counts
    of the places they lie in, the same as counted from the participants."""
    if staff:
        client.force_login(viewer)
    if drafts:
        with_drafts()
    kept = seen(client, "q=jiangsu")
    assert counted_from_participants == []
    monkeypatch.setattr(filters, "walked_whole", lambda *args: False)
    assert seen(client, "q=jiangsu") == kept
    assert len(counted_from_participants) == 1
    suzhou = 4 + (1 if drafts else 0)
    wuxi = 2 + (1 if drafts and staff else 0)
    assert kept[0][0] == ("Jiangsu", "place", [("Suzhou", suzhou), ("Wuxi", wuxi)])


def test_a_tie_not_found_counts_from_the_participants(client, provinces, counted_from_participants):
    PartnershipFactory(title="Elsewhere", parties=[PlaceFactory(name="Odense")])
    assert seen(client, "q=jiangsu")[0][0] == (
        "Jiangsu",
        "place",
        [("Suzhou", 4), ("Wuxi", 2)],
    )
    assert len(counted_from_participants) == 1


def test_a_walk_as_deep_as_it_goes_counts_from_the_participants(
    client, provinces, counted_from_participants
):
    # Four and five levels below Jiangsu: the walk ends at the fourth, so the tie five
    # levels down is no tie of Suzhou's, though its kept count (any depth) has it. The
    # search finds it through its other party, so it still finds every partnership.
    place = Place.objects.get(name="Pingjiang")
    deep = PlaceFactory(name="Deep", parent=place)
    deeper = PlaceFactory(name="Deeper", parent=deep)
    PartnershipFactory(title="Too deep", parties=[deeper, PlaceFactory(name="Jiangsu twin")])
    assert seen(client, "q=jiangsu")[0][0] == (
        "Jiangsu",
        "place",
        [("Suzhou", 4), ("Wuxi", 2)],
    )
    assert len(counted_from_participants) == 1


@pytest.mark.parametrize("query", ["q=su", "q=jiang"])
def test_a_named_place_below_another_counts_from_the_participants(
    client, provinces, counted_from_participants, query
):
    seen(client, query)
    assert len(counted_from_participants) == 1
