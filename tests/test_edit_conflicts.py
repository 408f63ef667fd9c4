"""Two editors on one record: the second save is stopped, not silently over the first."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from core.models import Source
from partnerships.models import Partnership, Theme
from places.models import Place
from tests.factories import (
    PartnershipFactory,
    PlaceFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

from .importing.conftest import csv_bytes, run

pytestmark = pytest.mark.django_db

OPENED = re.compile(r'name="_opened_version" value="([^"]+)"')


def opened(client, url):
    """The change page's forms as a browser would send them back unchanged, with the
    version the page was opened at."""
    response = client.get(url)
    assert response.status_code == 200
    return sent_back(response)


def sent_back(response):
    """The forms of a change page, as shown (opened, or shown again after a save was
    stopped), as a browser would send them back unchanged."""
    data = {}

    def add(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if value is True:
                data[key] = "on"
            elif isinstance(value, list | tuple):
                data[key] = [str(item) for item in value]
            else:
                data[key] = str(value)

    add(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        add(inline.formset.management_form)
        # The rows the page shows, its blank template row too, as a browser sends them.
        for row in inline:
            add(row.form)
    (version,) = OPENED.findall(response.content.decode())
    data["_opened_version"] = version
    return data


def editor_named(name, first_name=""):
    user = UserFactory(username=name, first_name=first_name, is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def two_editors():
    return editor_named("mette", "Mette"), editor_named("jonas")


def change_url(record):
    opts = record._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[record.pk])


def stopped(client, url, data, **headers):
    """The page of a save that was stopped."""
    response = client.post(url, data, headers={k.replace("_", "-"): v for k, v in headers.items()})
    assert response.status_code == 200
    return response.content.decode()


def both_open_then_mette_saves(two_editors, url, **changes):
    """Jonas's page, opened before Mette saved hers."""
    mette, jonas = two_editors
    hers, his = opened(mette, url), opened(jonas, url)
    assert mette.post(url, {**hers, **changes}).status_code == 302
    return his


def test_the_second_save_is_stopped_and_says_who_and_when(two_editors):
    _mette, jonas = two_editors
    place = PlaceFactory(name="Ringsted", kind="municipality", country="DK", description="Old")
    url = change_url(place)
    his = both_open_then_mette_saves(two_editors, url, description_en="Mette's description")
    his["description_en"] = "Jonas's description"
    page = stopped(jonas, url, his)

    assert "Place saved by Mette at" in page
    assert "Changed: description (English)." in page
    assert "Your changes are not saved yet." in page
    assert reverse("admin:places_place_history", args=[place.pk]) in page
    place.refresh_from_db()
    assert place.description_en == "Mette's description"
    # His values are still on the page; saving again, knowingly, puts them in place.
    assert "Jonas&#x27;s description" in page
    (again,) = OPENED.findall(page)
    assert again == place.updated_at.isoformat()
    his["_opened_version"] = again
    assert jonas.post(url, his).status_code == 302
    place.refresh_from_db()
    assert place.description_en == "Jonas's description"


def test_a_save_in_another_tab_of_ones_own_is_named_so(two_editors):
    mette, _jonas = two_editors
    partnership = PartnershipFactory(title="Aarhus–Nanjing")
    url = change_url(partnership)
    first_tab, second_tab = opened(mette, url), opened(mette, url)
    assert mette.post(url, first_tab).status_code == 302
    assert "Partnership saved by you at" in stopped(mette, url, second_tab)


def test_an_inline_change_and_an_import_count_as_saves(two_editors, editor):
    _mette, jonas = two_editors
    place = PlaceFactory(name="Suzhou", kind="city", country="CN")
    PlaceNameFactory(place=place, name="Soochow")
    url = change_url(place)
    # Another name added in the inline's blank row, nothing else.
    his = both_open_then_mette_saves(two_editors, url, **{"other_names-1-name": "Gusu"})
    assert place.other_names.filter(name="Gusu").exists()
    page = stopped(jonas, url, his)
    assert "Place saved by Mette" in page
    assert "Changed: other names." in page  # from the rows' own history

    # An import that changes the record.
    his = opened(jonas, url)
    data = csv_bytes([["slug", "name", "kind", "country", "description"]])
    data += csv_bytes([[place.slug, "Suzhou", "city", "CN", "From the import"]])
    assert run("places", data, user=editor).counts["updated"] == 1
    his["description_en"] = "Jonas's description"
    assert "Place saved by editors at" in stopped(jonas, url, his)
    place.refresh_from_db()
    assert place.description == "From the import"


def test_the_inlines_named_are_those_saved_since_the_page_was_opened(two_editors):
    mette, jonas = two_editors
    place = PlaceFactory(name="Suzhou", kind="city", country="CN")
    url = change_url(place)
    # Jonas's own save of another name, before either page below was opened: its rows
    # are written a moment after the record's, and belong to the version he opens.
    named = {**opened(jonas, url), "other_names-0-name": "Soochow"}
    assert jonas.post(url, named).status_code == 302
    his = both_open_then_mette_saves(two_editors, url, description_en="Mette's description")
    page = stopped(jonas, url, his)
    assert "Changed: description (English)." in page

    # Mette changes a field and adds a figure; the other names are as they were.
    figure = {"kind": "population", "value": "1200000", "year": "2020"}
    figure["source"] = str(SourceFactory().pk)
    his = both_open_then_mette_saves(
        two_editors,
        url,
        description_en="Mette's second",
        **{f"figures-0-{name}": value for name, value in figure.items()},
    )
    assert place.figures.count() == 1
    page = stopped(jonas, url, his)
    assert "Changed: description (English), figures." in page


def test_a_row_deleted_since_the_page_was_opened_is_left_out_and_said(two_editors):
    # Django's admin left the deleted row off the page shown again but counted it in the
    # page's rows: every save after said "Please correct the errors below." and showed
    # no error, until the editor opened the page anew.
    _mette, jonas = two_editors
    boss = editor_named("birgitte")
    get_user_model().objects.filter(username="birgitte").update(is_superuser=True)
    place = PlaceFactory(name="Suzhou", kind="city", country="CN")
    PlaceNameFactory(place=place, name="Soochow")
    PlaceNameFactory(place=place, name="Gusu")
    url = change_url(place)
    his, hers = opened(jonas, url), opened(boss, url)
    (soochow,) = [key.removesuffix("-name") for key, value in hers.items() if value == "Soochow"]
    assert boss.post(url, {**hers, f"{soochow}-DELETE": "on"}).status_code == 302
    assert list(place.other_names.values_list("name", flat=True)) == ["Gusu"]
    his["description_en"] = "Jonas's description"
    (gusu,) = [key for key, value in his.items() if value == "Gusu"]
    his[gusu] = "Gusu District"

    response = jonas.post(url, his)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Changed: other names." in page
    assert (
        "1 other name was deleted by someone else after this page was opened, and is no "
        "longer on it. Save again to keep your other changes."
    ) in page
    danish = stopped(jonas, url, his, accept_language="da")
    assert "1 andet navn blev slettet af en anden, efter at siden blev åbnet" in danish
    # The page shown again holds the rows that are left, as it sends them, with his.
    again = sent_back(response)
    assert again["other_names-INITIAL_FORMS"] == "1"
    assert "Soochow" not in again.values() and "Gusu District" in again.values()

    assert jonas.post(url, again).status_code == 302
    place.refresh_from_db()
    assert place.description_en == "Jonas's description"
    assert list(place.other_names.values_list("name", flat=True)) == ["Gusu District"]


def test_a_row_both_editors_deleted_is_not_said(two_editors):
    mette, jonas = two_editors
    get_user_model().objects.filter(username__in=["mette", "jonas"]).update(is_superuser=True)
    place = PlaceFactory(name="Suzhou", kind="city", country="CN")
    PlaceNameFactory(place=place, name="Soochow")
    url = change_url(place)
    his, hers = opened(jonas, url), opened(mette, url)
    assert mette.post(url, {**hers, "other_names-0-DELETE": "on"}).status_code == 302
    his.update({"other_names-0-DELETE": "on", "description_en": "Jonas's description"})
    del his["_opened_version"]  # a page from before the version check: only the rows
    assert jonas.post(url, his).status_code == 302
    place.refresh_from_db()
    assert place.description_en == "Jonas's description"
    assert not place.other_names.exists()


def test_a_partnerships_new_event_is_named_in_danish(two_editors):
    partnership = PartnershipFactory(title="Aarhus–Nanjing")
    url = change_url(partnership)
    event = {"events-TOTAL_FORMS": "1", "events-0-date": "2015", "events-0-kind": "signing"}
    event["events-0-text_en"] = "Signed in Aarhus"
    his = both_open_then_mette_saves(two_editors, url, **event)
    assert partnership.events.count() == 1
    page = stopped(two_editors[1], url, his, accept_language="da")
    assert "Ændret: begivenheder." in page


def test_a_form_sent_without_the_version_is_saved_as_before(two_editors):
    # A script, or a page opened before the check existed.
    _mette, jonas = two_editors
    source = SourceFactory(title="Background note")
    url = change_url(source)
    his = both_open_then_mette_saves(two_editors, url)
    del his["_opened_version"]
    his["title"] = "Baggrundsnotat"
    assert jonas.post(url, his).status_code == 302
    assert Source.objects.get().title == "Baggrundsnotat"


def test_pages_that_change_no_record_carry_no_version(admin_client):
    page = admin_client.get(reverse("admin:places_place_add")).content.decode()
    assert "_opened_version" not in page
    place = PlaceFactory(name="Ringsted", kind="municipality", country="DK")
    place.description = "Second"
    place.save()
    first = place.history.earliest()
    revert = admin_client.get(
        reverse("admin:places_place_simple_history", args=[place.pk, first.history_id])
    )
    assert revert.status_code == 200
    assert "_opened_version" not in revert.content.decode()


def test_a_conflict_in_danish(two_editors):
    _mette, jonas = two_editors
    partnership = PartnershipFactory(title="Aarhus–Nanjing")
    url = change_url(partnership)
    his = both_open_then_mette_saves(two_editors, url, title_en="Aarhus and Nanjing")
    page = stopped(jonas, url, his, accept_language="da")
    assert "Partnerskab gemt af Mette " in page
    assert "Ændret: titel (engelsk)." in page
    assert "Dine ændringer er ikke gemt endnu." in page
    assert ">Historik</a>" in page
    assert Partnership.objects.get().updated_by.username == "mette"


def test_an_update_in_the_shell_moves_the_version_and_a_derived_field_does_not(two_editors):
    # QuerySet.update() skips auto_now: a bulk change left the version as it was, and an
    # editor's page opened before it saved over it unstopped.
    _mette, jonas = two_editors
    place = PlaceFactory(name="Ringsted", kind="municipality", country="DK")
    url = change_url(place)
    his = opened(jonas, url)
    version = Place.objects.get().updated_at
    Place.objects.filter(pk=place.pk).update(search_key="ringsted")
    assert Place.objects.get().updated_at == version
    Place.objects.filter(pk=place.pk).update(description_en="Written in the shell")
    assert Place.objects.get().updated_at > version
    his["description_en"] = "Jonas's description"
    assert "Place saved at" in stopped(jonas, url, his)  # by nobody the record names
    assert Place.objects.get().description_en == "Written in the shell"


def test_a_themes_second_save_is_stopped_too(two_editors):
    # Themes are a managed list, not records, and carry a version of their own.
    _mette, jonas = two_editors
    theme = ThemeFactory(name="Water", slug="water")
    url = change_url(theme)
    his = both_open_then_mette_saves(two_editors, url, description_en="Clean water")
    his["name_en"] = "Water supply"
    page = stopped(jonas, url, his)
    assert "Theme saved by Mette at" in page
    assert "Changed: description (English)." in page
    assert reverse("admin:partnerships_theme_history", args=[theme.pk]) in page
    theme.refresh_from_db()
    assert (theme.name_en, theme.description_en) == ("Water", "Clean water")
    assert theme.updated_by.username == "mette"
    (again,) = OPENED.findall(page)
    assert jonas.post(url, {**his, "_opened_version": again}).status_code == 302
    theme.refresh_from_db()
    assert (theme.name_en, theme.updated_by.username) == ("Water supply", "jonas")


def test_a_themes_import_is_a_save_that_names_its_author(two_editors, editor):
    _mette, jonas = two_editors
    theme = ThemeFactory(name="Water", slug="water")
    url = change_url(theme)
    his = opened(jonas, url)
    data = csv_bytes([["slug", "name", "description"], ["water", "Water", "From the import"]])
    data += csv_bytes([["energy", "Energy", "New"]])
    report = run("themes", data, user=editor)
    assert report.counts == {"new": 1, "updated": 1, "unchanged": 0}
    assert "Theme saved by editors at" in stopped(jonas, url, his)
    assert set(Theme.objects.values_list("updated_by__username", flat=True)) == {"editors"}


def test_a_themes_update_in_the_shell_moves_its_version(two_editors):
    _mette, jonas = two_editors
    theme = ThemeFactory(name="Water", slug="water")
    url = change_url(theme)
    his = opened(jonas, url)
    Theme.objects.filter(pk=theme.pk).update(description_en="Written in the shell")
    his["name_en"] = "Water supply"
    assert "Theme saved at" in stopped(jonas, url, his)
    assert Theme.objects.get().name_en == "Water"


def test_the_migration_dates_each_theme_by_its_history():
    from importlib import import_module
    from types import SimpleNamespace

    from django.apps import apps
    from django.db import connection

    migration = import_module("partnerships.migrations.0028_theme_updated")
    editor = UserFactory(username="karen")
    theme = ThemeFactory(name="Water", slug="water")
    theme.description = "Clean water"
    theme._history_user = editor
    theme.save()
    latest = theme.history.latest()
    # As the migration found them: dated by itself, nobody named.
    Theme.objects.update(updated_at=latest.history_date.replace(year=2030), updated_by=None)
    theme.history.update(updated_at=latest.history_date.replace(year=2030), updated_by=None)
    # The function reads only the schema editor's connection.
    migration.stamp_from_history(apps, SimpleNamespace(connection=connection))
    theme.refresh_from_db()
    assert (theme.updated_at, theme.updated_by) == (latest.history_date, editor)
    assert all(row.updated_at == row.history_date for row in theme.history.all())
