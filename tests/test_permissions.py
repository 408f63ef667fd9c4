import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from core.permissions import EDITORS, VIEWERS
from partnerships.models import Partnership
from places.models import Place
from tests.factories import PartnershipFactory, PlaceFactory, UserFactory

pytestmark = pytest.mark.django_db

RECORD_ADMINS = [
    "core_source",
    "places_place",
    "organisations_organisation",
    "partnerships_partnership",
    "partnerships_theme",
]


def test_the_groups_exist_after_migrate():
    assert set(Group.objects.values_list("name", flat=True)) >= {EDITORS, VIEWERS}


def test_editors_view_add_and_change_but_never_delete(editor):
    for app_model in RECORD_ADMINS:
        app, model = app_model.split("_", 1)
        assert editor.has_perm(f"{app}.view_{model}")
        assert editor.has_perm(f"{app}.add_{model}")
        assert editor.has_perm(f"{app}.change_{model}")
        assert not editor.has_perm(f"{app}.delete_{model}")
    assert not editor.has_perm("auth.view_user")
    assert not editor.has_perm("auth.change_group")


def test_viewers_only_view(viewer):
    for app_model in RECORD_ADMINS:
        app, model = app_model.split("_", 1)
        assert viewer.has_perm(f"{app}.view_{model}")
        assert not viewer.has_perm(f"{app}.add_{model}")
        assert not viewer.has_perm(f"{app}.change_{model}")
        assert not viewer.has_perm(f"{app}.delete_{model}")


def test_editor_can_add_and_change_through_the_admin(editor_client):
    place = PlaceFactory()
    assert editor_client.get(reverse("admin:places_place_add")).status_code == 200
    change = reverse("admin:places_place_change", args=[place.pk])
    response = editor_client.get(change)
    assert response.status_code == 200
    assert reverse("admin:places_place_delete", args=[place.pk]) not in response.content.decode()


def test_editor_cannot_delete_or_manage_users(editor_client):
    place = PlaceFactory()
    delete = reverse("admin:places_place_delete", args=[place.pk])
    assert editor_client.get(delete).status_code == 403
    assert editor_client.post(delete, {"post": "yes"}).status_code == 403
    assert Place.objects.filter(pk=place.pk).exists()
    assert editor_client.get(reverse("admin:auth_user_changelist")).status_code == 403
    response = editor_client.post(
        reverse("admin:places_place_changelist"),
        {"action": "delete_selected", "_selected_action": [place.pk], "post": "yes"},
    )
    assert Place.objects.filter(pk=place.pk).exists()
    assert response.status_code in (200, 302)


def test_viewer_sees_records_but_cannot_change_them(viewer_client):
    partnership = PartnershipFactory()
    changelist = reverse("admin:partnerships_partnership_changelist")
    assert viewer_client.get(changelist).status_code == 200
    change = reverse("admin:partnerships_partnership_change", args=[partnership.pk])
    response = viewer_client.get(change)
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    response = viewer_client.post(change, {"title": "Hijacked"})
    assert response.status_code == 403
    partnership.refresh_from_db()
    assert partnership.title != "Hijacked"
    assert viewer_client.get(reverse("admin:partnerships_partnership_add")).status_code == 403


def test_viewer_cannot_mark_records_reviewed(viewer_client):
    place = PlaceFactory()
    viewer_client.post(
        reverse("admin:places_place_changelist"),
        {"action": "mark_reviewed", "_selected_action": [place.pk]},
    )
    place.refresh_from_db()
    assert place.last_reviewed_on is None


def test_non_staff_are_sent_to_the_login_page(client):
    client.force_login(UserFactory(is_staff=False))
    response = client.get(reverse("admin:places_place_changelist"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]
    assert Partnership.objects.count() == 0
