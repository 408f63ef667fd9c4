"""The places and organisations that the list's ``?place=`` and ``?organisation=`` name are
kept per version of the places or the organisations (``PartnershipFilter``): a write to a
partnership leaves them, and every write that changes what a name names is seen at once."""

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from organisations.models import Organisation
from places.models import Place, PlaceName
from tests.factories import OrganisationFactory, PartnershipFactory, PlaceFactory
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]


def listed(query):
    """The titles on the partnership list for ``query``, as a miss, and its SQL."""
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(url("partnerships:partnership-list", query=query))
    assert response.status_code == 200
    assert response["X-Cache"] == "MISS"
    titles = {p.title for p in response.context["object_list"]}
    return titles, [q["sql"] for q in queries]


@pytest.fixture
def registry():
    """Two Suzhous, a university in one with a school as its part, and Aarhus."""
    suzhou = PlaceFactory(name="Suzhou", kind=Place.Kind.CITY)
    PlaceFactory(name="Suzhou", kind=Place.Kind.CITY, country="CN")
    aarhus = PlaceFactory(name="Aarhus", country="DK")
    university = OrganisationFactory(name="Soochow University", place=suzhou)
    school = OrganisationFactory(name="School of Design", place=suzhou, parent=university)
    PartnershipFactory(title="Suzhou and Aarhus", parties=[suzhou, aarhus])
    PartnershipFactory(title="Design exchange", parties=[school, aarhus])
    return {"suzhou": suzhou, "aarhus": aarhus, "university": university, "school": school}


def test_a_place_s_name_is_looked_up_once_per_places_version(registry):
    assert "Suzhou and Aarhus" in listed("place=aarhus")[0]
    PartnershipFactory(
        title="Aarhus and Suzhou again", parties=[registry["aarhus"], registry["suzhou"]]
    )
    titles, queries = listed("place=aarhus")
    assert "Aarhus and Suzhou again" in titles
    assert not [sql for sql in queries if "places_place" in sql and "search_key" in sql]
    # Another name, written after the lookup, names it at once.
    assert not listed("place=Aros")[0]  # its name as a Viking town
    PlaceName.objects.create(place=registry["aarhus"], name="Aros")
    assert "Suzhou and Aarhus" in listed("place=Aros")[0]


def test_an_organisation_s_parts_follow_every_write(registry):
    university = registry["university"]
    assert listed(f"organisation={university.slug}")[0] == {"Design exchange"}
    # A new part, then its tie.
    college = OrganisationFactory(name="Medical College", place=registry["suzhou"])
    Organisation.objects.filter(pk=college.pk).update(parent=university)
    PartnershipFactory(title="Medical exchange", parties=[college, registry["aarhus"]])
    titles, queries = listed(f"organisation={university.slug}")
    assert titles == {"Design exchange", "Medical exchange"}
    # A part that leaves takes its ties along.
    Organisation.objects.filter(pk=registry["school"].pk).update(parent=None)
    assert listed(f"organisation={university.slug}")[0] == {"Medical exchange"}
    # A name written afterwards names it at once.
    Organisation.objects.filter(pk=university.pk).update(short_name="SUDA")
    assert listed("organisation=SUDA")[0] == {"Medical exchange"}
