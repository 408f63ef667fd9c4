"""The API's place and organisation lists keep their representations for the public under
the places' (and organisations') versions (``core.api.RecordViewSet.kept_under``): a write
to a partnership leaves them, and every write that changes what they show moves those
versions, whatever path it takes."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from core.models import Publication, Source
from organisations.models import Organisation, OrganisationName
from places.models import Place, PlaceFigure, PlaceName
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    SourceFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

# What only the representations read: names, figures and sources.
OWN_TABLES = {
    "places": ("places_placename", "places_placefigure", "places_place_sources"),
    "organisations": ("organisations_organisationname", "organisations_organisation_sources"),
}


@pytest.fixture
def registry():
    """Two Suzhous, one in Jiangsu with another name, a figure and a source, one in Anhui;
    a university in each; and Aarhus, for a partnership."""
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, parent=china)
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE, parent=china)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    other_suzhou = PlaceFactory(name="Suzhou", parent=anhui)
    PlaceName.objects.create(place=suzhou, name="Soochow")
    PlaceFigureFactory(
        place=suzhou, value=12_700_000, year=2020, source=SourceFactory(title="Census 2020")
    )
    suzhou.sources.add(SourceFactory(title="Yearbook of Suzhou"))
    university = OrganisationFactory(name="Soochow University", place=suzhou)
    OrganisationFactory(name="Suzhou University", place=other_suzhou)
    OrganisationName.objects.create(organisation=university, name="Suda")
    return {"suzhou": suzhou, "aarhus": PlaceFactory(name="Aarhus", country="DK")}


def listed(path, client=None, **extra):
    """The list at ``path`` as a reader gets it after a write (a miss): its results, and
    the queries that read what only the representations show."""
    kind = path.split("/")[2]
    with CaptureQueriesContext(connection) as queries:
        response = (client or APIClient()).get(path, **extra)
    assert response.status_code == 200
    if client is None:
        assert response["X-Cache"] == "MISS"
    own = [q["sql"] for q in queries if any(t in q["sql"] for t in OWN_TABLES[kind])]
    return response.json()["results"], own


def named(results, name):
    return [record for record in results if record["name"] == name]


@pytest.mark.parametrize("path", ["/api/places/", "/api/organisations/"])
def test_a_write_to_a_partnership_keeps_them(registry, path):
    before, own = listed(path)
    assert own  # read once
    PartnershipFactory(title="Suzhou and Aarhus", parties=[registry["suzhou"], registry["aarhus"]])
    after, own = listed(path)
    assert not own
    assert after == before


def test_the_places_as_they_were_read(registry):
    results, _own = listed("/api/places/")
    suzhous = named(results, "Suzhou")
    assert [s["parent"]["name"] for s in suzhous] == ["Jiangsu", "Anhui"]
    jiangsu_one = suzhous[0]
    assert [n["name"] for n in jiangsu_one["other_names"]] == ["Soochow"]
    assert jiangsu_one["figures"][0]["source"]["title"] == "Census 2020"
    assert [s["title"] for s in jiangsu_one["sources"]] == ["Yearbook of Suzhou"]
    # Kept, the other Suzhou lends it nothing.
    PartnershipFactory(parties=[registry["suzhou"], registry["aarhus"]])
    kept, _own = listed("/api/places/")
    assert named(kept, "Suzhou")[1]["other_names"] == []
    assert named(kept, "Suzhou")[1]["figures"] == []


def jiangsu_suzhou(results):
    return next(s for s in named(results, "Suzhou") if s["parent"]["name"] != "Anhui")


@pytest.mark.parametrize(
    "write, shows",
    [
        pytest.param(
            lambda s: PlaceName.objects.bulk_create([PlaceName(place=s, name="Gusu-cheng")]),
            lambda r: "Gusu-cheng" in [n["name"] for n in jiangsu_suzhou(r)["other_names"]],
            id="other name, bulk_create",
        ),
        pytest.param(
            lambda s: PlaceName.objects.filter(place=s).delete(),
            lambda r: jiangsu_suzhou(r)["other_names"] == [],
            id="other name, delete",
        ),
        pytest.param(
            lambda s: PlaceFigure.objects.filter(place=s).update(year=2019),
            lambda r: jiangsu_suzhou(r)["figures"][0]["year"] == 2019,
            id="figure, update()",
        ),
        pytest.param(
            lambda s: Source.objects.filter(title="Census 2020").update(title="Census 2021"),
            lambda r: jiangsu_suzhou(r)["figures"][0]["source"]["title"] == "Census 2021",
            id="a figure's source, update()",
        ),
        pytest.param(
            lambda s: s.sources.add(SourceFactory(title="Suzhou statistics")),
            lambda r: "Suzhou statistics" in [x["title"] for x in jiangsu_suzhou(r)["sources"]],
            id="sources, m2m add",
        ),
        pytest.param(
            lambda s: Place.objects.filter(name="Jiangsu").update(name_en="Kiangsu"),
            lambda r: named(r, "Suzhou")[0]["parent"]["name"] == "Kiangsu",
            id="its parent renamed, update()",
        ),
        pytest.param(
            lambda s: Place.objects.filter(pk=s.pk).update(publication=Publication.DRAFT),
            lambda r: [p["parent"]["name"] for p in named(r, "Suzhou")] == ["Anhui"],
            id="made a draft, update()",
        ),
    ],
)
def test_a_write_to_what_a_place_shows_is_seen_at_once(registry, write, shows):
    results, _own = listed("/api/places/")
    assert not shows(results)
    write(registry["suzhou"])
    results, _own = listed("/api/places/")
    assert shows(results)


@pytest.mark.parametrize(
    "write, shows",
    [
        pytest.param(
            lambda: Place.objects.filter(organisations__name="Soochow University").update(
                name_en="Suzhou (Jiangsu)"
            ),
            lambda r: named(r, "Soochow University")[0]["place"]["name"] == "Suzhou (Jiangsu)",
            id="the place it is based in renamed, update()",
        ),
        pytest.param(
            lambda: OrganisationName.objects.bulk_create(
                [
                    OrganisationName(
                        organisation=Organisation.objects.get(name="Soochow University"),
                        name="Dongwu",
                    )
                ]
            ),
            lambda r: (
                "Dongwu" in [n["name"] for n in named(r, "Soochow University")[0]["other_names"]]
            ),
            id="other name, bulk_create",
        ),
        pytest.param(
            lambda: Organisation.objects.get(name="Suzhou University").sources.add(
                SourceFactory(title="Annual report")
            ),
            lambda r: (
                [s["title"] for s in named(r, "Suzhou University")[0]["sources"]]
                == ["Annual report"]
            ),
            id="sources, m2m add",
        ),
    ],
)
def test_a_write_to_what_an_organisation_shows_is_seen_at_once(registry, write, shows):
    results, _own = listed("/api/organisations/")
    assert not shows(results)
    write()
    results, _own = listed("/api/organisations/")
    assert shows(results)


def test_each_language_and_address_has_its_own(registry):
    Place.objects.filter(pk=registry["suzhou"].pk).update(
        description_en="A city of canals.", description_da="En by med kanaler."
    )
    PartnershipFactory(parties=[registry["suzhou"], registry["aarhus"]])
    english, _own = listed("/api/places/")
    danish, _own = listed("/api/places/?lang=da")
    secure, _own = listed("/api/places/", secure=True)
    assert jiangsu_suzhou(english)["description"] == "A city of canals."
    assert jiangsu_suzhou(danish)["description"] == "En by med kanaler."
    assert jiangsu_suzhou(english)["url"].startswith("http://testserver/api/places/")
    assert jiangsu_suzhou(secure)["url"].startswith("https://testserver/api/places/")
    assert "/da/" in jiangsu_suzhou(danish)["public_url"]


def test_each_page_and_search_has_its_own(registry):
    first, _own = listed("/api/places/?page_size=3")
    second, _own = listed("/api/places/?page_size=3&page=2")
    found, _own = listed("/api/places/?search=soochow")
    assert len(first) == 3 and len(second) == 3
    assert {p["slug"] for p in first}.isdisjoint(p["slug"] for p in second)
    assert [p["slug"] for p in found] == [registry["suzhou"].slug]


def test_staff_get_theirs_built_with_the_drafts(registry, admin_user):
    listed("/api/places/")  # the public's kept
    draft = PlaceFactory(name="Kunshan", publication=Publication.DRAFT)
    PartnershipFactory(parties=[registry["suzhou"], registry["aarhus"]])
    public, _own = listed("/api/places/")
    staff = APIClient()
    staff.force_login(admin_user)
    theirs, own = listed("/api/places/", client=staff)
    assert not named(public, "Kunshan")
    assert named(theirs, "Kunshan")[0]["slug"] == draft.slug
    assert own  # read for them
