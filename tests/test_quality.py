import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from atlas import quality
from core.models import Publication
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PAGE = reverse("admin:atlas-quality")
TODAY = datetime.date(2026, 12, 2)


def records(narrow, model, **arguments):
    return set(narrow(model.objects.all(), **arguments))


@pytest.mark.parametrize(
    "factory", [PlaceFactory, OrganisationFactory, PartnershipFactory], ids=lambda f: f.__name__
)
def test_records_without_a_source(factory):
    cited, uncited = factory(), factory()
    cited.sources.add(SourceFactory())

    assert records(quality.without_source, factory._meta.model) == {uncited}


def test_records_not_reviewed_in_twelve_months():
    today = timezone.localdate()
    never = PlaceFactory()
    long_ago = PlaceFactory(last_reviewed_on=today - datetime.timedelta(days=400))
    PlaceFactory(last_reviewed_on=today - datetime.timedelta(days=30))

    assert records(quality.not_reviewed, Place) == {never, long_ago}


def test_active_partnerships_whose_status_was_confirmed_over_five_years_ago():
    old = PartnershipFactory(status_as_of="2012")
    never = PartnershipFactory(status_as_of=None)
    PartnershipFactory(status_as_of="2024-05")
    PartnershipFactory(status="ended", status_as_of="2012")
    PartnershipFactory(status="planned", status_as_of="2012")

    assert records(quality.status_unconfirmed, Partnership, today=TODAY) == {old, never}


def test_the_five_years_are_counted_from_today():
    confirmed = PartnershipFactory(status_as_of="2020-06-01")

    assert records(quality.status_unconfirmed, Partnership, today=TODAY) == {confirmed}
    assert not records(quality.status_unconfirmed, Partnership, today=datetime.date(2025, 6, 1))


def test_places_without_coordinates():
    nowhere = PlaceFactory()
    PlaceFactory(latitude=55.4, longitude=10.4)

    assert records(quality.without_coordinates, Place) == {nowhere}


def test_places_without_the_parent_their_kind_expects():
    denmark = PlaceFactory(name_en="Denmark", kind="country", country="DK")
    region = PlaceFactory(name_en="Region Syddanmark", kind="region", country="DK", parent=denmark)
    PlaceFactory(name_en="Odense Municipality", kind="municipality", country="DK", parent=region)
    straight_in_denmark = PlaceFactory(
        name_en="Vejle Municipality", kind="municipality", country="DK", parent=denmark
    )
    lost_city = PlaceFactory(name_en="Wuxi", kind="city", country="CN")
    china = PlaceFactory(name_en="China", kind="country", country="CN")
    # Outside Denmark a municipality may lie in any place.
    PlaceFactory(name_en="Shanghai", kind="municipality", country="CN", parent=china)
    PlaceFactory(name_en="Somewhere", kind="other", country="CN")

    assert records(quality.without_expected_parent, Place) == {straight_in_denmark, lost_city}


def test_organisations_without_the_parent_their_kind_expects():
    ministry = OrganisationFactory(kind="government_body")
    OrganisationFactory(kind="diplomatic_mission", parent=ministry)
    alone = OrganisationFactory(kind="diplomatic_mission")
    OrganisationFactory(kind="university")

    assert records(quality.without_expected_parent, Organisation) == {alone}


def test_places_whose_newest_figure_is_over_ten_years_old():
    old = PlaceFigureFactory(year=2009).place
    updated = PlaceFigureFactory(year=2009).place
    PlaceFigureFactory(place=updated, year=2020)
    # A current population does not make an area from 2005 current.
    old_area = PlaceFigureFactory(year=2020).place
    PlaceFigureFactory(place=old_area, kind="area_km2", year=2005)
    PlaceFactory()  # no figures at all: nothing is out of date

    assert records(quality.old_figures, Place, today=TODAY) == {old, old_area}


def test_partnerships_with_fewer_than_two_published_participants():
    lonely = PartnershipFactory(parties=[PlaceFactory()])
    empty = PartnershipFactory(parties=[])
    # Two participants, but the public sees only one of them.
    half_draft = PartnershipFactory(
        parties=[PlaceFactory(), OrganisationFactory(publication=Publication.DRAFT)]
    )
    # Three participants, two of them drafts or waiting for review.
    mostly_drafts = PartnershipFactory(
        parties=[
            PlaceFactory(publication=Publication.DRAFT),
            OrganisationFactory(publication=Publication.READY),
            OrganisationFactory(),
        ]
    )
    # A draft among three still leaves two published.
    PartnershipFactory(
        parties=[PlaceFactory(publication=Publication.DRAFT), PlaceFactory(), OrganisationFactory()]
    )
    PartnershipFactory()
    PartnershipFactory(parties=[PlaceFactory(), OrganisationFactory()])

    assert records(quality.few_participants, Partnership) == {
        lonely,
        empty,
        half_draft,
        mostly_drafts,
    }


def old_draft(factory, days=31, publication=Publication.DRAFT):
    record = factory(publication=publication)
    type(record).objects.filter(pk=record.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days)
    )
    return record


def test_drafts_older_than_30_days():
    old = old_draft(PlaceFactory)
    waiting = old_draft(PlaceFactory, publication=Publication.READY)
    old_draft(PlaceFactory, days=29)  # a draft of last week is work in progress
    old_draft(PlaceFactory, publication=Publication.PUBLISHED)
    old_partnership = old_draft(PartnershipFactory)
    PartnershipFactory(publication=Publication.DRAFT)

    assert records(quality.old_drafts, Place) == {old, waiting}
    assert records(quality.old_drafts, Partnership) == {old_partnership}


def test_the_page_counts_each_check_and_shows_the_first_records(editor_client):
    PlaceFactory(name_en="Nowhere Town")
    PlaceFactory(name_en="Mapped", latitude=1, longitude=1)

    page = editor_client.get(PAGE)

    assert page.status_code == 200
    rows = {str(row["title"]): row for row in page.context["checks"]}
    row = rows["Places without coordinates"]
    assert row["count"] == 1
    assert [name for name, _url in row["records"]] == ["Nowhere Town"]
    assert row["url"] == reverse("admin:places_place_changelist") + "?quality=without-coordinates"
    assert rows["Places not reviewed in 12 months"]["url"].endswith("?review=stale")


@pytest.mark.parametrize("check", quality.CHECKS, ids=lambda check: check.slug)
def test_each_link_leads_to_a_changelist_of_just_those_records(admin_client, check):
    source = SourceFactory()
    today = timezone.localdate()
    fine = {
        Place: lambda: PlaceFactory(
            latitude=1,
            longitude=1,
            last_reviewed_on=today,
            parent=PlaceFactory(kind="province"),
        ),
        Organisation: lambda: OrganisationFactory(last_reviewed_on=today),
        Partnership: lambda: PartnershipFactory(last_reviewed_on=today, status_as_of="2025"),
    }[check.model]()
    fine.sources.add(source)
    if check.model is Place:
        PlaceFigureFactory(place=fine, year=today.year)
    flagged = {
        "places-without-source": lambda: PlaceFactory(),
        "organisations-without-source": lambda: OrganisationFactory(),
        "partnerships-without-source": lambda: PartnershipFactory(),
        "places-not-reviewed": lambda: PlaceFactory(),
        "organisations-not-reviewed": lambda: OrganisationFactory(),
        "partnerships-not-reviewed": lambda: PartnershipFactory(),
        "status-unconfirmed": lambda: PartnershipFactory(status_as_of="2001"),
        "few-participants": lambda: PartnershipFactory(parties=[]),
        "without-coordinates": lambda: PlaceFactory(),
        "places-without-parent": lambda: PlaceFactory(kind="city"),
        "organisations-without-parent": lambda: OrganisationFactory(kind="diplomatic_mission"),
        "old-figures": lambda: PlaceFigureFactory(year=1990).place,
        "places-old-drafts": lambda: old_draft(PlaceFactory),
        "organisations-old-drafts": lambda: old_draft(OrganisationFactory),
        "partnerships-old-drafts": lambda: old_draft(PartnershipFactory),
    }[check.slug]()

    url = reverse(f"admin:{check.model._meta.app_label}_{check.model._meta.model_name}_changelist")
    page = admin_client.get(f"{url}?{check.query}")

    assert page.status_code == 200
    shown = set(page.context["cl"].result_list)
    assert flagged in shown
    assert fine not in shown


def test_an_unknown_check_in_the_changelist_filters_nothing(admin_client):
    PlaceFactory()

    page = admin_client.get(reverse("admin:places_place_changelist") + "?quality=nonsense")

    assert page.status_code == 200
    assert page.context["cl"].result_count == 1


def test_the_page_runs_a_fixed_number_of_queries(editor_client):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert editor_client.get(PAGE).status_code == 200
        return len(captured)

    PlaceFactory()
    PartnershipFactory(parties=[])
    few = queries()
    for number in range(6):
        PlaceFigureFactory(year=2000, place=PlaceFactory(name_en=f"Town {number}"))
        PartnershipFactory(parties=[PlaceFactory()])
        OrganisationFactory(kind="diplomatic_mission")

    assert queries() == few


def test_anonymous_visitors_are_sent_to_the_login():
    from django.test import Client

    page = Client().get(PAGE)

    assert page.status_code == 302
    assert reverse("admin:login") in page["Location"]


def test_staff_without_permissions_are_refused(client):
    client.force_login(UserFactory(username="nobody", is_staff=True))

    assert client.get(PAGE).status_code == 403


def test_staff_see_only_the_checks_of_types_they_may_view(client):
    user = UserFactory(username="placesonly", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_place"))
    client.force_login(user)

    page = client.get(PAGE)

    assert page.status_code == 200
    assert {check["url"].split("?")[0] for check in page.context["checks"]} == {
        reverse("admin:places_place_changelist")
    }
    assert [str(group["title"]) for group in page.context["duplicates"]] == ["places"]


def test_viewers_see_the_page(viewer_client):
    assert viewer_client.get(PAGE).status_code == 200


def test_the_admin_index_links_to_the_page(editor_client):
    index = editor_client.get(reverse("admin:index"))

    assert f'href="{PAGE}"' in index.content.decode()


def test_the_admin_index_hides_the_link_from_staff_without_permissions(client):
    client.force_login(UserFactory(username="nobody", is_staff=True))

    assert f'href="{PAGE}"' not in client.get(reverse("admin:index")).content.decode()


def test_the_page_only_answers_get(editor_client):
    assert editor_client.post(PAGE).status_code == 405
