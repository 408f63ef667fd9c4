"""Issue 8: an import never merges different things and never changes anything silently."""

import contextlib
import csv
import datetime
import io
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from core.models import ImportBatch, Publication, Source
from partnerships.models import Partnership
from places.models import Place, PlaceFigure
from tests.factories import PlaceFactory, PlaceNameFactory

from .conftest import csv_bytes, messages, run

pytestmark = pytest.mark.django_db

PLACES = ["name", "kind", "country", "parent"]


def command(tmp_path, record_type, data, *args, name="file.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", record_type, str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def upload(client, url_name, data, name="file.csv", **fields):
    file = io.BytesIO(data)
    file.name = name
    return client.post(reverse(url_name), {"file": file, **fields})


# Identity --------------------------------------------------------------------------------


def test_shanxi_is_not_shaanxi_and_the_new_one_is_flagged():
    PlaceFactory(name="Shanxi", kind="province", country="CN", slug="shanxi")
    report = run("places", csv_bytes([PLACES, ["Shaanxi", "province", "CN", ""]]))
    assert report.problems == []
    assert report.counts["new"] == 1
    assert report.rows[0].warnings == [
        "possible duplicate of Shanxi (province, China, slug shanxi); if it is the same, "
        "write its slug in a slug column"
    ]
    assert Place.objects.filter(name="Shaanxi").exists()


def test_aarhus_matches_arhus_by_its_other_name_and_keeps_its_name(tmp_path):
    aarhus = PlaceFactory(name="Aarhus Municipality", kind="municipality", country="DK")
    PlaceNameFactory(place=aarhus, name="Århus Kommune")
    out, _err = command(
        tmp_path,
        "places",
        csv_bytes([PLACES + ["description"], ["AARHUS KOMMUNE", "municipality", "DK", "", "Port"]]),
        "--dry-run",
    )
    assert f"matched Aarhus Municipality (municipality, Denmark, slug {aarhus.slug}) by its " in out
    assert "other name 'AARHUS KOMMUNE'" in out
    assert "1 updated" in out
    command(
        tmp_path,
        "places",
        csv_bytes([PLACES + ["description"], ["AARHUS KOMMUNE", "municipality", "DK", "", "Port"]]),
    )
    aarhus.refresh_from_db()
    assert (aarhus.name, aarhus.description) == ("Aarhus Municipality", "Port")


@pytest.mark.parametrize(
    ("parent", "child"),
    [
        (("Odense Municipality", "municipality", "DK"), ("Odense", "city", "DK")),
        (("Beijing", "province_city", "CN"), ("Beijing", "city", "CN")),
        (("Jilin", "province", "CN"), ("Jilin", "city", "CN")),
    ],
)
def test_a_place_named_like_its_parent_imports(parent, child):
    municipality = PlaceFactory(name=parent[0], kind=parent[1], country=parent[2])
    PlaceNameFactory(place=municipality, name=child[0])
    data = csv_bytes(
        [PLACES, [child[0], child[1], child[2], parent[0]], ["Elsewhere", "city", "DK", ""]]
    )
    report = run("places", data)
    assert messages(report) == []
    created = Place.objects.get(name=child[0], kind=child[1])
    assert created.parent == municipality
    assert Place.objects.filter(name="Elsewhere").exists()


def test_several_candidates_are_listed_with_how_to_choose():
    jiangsu = PlaceFactory(name="Jiangsu", kind="province", country="CN")
    anhui = PlaceFactory(name="Anhui", kind="province", country="CN")
    PlaceFactory(name="Suzhou", kind="city", country="CN", parent=jiangsu, slug="suzhou-js")
    PlaceFactory(name="Suzhou", kind="city", country="CN", parent=anhui, slug="suzhou-ah")
    report = run("places", csv_bytes([["name", "kind", "country"], ["Suzhou", "city", "CN"]]))
    assert messages(report) == [
        "row 2: name: 2 places fit this row: Suzhou (city, in Anhui, slug suzhou-ah); "
        "Suzhou (city, in Jiangsu, slug suzhou-js); add a slug column and write the slug of "
        "the one you mean (or a new slug for a new one)"
    ]
    # With its parent the row is one of them.
    report = run("places", csv_bytes([PLACES, ["Suzhou", "city", "CN", "Anhui"]]))
    assert report.counts == {"new": 0, "updated": 0, "unchanged": 1}


# Nothing changes silently ------------------------------------------------------------------


def test_ballerup_next_to_ballerup_municipality_is_flagged_in_the_admin(editor_client):
    PlaceFactory(name="Ballerup Municipality", kind="municipality", country="DK")
    response = upload(
        editor_client,
        "admin:places_place_import",
        csv_bytes([PLACES, ["Ballerup", "city", "DK", ""]]),
    )
    page = response.content.decode()
    assert "possible duplicate of Ballerup Municipality (municipality, Denmark" in page
    assert "1 row has a warning" in page


def test_a_city_named_like_the_municipality_it_lies_in_is_no_possible_duplicate():
    PlaceFactory(name="Odense Municipality", kind="municipality", country="DK")
    report = run(
        "places",
        csv_bytes([PLACES, ["Odense", "city", "DK", "Odense Municipality"]]),
        dry_run=True,
    )
    assert report.counts["new"] == 1
    assert report.rows[0].warnings == []
    # Elsewhere in the country the same name is worth a second look.
    report = run("places", csv_bytes([PLACES, ["Odense", "city", "DK", ""]]))
    assert report.rows[0].warnings[0].startswith("possible duplicate of Odense Municipality")


def test_a_slug_rename_and_a_kind_change_show_old_and_new_values(tmp_path):
    copenhagen = PlaceFactory(
        name="Copenhagen Municipality", kind="municipality", country="DK", slug="copenhagen"
    )
    data = csv_bytes(
        [["slug", "name", "kind", "country"], ["copenhagen", "København", "city", "DK"]]
    )
    out, _err = command(tmp_path, "places", data, "--dry-run", "--report", str(tmp_path / "r.csv"))
    assert "row 2: changes place Copenhagen Municipality" in out or "row 2: changes place" in out
    assert "  name: Copenhagen Municipality → København" in out
    assert "  kind: municipality → city" in out
    with open(tmp_path / "r.csv", encoding="utf-8-sig") as report:
        lines = list(csv.reader(report))
    assert ["2", "updated", "København", "name", "Copenhagen Municipality", "København", ""] in [
        line[:7] for line in lines
    ]
    copenhagen.refresh_from_db()
    assert copenhagen.name == "Copenhagen Municipality"  # a dry run writes nothing


def test_the_admin_preview_shows_changes_in_danish_with_the_files_headers(editor_client):
    from django.utils import translation

    PlaceFactory(name="Wuxi", kind="city", country="CN", slug="wuxi")
    data = csv_bytes([["slug", "navn", "type", "land"], ["wuxi", "Wuxi", "distrikt", "Kina"]], ";")
    with translation.override("da"):
        response = editor_client.post(
            reverse("admin:places_place_import"),
            {"file": _file(data)},
            HTTP_ACCEPT_LANGUAGE="da",
        )
    page = response.content.decode()
    assert "<strong>type</strong>: <del>by</del> → <ins>distrikt</ins>" in page


def _file(data, name="file.csv"):
    file = io.BytesIO(data)
    file.name = name
    return file


# Sources and figures ------------------------------------------------------------------------


def test_a_source_cell_adds_a_citation_and_remove_source_takes_one_off(source):
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", slug="wuxi")
    wuxi.sources.add(source)
    data = csv_bytes(
        [
            ["slug", "name", "kind", "country", "source"],
            ["wuxi", "Wuxi", "city", "CN", "https://example.org/wuxi"],
        ]
    )
    report = run("places", data)
    assert report.counts["updated"] == 1
    assert sorted(s.title for s in wuxi.sources.all()) == [
        "Background note",
        "https://example.org/wuxi",
    ]
    assert Source.objects.get(url="https://example.org/wuxi")
    data = csv_bytes(
        [
            ["slug", "name", "kind", "country", "remove_source"],
            ["wuxi", "Wuxi", "city", "CN", "Background note"],
        ]
    )
    run("places", data)
    assert [s.title for s in wuxi.sources.all()] == ["https://example.org/wuxi"]


def test_figures_without_a_source_cite_the_import_and_take_this_years_date(tmp_path, editor):
    PlaceFactory(name="Aarhus", kind="municipality", country="DK")
    data = csv_bytes(
        [["name", "kind", "country", "population"], ["Aarhus", "municipality", "DK", "367.095"]]
    )
    out, _err = command(tmp_path, "places", data, "--user", editor.username)
    figure = PlaceFigure.objects.get()
    assert (figure.value, figure.year) == (367095, datetime.date.today().year)
    assert figure.source.title.startswith(f"Spreadsheet import of file.csv by {editor.username}")
    assert ImportBatch.objects.get().user == editor


def test_a_source_chosen_for_the_import_is_what_figures_cite(tmp_path, source):
    PlaceFactory(name="Aarhus", kind="municipality", country="DK")
    data = csv_bytes(
        [
            ["name", "kind", "country", "population", "population_year"],
            ["Aarhus", "municipality", "DK", "367095", "2024"],
        ]
    )
    command(tmp_path, "places", data, "--source", "background NOTE")
    figure = PlaceFigure.objects.get()
    assert (figure.year, figure.source) == (2024, source)


def test_a_figure_without_a_year_is_this_years_not_the_old_figures(source):
    aarhus = PlaceFactory(name="Aarhus", kind="municipality", country="DK")
    PlaceFigure.objects.create(
        place=aarhus, kind="population", value=300000, year=2009, source=source
    )
    data = csv_bytes(
        [
            ["name", "kind", "country", "population", "source"],
            ["Aarhus", "municipality", "DK", "367095", "Background note"],
        ]
    )
    report = run("places", data)
    assert report.problems == []
    assert sorted(aarhus.figures.values_list("year", flat=True)) == [
        2009,
        datetime.date.today().year,
    ]


# Titles, authors, clashes ----------------------------------------------------------------


def test_an_automatic_title_uses_the_records_names():
    aarhus = PlaceFactory(name="Aarhus", kind="municipality", country="DK")
    PlaceNameFactory(place=aarhus, name="Århus")
    PlaceFactory(name="Harbin", kind="city", country="CN")
    report = run(
        "partnerships", csv_bytes([["kind", "participants"], ["friendship city", "harbin; Århus"]])
    )
    assert report.problems == []
    assert Partnership.objects.get().title == "Aarhus – Harbin"
    # The same participants and kind again: the same partnership; another kind: flagged.
    report = run(
        "partnerships", csv_bytes([["kind", "participants"], ["friendship city", "Harbin; Aarhus"]])
    )
    assert report.counts == {"new": 0, "updated": 0, "unchanged": 1}
    report = run(
        "partnerships", csv_bytes([["kind", "participants"], ["sister city", "Harbin; Aarhus"]])
    )
    assert report.counts["new"] == 1
    assert report.rows[0].warnings[0].startswith("possible duplicate: Aarhus – Harbin")


def test_the_command_records_a_configured_import_user_when_none_is_named(tmp_path, settings):
    settings.ATLAS_IMPORT_USER = "nightly-import"
    command(tmp_path, "places", csv_bytes([PLACES, ["Wuxi", "city", "CN", ""]]))
    batch = ImportBatch.objects.get()
    assert batch.user.username == "nightly-import"
    assert Place.objects.get().history.get().history_user == batch.user
    with pytest.raises(CommandError) as raised:
        command(
            tmp_path,
            "places",
            csv_bytes([PLACES, ["Nanjing", "city", "CN", ""]]),
            "--user",
            "nobody",
        )
    assert raised.value.returncode == 2


@contextlib.contextmanager
def another_import_writing(settings):
    """Another connection holds the import lock while the block runs: SQLite's write lock,
    or PostgreSQL's advisory lock, each waited for a moment only."""
    from importing.engine import import_lock

    settings.ATLAS_IMPORT_WAIT_SECONDS = 0.2
    holding, release = threading.Event(), threading.Event()

    def an_import():
        from django.db import connections

        with import_lock():
            holding.set()
            release.wait(10)
        connections.close_all()

    thread = threading.Thread(target=an_import)
    thread.start()
    try:
        holding.wait(10)
        if connection.vendor == "sqlite":
            with connection.cursor() as cursor:
                cursor.execute("PRAGMA busy_timeout = 100")
        yield
    finally:
        release.set()
        thread.join()


@pytest.mark.django_db(transaction=True)
def test_a_second_import_while_one_runs_stops_with_exit_code_3(tmp_path, settings):
    with another_import_writing(settings), pytest.raises(CommandError) as raised:
        command(tmp_path, "places", csv_bytes([PLACES, ["Wuxi", "city", "CN", ""]]))
    assert raised.value.returncode == 3
    assert str(raised.value) == (
        "Another import is running; try again in a moment. Nothing was imported."
    )
    assert not Place.objects.filter(name="Wuxi").exists()
    # Once the first import is done, the same file goes through.
    command(tmp_path, "places", csv_bytes([PLACES, ["Wuxi", "city", "CN", ""]]))
    assert Place.objects.filter(name="Wuxi").exists()


# The import batch page ---------------------------------------------------------------------


def test_the_batch_page_after_an_import_with_figures_is_read_only_with_undo(editor_client, source):
    data = csv_bytes(
        [
            ["name", "kind", "country", "population", "source"],
            ["Wuxi", "city", "CN", "7.000.000", "Background note"],
        ]
    )
    response = upload(editor_client, "admin:places_place_import", data)
    editor_client.post(
        reverse("admin:places_place_import_confirm"), {"token": response.context["token"]}
    )
    batch = ImportBatch.objects.get()
    assert batch.created["places.placefigure"]
    page = editor_client.get(reverse("admin:core_importbatch_change", args=[batch.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert 'name="_save"' not in text
    assert "Undo this import" in text
    figure = PlaceFigure.objects.get()
    # A figure has no admin page of its own (it is edited inside its place): no link.
    assert f"<div>created: figure: {figure}</div>" in text
    wuxi = Place.objects.get(name="Wuxi")
    assert reverse("admin:places_place_change", args=[wuxi.pk]) in text


# The failed rows in the upload's own format -------------------------------------------------


def test_failed_rows_come_back_as_semicolon_windows_csv(editor_client):
    data = csv_bytes(
        [["navn", "type", "land"], ["Ærø", "by", "DK"], ["X", "landsby", "DK"]], ";", "cp1252"
    )
    response = upload(editor_client, "admin:places_place_import", data)
    failed = editor_client.get(
        reverse("admin:places_place_import_failed", args=[response.context["token"]])
    )
    assert failed["Content-Type"] == "text/csv; charset=windows-1252"
    lines = failed.content.decode("cp1252").splitlines()
    assert lines[0] == "navn;type;land;errors"
    assert lines[1].startswith("X;landsby;DK;row 3: type: 'landsby' is not one of")


def test_a_bad_cell_does_not_cascade_to_the_rows_that_name_its_row():
    data = csv_bytes(
        [
            ["name", "kind", "country", "parent", "latitude", "longitude"],
            ["Jiangsu", "province", "CN", "", "north", "119"],
            ["Wuxi", "city", "CN", "Jiangsu", "", ""],
        ]
    )
    assert messages(run("places", data)) == [
        "row 2: latitude: 'north' is not a coordinate in decimal degrees"
    ]


def test_an_export_with_repeated_names_imports_back_unchanged(tmp_path):
    jiangsu = PlaceFactory(name="Jiangsu", kind="province", country="CN")
    anhui = PlaceFactory(name="Anhui", kind="province", country="CN")
    jilin = PlaceFactory(name="Jilin", kind="province", country="CN")
    odense = PlaceFactory(name="Odense Municipality", kind="municipality", country="DK")
    PlaceNameFactory(place=odense, name="Odense")
    for name, kind, country, parent in [
        ("Suzhou", "city", "CN", jiangsu),
        ("Suzhou", "city", "CN", anhui),
        ("Jilin", "city", "CN", jilin),
        ("Ringsted", "municipality", "DK", None),
        ("Ringsted", "city", "US", None),
        ("Odense", "city", "DK", odense),
    ]:
        child = PlaceFactory(name=name, kind=kind, country=country, parent=parent)
        PlaceFactory(
            name=f"District of {name} {child.pk}", kind="district", country=country, parent=child
        )
    # A published row needs a source and these places have none: drafts, as the import
    # makes new records by default.
    Place.objects.update(publication=Publication.DRAFT)
    out = io.StringIO()
    call_command("export_records", "places", "-o", str(tmp_path / "places.csv"), stderr=out)
    exported = (tmp_path / "places.csv").read_bytes()
    assert b",Suzhou,city,CN,Jiangsu," in exported  # a name that names one record stays a name
    out, _err = command(tmp_path, "places", exported, "--dry-run", name="places.csv")
    assert out.endswith(
        f"0 new, 0 updated, {Place.objects.count()} unchanged places. Nothing was written.\n"
    )
    # Into an empty registry, then out again: the same file.
    Place.objects.filter(kind="district").delete()
    Place.objects.filter(parent__isnull=False).delete()
    Place.objects.all().delete()
    command(tmp_path, "places", exported, name="places.csv")
    call_command(
        "export_records", "places", "-o", str(tmp_path / "again.csv"), stderr=io.StringIO()
    )
    assert (tmp_path / "again.csv").read_bytes() == exported


def test_formula_like_values_round_trip_and_stay_unchanged(tmp_path):
    PlaceFactory(name="'Quoted", kind="city", country="CN", description="\tindented\rline")
    PlaceFactory(name="=1+2", kind="city", country="CN", description="@home")
    call_command(
        "export_records",
        "places",
        "--format",
        "xlsx",
        "-o",
        str(tmp_path / "p.xlsx"),
        stderr=io.StringIO(),
    )
    call_command("export_records", "places", "-o", str(tmp_path / "p.csv"), stderr=io.StringIO())
    for name in ("p.xlsx", "p.csv"):
        out, _err = command(
            tmp_path, "places", (tmp_path / name).read_bytes(), "--dry-run", name=name
        )
        assert out.endswith("0 new, 0 updated, 2 unchanged places. Nothing was written.\n"), name


def test_undo_of_an_import_with_new_sources_and_figures(editor_client, editor, source):
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", slug="wuxi")
    wuxi.sources.add(source)
    data = csv_bytes(
        [
            ["slug", "name", "kind", "country", "population", "population_year", "source"],
            ["wuxi", "Wuxi", "city", "CN", "7.400.000", "2023", "https://stats.gov.cn"],
        ]
    )
    report = run("places", data, user=editor)
    assert report.problems == []
    assert wuxi.sources.count() == 2 and wuxi.figures.count() == 1
    editor_client.post(reverse("admin:core_importbatch_undo", args=[report.batch.pk]))
    assert [s.title for s in wuxi.sources.all()] == ["Background note"]
    assert not wuxi.figures.exists()
    assert not Source.objects.filter(url="https://stats.gov.cn").exists()


def test_the_admin_import_form_takes_the_source_figures_cite(editor_client, source):
    data = csv_bytes(
        [["name", "kind", "country", "indbyggere"], ["Aarhus", "municipality", "DK", "367095"]]
    )
    response = upload(editor_client, "admin:places_place_import", data, source="Background note")
    assert "367,095 (" in response.content.decode()
    editor_client.post(
        reverse("admin:places_place_import_confirm"), {"token": response.context["token"]}
    )
    assert PlaceFigure.objects.get().source == source


@pytest.mark.django_db(transaction=True)
def test_the_admin_says_when_another_import_is_running(admin_client, settings):
    # A superuser: a database emptied by an earlier test of this kind has no staff groups.
    response = upload(
        admin_client, "admin:places_place_import", csv_bytes([PLACES, ["Wuxi", "city", "CN", ""]])
    )
    with another_import_writing(settings):
        response = admin_client.post(
            reverse("admin:places_place_import_confirm"),
            {"token": response.context["token"]},
            follow=True,
        )
    assert response.status_code == 200
    assert "Another import is running; try again in a moment." in response.content.decode()
    assert not Place.objects.filter(name="Wuxi").exists()


def imported_description(user):
    """A place whose description an import changed, and the import."""
    wuxi = PlaceFactory(name="Wuxi", kind="city", country="CN", description="Old text")
    batch = run(
        "places",
        csv_bytes([[*PLACES, "slug", "description"], ["Wuxi", "city", "CN", "", wuxi.slug, "New"]]),
        user=user,
    ).batch
    return wuxi, batch


def assert_undone_once(wuxi, batch):
    wuxi.refresh_from_db()
    assert wuxi.description == "Old text"
    reasons = list(wuxi.history.values_list("history_change_reason", flat=True))
    assert reasons.count(f"undo of import #{batch.pk}") == 1


def test_an_undo_sent_again_during_the_undo_does_nothing(editor_client, editor, monkeypatch):
    # A second click on Undo, arriving while the first undo writes. It read the import as
    # not undone, then undid it again over what the first had put back.
    from importing import engine

    wuxi, batch = imported_description(editor)
    undo = reverse("admin:core_importbatch_undo", args=[batch.pk])
    clicks, seconds = [], []
    delete_with_history = engine.delete_with_history

    def with_a_second_click(queryset, reason, user):
        if not clicks:
            clicks.append("second")
            seconds.append(editor_client.post(undo, follow=True))
        return delete_with_history(queryset, reason, user)

    monkeypatch.setattr(engine, "delete_with_history", with_a_second_click)
    first = editor_client.post(undo, follow=True)

    assert [str(message) for message in first.context["messages"]] == [f"{batch} was undone."]
    (second,) = seconds
    assert [str(message) for message in second.context["messages"]] == [
        f"{batch} was already undone."
    ]
    assert_undone_once(wuxi, batch)


@pytest.mark.django_db(transaction=True)
def test_two_undos_at_once_undo_the_import_once(admin_client, admin_user, monkeypatch):
    # The same from two connections: the second waits on the import's row.
    if connection.vendor == "sqlite":
        pytest.skip("SQLite's test database in memory locks the tables the second reads")
    from importing import engine

    wuxi, batch = imported_description(admin_user)
    undoing, release = threading.Event(), threading.Event()
    delete_with_history = engine.delete_with_history

    def held_in_the_first(queryset, reason, user):
        if threading.current_thread().name == "first":
            undoing.set()
            release.wait(10)
        return delete_with_history(queryset, reason, user)

    monkeypatch.setattr(engine, "delete_with_history", held_in_the_first)

    def first_undo():
        from django.db import connections

        engine.undo_batch(ImportBatch.objects.get(), engine.TYPES["places.place"], admin_user)
        connections.close_all()

    first = threading.Thread(target=first_undo, name="first")
    first.start()
    try:
        undoing.wait(10)
        # The second waits for the first's lock; let the first finish meanwhile.
        threading.Timer(0.3, release.set).start()
        response = admin_client.post(
            reverse("admin:core_importbatch_undo", args=[batch.pk]), follow=True
        )
    finally:
        release.set()
        first.join()
    assert [str(message) for message in response.context["messages"]] == [
        f"{batch} was already undone."
    ]
    assert_undone_once(wuxi, batch)


@pytest.mark.django_db(transaction=True)
def test_an_undo_while_an_import_runs_says_so_and_changes_nothing(
    admin_client, admin_user, settings
):
    wuxi, batch = imported_description(admin_user)
    with another_import_writing(settings):
        response = admin_client.post(
            reverse("admin:core_importbatch_undo", args=[batch.pk]), follow=True
        )
    assert response.status_code == 200
    assert [str(message) for message in response.context["messages"]] == [
        "Another import is running; try again in a moment. Nothing was undone."
    ]
    batch.refresh_from_db()
    assert batch.undone_at is None
    wuxi.refresh_from_db()
    assert wuxi.description == "New"
