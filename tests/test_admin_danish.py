"""The admin in Danish shows no English: a walk through its main pages.

Most of the Danish comes from locale/da (Django's and the libraries' own translations, and
ours). A page that fails here names the English it showed; the strings are ours when
``make messages`` lists them, else they belong in atlas/library_strings.py.
"""

import html
import json
import re
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core.history import history_manager
from core.models import ImportBatch
from places.models import Place
from tests.factories import (
    EventFactory,
    OrganisationNameFactory,
    PlaceFigureFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
)

pytestmark = pytest.mark.django_db

# Words and phrases only an English page shows (Danish has no such words, or they are not
# how the Danish admin says it).
ENGLISH = [
    "Add another",
    "Add",
    "History",
    "Revert",
    "Import",
    "Export",
    "Save",
    "Change",
    "Changes",
    "Changed",
    "Created",
    "Delete",
    "Deleted",
    "Select",
    "Filter",
    "Search",
    "entries",
    "View",
    "Close",
    "Undo",
    "Yes",
    "Unknown",
    "Action",
    "Reason",
    "Show",
    "Home",
    "results",
    "records",
    "record",
    "Log out",
    "Download",
    "Preview",
    "Tokens",
    "Key",
    "User",
    "Users",
    "Groups",
    "access",
    "attempt",
    "Auth Token",
    "Axes",
    "None",
    "All",
    "Choose",
    "the",
    "and",
    "with",
    "this",
    "your",
]
GIVEAWAY = re.compile(r"\b(" + "|".join(re.escape(word) for word in ENGLISH) + r")\b")
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt"}


class ShownText(HTMLParser):
    """The text a reader sees or hears: page text, labels in attributes, inline buttons."""

    def __init__(self):
        super().__init__()
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in {"script", "style"}:
            self.skipping += 1
        self.parts += [value for name, value in attrs.items() if name in SHOWN_ATTRIBUTES]
        if tag == "input" and attrs.get("type") in {"submit", "button"}:
            self.parts.append(attrs.get("value") or "")
        if "data-inline-formset" in attrs:
            options = json.loads(attrs["data-inline-formset"])["options"]
            self.parts += [options["addText"], options["deleteText"]]

    def handle_endtag(self, tag):
        if tag in {"script", "style"}:
            self.skipping -= 1

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def english_in(html):
    parser = ShownText()
    parser.feed(html)
    return {" ".join(part.split()) for part in parser.parts if part and GIVEAWAY.search(part)}


@pytest.fixture
def danish_admin(admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "da"
    return admin_client


@pytest.fixture
def registry(admin_user):
    source = SourceFactory(title="Notat om venskabsbyer", author="Region Midtjylland")
    figure = PlaceFigureFactory(source=source)
    place = figure.place
    PlaceNameFactory(place=place, name="Århus")
    place.description_da = "Danmarks næststørste by."
    place._history_user = admin_user
    place.save()
    organisation = OrganisationNameFactory(name="AU").organisation
    event = EventFactory(text_da="En fælles konference")
    batch = ImportBatch.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(Place),
        file_name="steder.csv",
        created_count=1,
        created={"places.place": [place.pk]},
    )
    Token.objects.create(user=admin_user)
    return {
        "core_source": source,
        "places_place": place,
        "organisations_organisation": organisation,
        "partnerships_partnership": event.partnership,
        "partnerships_theme": ThemeFactory(name_da="Uddannelse"),
        "core_importbatch": batch,
        "auth_user": admin_user,
    }


def main_pages(registry):
    from django.contrib import admin

    yield reverse("admin:index")
    for model in admin.site._registry:
        name = f"{model._meta.app_label}_{model._meta.model_name}"
        yield reverse(f"admin:{name}_changelist")
        yield reverse("admin:app_list", args=[model._meta.app_label])
        yield reverse(f"admin:{name}_add")
        if name in registry:
            record = registry[name]
            yield reverse(f"admin:{name}_change", args=[record.pk])
            yield reverse(f"admin:{name}_history", args=[record.pk])
    place = registry["places_place"]
    version = history_manager(Place).filter(id=place.pk).earliest("history_date")
    yield reverse("admin:places_place_simple_history", args=[place.pk, version.pk])
    yield reverse("admin:places_place_import")
    yield reverse("admin:authtoken_tokenproxy_changelist")


def test_every_main_admin_page_is_danish(danish_admin, registry):
    english = {}
    for url in dict.fromkeys(main_pages(registry)):
        response = danish_admin.get(url)
        if response.status_code == 403 and url.endswith("/add/"):
            continue  # added elsewhere: imports, lockouts
        assert response.status_code == 200, url
        assert response.headers["Content-Language"] == "da"
        found = english_in(response.content.decode())
        if found:
            english[url] = sorted(found)

    assert english == {}, "\n".join(f"{url}: {texts}" for url, texts in english.items())


def add_another(page, prefix):
    """The "add another" text of the inline whose formset prefix is ``prefix``."""
    inlines = [
        json.loads(html.unescape(data))["options"]
        for data in re.findall(r'data-inline-formset="([^"]*)"', page.content.decode())
    ]
    [options] = [options for options in inlines if options["prefix"] == prefix]
    return options["addText"]


def test_each_inline_says_add_another_in_its_own_words(admin_client, registry):
    place = admin_client.get(
        reverse("admin:places_place_change", args=[registry["places_place"].pk])
    )
    partnership = admin_client.get(
        reverse(
            "admin:partnerships_partnership_change", args=[registry["partnerships_partnership"].pk]
        )
    )

    assert add_another(place, "figures") == "Add another figure"
    assert add_another(partnership, "participants") == "Add another participant"


def test_danish_inlines_agree_with_their_noun(danish_admin, registry):
    place = danish_admin.get(
        reverse("admin:places_place_change", args=[registry["places_place"].pk])
    )

    assert add_another(place, "figures") == "Tilføj endnu et nøgletal"


def test_history_shows_values_as_the_form_does(danish_admin, admin_user):
    place = PlaceFigureFactory().place
    place.kind = Place.Kind.PROVINCE_LEVEL_CITY
    place.description_da = "Kinas største by."
    place._history_user = admin_user
    place.save()

    page = danish_admin.get(reverse("admin:places_place_history", args=[place.pk]))
    changes = [
        " ".join(item.split())
        for item in re.findall(r"<li><strong>(.*?)</li>", page.content.decode(), re.S)
    ]

    assert any("by &rarr; byprovins" in change for change in changes), changes
    assert any("– &rarr; Kinas største by." in change for change in changes), changes
    assert not any("None" in change or "province_city" in change for change in changes)
    # The original column repeats the language columns' change in whichever language.
    assert not any(change.startswith("Beskrivelse:") for change in changes)


def test_permissions_are_named_from_the_model_not_the_stored_english(admin_client):
    # Django stores "Can add place" in English when it migrates; the list names it again.
    Permission.objects.filter(codename="add_place").update(name="Can add stored text")

    page = admin_client.get(reverse("admin:auth_group_add")).content.decode()

    assert "Places | place | Can add place" in page
    assert "Can add stored text" not in page
