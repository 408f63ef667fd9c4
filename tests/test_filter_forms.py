"""The public lists' filter forms render in Python (core.forms), to the HTML Django's own
widget and label templates write."""

import re

import django_filters
import pytest

from core.filters import RecordFilterSet
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

    # Django's own rendering of the same forms, through its templates.
    monkeypatch.setattr(RecordFilterSet, "get_form_class", django_filters.FilterSet.get_form_class)
    django = client.get(address)
    assert "django/forms/widgets/select.html" in widget_templates(django)
    assert "django/forms/label.html" in widget_templates(django)
    assert filter_form(fast) == filter_form(django)
