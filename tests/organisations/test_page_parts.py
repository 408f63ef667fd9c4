"""What an organisation's page shows of the organisation itself, and the first
organisations of a place's page, are kept under the versions of the places and the
organisations (``core.versioning``): a write to a partnership leaves them, and every write
that changes them moves one of those versions, whatever path it takes."""

import pytest
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from core import versioning
from core.models import Publication
from organisations.models import Organisation, OrganisationName
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
)
from tests.pages import url

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("page_cache")]

# What only the organisation's own parts read: its other names and sources, and its parts.
OWN_TABLES = ("organisations_organisationname", "organisations_organisation_sources")
# The place's section of organisations counts them in the same query as it reads them.
SECTION_COUNT = 'COUNT("organisations_organisation"."id") OVER ()'


@pytest.fixture
def registry():
    """Two Suzhous, each with a university of the same name; one with a school in it."""
    china = PlaceFactory(name="China", kind=Place.Kind.COUNTRY)
    jiangsu = PlaceFactory(name="Jiangsu", kind=Place.Kind.PROVINCE, parent=china)
    anhui = PlaceFactory(name="Anhui", kind=Place.Kind.PROVINCE, parent=china)
    suzhou = PlaceFactory(name="Suzhou", parent=jiangsu)
    other_suzhou = PlaceFactory(name="Suzhou", parent=anhui)
    university = OrganisationFactory(name="Suzhou University", place=suzhou)
    OrganisationFactory(name="Suzhou University", place=other_suzhou, short_name="AHSU")
    OrganisationFactory(name="School of Design", place=suzhou, parent=university)
    OrganisationName.objects.create(organisation=university, name="Soochow University")
    university.sources.add(SourceFactory(title="University register"))
    PlaceFactory(name="Aarhus", country="DK")
    return {"suzhou": suzhou, "other_suzhou": other_suzhou, "university": university}


def school_made_a_draft(registry):
    Organisation.objects.filter(name="School of Design").update(publication=Publication.DRAFT)


def read(record, language="en"):
    """The record's page after a write (a miss), and the SQL of its queries."""
    name = (
        "places:place-detail" if isinstance(record, Place) else "organisations:organisation-detail"
    )
    with CaptureQueriesContext(connection) as queries:
        response = Client().get(url(name, language=language, slug=record.slug))
    assert response.status_code == 200
    assert response["X-Cache"] == "MISS"
    content = response.content.decode().replace("\N{NO-BREAK SPACE}", " ")
    return content, [query["sql"] for query in queries]


def test_a_write_to_a_partnership_keeps_them(registry):
    university, suzhou = registry["university"], registry["suzhou"]
    aarhus = Place.objects.get(name="Aarhus")
    assert any(t in sql for sql in read(university)[1] for t in OWN_TABLES)  # read once
    assert any(SECTION_COUNT in sql for sql in read(suzhou)[1])
    PartnershipFactory(title="Suzhou University and Aarhus", parties=[university, aarhus])
    content, queries = read(university)
    assert not [sql for sql in queries if any(t in sql for t in OWN_TABLES)]
    assert not [sql for sql in queries if '."parent_id" IN (' in sql]  # nor its parts
    assert "Suzhou University and Aarhus" in content
    assert "Soochow University" in content and "University register" in content
    assert "School of Design" in content and "Jiangsu" in content
    content, queries = read(suzhou)
    assert not [sql for sql in queries if SECTION_COUNT in sql]
    assert "Suzhou University and Aarhus" in content and "School of Design" in content


@pytest.mark.parametrize(
    "write, shown, gone",
    [
        pytest.param(
            lambda r: OrganisationName.objects.bulk_create(
                [OrganisationName(organisation=r["university"], name="SUDA")]
            ),
            "SUDA",
            None,
            id="other name, bulk_create",
        ),
        pytest.param(
            lambda r: r["university"].sources.add(SourceFactory(title="Ministry list")),
            "Ministry list",
            None,
            id="sources, m2m add",
        ),
        pytest.param(
            lambda r: OrganisationFactory(
                name="Medical College", place=r["suzhou"], parent=r["university"]
            ),
            "Medical College",
            None,
            id="a part, save",
        ),
        pytest.param(school_made_a_draft, None, "School of Design", id="a part made a draft"),
        pytest.param(
            lambda r: Place.objects.filter(name="Jiangsu").update(name_en="Kiangsu"),
            "Kiangsu",
            "Jiangsu",
            id="the province it is in renamed, update()",
        ),
        pytest.param(
            lambda r: Organisation.objects.filter(pk=r["university"].pk).update(
                place=r["other_suzhou"]
            ),
            "Anhui",
            "Jiangsu",
            id="moved to the other Suzhou, update()",
        ),
    ],
)
def test_every_write_to_the_organisation_s_parts_is_shown_at_once(registry, write, shown, gone):
    before = read(registry["university"])[0]
    assert gone is None or gone in before
    assert shown is None or shown not in before
    write(registry)
    after = read(registry["university"])[0]
    assert shown is None or shown in after
    assert gone is None or gone not in after


def organisations_section(content):
    start = content.index('id="organisations-heading"')
    return content[start : content.index("</section>", start)]


@pytest.mark.parametrize(
    "write, shown, gone",
    [
        pytest.param(
            lambda r: OrganisationFactory(name="Suzhou Museum", place=r["suzhou"]),
            "Suzhou Museum",
            None,
            id="a new organisation in it, save",
        ),
        pytest.param(school_made_a_draft, None, "School of Design", id="made a draft"),
        pytest.param(
            lambda r: Organisation.objects.filter(name="School of Design").update(
                place=r["other_suzhou"]
            ),
            None,
            "School of Design",
            id="an organisation moved away, update()",
        ),
        pytest.param(
            lambda r: Organisation.objects.filter(name="School of Design").update(
                name_en="Design School"
            ),
            "Design School",
            "School of Design",
            id="an organisation renamed, update()",
        ),
    ],
)
def test_every_write_to_a_place_s_organisations_is_shown_at_once(registry, write, shown, gone):
    before = organisations_section(read(registry["suzhou"])[0])
    assert gone is None or gone in before
    assert shown is None or shown not in before
    write(registry)
    after = organisations_section(read(registry["suzhou"])[0])
    assert shown is None or shown in after
    assert gone is None or gone not in after


def test_a_place_moved_takes_its_organisations_along(registry):
    jiangsu = Place.objects.get(name="Jiangsu")
    assert "School of Design" in organisations_section(read(jiangsu)[0])
    Place.objects.filter(pk=registry["suzhou"].pk).update(parent=Place.objects.get(name="Anhui"))
    assert "School of Design" not in read(jiangsu)[0]
    assert "School of Design" in organisations_section(read(Place.objects.get(name="Anhui"))[0])


def test_each_suzhou_shows_its_own_university(registry):
    section = organisations_section(read(registry["suzhou"])[0])
    other = organisations_section(read(registry["other_suzhou"])[0])
    assert "School of Design" in section and "AHSU" not in section
    assert "AHSU" in other and "School of Design" not in other


def test_staff_and_each_language_get_their_own(registry, admin_client):
    university = registry["university"]
    school_made_a_draft(registry)
    address = url("organisations:organisation-detail", slug=university.slug)
    assert "School of Design" not in read(university)[0]
    assert "School of Design" in admin_client.get(address).content.decode()
    Organisation.objects.filter(pk=university.pk).update(name_da="Suzhou Universitet")
    assert "Suzhou Universitet" in read(university, language="da")[0]
    assert "Suzhou Universitet" not in read(university)[0]


def test_which_writes_move_which_version(registry):
    university, suzhou = registry["university"], registry["suzhou"]
    aarhus = Place.objects.get(name="Aarhus")

    def versions():
        return versioning.places_version(), versioning.part_version("organisations")

    for write, moved in (
        (lambda: OrganisationName.objects.create(organisation=university, name="SU"), (0, 1)),
        (lambda: university.sources.add(SourceFactory()), (1, 1)),  # a new source, then the tie
        (lambda: Organisation.objects.filter(pk=university.pk).update(website=""), (0, 1)),
        (lambda: Place.objects.filter(pk=suzhou.pk).update(description=""), (1, 0)),
        (lambda: PartnershipFactory(parties=[university, aarhus]), (0, 0)),
    ):
        before = versions()
        write()
        after = versions()
        assert tuple(int(b != a) for b, a in zip(before, after, strict=True)) == moved


def test_the_ties_of_its_parts_follow_every_write_to_the_parts(registry):
    university = registry["university"]
    aarhus = Place.objects.get(name="Aarhus")
    school = Organisation.objects.get(name="School of Design")
    PartnershipFactory(title="Design exchange with Aarhus", parties=[school, aarhus])
    assert "Design exchange with Aarhus" in read(university)[0]
    # A new part, and a tie of it: both writes after the parts were read.
    college = OrganisationFactory(name="Medical College", place=registry["suzhou"])
    Organisation.objects.filter(pk=college.pk).update(parent=university)
    PartnershipFactory(title="Medical exchange with Aarhus", parties=[college, aarhus])
    content = read(university)[0]
    assert "Medical exchange with Aarhus" in content and "Design exchange" in content
    # A part that leaves takes its ties along.
    Organisation.objects.filter(pk=school.pk).update(parent=None)
    content = read(university)[0]
    assert "Design exchange with Aarhus" not in content
    assert "Medical exchange with Aarhus" in content


def test_one_transaction_moves_each_version_it_writes_once(registry):
    before = (versioning.places_version(), versioning.part_version("organisations"))
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        Place.objects.filter(pk=registry["suzhou"].pk).update(description="On the canal.")
        Organisation.objects.filter(pk=registry["university"].pk).update(website="")
        Place.objects.filter(pk=registry["suzhou"].pk).update(description="By the lake.")
    after = (versioning.places_version(), versioning.part_version("organisations"))
    assert after[0] != before[0] and after[1] != before[1]
    # The second write of a place moves nothing the first two did not.
    bumps = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "core_registryversion"')]
    assert len(bumps) == 2


def test_links_to_drafts_follow_what_each_reader_may_open(registry, admin_client, client):
    """The kept HTML links a draft place only for those who may open its page: a member of
    staff who may see the organisations but not the places gets its name, unlinked, even
    after an administrator's visit kept the linked one."""
    from django.contrib.auth.models import Permission

    from tests.factories import UserFactory

    university = registry["university"]
    Place.objects.filter(pk=registry["suzhou"].pk).update(publication=Publication.DRAFT)
    suzhou_link = f'href="{registry["suzhou"].get_absolute_url()}"'
    address = url("organisations:organisation-detail", slug=university.slug)
    assert suzhou_link in admin_client.get(address).content.decode()
    reader = UserFactory(username="organisations-only", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    client.force_login(reader)
    page = client.get(address).content.decode()
    assert "Suzhou" in page and suzhou_link not in page
    # The public sees the draft's name unlinked too, and a published Suzhou linked again.
    assert suzhou_link not in read(university)[0]
    Place.objects.filter(pk=registry["suzhou"].pk).update(publication=Publication.PUBLISHED)
    assert suzhou_link in read(university)[0]
