"""Every admin address the site registers, libraries' included, tried by every role.

The expectations come from the users' real permissions, not from a table kept by hand: a
role that lacks what an address needs must get 403 or a redirect to the login page, for
GET and for a POST of the form a superuser would submit, and no table may change. A role
that has it must never get a server error.
"""

import hashlib
import re
from html.parser import HTMLParser

import pytest
from axes.models import AccessFailureLog
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import URLResolver, reverse
from rest_framework.authtoken.models import Token

from core.models import ImportBatch
from core.permissions import EDITORS, VIEWERS
from places.models import Place
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "non-staff", "viewer", "editor", "superuser"]
# Tables a refused request may still touch: sessions, and django-axes' own records.
UNWATCHED = re.compile(r"^(django_session|axes_)")
# Logging in and out is the matrix's own machinery; test_security tries the login.
SKIPPED = {"login", "logout"}


def walk(patterns, prefix=""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        else:
            yield prefix + str(pattern.pattern), pattern


class FormReader(HTMLParser):
    """What a browser would submit from the page's main POST form."""

    def __init__(self):
        super().__init__()
        self.data, self.files, self.in_form, self.done = {}, [], False, False
        self.select = self.textarea = None
        self.select_options = []

    def add(self, name, value):
        self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and not self.done:
            post = (attrs.get("method") or "").lower() == "post"
            self.in_form = post and attrs.get("id") != "logout-form"
            return
        if not self.in_form:
            return
        if tag == "option" and self.select:
            self.select_options.append((attrs.get("value", ""), "selected" in attrs))
        name = attrs.get("name")
        if not name:
            return
        if tag == "input":
            kind = (attrs.get("type") or "text").lower()
            if kind == "file":
                self.files.append(name)
            elif kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.add(name, attrs.get("value", "on"))
            elif kind not in ("submit", "button", "image", "reset"):
                self.add(name, attrs.get("value", ""))
        elif tag == "select":
            self.select, self.select_options = name, []
        elif tag == "textarea":
            self.textarea = name
            self.add(name, "")

    def handle_data(self, data):
        if self.textarea:
            self.data[self.textarea][-1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.in_form:
            self.in_form, self.done = False, True
        elif tag == "textarea":
            self.textarea = None
        elif tag == "select" and self.select:
            chosen = [value for value, selected in self.select_options if selected]
            for value in chosen or [value for value, _selected in self.select_options[:1]]:
                self.add(self.select, value)
            self.select = None


def form_of(response):
    reader = FormReader()
    reader.feed(response.content.decode())
    data = dict(reader.data)
    for name in reader.files:
        data[name] = SimpleUploadedFile(
            "places.csv", b"name,kind,country\nMatrix Town,city,DK\n", "text/csv"
        )
    return data


def state():
    digest = hashlib.sha256()
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            if UNWATCHED.match(table):
                continue
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            digest.update(table.encode())
            for row in sorted(map(repr, cursor.fetchall())):
                digest.update(row.encode())
    return digest.hexdigest()


def model_perm(model, action):
    return f"{model._meta.app_label}.{action}_{model._meta.model_name}"


def needs(kind, model):
    """The test a user must pass for an address of this kind, from the admin's rules."""

    def has(*actions):
        return lambda user: all(user.has_perm(model_perm(model, action)) for action in actions)

    def viewer(user):
        return has("view")(user) or has("change")(user)

    def importer(user):
        return user.has_perm("core.import_records") and has("add", "change")(user)

    def exporter(user):
        return user.has_perm("core.export_records") and viewer(user)

    return {
        "changelist": (viewer, lambda user: has("delete")(user)),
        "change": (viewer, has("change")),
        "history": (viewer, viewer),
        "simple_history": (viewer, has("change")),
        "add": (has("add"), has("add")),
        "delete": (has("delete"), has("delete")),
        "import": (importer, importer),
        "import_confirm": (importer, importer),
        "import_failed": (importer, importer),
        "import_template": (
            lambda user: importer(user) or exporter(user),
            lambda user: importer(user) or exporter(user),
        ),
        "export": (exporter, exporter),
        # GET asks whether to undo (and undoes nothing); POST undoes.
        "undo": (
            lambda user: user.has_perm("core.import_records") and viewer(user),
            lambda user: user.has_perm("core.import_records") and viewer(user),
        ),
        "password_change": (has("change"), has("change")),
        # The participant autocomplete of the partnership form; it only reads.
        "parties": (
            lambda user: has("add")(user) or has("change")(user),
            lambda user: has("add")(user) or has("change")(user),
        ),
    }[kind]


def any_staff(user):
    return user.is_active and user.is_staff


class Matrix:
    def __init__(self):
        # An earlier transactional test's flush may have re-created the content types.
        ContentType.objects.clear_cache()
        call_command("loaddata", "seed", verbosity=0)
        self.users = {
            "non-staff": UserFactory(username="reader"),
            "viewer": self.staff_in(VIEWERS),
            "editor": self.staff_in(EDITORS),
            "superuser": UserFactory(username="root", is_staff=True, is_superuser=True),
        }
        Token.objects.create(user=self.users["editor"])
        place = Place.objects.order_by("pk").first()
        ImportBatch.objects.create(
            user=self.users["editor"],
            content_type=ContentType.objects.get_for_model(Place),
            file_name="places.csv",
            created={"places.place": [place.pk]},
        )
        # A failed login gives django-axes' admin something to show.
        Client().post(reverse("admin:login"), {"username": "root", "password": "wrong"})
        AccessFailureLog.objects.create(
            username="root", ip_address="203.0.113.7", user_agent="", path_info="/admin/login/"
        )
        self.superuser_client = Client()
        self.superuser_client.force_login(self.users["superuser"])

    def staff_in(self, group):
        user = UserFactory(username=group.lower(), is_staff=True)
        user.groups.add(Group.objects.get(name=group))
        return user

    def object_id(self, model):
        instance = model._default_manager.order_by("pk").first()
        return "0" if instance is None else str(instance.pk)

    def cells(self):
        """(address, kind, model) for every admin URL pattern."""
        models = {
            f"{model._meta.app_label}/{model._meta.model_name}/": model
            for model in admin.site._registry
        }
        for route, pattern in walk(admin.site.get_urls()):
            if pattern.name in SKIPPED or pattern.name is None and "url" in route:
                continue  # the catch-all answers 404 for what matches nothing
            model = next((m for prefix, m in models.items() if route.startswith(prefix)), None)
            if model is None:
                yield from self.site_cells(route, pattern)
                continue
            kind = (
                pattern.name.removeprefix(f"{model._meta.app_label}_{model._meta.model_name}_")
                if pattern.name
                else "redirect"
            )
            if kind == "redirect":
                continue  # <id>/ only redirects to <id>/change/, tried below
            yield self.address(pattern, kind, model), kind, model

    def address(self, pattern, kind, model):
        name = f"admin:{pattern.name}"
        object_id = self.object_id(model)
        if kind == "simple_history":
            versions = model.history.filter(**{model._meta.pk.attname: object_id})
            version = versions.order_by("-history_id").first()
            return reverse(name, args=[object_id, version.history_id if version else 0])
        if kind == "import_failed":
            return reverse(name, kwargs={"token": "0" * 32})
        if kind == "undo":
            return reverse(name, kwargs={"pk": ImportBatch.objects.get().pk})
        if kind == "password_change":
            return reverse(name, kwargs={"id": self.users["viewer"].pk})
        keywords = pattern.pattern.regex.groupindex
        return reverse(name, kwargs={"object_id": object_id} if "object_id" in keywords else {})

    def site_cells(self, route, pattern):
        if pattern.name == "app_list":
            for app_label in ("places", "auth", "axes", "authtoken", "core"):
                yield reverse("admin:app_list", args=[app_label]), "app_list", app_label
        elif pattern.name == "view_on_site":
            place = Place.objects.order_by("pk").first()
            content_type = ContentType.objects.get_for_model(Place)
            yield reverse(pattern_name(pattern), args=[content_type.pk, place.pk]), "site", None
        elif "pk" in pattern.pattern.regex.groupindex:
            # The atlas's own staff pages (a merge's undo): a merge that does not exist.
            yield reverse(pattern_name(pattern), kwargs={"pk": 0}), "site", None
        else:
            yield reverse(pattern_name(pattern)), "site", None


def pattern_name(pattern):
    return f"admin:{pattern.name}"


def expectation(kind, model, method):
    if kind == "site":
        return any_staff
    if kind == "app_list":
        return lambda user: any_staff(user) and user.has_module_perms(model)
    get, post = needs(kind, model)
    return get if method == "GET" else post


def refused(response, kind, method):
    if response.status_code in (403, 404):
        return True
    if kind == "changelist" and method == "POST" and response.status_code in (200, 302):
        # An action the user may not run is not offered: the list comes back, or they are
        # sent back to it, with a message. That nothing changed is checked by the caller.
        return True
    return response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("role", ROLES)
def test_no_role_is_let_in_where_its_permissions_do_not_reach(role):
    matrix = Matrix()
    user = matrix.users.get(role)
    client = Client()
    if user is not None:
        client.force_login(user)
    problems, tried = [], 0
    for address, kind, model in list(matrix.cells()):
        for method in ("GET", "POST"):
            may = user is not None and expectation(kind, model, method)(user)
            data = {}
            if method == "POST":
                form_page = matrix.superuser_client.get(address)
                data = form_of(form_page) if form_page.status_code == 200 else {}
                if kind == "delete":
                    data = {"post": "yes"}
                elif kind == "changelist":
                    data = {
                        "action": "delete_selected",
                        "_selected_action": [matrix.object_id(model)],
                        "post": "yes",
                    }
            before = None if may else state()
            response = getattr(client, method.lower())(address, data)
            tried += 1
            if response.status_code >= 500:
                problems.append(f"{method} {address}: {response.status_code}")
            elif not may:
                if not refused(response, kind, method):
                    problems.append(f"{method} {address}: {response.status_code}, not refused")
                elif state() != before:
                    problems.append(f"{method} {address}: refused, but the data changed")
    assert tried >= 180  # every pattern found: 12 model admins and the site views
    assert problems == [], f"{role}: {len(problems)} of {tried}\n" + "\n".join(problems)
