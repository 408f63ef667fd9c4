"""The public lists' filter forms render in Python (core.forms), to the HTML Django's own
widget and label templates write."""

import re

import django_filters
import pytest
from django.template import engines

from core.filters import RecordFilterSet
from core.templatetags import atlas as atlas_tags
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db

WIDGET_TEMPLATES = re.compile(r"^django/forms/(widgets/|label\.html)")


def filter_form(response):
    html = response.content.decode()
    form = re.search(r'<form[^>]*id="filter-form".*?</form>', html, re.S).group(0)
    # Django's select template puts a blank line after each option; nothing else differs.
    return "\n".join(line for line in form.splitlines() if line.strip())


def widget_templates(response):
    return {
        template.name
        for template in response.templates
        if WIDGET_TEMPLATES.match(template.name or "")
    }


@pytest.mark.parametrize(
    "address",
    [
        "/en/places/",
        "/da/places/?kind=city&country=DK&sort=-name&q=Aar",
        "/en/organisations/?kind=university&place=aarhus",
        "/en/partnerships/",
        # Bad values: the errors show beside the fields, as before.
        "/da/partnerships/?status=ended&sort=-start&as_of=soon&place=nowhere&kind=bogus",
        '/en/partnerships/?organisation=<b>"x"&amp;&q=Aarhus',
    ],
)
def test_the_filter_form_is_the_html_of_djangos_templates(client, address, monkeypatch):
    denmark = PlaceFactory(name="Denmark", kind=Place.Kind.COUNTRY, country="DK")
    aarhus = PlaceFactory(name="Aarhus", slug="aarhus", parent=denmark, country="DK")
    university = OrganisationFactory(name="Aarhus University", place=aarhus)
    PartnershipFactory(
        title="Aarhus–Harbin", status=Partnership.Status.ENDED, parties=[aarhus, university]
    )

    fast = client.get(address)
    assert fast.status_code == 200
    assert widget_templates(fast) == set()

    # Django's own rendering of the same forms, through its templates, not the form this
    # process wrote for the same query (``filter_form``).
    monkeypatch.setattr(RecordFilterSet, "get_form_class", django_filters.FilterSet.get_form_class)
    monkeypatch.setattr(atlas_tags, "_FORMS", {})
    django = client.get(address)
    assert "django/forms/widgets/select.html" in widget_templates(django)
    assert "django/forms/label.html" in widget_templates(django)
    assert filter_form(fast) == filter_form(django)


FORM_TEMPLATE = "includes/_filter_form.html"


def written(response):
    """Whether the response wrote its filter form, rather than take the one written."""
    return FORM_TEMPLATE in {template.name for template in response.templates}


@pytest.mark.parametrize(
    "address",
    [
        "/en/partnerships/",
        "/da/partnerships/?status=ended&as_of=soon&q=Aarhus",
        "/en/places/?kind=city&sort=-name",
        "/en/map/?kind=sister_city",
        "/en/network/?as_of=2010",
    ],
)
def test_each_process_writes_a_lists_form_once_per_query(client, address):
    PartnershipFactory(title="Aarhus–Harbin", status=Partnership.Status.ENDED)
    first = client.get(address)
    assert first.status_code == 200 and written(first)
    again = client.get(address)
    assert not written(again)
    assert filter_form(again) == filter_form(first)


def test_another_query_language_or_list_has_its_own_form(client):
    first = filter_form(client.get("/en/partnerships/?q=Aarhus"))
    assert 'value="Aarhus"' in first
    other = client.get("/en/partnerships/?q=Harbin")
    assert written(other)
    assert 'value="Harbin"' in filter_form(other)
    danish = client.get("/da/partnerships/?q=Aarhus")
    assert written(danish)
    assert "Anvend filtre" in filter_form(danish) and "Apply filters" in first
    places = client.get("/en/places/?q=Aarhus")
    assert written(places)
    assert 'action="/en/places/"' in filter_form(places)
    # The page of the list is no part of its form.
    assert not written(client.get("/en/partnerships/?q=Aarhus&page=2"))


def test_a_bad_value_keeps_its_error_in_the_form_written(client):
    for _round in range(2):
        form = filter_form(client.get("/en/partnerships/?as_of=soon"))
        assert "field-error" in form and 'value="soon"' in form
    assert "field-error" not in filter_form(client.get("/en/partnerships/?as_of=2010"))


def test_a_process_keeps_a_bounded_number_of_forms(client, monkeypatch):
    monkeypatch.setattr(atlas_tags, "FORMS_KEPT", 2)
    for term in ("Aarhus", "Harbin", "Wuxi"):
        client.get(f"/en/partnerships/?q={term}")
    assert len(atlas_tags._FORMS) <= 2
    assert written(client.get("/en/partnerships/?q=Aarhus"))


def test_a_form_template_loaded_anew_is_written_anew(client):
    """As when the development server's autoreload drops the loaded templates after an
    edit: the form a process wrote from the old template is not served again."""
    client.get("/en/partnerships/")
    assert not written(client.get("/en/partnerships/"))
    for loader in engines["django"].engine.template_loaders:
        loader.reset()
    assert written(client.get("/en/partnerships/"))
