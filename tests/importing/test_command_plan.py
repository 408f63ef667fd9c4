"""``import_records --plan``: the command imports what its dry run printed, or nothing."""

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from core.models import ImportBatch
from places.models import Place
from tests.factories import PlaceFactory

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

HEADER = ["name", "kind", "country", "description"]
ROWS = [HEADER, ["Wuxi", "city", "CN", "En by ved Taihu-søen."], ["Nanjing", "city", "CN", ""]]


@pytest.fixture
def wuxi():
    return PlaceFactory(name="Wuxi", kind="city", country="CN")


def command(tmp_path, *args, data=None, name="places.csv"):
    path = tmp_path / name
    path.write_bytes(csv_bytes(ROWS) if data is None else data)
    out = io.StringIO()
    call_command("import_records", "places", str(path), *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def refused(tmp_path, *args, **kwargs):
    with pytest.raises(CommandError) as raised:
        command(tmp_path, *args, **kwargs)
    return raised.value.returncode, str(raised.value)


def test_the_dry_run_writes_the_plan_and_the_import_keeps_to_it(tmp_path, wuxi):
    plan = tmp_path / "plan.json"
    out = command(tmp_path, "--dry-run", "--plan", str(plan))
    assert out.endswith(f"The plan is in {plan}: import with --plan {plan}.\n")
    assert not ImportBatch.objects.exists()
    rows = json.loads(plan.read_text())["rows"]
    assert [rows["2"][:2], rows["3"][:2]] == [["updated", wuxi.pk], ["new", None]]

    out = command(tmp_path, "--plan", str(plan))
    assert "1 new, 1 updated, 0 unchanged places" in out
    assert set(Place.objects.values_list("name", flat=True)) == {"Wuxi", "Nanjing"}


def test_a_record_saved_since_the_dry_run_stops_the_import(tmp_path, wuxi):
    plan = tmp_path / "plan.json"
    command(tmp_path, "--dry-run", "--plan", str(plan))
    wuxi.description_en = "An editor's words, written after the dry run."
    wuxi.save()

    code, message = refused(tmp_path, "--plan", str(plan))
    assert code == 4
    assert message.startswith("The registry changed since the plan was made: row(s) 2 would")
    assert not ImportBatch.objects.exists()
    assert not Place.objects.filter(name="Nanjing").exists()
    wuxi.refresh_from_db()
    assert wuxi.description_en == "An editor's words, written after the dry run."
    assert not wuxi.description_da  # the file's Danish description was not written


def test_a_record_a_new_row_would_now_match_stops_the_import(tmp_path, wuxi):
    plan = tmp_path / "plan.json"
    command(tmp_path, "--dry-run", "--plan", str(plan))
    PlaceFactory(name="Nanjing", kind="city", country="CN")

    code, message = refused(tmp_path, "--plan", str(plan))
    assert (code, "row(s) 3 would now do something else" in message) == (4, True)
    assert not ImportBatch.objects.exists()
    assert Place.objects.filter(name="Nanjing").count() == 1


def test_a_plan_holds_once(tmp_path, wuxi):
    plan = tmp_path / "plan.json"
    command(tmp_path, "--dry-run", "--plan", str(plan))
    command(tmp_path, "--plan", str(plan))
    # Imported again, every row would now be unchanged: not what the plan printed.
    code, _message = refused(tmp_path, "--plan", str(plan))
    assert code == 4
    assert ImportBatch.objects.count() == 1


@pytest.mark.parametrize(
    "changed, named",
    [
        ({"data": csv_bytes([HEADER, ["Suzhou", "city", "CN", ""]])}, "file"),
        ({"extra": ["--language", "en"]}, "--language"),
        ({"extra": ["--publish"]}, "--publish"),
        ({"extra": ["--source", "Another source"]}, "--source"),
    ],
)
def test_a_plan_made_for_another_file_or_options_is_refused(tmp_path, wuxi, changed, named):
    plan = tmp_path / "plan.json"
    command(tmp_path, "--dry-run", "--plan", str(plan), "--language", "da")
    extra = changed.get("extra", ["--language", "da"])
    if "--language" not in extra:
        extra = [*extra, "--language", "da"]
    code, message = refused(tmp_path, "--plan", str(plan), *extra, data=changed.get("data"))
    assert code == 2
    assert (
        message
        == f"{plan} was made for a different {named}: run --dry-run --plan again with this one."
    )
    assert not ImportBatch.objects.exists()


@pytest.mark.parametrize("text", ["", "not json", "[1, 2]", '{"rows": []}', "\x00\xff"])
def test_a_file_that_is_no_plan_is_refused(tmp_path, wuxi, text):
    plan = tmp_path / "plan.json"
    plan.write_text(text, encoding="latin-1")
    code, message = refused(tmp_path, "--plan", str(plan))
    assert (code, message) == (2, f"{plan}: not a plan written by import_records --dry-run --plan.")
    assert not ImportBatch.objects.exists()


def test_a_missing_plan_or_one_that_cannot_be_written_is_refused(tmp_path, wuxi):
    missing = tmp_path / "missing.json"
    assert refused(tmp_path, "--plan", str(missing)) == (
        2,
        f"{missing}: cannot be read (No such file or directory).",
    )
    unwritable = tmp_path / "no-such-folder" / "plan.json"
    assert refused(tmp_path, "--dry-run", "--plan", str(unwritable)) == (
        2,
        f"{unwritable}: cannot be written (No such file or directory).",
    )
    assert not ImportBatch.objects.exists()


def test_a_dry_run_with_problems_writes_no_plan(tmp_path, wuxi):
    plan = tmp_path / "plan.json"
    data = csv_bytes([HEADER, ["Wuxi", "village", "CN", ""]])
    code, _message = refused(tmp_path, "--dry-run", "--plan", str(plan), data=data)
    assert code == 1
    assert not plan.exists()
