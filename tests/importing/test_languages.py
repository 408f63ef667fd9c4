"""Spreadsheets in Danish and English: a column per language, a plain column in the file's
language, references by a name in either language, and exports that import back as they were."""

import csv
import io

import pytest
from django.core.management import call_command
from django.utils import translation

from atlas.registry import IMPORT_SPECS
from core.models import Publication
from importing.engine import Importer, export_table
from organisations.models import Organisation
from partnerships.models import Event, Partnership, Theme
from places.models import Place, PlaceFigure
from tests.factories import (
    EventFactory,
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    ThemeFactory,
)

from .conftest import csv_bytes, messages, run
from .test_round_trip import empty_the_registry

pytestmark = pytest.mark.django_db


def bilingual_registry():
    """Records of every type with Danish and English text, and one of each with only
    English (its Danish must stay empty, never a copy of the English)."""
    copenhagen = PlaceFactory(
        name="Copenhagen Municipality",
        name_da="Københavns Kommune",
        kind="municipality",
        country="DK",
        description="A municipality.",
        description_da="En kommune.",
    )
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", description="A city.")
    PlaceFigureFactory(place=copenhagen, note="Census", note_da="Folketælling")
    PlaceFigureFactory(place=wuxi, note="Estimate")
    university = OrganisationFactory(
        name="Aarhus University", name_da="Aarhus Universitet", kind="university", country="DK"
    )
    institute = OrganisationFactory(name="Wuxi Institute", kind="university", country="CN")
    climate = ThemeFactory(name="Climate", name_da="Klima", slug="climate")
    ThemeFactory(name="Trade", slug="trade")
    partnership = PartnershipFactory(
        title="Aarhus – Wuxi", title_da="Aarhus – Wuxi samarbejde", parties=[university, institute]
    )
    partnership.themes.add(climate)
    PartnershipFactory(title="Copenhagen – Wuxi", parties=[copenhagen, wuxi])
    EventFactory(partnership=partnership, text="Signed", text_da="Underskrevet")
    EventFactory(partnership=partnership, date="2012", text="Renewed")


def exports():
    return {
        name: export_table(spec, spec.model._default_manager.all(), "csv")
        for name, spec in IMPORT_SPECS.items()
    }


def rows_of(data):
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_exports_write_every_language_and_leave_a_missing_one_empty():
    bilingual_registry()
    files = exports()
    places = {row["slug"]: row for row in rows_of(files["places"])}
    assert places["copenhagen-municipality"]["name_da"] == "Københavns Kommune"
    assert places["copenhagen-municipality"]["name_en"] == "Copenhagen Municipality"
    assert places["copenhagen-municipality"]["description_da"] == "En kommune."
    assert (places["wuxi"]["name_da"], places["wuxi"]["name_en"]) == ("", "Wuxi")
    assert "name" not in places["wuxi"]
    themes = {row["slug"]: row for row in rows_of(files["themes"])}
    assert (themes["trade"]["name_da"], themes["trade"]["name_en"]) == ("", "Trade")
    partnerships = rows_of(files["partnerships"])
    assert {row["title_da"] for row in partnerships} == {"Aarhus – Wuxi samarbejde", ""}
    events = rows_of(files["events"])
    assert {(row["text_da"], row["text_en"]) for row in events} == {
        ("Underskrevet", "Signed"),
        ("", "Renewed"),
    }
    figures = rows_of(files["figures"])
    assert {(row["note_da"], row["note_en"]) for row in figures} == {
        ("Folketælling", "Census"),
        ("", "Estimate"),
    }


@pytest.mark.parametrize("name", list(IMPORT_SPECS))
def test_an_export_imported_again_changes_nothing(name):
    bilingual_registry()
    count = IMPORT_SPECS[name].model._default_manager.count()
    report = run(name, exports()[name])
    assert messages(report) == []
    assert report.counts == {"new": 0, "updated": 0, "unchanged": count}


@pytest.mark.parametrize("language", ["en", "da"])
def test_an_export_imported_into_an_empty_registry_gives_the_same_records(language):
    bilingual_registry()
    # A published row needs a source and these records have none: drafts, as the import
    # makes new records by default.
    for model in (Place, Organisation, Partnership):
        model.objects.update(publication=Publication.DRAFT)
    before = exports()
    empty_the_registry()
    # The editor's language does not change what columns in a language mean.
    with translation.override(language):
        for name, data in before.items():
            assert messages(run(name, data)) == [], name
    assert exports() == before
    assert Place.objects.get(slug="wuxi").name_da in ("", None)
    assert Theme.objects.get(slug="trade").name_da in ("", None)
    assert Event.objects.get(date="2012").text_da in ("", None)


def test_a_plain_name_column_is_in_the_language_chosen_for_the_file(tmp_path):
    path = tmp_path / "steder.csv"
    path.write_bytes(
        csv_bytes([["navn", "type", "land", "beskrivelse"], ["Kina", "land", "CN", "Et land."]])
    )
    call_command("import_records", "places", str(path), "--language", "da", stdout=io.StringIO())
    china = Place.objects.get()
    assert (china.name_da, china.name_en) == ("Kina", None)
    assert (china.description_da, china.description_en) == ("Et land.", None)


def test_a_plain_name_column_is_english_for_the_command_unless_told(tmp_path):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes([["name", "kind", "country"], ["China", "country", "CN"]]))
    call_command("import_records", "places", str(path), stdout=io.StringIO())
    china = Place.objects.get()
    assert (china.name_da, china.name_en) == (None, "China")


def test_a_danish_name_is_added_to_a_record_found_by_its_english_name():
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN")
    data = csv_bytes(
        [["navn_da", "name_en", "kind", "country"], ["Wuxi (dansk)", "Wuxi", "city", "CN"]]
    )
    report = run("places", data, dry_run=True)
    assert messages(report) == []
    assert report.lines(report.rows[0])[1:] == ["  navn_da: (empty) → Wuxi (dansk)"]
    run("places", data)
    wuxi.refresh_from_db()
    assert (wuxi.name_da, wuxi.name_en) == ("Wuxi (dansk)", "Wuxi")


def test_name_and_the_same_language_column_must_agree():
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    data = csv_bytes(
        [
            ["name", "name_en", "kind", "country"],
            ["Wuxi", "Wuxi", "city", "CN"],
            ["Nanjing", "Nanking", "city", "CN"],
        ]
    )
    report = run("places", data)
    assert messages(report) == [
        "row 3: name: 'Nanjing' differs from name_en 'Nanking'; the file is read as English, "
        "so both are the English text: make them agree or leave one empty"
    ]
    assert Place.objects.count() == 1


def test_the_form_chooses_the_language_of_plain_columns(editor_client):
    upload_url = "/admin/places/place/import/"
    data = csv_bytes([["name", "kind", "country"], ["Tyskland", "country", "DE"]])
    page = editor_client.get(upload_url).content.decode()
    assert 'name="language"' in page
    response = editor_client.post(
        upload_url,
        {"file": io_file(data, "lande.csv"), "source": "", "language": "da"},
    )
    assert response.status_code == 200
    token = response.context["token"]
    response = editor_client.post(upload_url + "confirm/", {"token": token})
    assert response.status_code == 302
    germany = Place.objects.get()
    assert (germany.name_da, germany.name_en) == ("Tyskland", None)


def test_the_form_defaults_to_the_editors_language(editor_client):
    data = csv_bytes([["navn", "type", "land"], ["Tyskland", "land", "DE"]])
    response = editor_client.post(
        "/admin/places/place/import/",
        {"file": io_file(data, "lande.csv"), "source": ""},
        headers={"accept-language": "da"},
    )
    token = response.context["token"]
    editor_client.post(
        "/admin/places/place/import/confirm/", {"token": token}, headers={"accept-language": "da"}
    )
    assert Place.objects.get().name_da == "Tyskland"


def io_file(data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="text/csv")


def test_a_reference_finds_a_record_by_its_name_in_either_language():
    copenhagen = PlaceFactory(
        name="Copenhagen Municipality", name_da="Københavns Kommune", kind="municipality"
    )
    copenhagen.country = "DK"
    copenhagen.save()
    data = csv_bytes(
        [
            ["name", "kind", "country", "place"],
            ["Danish body", "other", "DK", "Københavns Kommune"],
            ["English body", "other", "DK", "Copenhagen Municipality"],
        ]
    )
    report = run("organisations", data)
    assert messages(report) == []
    assert {organisation.place for organisation in Organisation.objects.all()} == {copenhagen}


def test_a_row_finds_its_record_by_its_danish_name_under_an_english_file():
    PlaceFactory(
        name="Copenhagen Municipality",
        name_da="Københavns Kommune",
        country="DK",
        kind="municipality",
    )
    data = csv_bytes([["name", "kind", "country"], ["Københavns Kommune", "municipality", "DK"]])
    report = run("places", data)
    assert messages(report) == []
    assert report.counts == {"new": 0, "updated": 0, "unchanged": 1}
    place = Place.objects.get()
    # Found by its Danish name, the row does not write that name in as English.
    assert (place.name_da, place.name_en) == ("Københavns Kommune", "Copenhagen Municipality")


def test_participants_and_themes_are_named_in_either_language():
    university = OrganisationFactory(name="Aarhus University", name_da="Aarhus Universitet")
    harbin = PlaceFactory(name="Harbin", name_da="Harbin (dansk)", kind="city", country="CN")
    climate = ThemeFactory(name="Climate", name_da="Klima")
    data = csv_bytes(
        [
            ["kind", "participants", "themes"],
            ["cooperation_agreement", "Aarhus Universitet; Harbin", "Klima"],
        ]
    )
    report = run("partnerships", data)
    assert messages(report) == []
    partnership = Partnership.objects.get()
    assert set(partnership.themes.all()) == {climate}
    assert {p.organisation or p.place for p in partnership.participants.all()} == {
        university,
        harbin,
    }
    # Named after its participants in each language.
    assert partnership.title_da == "Aarhus Universitet – Harbin (dansk)"
    assert partnership.title_en == "Aarhus University – Harbin"


def test_an_ambiguous_name_in_either_language_lists_the_candidates():
    PlaceFactory(name="Suzhou", kind="city", country="CN", slug="suzhou-js")
    PlaceFactory(name="Suzhou City", name_da="Suzhou", kind="city", country="CN", slug="suzhou-ah")
    data = csv_bytes([["name", "kind", "country", "place"], ["Body", "other", "CN", "Suzhou"]])
    report = run("organisations", data)
    assert messages(report) == [
        "row 2: place: 'Suzhou' names more than one place: Suzhou (city, China, slug suzhou-js); "
        "Suzhou City (city, China, slug suzhou-ah); write the slug of the one you mean"
    ]


def test_a_row_naming_two_records_in_its_two_languages_is_an_error():
    PlaceFactory(name="Wuxi", kind="city", country="CN", slug="wuxi")
    PlaceFactory(name="Nanjing", kind="city", country="CN", slug="nanjing")
    data = csv_bytes([["name_da", "name_en", "kind", "country"], ["Wuxi", "Nanjing", "city", "CN"]])
    report = run("places", data)
    assert len(report.problems) == 1
    assert "2 places fit this row" in messages(report)[0]
    assert messages(report)[0].startswith("row 2: name_da:")


def test_a_choice_error_lists_the_labels_in_the_readers_language():
    data = csv_bytes([["name", "kind", "country"], ["X", "Sogn", "DK"]])
    with translation.override("da"):
        problems = messages(run("places", data))
    assert len(problems) == 1
    assert "'Sogn'" in problems[0]
    assert "province_city" not in problems[0] and "country, state" not in problems[0]
    assert "'Sogn' er ikke en af disse værdier: land, delstat, provins, byprovins" in problems[0]


def test_a_required_text_needs_one_language():
    data = csv_bytes(
        [
            ["name_da", "name_en", "kind", "country"],
            ["", "", "city", "CN"],
            ["", "Wuxi", "city", "CN"],
        ]
    )
    assert messages(run("places", data)) == ["row 2: name_da: a value is required"]
    data = csv_bytes([["kind", "country"], ["city", "CN"]])
    assert messages(run("places", data)) == [
        "row 1: name: the required column 'name / name_da / name_en' is missing"
    ]


def test_an_english_only_record_keeps_its_danish_empty_under_a_danish_editor():
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    with translation.override("da"):
        data = export_table(IMPORT_SPECS["places"], Place.objects.all(), "csv")
        report = Importer(IMPORT_SPECS["places"], language="da").run(data, "x.csv")
    assert messages(report) == []
    assert report.counts["unchanged"] == 1
    assert Place.objects.get().name_da in ("", None)
    assert PlaceFigure.objects.count() == 0


def test_the_preview_shows_each_language_column_that_changes(editor_client):
    PlaceFactory(name="Copenhagen Municipality", kind="municipality", country="DK", slug="kbh")
    data = csv_bytes(
        [
            ["slug", "name_da", "name_en", "kind", "country"],
            ["kbh", "Københavns Kommune", "Copenhagen", "municipality", "DK"],
        ]
    )
    response = editor_client.post(
        "/admin/places/place/import/", {"file": io_file(data, "places.csv"), "source": ""}
    )
    assert response.status_code == 200
    diffs = response.context["shown_rows"][0]["diffs"]
    assert diffs == [
        ("name_da", "", "Københavns Kommune"),
        ("name_en", "Copenhagen Municipality", "Copenhagen"),
    ]
    assert "name_da" in response.content.decode()


@pytest.mark.parametrize(
    "name, header, column",
    [
        ("places", "navn_da", "name_da"),
        ("places", "Navn (dansk)", "name_da"),
        ("places", "navn (engelsk)", "name_en"),
        ("organisations", "beskrivelse_en", "description_en"),
        ("themes", "dansk navn", "name_da"),
        ("themes", "name (english)", "name_en"),
        ("partnerships", "titel_da", "title_da"),
        ("events", "tekst (engelsk)", "text_en"),
        ("figures", "note_da", "note_da"),
    ],
)
def test_language_columns_answer_to_danish_and_english_headers(name, header, column):
    data = csv_bytes([[header]])
    report = Importer(IMPORT_SPECS[name]).run(data, "x.csv", dry_run=True)
    assert report.job.header_labels.get(column) == header
