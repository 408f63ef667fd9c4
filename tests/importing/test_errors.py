"""Every problem is named by row, column and value, and any problem means nothing is written."""

import pytest

from organisations.models import Organisation
from partnerships.models import Participant, Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PlaceFactory, PlaceNameFactory, ThemeFactory

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db

PLACES = ["name", "kind", "country", "parent"]


def test_unknown_reference_lists_closest_candidates():
    PlaceFactory(name="Anhui", country="CN")
    PlaceFactory(name="Atlanta", country="US")
    report = run(
        "places",
        csv_bytes(
            [
                PLACES,
                ["Wuxi", "city", "CN", ""],
                ["X", "city", "CN", ""],
                ["Y", "city", "CN", "Atlantis"],
            ]
        ),
    )
    assert messages(report) == ["row 4: parent: unknown place 'Atlantis' (closest: Atlanta)"]
    assert not Place.objects.filter(name="Wuxi").exists()


def test_reference_by_other_name_folded_and_to_a_later_row():
    jiangsu = PlaceFactory(name="Jiangsu", country="CN")
    data = csv_bytes(
        [
            PLACES + ["aliases"],
            ["Huishan", "district", "CN", "wutshi", ""],
            ["Wuxi", "city", "CN", "JIANGSU", "Wútshi"],
        ]
    )
    report = run("places", data)
    assert report.problems == []
    wuxi = Place.objects.get(name="Wuxi")
    assert wuxi.parent == jiangsu
    assert Place.objects.get(name="Huishan").parent == wuxi


def test_ambiguous_reference():
    PlaceFactory(name="Suzhou", country="CN", slug="suzhou-jiangsu")
    PlaceFactory(name="Suzhou", country="CN", slug="suzhou-anhui")
    report = run("places", csv_bytes([PLACES, ["Gusu", "district", "CN", "Suzhou"]]))
    assert messages(report) == [
        "row 2: parent: 'Suzhou' names more than one place: Suzhou (city, China, slug "
        "suzhou-anhui); Suzhou (city, China, slug suzhou-jiangsu); write the slug of the one "
        "you mean"
    ]
    report = run("places", csv_bytes([PLACES, ["Gusu", "district", "CN", "suzhou-jiangsu"]]))
    assert report.problems == []


def test_same_record_twice_in_a_file():
    report = run(
        "places",
        csv_bytes(
            [
                PLACES,
                ["Wuxi", "city", "CN", ""],
                ["Nanjing", "city", "CN", ""],
                ["WUXI", "city", "CN", ""],
            ]
        ),
    )
    assert messages(report) == [
        "row 4: name: the same place as row 2; each record may appear once: remove one of "
        "the rows, or give each its own slug if they are different records"
    ]
    assert not Place.objects.exists()


def test_each_kind_of_cell_problem():
    data = csv_bytes(
        [
            ["slug", "name", "kind", "country", "latitude", "longitude", "population"],
            ["Not A Slug", "A", "city", "CN", "", "", ""],
            ["", "", "city", "CN", "", "", ""],
            ["", "B", "town", "CN", "", "", ""],
            ["", "C", "city", "Atlantis", "", "", ""],
            ["", "D", "city", "CN", "north", "", ""],
            ["", "E", "city", "CN", "95", "10", ""],
            ["", "F", "city", "CN", "55,1", "", ""],
            ["", "G", "city", "CN", "", "", "lots"],
            ["", "H", "city", "CN", "", "", "5000"],
            ["", "I" * 201, "city", "CN", "", "", ""],
        ]
    )
    assert messages(run("places", data)) == [
        "row 2: slug: Enter a valid “slug” consisting of letters, numbers, underscores or hyphens.",
        "row 3: name: a value is required",
        "row 4: kind: 'town' is not one of: country, state, province, province-level city, region, "
        "county, city, municipality, district, other",
        "row 5: country: 'Atlantis' is not a country code or name",
        "row 6: latitude: 'north' is not a coordinate in decimal degrees",
        "row 7: latitude: Ensure this value is less than or equal to 90.",
        "row 8: Give both latitude and longitude, or neither.",
        "row 9: population: 'lots' is not a number",
        "row 11: name: Ensure this value has at most 200 characters (it has 201).",
    ]
    assert not Place.objects.exists()


def test_header_problems():
    data = csv_bytes(
        [["name", "kind", "colour", "name", "populaton"], ["A", "city", "red", "B", "1"]]
    )
    report = run("places", data)
    assert messages(report) == [
        "row 1: name: column 'name' appears twice; keep one of them",
        "row 1: populaton: unknown column 'populaton'; did you mean 'population'?",
        "row 1: country: the required column 'country' is missing",
    ]
    assert report.warnings == ["the column 'colour' is not one the import knows; it is ignored"]


def test_a_place_cannot_lie_inside_itself():
    wuxi = PlaceFactory(name="Wuxi", country="CN", kind="city")
    PlaceFactory(name="Huishan", country="CN", parent=wuxi)
    report = run(
        "places", csv_bytes([["slug", *PLACES], [wuxi.slug, "Wuxi", "city", "CN", "Huishan"]])
    )
    assert messages(report) == [
        "row 2: parent: A place cannot lie inside itself or inside a place it contains."
    ]
    # Two rows that put each other inside themselves, as the file has it.
    nanjing = PlaceFactory(name="Nanjing", country="CN", kind="city")
    report = run(
        "places",
        csv_bytes(
            [
                ["slug", *PLACES],
                [wuxi.slug, "Wuxi", "city", "CN", nanjing.slug],
                [nanjing.slug, "Nanjing", "city", "CN", wuxi.slug],
            ]
        ),
    )
    assert messages(report) == [
        f"row 2: parent: '{nanjing.slug}' lies inside this place (as this file has it)",
        f"row 3: parent: '{wuxi.slug}' lies inside this place (as this file has it)",
    ]


def test_partnership_problems():
    PlaceNameFactory(place=PlaceFactory(name="Wuxi", country="CN"), name="Wútshi")
    OrganisationFactory(name="Bycirklen")
    ThemeFactory(name="Elderly care", name_da="Ældrepleje", slug="elderly-care")
    header = ["title", "kind", "status", "participants", "start", "end", "themes"]
    data = csv_bytes(
        [
            header,
            ["A", "Søsterby", "aktiv", "Bycirklen (coordinator); Wutshi", "2007", "", "ældrepleje"],
            ["B", "sister city", "", "Wuxi", "", "", ""],
            ["C", "sister city", "", "Wuxi; Wuxi", "", "", ""],
            # Each its own kind: the same participants and kind would be one partnership.
            ["D", "cooperation", "ended", "Wuxi; Bycirklen", "2011-05", "2010", ""],
            ["E", "friendship city", "planned", "Wuxi; Bycirklen", "", "2010", ""],
            ["F", "office", "", "Wuxi; Bycirklen", "soon", "", "Knitting"],
            ["G", "sister city", "", "Wuxi; Atlantis", "", "", ""],
        ]
    )
    assert messages(run("partnerships", data)) == [
        "row 3: participants: A partnership needs at least 2 participants.",
        "row 4: participants: 'Wuxi' is named twice",
        "row 5: end: The end (2010) lies before the start (2011-05).",
        "row 6: end: A planned partnership has not ended; clear the end or change the status.",
        "row 7: start: 'soon' is not a date this registry understands. Write 2007, 2011-05, "
        "2011-05-03, 1980s or c. 2008.",
        "row 7: themes: unknown theme 'Knitting'",
        "row 8: participants: unknown place or organisation 'Atlantis'",
    ]
    assert not Partnership.objects.exists()

    row = ["A", "Søsterby", "aktiv", "Bycirklen (coordinator); Wutshi", "c. 2007", "", "ældrepleje"]
    report = run("partnerships", csv_bytes([header, row]))
    assert report.problems == []
    partnership = Partnership.objects.get()
    assert (partnership.kind, partnership.status, str(partnership.start)) == (
        "sister_city",
        "active",
        "c. 2007",
    )
    assert list(partnership.themes.values_list("slug", flat=True)) == ["elderly-care"]
    roles = {str(p): p.role for p in Participant.objects.all()}
    assert roles == {"Bycirklen": "coordinator", "Wuxi": "partner"}


def test_partnership_without_title_gets_one_from_its_participants():
    PlaceFactory(name="Aarhus", country="DK")
    PlaceFactory(name="Harbin", country="CN")
    header = ["kind", "participants"]
    report = run("partnerships", csv_bytes([header, ["friendship city", "Aarhus; Harbin"]]))
    assert report.problems == []
    assert Partnership.objects.get().title == "Aarhus – Harbin"
    report = run("partnerships", csv_bytes([header, ["friendship city", "Aarhus; Harbin"]]))
    assert report.counts == {"new": 0, "updated": 0, "unchanged": 1}


def test_organisation_update_by_name_in_the_same_country():
    PlaceFactory(name="Odense", country="DK")
    sdu = OrganisationFactory(name="University of Southern Denmark", country="DK")
    data = csv_bytes(
        [
            ["navn", "kortnavn", "type", "land", "sted", "hjemmeside"],
            [
                "University of Southern Denmark",
                "SDU",
                "Universitet",
                "Danmark",
                "Odense",
                "https://sdu.dk",
            ],
            ["University of Southern Denmark", "", "university", "Sverige", "", "not a url"],
        ]
    )
    assert messages(run("organisations", data)) == ["row 3: hjemmeside: Enter a valid URL."]
    report = run(
        "organisations",
        csv_bytes(
            [
                ["navn", "kortnavn", "type", "land", "sted"],
                ["University of Southern Denmark", "SDU", "Universitet", "Danmark", "Odense"],
            ]
        ),
    )
    assert report.counts == {"new": 0, "updated": 1, "unchanged": 0}
    assert report.rows[0].changes == ["short_name", "place"]
    sdu.refresh_from_db()
    assert (sdu.short_name, sdu.place.name) == ("SDU", "Odense")
    assert Organisation.objects.count() == 1


def test_a_row_named_by_another_name_of_a_record_is_that_record_and_not_renamed():
    wuxi = PlaceFactory(name="Wuxi", country="CN", slug="wuxi", kind="city")
    PlaceNameFactory(place=wuxi, name="Wutshi")
    report = run(
        "places",
        csv_bytes([PLACES + ["description"], ["Wutshi", "city", "CN", "", "On the Grand Canal"]]),
    )
    assert report.problems == []
    assert report.counts == {"new": 0, "updated": 1, "unchanged": 0}
    assert report.rows[0].notes == [
        "matched Wuxi (city, China, slug wuxi) by its other name 'Wutshi'"
    ]
    assert Place.objects.count() == 1
    wuxi.refresh_from_db()
    assert (wuxi.name, wuxi.description) == ("Wuxi", "On the Grand Canal")


def test_messages_speak_danish_to_a_danish_reader_and_name_the_files_columns():
    from django.utils import translation

    with translation.override("da"):
        report = run(
            "places",
            csv_bytes(
                [["navn", "type", "land", "overordnet"], ["Y", "by", "Kina", "Atlantis"]],
                delimiter=";",
            ),
        )
        assert messages(report) == ["række 2: overordnet: ukendt sted 'Atlantis'"]
