import pytest
from django.contrib.auth.models import Group

from core.permissions import EDITORS, VIEWERS

from .factories import UserFactory


def _staff_in(group_name):
    user = UserFactory(username=group_name.lower(), is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def editor(db):
    return _staff_in(EDITORS)


@pytest.fixture
def viewer(db):
    return _staff_in(VIEWERS)


@pytest.fixture
def editor_client(client, editor):
    client.force_login(editor)
    return client


@pytest.fixture
def viewer_client(client, viewer):
    client.force_login(viewer)
    return client
