import io

import openpyxl
import pytest
from django.apps import apps
from django.db import connection
from django.urls import reverse

from core.models import ImportBatch
from importing.engine import ImportBusy, Importer
from places.models import Place
from tests.factories import PlaceFactory, ThemeFactory

from .conftest import csv_bytes, run

pytestmark = pytest.mark.django_db

HEADER = ["name", "kind", "country", "parent"]


def upload(client, data, name="places.csv"):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse("admin:places_place_import"), {"file": file})


def test_editor_uploads_previews_and_confirms(editor_client, editor):
    PlaceFactory(name="Jiangsu", kind="province", country="CN")
    data = csv_bytes([HEADER, ["Wuxi", "city", "CN", "Jiangsu"], ["Jiangsu", "province", "CN", ""]])

    response = upload(editor_client, data)

    assert response.status_code == 200
    page = response.content.decode()
    assert "1 new, 0 changed, 1 unchanged" in page
    assert not Place.objects.filter(name="Wuxi").exists()  # nothing written by the preview
    token = response.context["token"]

    response = editor_client.post(reverse("admin:places_place_import_confirm"), {"token": token})

    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:core_importbatch_change", args=[batch.pk])
    wuxi = Place.objects.get(name="Wuxi")
    assert wuxi.parent.name == "Jiangsu"
    assert (batch.user, batch.file_name, batch.created_count, batch.unchanged_count) == (
        editor,
        "places.csv",
        1,
        1,
    )
    history = wuxi.history.get()
    assert history.history_change_reason == f"import #{batch.pk}"
    assert history.history_user == editor
    assert (
        editor_client.get(reverse("admin:core_importbatch_change", args=[batch.pk])).status_code
        == 200
    )


def test_changelist_shows_import_and_export_to_editors(editor_client):
    page = editor_client.get(reverse("admin:places_place_changelist")).content.decode()
    assert reverse("admin:places_place_import") in page
    assert reverse("admin:places_place_export") in page


def test_changelist_shows_no_import_to_viewers(viewer_client):
    page = viewer_client.get(reverse("admin:places_place_changelist")).content.decode()
    assert reverse("admin:places_place_import") not in page


@pytest.mark.parametrize(
    "name", ["places_place", "organisations_organisation", "partnerships_partnership"]
)
def test_viewer_cannot_import_or_export(viewer_client, name):
    assert viewer_client.get(reverse(f"admin:{name}_import")).status_code == 403
    data = csv_bytes([HEADER, ["Wuxi", "city", "CN", ""]])
    file = io.BytesIO(data)
    file.name = "x.csv"
    assert viewer_client.post(reverse(f"admin:{name}_import"), {"file": file}).status_code == 403
    assert viewer_client.get(reverse(f"admin:{name}_export")).status_code == 403


def test_import_page_and_template_download(editor_client):
    page = editor_client.get(reverse("admin:organisations_organisation_import")).content.decode()
    assert "short_name" in page and "name_da*" in page and "name_en*" in page
    response = editor_client.get(reverse("admin:organisations_organisation_import_template"))
    assert response.content.decode("utf-8") == (
        "\ufeffslug,name_da,name_en,short_name,kind,country,place,parent,native_name,"
        "native_language,website,wikidata_id,ror_id,aliases,description_da,description_en,"
        "source,publication\r\n"
    )
    response = editor_client.get(
        reverse("admin:organisations_organisation_import_template") + "?format=xlsx"
    )
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert [cell.value for cell in sheet[1]][:4] == ["slug", "name_da", "name_en", "short_name"]


def test_import_form_is_laid_out_as_the_admins_forms(editor_client):
    # Each field a row of the admin's aligned form, its label beside it and its help
    # below, tied to it for a screen reader; as a form's paragraphs, the help ran on
    # after the field and the admin's form styles were not loaded.
    page = editor_client.get(reverse("admin:places_place_import")).content.decode()
    assert "admin/css/forms" in page
    assert '<fieldset class="module aligned">' in page
    for name in ("file", "source", "language", "publish"):
        assert f'class="form-row field-{name}"' in page
        assert f'aria-describedby="id_{name}_helptext"' in page
        assert f'<div class="help" id="id_{name}_helptext">' in page
    response = editor_client.post(reverse("admin:places_place_import"), {"source": ""})
    assert response.status_code == 200
    assert 'class="form-row field-file errors"' in response.content.decode()


def test_errors_are_listed_and_the_failed_rows_download(editor_client):
    PlaceFactory(name="Anhui", country="CN")
    data = csv_bytes([HEADER, ["Wuxi", "city", "CN", ""], ["Nowhere", "city", "CN", "Atlantis"]])
    response = upload(editor_client, data)
    page = response.content.decode()
    assert "row 3: parent: unknown place &#x27;Atlantis&#x27;" in page
    assert "Confirm import" not in page
    failed = editor_client.get(
        reverse("admin:places_place_import_failed", args=[response.context["token"]])
    )
    lines = failed.content.decode("utf-8").splitlines()
    # The upload's own format: this one was UTF-8 without a byte order mark.
    assert lines[0] == "name,kind,country,parent,errors"
    assert lines[1].startswith("Nowhere,city,CN,Atlantis,row 3: parent: unknown place 'Atlantis'")
    assert len(lines) == 2
    assert not Place.objects.filter(name="Wuxi").exists()


def test_too_large_upload_is_refused(editor_client, settings):
    settings.ATLAS_IMPORT_MAX_BYTES = 100
    response = upload(editor_client, csv_bytes([HEADER] + [["Wuxi", "city", "CN", ""]] * 20))
    assert "at most" in response.content.decode()
    assert "token" not in response.context


def test_confirm_needs_the_uploaders_session(editor_client, client, editor):
    response = upload(editor_client, csv_bytes([HEADER, ["Wuxi", "city", "CN", ""]]))
    token = response.context["token"]
    client.logout()
    other = type(editor).objects.create(username="other", is_staff=True, is_superuser=True)
    client.force_login(other)
    response = client.post(reverse("admin:places_place_import_confirm"), {"token": token})
    assert response.status_code == 404


def test_a_confirmation_sent_again_says_where_the_import_is(editor_client):
    # A second click, or the browser's back and resend: the upload is gone once imported,
    # and the answer was that it had expired, as if nothing had been imported.
    data = csv_bytes([HEADER, ["Wuxi", "city", "CN", ""]])
    token = upload(editor_client, data).context["token"]
    confirm = reverse("admin:places_place_import_confirm")
    first = editor_client.post(confirm, {"token": token})
    batch = ImportBatch.objects.get()
    again = editor_client.post(confirm, {"token": token}, follow=True)
    assert again.redirect_chain == [(first["Location"], 302)]
    messages = [str(message) for message in again.context["messages"]]
    assert f"This file was imported already, as import #{batch.pk}." in messages
    assert ImportBatch.objects.count() == 1
    assert Place.objects.filter(name="Wuxi").count() == 1
    # A token this session never confirmed still finds no upload.
    other = editor_client.post(confirm, {"token": "0" * 32})
    assert other.status_code == 404


def test_two_confirmations_at_once_import_the_file_once(editor_client, monkeypatch):
    # A double click faster than the page: the second confirmation arrives while the
    # first import runs, before its session records the import. It used to wait for
    # the import lock and then import the file again, as a second import of unchanged rows.
    data = csv_bytes([HEADER, ["Wuxi", "city", "CN", ""]])
    token = upload(editor_client, data).context["token"]
    confirm = reverse("admin:places_place_import_confirm")
    run = Importer.run
    clicks, seconds = [], []

    def run_with_a_second_click(self, *args, **kwargs):
        if not clicks:
            clicks.append("second")
            seconds.append(editor_client.post(confirm, {"token": token}, follow=True))
        return run(self, *args, **kwargs)

    monkeypatch.setattr(Importer, "run", run_with_a_second_click)
    first = editor_client.post(confirm, {"token": token})

    batch = ImportBatch.objects.get()
    assert first["Location"] == reverse("admin:core_importbatch_change", args=[batch.pk])
    assert batch.created_count == 1
    (second,) = seconds
    assert second.redirect_chain == [(reverse("admin:core_importbatch_changelist"), 302)]
    messages = [str(message) for message in second.context["messages"]]
    assert "This file is being imported already, from another click or window." in messages[0]
    assert Place.objects.filter(name="Wuxi").count() == 1


def test_a_confirmation_that_fails_leaves_the_upload_to_try_again(editor_client, monkeypatch):
    data = csv_bytes([HEADER, ["Wuxi", "city", "CN", ""]])
    token = upload(editor_client, data).context["token"]
    confirm = reverse("admin:places_place_import_confirm")
    run = Importer.run

    def busy(self, *args, **kwargs):
        raise ImportBusy("Another import is being written; try again in a minute.")

    monkeypatch.setattr(Importer, "run", busy)
    response = editor_client.post(confirm, {"token": token}, follow=True)
    messages = [str(message) for message in response.context["messages"]]
    assert messages == ["Another import is being written; try again in a minute."]
    assert not ImportBatch.objects.exists()

    monkeypatch.setattr(Importer, "run", run)
    response = editor_client.post(confirm, {"token": token})
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("admin:core_importbatch_change", args=[batch.pk])
    assert Place.objects.filter(name="Wuxi").count() == 1


def test_a_record_saved_since_the_preview_stops_the_confirmation(editor_client):
    # The preview said "Old text → File text"; an editor then wrote their own text. The
    # confirmation wrote the file's over it, a change nobody was shown.
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", description="Old text")
    suzhou = PlaceFactory(name="Suzhou", kind="city", country="CN")
    data = csv_bytes(
        [
            ["slug", "name", "kind", "country", "description"],
            [wuxi.slug, "Wuxi", "city", "CN", "File text"],
            [suzhou.slug, "Suzhou", "city", "CN", ""],
            ["", "Nantong", "city", "CN", ""],
        ]
    )
    token = upload(editor_client, data).context["token"]
    wuxi.refresh_from_db()
    wuxi.description = "An editor's text"
    wuxi.save()
    PlaceFactory(name="Jiangsu", kind="province", country="CN")  # not in the file
    confirm = reverse("admin:places_place_import_confirm")

    response = editor_client.post(confirm, {"token": token})

    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "The registry changed since the preview: row 2 would now do something else. "
        "Nothing was imported; check the preview below and confirm again."
    ) in page
    assert "An editor&#x27;s text" in page  # the preview as it stands now
    assert not ImportBatch.objects.exists()
    assert not Place.objects.filter(name="Nantong").exists()
    wuxi.refresh_from_db()
    assert wuxi.description == "An editor's text"

    # Confirmed again, on what it now shows.
    response = editor_client.post(confirm, {"token": token})
    batch = ImportBatch.objects.get()
    assert response["Location"] == reverse("admin:core_importbatch_change", args=[batch.pk])
    wuxi.refresh_from_db()
    assert wuxi.description == "File text"
    assert Place.objects.filter(name="Nantong").exists()


def test_a_theme_saved_since_the_preview_stops_the_confirmation_too(editor_client):
    # Themes carry a version since 0028; before, their rows had none to compare.
    water = ThemeFactory(name="Water", slug="water", description="Old text")
    file = io.BytesIO(csv_bytes([["slug", "name", "description"], ["water", "Water", "File"]]))
    file.name = "themes.csv"
    response = editor_client.post(reverse("admin:partnerships_theme_import"), {"file": file})
    token = response.context["token"]
    water.description = "An editor's text"
    water.save()
    confirm = reverse("admin:partnerships_theme_import_confirm")

    response = editor_client.post(confirm, {"token": token})

    assert response.status_code == 200
    assert "The registry changed since the preview: row 2" in response.content.decode()
    water.refresh_from_db()
    assert water.description == "An editor's text"
    assert editor_client.post(confirm, {"token": token}).status_code == 302
    water.refresh_from_db()
    assert water.description == "File"


def test_export_of_the_filtered_list(editor_client):
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    PlaceFactory(name="Aarhus", kind="municipality", country="DK")
    url = reverse("admin:places_place_export")
    response = editor_client.get(url + "?country__exact=DK&format=csv")
    lines = response.content.decode("utf-8").splitlines()
    assert len(lines) == 2 and ",Aarhus," in lines[1]
    response = editor_client.get(url + "?format=json")
    assert {row["name_en"] for row in response.json()} == {"Wuxi", "Aarhus"}
    response = editor_client.get(url + "?format=xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3


def test_export_of_every_page_of_the_list(editor_client):
    # The changelist's link carries its page; a page past the last was a server error.
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    url = reverse("admin:places_place_export")
    for page in ("3", "abc", "9" * 30):
        response = editor_client.get(url, {"format": "csv", "p": page})
        assert response.status_code == 200
        assert ",Wuxi," in response.content.decode("utf-8")


@pytest.mark.parametrize(
    "name, query",
    [
        ("places_place", {"parent": "abc"}),
        ("places_place", {"no_such_field": "1"}),
        ("partnerships_theme", {"kind": "x"}),
        ("core_source", {"kind": "x"}),
    ],
)
def test_an_export_whose_filters_cannot_be_read_says_so(editor_client, name, query):
    response = editor_client.get(reverse(f"admin:{name}_export"), {"format": "csv", **query})
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:{name}_changelist")
    page = editor_client.get(response["Location"])
    messages = [str(message) for message in page.context["messages"]]
    assert messages == ["The list's filters could not be read, so nothing was exported."]


def test_an_export_filtered_by_a_number_past_the_databases_exports_nothing(editor_client):
    # PostgreSQL finds no such parent: the file holds the header alone. SQLite cannot hold
    # the number, and the list is one it cannot read: the message, as for "abc".
    PlaceFactory(name="Wuxi", kind="city", country="CN")
    url = reverse("admin:places_place_export")
    response = editor_client.get(url, {"format": "csv", "parent": "9" * 30})
    if connection.vendor == "postgresql":
        assert response.status_code == 200
        assert len(response.content.decode("utf-8").splitlines()) == 1
    else:
        assert response.status_code == 302
        assert response["Location"] == reverse("admin:places_place_changelist")


def test_undo_restores_values_and_removes_created_records(editor_client, editor):
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", description="Old text")
    data = csv_bytes(
        [
            ["slug", "name", "kind", "country", "description", "aliases"],
            [wuxi.slug, "Wuxi", "city", "CN", "New text", "Wutshi"],
            ["", "Suzhou", "city", "CN", "", ""],
        ]
    )
    report = run("places", data, user=editor)
    batch = report.batch
    assert report.counts == {"new": 1, "updated": 1, "unchanged": 0}
    wuxi.refresh_from_db()
    assert wuxi.description == "New text"
    assert list(wuxi.other_names.values_list("name", flat=True)) == ["Wutshi"]

    response = editor_client.post(reverse("admin:core_importbatch_undo", args=[batch.pk]))

    assert response.status_code == 302
    wuxi.refresh_from_db()
    assert wuxi.description == "Old text"
    assert not wuxi.other_names.exists()
    assert not Place.objects.filter(name="Suzhou").exists()
    batch.refresh_from_db()
    assert batch.undone_at is not None and batch.undone_by == editor
    reasons = list(wuxi.history.values_list("history_change_reason", flat=True))
    assert reasons[:2] == [f"undo of import #{batch.pk}", f"import #{batch.pk}"]


def test_undo_asks_first_and_says_what_it_will_do(editor_client, editor):
    PlaceFactory(name="Wuxi", kind="city", country="CN", description="Old text")
    data = csv_bytes(
        [
            HEADER + ["description"],
            ["Wuxi", "city", "CN", "", "New"],
            ["Suzhou", "city", "CN", "", ""],
        ]
    )
    batch = run("places", data, user=editor).batch
    undo = reverse("admin:core_importbatch_undo", args=[batch.pk])
    page = editor_client.get(reverse("admin:core_importbatch_change", args=[batch.pk]))
    # The batch's page links to the question; it undoes nothing itself.
    assert f'href="{undo}" class="atlas-undo"' in page.content.decode()

    response = editor_client.get(undo)

    assert response.status_code == 200
    text = response.content.decode()
    assert f"Undo {batch}?" in text
    assert "The undo removes the 1 record this import created." in text
    assert "It puts the 1 record the import changed back as it was before." in text
    assert "Yes, undo this import" in text
    batch.refresh_from_db()
    assert batch.undone_at is None and Place.objects.filter(name="Suzhou").exists()
    # Once undone, the question is not asked again.
    editor_client.post(undo)
    response = editor_client.get(undo, follow=True)
    assert f"Import #{batch.pk} of test.csv was already undone." in response.content.decode()


def test_viewer_cannot_undo(viewer_client, editor):
    report = run("places", csv_bytes([HEADER, ["Wuxi", "city", "CN", ""]]), user=editor)
    response = viewer_client.post(reverse("admin:core_importbatch_undo", args=[report.batch.pk]))
    assert response.status_code == 403
    assert Place.objects.filter(name="Wuxi").exists()


def test_undo_of_a_partnership_import_restores_participants_and_themes(editor_client, editor):
    from partnerships.models import Partnership
    from tests.factories import OrganisationFactory, ThemeFactory

    wuxi, ballerup = PlaceFactory(name="Wuxi"), PlaceFactory(name="Ballerup", country="DK")
    bycirklen = OrganisationFactory(name="Bycirklen")
    ThemeFactory(name="Elderly care", slug="elderly-care")
    ThemeFactory(name="Education", slug="education")
    header = ["title", "kind", "status", "participants", "start", "themes"]
    first = run(
        "partnerships",
        csv_bytes(
            [header, ["Tie", "cooperation", "active", "Wuxi; Ballerup", "2007", "Education"]]
        ),
        user=editor,
    )
    assert first.problems == []
    slug = Partnership.objects.get().slug
    second = run(
        "partnerships",
        csv_bytes(
            [
                ["slug", *header],
                [
                    slug,
                    "Tie",
                    "cooperation",
                    "ended",
                    "Wuxi; Bycirklen (coordinator)",
                    "2008",
                    "Elderly care",
                ],
            ]
        ),
        user=editor,
    )
    assert second.counts == {"new": 0, "updated": 1, "unchanged": 0}

    editor_client.post(reverse("admin:core_importbatch_undo", args=[second.batch.pk]))

    tie = Partnership.objects.get()
    assert (tie.status, str(tie.start)) == ("active", "2007")
    assert {(p.place, p.organisation, p.role) for p in tie.participants.all()} == {
        (wuxi, None, "partner"),
        (ballerup, None, "partner"),
    }
    assert [theme.slug for theme in tie.themes.all()] == ["education"]
    assert bycirklen.participations.count() == 0


def test_xlsx_bomb_upload_is_refused(editor_client):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<row/>" * 1_000_000)
    response = upload(editor_client, buffer.getvalue(), name="bomb.xlsx")
    assert response.status_code == 200
    assert "refused unread" in response.content.decode()
    assert "token" not in response.context


@pytest.mark.parametrize(
    ("model", "header", "row", "lookup"),
    [
        ("core_source", ["title", "url"], ["Twinning list 2026", "https://example.org/t"], "title"),
        ("partnerships_theme", ["name", "name_da"], ["Water", "Vand"], "name"),
    ],
)
def test_sources_and_themes_import_through_the_admin_like_the_other_types(
    editor_client, model, header, row, lookup
):
    page = editor_client.get(reverse(f"admin:{model}_changelist")).content.decode()
    assert reverse(f"admin:{model}_import") in page
    file = io.BytesIO(csv_bytes([header, row]))
    file.name = "list.csv"

    preview = editor_client.post(reverse(f"admin:{model}_import"), {"file": file})
    assert "1 new" in preview.content.decode()
    editor_client.post(
        reverse(f"admin:{model}_import_confirm"), {"token": preview.context["token"]}
    )

    app_label, model_name = model.split("_")
    assert apps.get_model(app_label, model_name).objects.filter(**{lookup: row[0]}).exists()
    export = editor_client.get(reverse(f"admin:{model}_export") + "?format=csv")
    assert row[0] in export.content.decode("utf-8-sig")


@pytest.mark.parametrize("model", ["core_source", "partnerships_theme"])
def test_viewers_cannot_import_sources_or_themes(viewer_client, model):
    assert viewer_client.get(reverse(f"admin:{model}_import")).status_code == 403
