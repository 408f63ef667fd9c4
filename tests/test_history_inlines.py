"""History that misses nothing: inline rows, reverts, seeded and loaded records."""

import json
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from core.models import Source
from organisations.models import Organisation, OrganisationName
from partnerships.models import Event, Participant, Partnership, Theme
from places.models import Place, PlaceFigure, PlaceName
from tests.factories import EventFactory, PartnershipFactory, PlaceFactory, SourceFactory
from tests.test_admin import inline_management

pytestmark = pytest.mark.django_db

SEEDED = [
    Source,
    Place,
    PlaceName,
    PlaceFigure,
    Organisation,
    OrganisationName,
    Theme,
    Partnership,
    Participant,
    Event,
]


def place_form(place, names=(), figures=(), **fields):
    """The place's change form as posted: ``names`` and ``figures`` are lists of dicts."""
    data = {
        # The admin asks for the name in each language (django-modeltranslation).
        "name_da": place.name_da or "",
        "name_en": place.name_en or "",
        "slug": place.slug,
        "kind": place.kind,
        "country": str(place.country),
        **inline_management("other_names", total=len(names), initial=sum("id" in n for n in names)),
        **inline_management("figures", total=len(figures), initial=sum("id" in f for f in figures)),
        **fields,
    }
    for prefix, rows in (("other_names", names), ("figures", figures)):
        for index, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{index}-{key}"] = str(value)
            data[f"{prefix}-{index}-place"] = str(place.pk)
    return data


@pytest.fixture
def wuxi_edited(admin_client):
    """Wuxi with a name and a 2009 figure, then edited: name respelt, figure replaced."""
    source = SourceFactory()
    place = PlaceFactory(name="Wuxi")
    response = admin_client.post(
        reverse("admin:places_place_change", args=[place.pk]),
        place_form(
            place,
            names=[{"name": "Wutshi", "kind": "alternative"}],
            figures=[{"kind": "population", "value": 4_600_000, "year": 2009, "source": source.pk}],
        ),
    )
    assert response.status_code == 302, response.context["errors"]
    version = place.history.latest()
    name, figure = place.other_names.get(), place.figures.get()
    response = admin_client.post(
        reverse("admin:places_place_change", args=[place.pk]),
        place_form(
            place,
            names=[{"id": name.pk, "name": "Wu-hsi", "kind": "alternative"}],
            figures=[
                {
                    "id": figure.pk,
                    "kind": "population",
                    "value": figure.value,
                    "year": 2009,
                    "source": source.pk,
                    "DELETE": "on",
                },
                {"kind": "population", "value": 7_400_000, "year": 2020, "source": source.pk},
            ],
        ),
    )
    assert response.status_code == 302, response.context["errors"]
    return place, version, name, figure


def test_changes_made_in_inlines_show_in_the_records_history(admin_client, wuxi_edited):
    place, _version, _name, _figure = wuxi_edited
    page = admin_client.get(reverse("admin:places_place_history", args=[place.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Other name: Wu-hsi" in content
    assert "Wutshi" in content and "Wu-hsi" in content  # the respelling, old → new
    assert "Figure: population 4,600,000 (2009)" in content
    assert "Deleted" in content
    assert "Figure: population 7,400,000 (2020)" in content
    entries = page.context["page_obj"].object_list
    inline_entries = [entry for entry in entries if entry.model_label]
    assert len(inline_entries) == 5  # name added, respelt; figure added, deleted; new figure
    assert {entry.history_user.username for entry in inline_entries} == {"admin"}


def test_reverting_restores_the_inlines_and_says_it_was_a_revert(
    editor_client, editor, wuxi_edited
):
    # The admin made the changes; an editor, who may change but not delete, reverts them.
    place, version, name, figure = wuxi_edited
    url = reverse("admin:places_place_simple_history", args=[place.pk, version.history_id])
    page = editor_client.get(url)
    assert page.status_code == 200
    # The version page lists the rows that come back with it.
    assert "Wutshi" in page.content.decode()
    assert "Wu-hsi" not in page.content.decode()

    response = editor_client.post(url, place_form(place), follow=True)
    assert response.redirect_chain[-1][0] == reverse("admin:places_place_history", args=[place.pk])
    assert "was reverted to the version of" in response.content.decode()

    assert list(place.other_names.values_list("pk", "name")) == [(name.pk, "Wutshi")]
    assert list(place.figures.values_list("pk", "year")) == [(figure.pk, 2009)]
    assert list(Place.objects.matching(["wutshi"])) == [place]
    newest = place.history.latest()
    assert newest.history_user == editor
    assert newest.history_change_reason.startswith("Reverted to the version of ")
    assert newest.history_change_reason.endswith(" by editors")
    restored = PlaceName.history.filter(id=name.pk).latest()
    assert restored.history_change_reason == newest.history_change_reason
    assert "Reverted" in response.content.decode()
    assert "Reverted to the version of" in response.content.decode()


def test_reverting_a_partnership_restores_participants_and_events(admin_client):
    aarhus, harbin, odense = (PlaceFactory(name=n) for n in ("Aarhus", "Harbin", "Odense"))
    partnership = PartnershipFactory(title="Aarhus–Harbin", parties=[aarhus, harbin])
    event = EventFactory(partnership=partnership, text="Signed in Harbin")
    first = partnership.history.latest()
    # As the admin saves: the record first, then its inline rows.
    partnership.title = "Aarhus–Odense"
    partnership.save()
    Participant.objects.filter(partnership=partnership, place=harbin).update(place=odense)
    participant = partnership.participants.get(place=odense)
    participant.save()  # through save(), so the change is in its history
    event.delete()

    url = reverse(
        "admin:partnerships_partnership_simple_history", args=[partnership.pk, first.history_id]
    )
    data = {
        "title_en": "Aarhus–Harbin",
        "slug": partnership.slug,
        "kind": partnership.kind,
        "status": partnership.status,
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302
    partnership.refresh_from_db()
    assert partnership.title == "Aarhus–Harbin"
    assert {p.place for p in partnership.participants.all()} == {aarhus, harbin}
    assert list(partnership.events.values_list("text", flat=True)) == ["Signed in Harbin"]


def test_a_revert_that_cannot_be_completed_changes_nothing_and_says_why(admin_client):
    source = SourceFactory()
    place = PlaceFactory(name="Wuxi")
    place.name = "Wuxi city"
    place.save()
    figure = PlaceFigure.objects.create(
        place=place, kind="population", value=1, year=2009, source=source
    )
    first_with_figure = place.history.latest()
    place.save()
    figure.delete()
    source.delete()  # the figure's source is gone: the figure cannot come back
    url = reverse(
        "admin:places_place_simple_history", args=[place.pk, first_with_figure.history_id]
    )
    response = admin_client.post(url, place_form(place, name="Wuxi"), follow=True)
    assert "could not be restored" in response.content.decode()
    place.refresh_from_db()
    assert place.name == "Wuxi city"
    assert not place.figures.exists()


def test_load_seed_gives_every_record_its_first_history_row():
    call_command("load_seed", stdout=StringIO())
    for model in SEEDED:
        rows = model.history.filter(history_type="+")
        assert model.objects.count() > 0, model
        assert rows.count() == model.objects.count(), model
        assert set(rows.values_list("history_change_reason", flat=True)) == {"Loaded from the seed"}
    wuxi = Place.objects.get(slug="wuxi")
    assert wuxi.history.get().instance.name == "Wuxi"


def test_loaddata_writes_history_once_and_again_only_for_what_it_changed(tmp_path):
    call_command("loaddata", "seed", verbosity=0)
    counts = {model: model.history.count() for model in SEEDED}
    assert all(counts.values())
    call_command("loaddata", "seed", verbosity=0)
    assert {model: model.history.count() for model in SEEDED} == counts

    # A fixture that changes a record leaves a history row saying so.
    wuxi = Place.objects.get(slug="wuxi")
    data = json.loads((settings.BASE_DIR / "fixtures" / "seed.json").read_text())
    row = next(row for row in data if row["model"] == "places.place" and row["pk"] == wuxi.pk)
    row["fields"]["description_en"] = "Corrected in a fixture"
    fixture = tmp_path / "correction.json"
    fixture.write_text(json.dumps([row]))
    call_command("loaddata", str(fixture), verbosity=0)
    newest = wuxi.history.latest()
    assert (newest.history_type, newest.history_change_reason) == ("~", "Loaded from a fixture")
    assert newest.description == "Corrected in a fixture"
