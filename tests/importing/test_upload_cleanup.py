"""Unconfirmed admin uploads are deleted after ATLAS_IMPORT_UPLOAD_MAX_AGE_HOURS."""

import io
import os
import time
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from places.models import Place

from .conftest import csv_bytes

pytestmark = pytest.mark.django_db

DATA = csv_bytes([["name", "kind", "country", "parent"], ["Wuxi", "city", "CN", ""]])


def upload(client):
    file = io.BytesIO(DATA)
    file.name = "places.csv"
    response = client.post(reverse("admin:places_place_import"), {"file": file})
    assert response.status_code == 200
    return response.context["token"]


def stored(settings, token):
    return Path(settings.ATLAS_IMPORT_UPLOAD_DIR) / "atlas-imports" / token


def age(path, hours):
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def confirm(client, token):
    return client.post(reverse("admin:places_place_import_confirm"), {"token": token})


def test_the_command_deletes_only_uploads_older_than_the_setting(editor_client, settings):
    settings.ATLAS_IMPORT_UPLOAD_MAX_AGE_HOURS = 2
    old, fresh = upload(editor_client), upload(editor_client)
    age(stored(settings, old), 3)
    age(stored(settings, fresh), 1)
    out = io.StringIO()

    call_command("clean_import_uploads", stdout=out)

    assert not stored(settings, old).exists()
    assert stored(settings, fresh).exists()
    assert "Deleted 1 unconfirmed upload(s) older than 2 hours" in out.getvalue()
    response = confirm(editor_client, old)
    assert response.status_code == 404
    assert not Place.objects.exists()
    assert confirm(editor_client, fresh).status_code == 302
    assert Place.objects.filter(name="Wuxi").exists()


def test_a_new_upload_deletes_expired_ones(editor_client, settings):
    old = upload(editor_client)
    age(stored(settings, old), 25)  # the default is 24 hours
    new = upload(editor_client)
    assert not stored(settings, old).exists()
    assert stored(settings, new).exists()


def test_an_expired_upload_cannot_be_confirmed_before_it_is_cleaned(editor_client, settings):
    token = upload(editor_client)
    age(stored(settings, token), 25)
    response = confirm(editor_client, token)
    assert response.status_code == 404
    assert not Place.objects.exists()
    # Left where the cleaning finds it, not under the name of an import running.
    assert stored(settings, token).exists()


def test_the_command_with_nothing_to_clean(settings):
    out = io.StringIO()
    call_command("clean_import_uploads", stdout=out)
    assert "Deleted 0 unconfirmed upload(s) older than 24 hours" in out.getvalue()
