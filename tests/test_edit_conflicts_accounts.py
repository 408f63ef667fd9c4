"""Two superusers on one account or group: the second save is stopped, not silently over
the first (``atlas.auth_admin.UnchangedContentMixin``)."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.utils import timezone

from tests.factories import UserFactory

from .test_edit_conflicts import OPENED, change_url, stopped
from .test_edit_conflicts import opened as opened_as_sent
from .test_edit_conflicts import sent_back as sent_back_as_sent

pytestmark = pytest.mark.django_db


def as_a_browser_sends(data):
    """A user's date joined as its two boxes send it: the date and the time, local."""
    joined = data.pop("date_joined", None)
    if isinstance(joined, list):  # shown again: the two boxes as they were sent
        data["date_joined_0"], data["date_joined_1"] = joined
    elif joined:
        joined = timezone.localtime(datetime.datetime.fromisoformat(joined))
        joined = joined.replace(microsecond=0)  # the boxes show whole seconds
        data["date_joined_0"] = joined.date().isoformat()
        data["date_joined_1"] = joined.time().isoformat()
    return data


def opened(client, url):
    return as_a_browser_sends(opened_as_sent(client, url))


def sent_back(response):
    return as_a_browser_sends(sent_back_as_sent(response))


def changed(page):
    """The fields a stopped save says were changed. (Django's admin also counts the date
    joined as changed at a user's first save: its boxes drop the microseconds.)"""
    (fields,) = re.findall(r"Changed: ([^.]*)\.", page)
    return fields.split(", ")


def superuser(name, first_name=""):
    client = Client()
    client.force_login(
        UserFactory(username=name, first_name=first_name, is_staff=True, is_superuser=True)
    )
    return client


@pytest.fixture
def two_superusers():
    return superuser("mette", "Mette"), superuser("jonas")


@pytest.fixture
def account():
    user = UserFactory(username="anna", email="anna@example.org", is_staff=True)
    user.groups.add(Group.objects.get(name="Editors"))
    return user


def test_a_group_taken_away_is_not_put_back_unseen(two_superusers, account):
    mette, jonas = two_superusers
    url = change_url(account)
    hers, his = opened(mette, url), opened(jonas, url)
    del hers["groups"]  # Mette takes Anna out of the Editors
    assert mette.post(url, hers).status_code == 302
    his["email"] = "anna@kommune.dk"
    response = jonas.post(url, his)
    assert response.status_code == 200
    page = response.content.decode()

    assert "User saved by Mette at" in page
    assert "groups" in changed(page)
    assert "Your changes are not saved yet." in page
    account.refresh_from_db()
    assert not account.groups.exists()
    assert account.email == "anna@example.org"
    # Told, he saves again: his values, the group among them, are put in place.
    again = sent_back(response)
    assert again["_opened_version"] != his["_opened_version"]
    assert jonas.post(url, again).status_code == 302
    account.refresh_from_db()
    assert account.email == "anna@kommune.dk"
    assert list(account.groups.values_list("name", flat=True)) == ["Editors"]


def test_a_permission_given_to_a_group_stops_a_rename_opened_before(two_superusers):
    mette, jonas = two_superusers
    group = Group.objects.create(name="Translators")
    url = change_url(group)
    hers, his = opened(mette, url), opened(jonas, url)
    hers["permissions"] = [str(Permission.objects.get(codename="change_place").pk)]
    assert mette.post(url, hers).status_code == 302
    his["name"] = "Oversættere"
    page = stopped(jonas, url, his, accept_language="da")

    assert "Gruppe gemt af Mette " in page
    assert "Ændret: rettigheder." in page
    assert "Dine ændringer er ikke gemt endnu." in page
    group.refresh_from_db()
    assert group.name == "Translators"
    assert group.permissions.count() == 1


def test_a_change_outside_the_admin_stops_the_save_without_naming_anyone(two_superusers, account):
    _mette, jonas = two_superusers
    url = change_url(account)
    his = opened(jonas, url)
    User.objects.filter(pk=account.pk).update(is_active=False)  # the shell
    page = stopped(jonas, url, his)
    assert "User changed after you opened it." in page
    assert "saved by" not in page
    page = stopped(jonas, url, his, accept_language="da")
    assert "Bruger blev ændret, efter at du åbnede siden." in page
    account.refresh_from_db()
    assert not account.is_active


def test_a_save_in_another_tab_of_ones_own_is_named_so(two_superusers, account):
    mette, _jonas = two_superusers
    url = change_url(account)
    first_tab, second_tab = opened(mette, url), opened(mette, url)
    first_tab["first_name"] = "Anna"
    assert mette.post(url, first_tab).status_code == 302
    page = stopped(mette, url, second_tab)
    assert "User saved by you at" in page
    assert "first name" in changed(page)


def test_a_login_or_a_save_that_changes_nothing_does_not_stop_the_save(two_superusers, account):
    mette, jonas = two_superusers
    url = change_url(account)
    hers, his = opened(mette, url), opened(jonas, url)
    account.last_login = timezone.now()  # Anna logs in
    account.save(update_fields=["last_login"])
    assert mette.post(url, hers).status_code == 302  # "No fields changed."
    his["last_name"] = "Holm"
    assert jonas.post(url, his).status_code == 302
    account.refresh_from_db()
    assert account.last_name == "Holm"


def test_the_add_pages_carry_no_version(two_superusers):
    mette, _jonas = two_superusers
    for url in ("/admin/auth/user/add/", "/admin/auth/group/add/"):
        assert not OPENED.findall(mette.get(url).content.decode())
