import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from core.permissions import EDITORS, VIEWERS
from partnerships.models import Partnership
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

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


VERSIONED = {
    "places_place": ("name", PlaceFactory),
    "organisations_organisation": ("name", OrganisationFactory),
    "partnerships_partnership": ("title", PartnershipFactory),
    "core_source": ("title", SourceFactory),
    "partnerships_theme": ("name", ThemeFactory),
}


def version_form_data(client, url):
    """What the version form holds, as a browser would post it back."""
    form = client.get(url).context["adminform"].form
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    return data


@pytest.fixture
def versioned(request, admin_user):
    """A record renamed once, with the url and posted data of its first version."""
    admin_name = request.param
    field, factory = VERSIONED[admin_name]
    record = factory(**{field: "First"})
    setattr(record, field, "Second")
    record.save()
    first = record.history.earliest()
    url = reverse(f"admin:{admin_name}_simple_history", args=[record.pk, first.history_id])
    staff = Client()
    staff.force_login(admin_user)
    return record, field, url, version_form_data(staff, url)


ROLES = {
    "anonymous": None,
    "non-staff": lambda: UserFactory(username="member", is_staff=False),
    "viewer": lambda: _in_group(VIEWERS),
    "editor": lambda: _in_group(EDITORS),
    "superuser": lambda: UserFactory(username="root", is_staff=True, is_superuser=True),
}


def _in_group(name):
    user = UserFactory(username=name.lower(), is_staff=True)
    user.groups.add(Group.objects.get(name=name))
    return user


@pytest.mark.parametrize("versioned", VERSIONED, indirect=True)
@pytest.mark.parametrize("role", ROLES)
def test_only_those_who_may_change_a_record_may_revert_it(client, versioned, role):
    record, field, url, data = versioned
    if ROLES[role]:
        client.force_login(ROLES[role]())
    may_change = role in ("editor", "superuser")

    page = client.get(url)
    response = client.post(url, data)

    record.refresh_from_db()
    if may_change:
        assert page.status_code == 200
        assert response.status_code == 302
        assert getattr(record, field) == "First"
        assert record.history.count() == 3
    else:
        assert page.status_code in (302, 403)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert reverse("admin:login") in response["Location"]
        assert getattr(record, field) == "Second"
        assert record.history.count() == 2


@pytest.mark.parametrize("versioned", VERSIONED, indirect=True)
def test_a_viewer_still_reads_the_history_list(viewer_client, versioned):
    record, _field, url, _data = versioned
    admin_name = url.split("/")[2] + "_" + url.split("/")[3]
    response = viewer_client.get(reverse(f"admin:{admin_name}_history", args=[record.pk]))
    assert response.status_code == 200
    assert url not in response.content.decode()  # no link to a form the viewer may not use
