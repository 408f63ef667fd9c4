import itertools
import random

import pytest
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from atlas import duplicates
from core.models import NotDuplicate
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    OrganisationNameFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceNameFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:atlas-duplicates")
DECIDE = reverse("admin:atlas-not-duplicate")


def pairs(finder):
    return {(pair.first_id, pair.second_id): pair for pair in finder()}


def pair_of(first, second):
    return (min(first.pk, second.pk), max(first.pk, second.pk))


def danish(name, kind="municipality", **fields):
    return PlaceFactory(name_en=name, kind=kind, country="DK", **fields)


def test_a_name_with_and_without_municipality_is_a_pair():
    town = danish("Ballerup", kind="city")
    municipality = danish("Ballerup Municipality")

    [pair] = duplicates.similar_places()

    assert (pair.first_id, pair.second_id) == pair_of(town, municipality)
    assert pair.likeness == duplicates.SAME_WITHOUT_GENERIC_WORDS
    assert "Ballerup" in pair.reason() and "Ballerup Municipality" in pair.reason()


def test_danish_and_english_names_meet():
    english = danish("Aarhus Municipality", name_da="")
    other = danish("Århus Kommune", name_da="Århus Kommune")

    assert pair_of(english, other) in pairs(duplicates.similar_places)


def test_a_city_inside_its_namesake_municipality_is_no_pair():
    municipality = danish("Odense Municipality")
    danish("Odense", kind="city", parent=municipality)

    assert duplicates.similar_places() == []


def test_two_places_of_one_name_in_different_provinces_are_a_pair():
    jiangsu = PlaceFactory(name_en="Jiangsu", kind="province")
    anhui = PlaceFactory(name_en="Anhui", kind="province")
    first = PlaceFactory(name_en="Suzhou", native_name="苏州", parent=jiangsu)
    second = PlaceFactory(name_en="Suzhou", native_name="宿州", parent=anhui)

    found = pairs(duplicates.similar_places)

    assert found[pair_of(first, second)].likeness == duplicates.SAME_NAME
    assert found[pair_of(first, second)].reason() == "Same name: Suzhou"


def test_places_in_different_countries_are_no_pair():
    danish("Ringsted")
    PlaceFactory(name_en="Ringsted", kind="city", country="US")

    assert duplicates.similar_places() == []


def test_places_of_unrelated_kinds_are_no_pair():
    PlaceFactory(name_en="Jilin", kind="province")
    PlaceFactory(name_en="Jilin", kind="city")

    assert duplicates.similar_places() == []


def test_a_place_of_kind_other_pairs_with_any_kind():
    province = PlaceFactory(name_en="Jilin", kind="province")
    other = PlaceFactory(name_en="Jilin", kind="other")

    assert pair_of(province, other) in pairs(duplicates.similar_places)


def test_a_misspelt_name_is_a_pair():
    right = danish("Frederikssund Municipality")
    wrong = danish("Frederiksund")
    long_right = PlaceFactory(name_en="Baden-Württemberg", kind="state", country="DE")
    long_wrong = PlaceFactory(name_en="Baden-Wurtemburg", kind="state", country="DE")

    found = pairs(duplicates.similar_places)

    assert found[pair_of(right, wrong)].letters == 1
    assert found[pair_of(long_right, long_wrong)].letters == 2
    assert found[pair_of(long_right, long_wrong)].reason() == (
        "Names 2 letters apart: Baden-Württemberg / Baden-Wurtemburg"
    )


def test_short_names_two_letters_apart_are_no_pair():
    PlaceFactory(name_en="Wuxi")
    PlaceFactory(name_en="Wuhu")
    first, second = danish("Aabenraa"), danish("Abenraa")  # one letter apart

    assert set(pairs(duplicates.similar_places)) == {pair_of(first, second)}


def test_different_own_language_names_tell_close_names_apart():
    PlaceFactory(name_en="Suzhou", native_name="苏州")
    PlaceFactory(name_en="Xuzhou", native_name="徐州")

    assert duplicates.similar_places() == []


def test_close_names_pair_when_one_has_no_own_language_name():
    first = PlaceFactory(name_en="Suzhou", native_name="苏州")
    second = PlaceFactory(name_en="Xuzhou")

    assert pair_of(first, second) in pairs(duplicates.similar_places)


def test_the_same_own_language_name_is_a_pair():
    first = PlaceFactory(name_en="Nanjing", native_name="南京")
    second = PlaceFactory(name_en="Nanking", native_name="南京市")

    assert pairs(duplicates.similar_places)[pair_of(first, second)].likeness in (
        duplicates.SAME_NAME,
        duplicates.SAME_WITHOUT_GENERIC_WORDS,
    )


def test_names_whose_numbers_differ_are_no_pair():
    PlaceFactory(name_en="Haidian District 1", kind="district")
    PlaceFactory(name_en="Haidian District 2", kind="district")

    assert duplicates.similar_places() == []


def test_other_names_count():
    copenhagen = danish("Copenhagen Municipality")
    PlaceNameFactory(place=copenhagen, name="København")
    other = danish("Kobenhavn", kind="city")

    assert pair_of(copenhagen, other) in pairs(duplicates.similar_places)


def test_organisations_of_one_name_are_a_pair():
    english = OrganisationFactory(name_en="Aarhus University", country="DK")
    danish_name = OrganisationFactory(name_en="Aarhus Universitet", country="DK")
    OrganisationFactory(name_en="Aarhus", kind="company", country="DK")

    assert set(pairs(duplicates.similar_organisations)) == {pair_of(english, danish_name)}


def test_an_organisation_and_its_part_are_no_pair():
    academy = OrganisationFactory(name_en="Chinese Academy of Sciences", country="CN")
    OrganisationFactory(
        name_en="University of Chinese Academy of Sciences", country="CN", parent=academy
    )

    assert duplicates.similar_organisations() == []


def test_an_organisations_other_name_counts():
    first = OrganisationFactory(name_en="Tongji University", country="CN")
    OrganisationNameFactory(organisation=first, name="Tongji Daxue")
    second = OrganisationFactory(name_en="Tongji Daxue", country="CN")

    assert pair_of(first, second) in pairs(duplicates.similar_organisations)


def test_partnerships_with_the_same_participants_are_a_pair():
    aarhus, harbin, ningbo = PlaceFactory(), PlaceFactory(), PlaceFactory()
    university = OrganisationFactory()
    first = PartnershipFactory(parties=[aarhus, harbin, university])
    second = PartnershipFactory(parties=[university, harbin, aarhus])
    PartnershipFactory(parties=[aarhus, harbin])
    PartnershipFactory(parties=[aarhus, ningbo, university])

    assert set(pairs(duplicates.same_participants)) == {pair_of(first, second)}


def test_a_pair_marked_not_a_duplicate_is_no_longer_found():
    first, second = danish("Ballerup", kind="city"), danish("Ballerup Municipality")
    NotDuplicate.objects.create(
        content_type=ContentType.objects.get_for_model(Place),
        first_id=min(first.pk, second.pk),
        second_id=max(first.pk, second.pk),
    )

    assert duplicates.similar_places() == []


def test_the_finders_run_a_fixed_number_of_queries():
    def queries():
        with CaptureQueriesContext(connection) as captured:
            for finder in duplicates.FINDERS.values():
                finder()
        return len(captured)

    ContentType.objects.clear_cache()
    queries()  # content types cached
    few = queries()
    for number in range(5):
        place = danish(f"Town {number}")
        PlaceNameFactory(place=place)
        OrganisationNameFactory(organisation=OrganisationFactory())
        PartnershipFactory(parties=[place, PlaceFactory()])

    assert queries() == few


def test_the_page_lists_pairs_with_links_and_a_merge_link(editor_client):
    town, municipality = danish("Ballerup", kind="city"), danish("Ballerup Municipality")

    page = editor_client.get(PAGE, {"type": "place"})

    assert page.status_code == 200
    [row] = page.context["pairs"]
    assert [record["url"] for record in row["records"]] == [
        reverse("admin:places_place_change", args=[pk]) for pk in pair_of(town, municipality)
    ]
    assert row["merge_url"].startswith(reverse("admin:atlas-merge") + "?type=place&a=")
    assert 'value="Not a duplicate"' in page.content.decode()


def test_partnership_pairs_have_no_merge_link_here(editor_client):
    PartnershipFactory(parties=[first := PlaceFactory(), second := PlaceFactory()])
    PartnershipFactory(parties=[first, second])

    [row] = editor_client.get(PAGE, {"type": "partnership"}).context["pairs"]

    assert row["merge_url"] == ""


def test_an_editor_marks_a_pair_as_not_a_duplicate(editor_client, editor):
    town, municipality = danish("Ballerup", kind="city"), danish("Ballerup Municipality")

    response = editor_client.post(
        DECIDE, {"type": "place", "a": municipality.pk, "b": town.pk}, follow=True
    )

    decision = NotDuplicate.objects.get()
    assert (decision.first_id, decision.second_id) == pair_of(town, municipality)
    assert decision.decided_by == editor
    assert response.context["pairs"] == []
    assert "no longer shown as possible duplicates" in response.content.decode()
    # Deciding again changes nothing and says so no differently.
    editor_client.post(DECIDE, {"type": "place", "a": town.pk, "b": municipality.pk})
    assert NotDuplicate.objects.count() == 1


@pytest.mark.parametrize(
    "data, message",
    [
        ({"type": "planet", "a": "1", "b": "2"}, "Choose places, organisations or partnerships."),
        ({"type": "place", "a": "1"}, "Choose two different records."),
        ({"type": "place", "a": "x", "b": "2"}, "Choose two different records."),
        ({"type": "place", "a": "SAME", "b": "SAME"}, "Choose two different records."),
        ({"type": "place", "a": "-5", "b": "SAME"}, "Choose two different records."),
        ({"type": "place", "a": "99999999999999999999", "b": "SAME"}, "Choose two different"),
        ({"type": "place", "a": "987654", "b": "SAME"}, "no longer exists"),
    ],
)
def test_bad_input_changes_nothing_and_says_why(editor_client, data, message):
    place = danish("Ballerup")
    data = {key: str(place.pk) if value == "SAME" else value for key, value in data.items()}

    response = editor_client.post(DECIDE, data, follow=True)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not NotDuplicate.objects.exists()


def test_deciding_needs_a_post(editor_client):
    assert editor_client.get(DECIDE).status_code == 405


def test_viewers_see_pairs_but_cannot_decide(viewer_client):
    first, second = danish("Ballerup", kind="city"), danish("Ballerup Municipality")

    page = viewer_client.get(PAGE, {"type": "place"})
    refused = viewer_client.post(DECIDE, {"type": "place", "a": first.pk, "b": second.pk})

    assert page.status_code == 200
    assert len(page.context["pairs"]) == 1
    assert 'value="Not a duplicate"' not in page.content.decode()
    assert refused.status_code == 403
    assert not NotDuplicate.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(client):
    assert client.get(PAGE).status_code == 302
    response = client.post(DECIDE, {"type": "place", "a": "1", "b": "2"})
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_staff_without_permission_are_refused(client):
    client.force_login(UserFactory(username="nobody", is_staff=True))

    assert client.get(PAGE).status_code == 403


def test_a_type_the_user_may_not_view_is_refused(client):
    user = UserFactory(username="placesonly", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_place"))
    client.force_login(user)

    assert client.get(PAGE, {"type": "place"}).status_code == 200
    assert client.get(PAGE, {"type": "organisation"}).status_code == 403


def test_many_pairs_come_a_page_at_a_time(editor_client, monkeypatch):
    monkeypatch.setattr("atlas.quality_views.PAIRS_PER_PAGE", 2)
    for number in range(3):
        danish(f"Ballerup{number}", kind="city")
        danish(f"Ballerup{number} Municipality")

    first = editor_client.get(PAGE, {"type": "place"})
    last = editor_client.get(PAGE, {"type": "place", "p": "2"})

    assert len(first.context["pairs"]) == 2
    assert "page 1 of 2" in first.content.decode()
    assert len(last.context["pairs"]) == 1


def levenshtein(first, second):
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        previous = current
    return previous[-1]


def test_long_names_that_begin_alike_pair_exactly_when_two_letters_apart_or_closer():
    # Forty long names that all begin alike land in one group of the index, where each is
    # measured against every other: the pairs must be those a plain edit distance finds.
    rng = random.Random(12)
    names = sorted(
        {
            "Shangzhuang" + "".join(rng.choice("aeu") for _ in range(rng.randint(1, 4)))
            for _ in range(80)
        }
    )[:40]
    places = {name: PlaceFactory(name_en=name, kind="city", country="CN") for name in names}
    expected = {
        pair_of(places[first], places[second]): levenshtein(first.lower(), second.lower())
        for first, second in itertools.combinations(names, 2)
        if levenshtein(first.lower(), second.lower()) <= 2
    }

    found = pairs(duplicates.similar_places)

    assert expected and len(expected) < len(names) * (len(names) - 1) // 2
    assert {ids: pair.letters for ids, pair in found.items()} == expected
    assert {pair.likeness for pair in found.values()} == {duplicates.CLOSE_NAMES}
