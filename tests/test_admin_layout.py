"""The record admins for Danish staff: names in both languages, one field for a party,
a country dropdown."""

import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from partnerships.models import Event, Participant, Partnership
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    UserFactory,
)
from tests.test_admin import inline_management, partnership_data

pytestmark = pytest.mark.django_db


def place_data(**fields):
    return {
        "name_da": "",
        "name_en": "",
        "slug": "",
        "kind": "municipality",
        "country": "DK",
        **inline_management("other_names"),
        **inline_management("figures"),
        **fields,
    }


def labels(page):
    return re.findall(r'<label[^>]*for="id_(\w+)"[^>]*>([^<]*)</label>', page)


def test_the_change_form_asks_for_each_language_danish_first(admin_client):
    place = PlaceFactory(name_da="Københavns Kommune", name_en="Copenhagen Municipality")
    page = admin_client.get(reverse("admin:places_place_change", args=[place.pk])).content
    found = dict(labels(page.decode()))
    assert found["name_da"] == "Name (Danish):"
    assert found["name_en"] == "Name (English):"
    assert found["description_da"] == "Description (Danish):"
    names = [field for field, _label in labels(page.decode()) if field.startswith("name_")]
    assert names == ["name_da", "name_en"]
    assert 'value="Københavns Kommune"' in page.decode()
    assert 'name="name"' not in page.decode()  # the original column is no field


def test_a_place_saved_in_danish_only_reads_danish_in_both_languages(admin_client):
    response = admin_client.post(
        reverse("admin:places_place_add"), place_data(name_da="Ærø Kommune")
    )
    assert response.status_code == 302, response.context["errors"]
    place = Place.objects.get()
    assert (place.name_da, place.name_en or None) == ("Ærø Kommune", None)
    assert place.slug == "aeroe-kommune"
    assert list(Place.objects.search("aero")) == [place]


def test_a_name_in_neither_language_is_a_form_error(admin_client):
    response = admin_client.post(reverse("admin:places_place_add"), place_data())
    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {
        "name_da": ["Enter the name in Danish, in English or in both."]
    }
    assert not Place.objects.exists()


def test_an_event_needs_its_text_in_one_language(admin_client):
    aarhus, harbin = PlaceFactory(), PlaceFactory()
    data = partnership_data([aarhus, harbin], **{"events-0-text_en": ""})
    response = admin_client.post(reverse("admin:partnerships_partnership_add"), data)
    assert response.status_code == 200
    assert "Enter the what happened in Danish, in English or in both." in str(
        response.context["errors"]
    )
    assert not Partnership.objects.exists()

    data["events-0-text_da"] = "Fælles uddannelseskonference"
    response = admin_client.post(reverse("admin:partnerships_partnership_add"), data)
    assert response.status_code == 302, response.context["errors"]
    assert Event.objects.get().text_da == "Fælles uddannelseskonference"


def test_the_changelist_shows_the_readers_language_and_marks_the_other(admin_client):
    PlaceFactory(name_da="Københavns Kommune", name_en="Copenhagen Municipality")
    PlaceFactory(name_da=None, name_en="Harbin")
    url = reverse("admin:places_place_changelist")
    english = admin_client.get(url).content.decode()
    assert ">Copenhagen Municipality</a>" in english
    assert "Københavns Kommune" not in english
    danish = admin_client.get(url, headers={"accept-language": "da"}).content.decode()
    assert ">Københavns Kommune</a>" in danish
    assert '<span lang="en">Harbin</span> <span class="atlas-language">en</span>' in danish


def test_admin_search_finds_a_name_in_either_language(admin_client):
    copenhagen = PlaceFactory(name_da="Københavns Kommune", name_en="Copenhagen Municipality")
    PlaceFactory(name_en="Aarhus")
    url = reverse("admin:places_place_changelist")
    for query in ["kobenhavns", "copenhagen"]:
        response = admin_client.get(url, {"q": query})
        assert list(response.context["cl"].result_list) == [copenhagen]


def test_the_country_filter_is_a_dropdown_that_keeps_the_other_filters(admin_client):
    PlaceFactory(country="DK", kind=Place.Kind.CITY)
    PlaceFactory(country="CN", kind=Place.Kind.CITY)
    PlaceFactory(country="CN", kind=Place.Kind.PROVINCE)
    url = reverse("admin:places_place_changelist")
    page = admin_client.get(url, {"kind__exact": "city", "q": "place"}).content.decode()
    dropdown = re.search(r'<form method="get" class="atlas-select-filter">.*?</form>', page, re.S)
    assert dropdown, "no country dropdown"
    form = dropdown.group()
    assert '<select name="country__exact" aria-label="Country">' in form
    assert re.findall(r'<option value="(\w*)"', form) == ["", "CN", "DK"]
    assert '<input type="hidden" name="kind__exact" value="city">' in form
    assert '<input type="hidden" name="q" value="place">' in form

    chosen = admin_client.get(url, {"kind__exact": "city", "country__exact": "CN"})
    assert [p.country.code for p in chosen.context["cl"].result_list] == ["CN"]
    every = admin_client.get(url, {"kind__exact": "city", "country__exact": ""})
    assert every.status_code == 200
    assert len(every.context["cl"].result_list) == 2


def test_a_participant_is_one_field_for_a_place_or_an_organisation(admin_client, admin_user):
    aarhus = PlaceFactory(name_en="Aarhus")
    university = OrganisationFactory(name_en="Aarhus University")
    data = partnership_data([aarhus, university])
    assert data["participants-1-party"] == f"organisation:{university.pk}"
    response = admin_client.post(reverse("admin:partnerships_partnership_add"), data)
    assert response.status_code == 302, response.context["errors"]
    partnership = Partnership.objects.get()
    rows = {(p.place, p.organisation) for p in partnership.participants.all()}
    assert rows == {(aarhus, None), (None, university)}
    assert Participant.history.filter(history_type="+").count() == 2
    assert {row.history_user for row in Participant.history.all()} == {admin_user}

    page = admin_client.get(
        reverse("admin:partnerships_partnership_change", args=[partnership.pk])
    ).content.decode()
    assert f'<option value="place:{aarhus.pk}" selected>Aarhus</option>' in page
    assert f'<option value="organisation:{university.pk}" selected>Aarhus University</option>' in (
        page
    )
    assert 'name="participants-0-place"' not in page
    assert 'data-ajax--url="/admin/partnerships/partnership/parties/"' in page


def second_party_made(admin_client, partnership, organisation):
    """Save ``partnership`` through its admin page with its second participant (of two, a
    place) made ``organisation``; its participants, as they were before."""
    first, second = partnership.participants.order_by("pk")
    data = {
        "title_en": partnership.title_en,
        "slug": partnership.slug,
        "kind": partnership.kind,
        "status": partnership.status,
        **inline_management("participants", total=2, initial=2),
        "participants-0-id": first.pk,
        "participants-0-party": f"place:{first.place_id}",
        "participants-0-role": first.role,
        "participants-1-id": second.pk,
        "participants-1-party": f"organisation:{organisation.pk}",
        "participants-1-role": second.role,
        **inline_management("events"),
    }
    response = admin_client.post(
        reverse("admin:partnerships_partnership_change", args=[partnership.pk]), data
    )
    assert response.status_code == 302, response.context["errors"]
    return first, second


def test_changing_a_partnership_can_swap_a_place_for_an_organisation(admin_client):
    aarhus, harbin = PlaceFactory(), PlaceFactory()
    partnership = PartnershipFactory(title_en="Aarhus–Harbin", parties=[aarhus, harbin])
    university = OrganisationFactory()
    first, second = second_party_made(admin_client, partnership, university)
    second.refresh_from_db()
    assert (second.place, second.organisation) == (None, university)
    # The unchanged row was not saved again: no history row of its own.
    assert first.history.count() == 1


@pytest.mark.parametrize(
    "value",
    [
        "place:999999",
        "organisation:999999",
        "x",
        "place:abc",
        "theme:1",
        "place:99999999999999999999",
    ],
)
def test_a_party_that_is_no_record_is_refused_with_a_message(admin_client, value):
    data = partnership_data([PlaceFactory(), PlaceFactory()])
    data["participants-1-party"] = value
    response = admin_client.post(reverse("admin:partnerships_partnership_add"), data)
    assert response.status_code == 200
    errors = str(response.context["errors"])
    assert "Select a valid choice. That choice is not one of the available choices." in errors
    assert "either a place or an organisation" not in errors
    assert not Partnership.objects.exists()


def test_a_participant_row_without_a_party_is_refused(admin_client):
    data = partnership_data([PlaceFactory(), PlaceFactory()])
    data["participants-1-party"] = ""
    data["participants-1-role"] = "host"
    response = admin_client.post(reverse("admin:partnerships_partnership_add"), data)
    assert response.status_code == 200
    assert "This field is required." in str(response.context["errors"])
    assert not Partnership.objects.exists()


def test_the_party_autocomplete_searches_places_and_organisations_by_any_name(admin_client):
    aarhus = PlaceFactory(name_da="Aarhus Kommune", name_en="Aarhus Municipality")
    university = OrganisationFactory(name_da="Aarhus Universitet", name_en="Aarhus University")
    PlaceFactory(name_en="Harbin")
    url = reverse("admin:partnerships_partnership_parties")
    answer = admin_client.get(url, {"term": "arhus kommune"}).json()
    assert answer == {
        "results": [
            {
                "text": "Places",
                "children": [{"id": f"place:{aarhus.pk}", "text": "Aarhus Municipality"}],
            }
        ],
        "pagination": {"more": False},
    }
    danish = admin_client.get(url, {"term": "aarhus"}, headers={"accept-language": "da"})
    groups = {group["text"]: group["children"] for group in danish.json()["results"]}
    assert groups == {
        "Steder": [{"id": f"place:{aarhus.pk}", "text": "Aarhus Kommune"}],
        "Organisationer": [{"id": f"organisation:{university.pk}", "text": "Aarhus Universitet"}],
    }


def test_the_party_autocomplete_pages_and_takes_any_page_number(admin_client):
    for n in range(12):
        PlaceFactory(name_en=f"Town {n:02}")
    url = reverse("admin:partnerships_partnership_parties")
    first = admin_client.get(url, {"term": "town"}).json()
    assert len(first["results"][0]["children"]) == 10 and first["pagination"]["more"]
    second = admin_client.get(url, {"term": "town", "page": "2"}).json()
    assert [c["text"] for c in second["results"][0]["children"]] == ["Town 10", "Town 11"]
    assert not second["pagination"]["more"]
    for page in ["x", "-3", "999999", "9223372036854775808", "9" * 30]:
        assert admin_client.get(url, {"term": "town", "page": page}).status_code == 200


def test_the_party_autocomplete_is_for_staff_who_may_edit_partnerships(client):
    url = reverse("admin:partnerships_partnership_parties")
    assert client.get(url).status_code == 302  # to the login page
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_partnership"))
    client.force_login(viewer)
    assert client.get(url).status_code == 403


def test_a_changed_event_keeps_both_languages(admin_client):
    partnership = PartnershipFactory()
    event = EventFactory(partnership=partnership, text_da="Besøg", text_en="Visit")
    page = admin_client.get(
        reverse("admin:partnerships_partnership_change", args=[partnership.pk])
    ).content.decode()
    assert 'name="events-0-text_da"' in page and ">\nBesøg</textarea>" in page
    assert event.text_en in page
