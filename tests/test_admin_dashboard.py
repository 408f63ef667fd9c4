import datetime

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.models import ImportBatch
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INDEX = reverse("admin:index")


def changed_by(record, user, **changes):
    for field, value in changes.items():
        setattr(record, field, value)
    record._history_user = user
    record.save()
    return record


def test_registry_apps_come_before_the_internal_ones(admin_client):
    labels = [app["app_label"] for app in admin_client.get(INDEX).context["app_list"]]

    assert labels[:4] == ["places", "organisations", "partnerships", "core"]
    assert {"auth", "authtoken"} <= set(labels[4:])


def test_the_sidebar_lists_apps_in_the_same_order(admin_client):
    place = PlaceFactory()
    page = admin_client.get(reverse("admin:places_place_change", args=[place.pk]))

    labels = [app["app_label"] for app in page.context["available_apps"]]
    assert labels.index("partnerships") < labels.index("auth")


def test_recent_changes_are_the_users_own_newest_first_each_once(admin_client, admin_user):
    other = UserFactory()
    first = changed_by(PlaceFactory(name_en="Aarhus"), admin_user)
    partnership = changed_by(PartnershipFactory(title_en="Aarhus-Ningbo"), admin_user)
    changed_by(first, admin_user, description_en="Second largest city")
    changed_by(OrganisationFactory(name_en="Not mine"), other)

    changes = admin_client.get(INDEX).context["dashboard"]["recent_changes"]

    assert [change.label for change in changes] == ["Aarhus", "Aarhus-Ningbo"]
    assert changes[0].url == reverse("admin:places_place_change", args=[first.pk])
    assert changes[1].url == reverse("admin:partnerships_partnership_change", args=[partnership.pk])


def test_a_source_is_named_by_its_title(admin_client, admin_user):
    changed_by(SourceFactory(title="Notat om venskabsbyer"), admin_user)

    [change] = admin_client.get(INDEX).context["dashboard"]["recent_changes"]

    assert change.label == "Notat om venskabsbyer"


def test_a_deleted_record_links_to_its_history(admin_client, admin_user):
    place = changed_by(PlaceFactory(name_en="Gone"), admin_user)
    pk = place.pk
    place._history_user = admin_user
    place.delete()

    [change] = admin_client.get(INDEX).context["dashboard"]["recent_changes"]

    assert change.deleted
    assert change.url == reverse("admin:places_place_history", args=[pk])


def test_records_due_for_review_are_counted_and_linked(admin_client):
    today = timezone.localdate()
    never = PlaceFactory(name_en="Never looked at")
    PlaceFactory(name_en="Long ago", last_reviewed_on=today - datetime.timedelta(days=400))
    PlaceFactory(name_en="Fresh", last_reviewed_on=today)
    OrganisationFactory(last_reviewed_on=today)

    page = admin_client.get(INDEX)
    due = {str(item.name): item for item in page.context["dashboard"]["due_for_review"]}

    assert due["places"].count == 2
    assert due["places"].url == reverse("admin:places_place_changelist") + "?review=stale"
    assert due["places"].records[0] == (
        "Never looked at",
        reverse("admin:places_place_change", args=[never.pk]),
    )
    assert "organisations" not in due
    listed = admin_client.get(due["places"].url).context["cl"].result_count
    assert listed == 2


def test_records_not_published_yet_are_counted_and_linked(admin_client):
    older = PlaceFactory(name_en="Older draft", publication="draft")
    PlaceFactory(name_en="Waiting", publication="ready")
    PlaceFactory(name_en="Out there")
    OrganisationFactory()

    page = admin_client.get(INDEX)
    drafts = {str(item.name): item for item in page.context["dashboard"]["drafts"]}

    assert set(drafts) == {"places"}
    assert drafts["places"].count == 2
    assert drafts["places"].records[0] == (
        "Older draft",
        reverse("admin:places_place_change", args=[older.pk]),
    )
    listed = admin_client.get(drafts["places"].url).context["cl"].result_list
    assert {str(place) for place in listed} == {"Older draft", "Waiting"}
    assert "Not published yet" in page.content.decode()


def test_the_last_imports_are_listed_with_a_link(admin_client, admin_user):
    batch = ImportBatch.objects.create(
        user=admin_user,
        content_type=ContentType.objects.get_for_model(Place),
        file_name="steder.xlsx",
        created_count=3,
        updated_count=1,
    )

    page = admin_client.get(INDEX)

    assert page.context["dashboard"]["last_imports"] == [batch]
    assert reverse("admin:core_importbatch_change", args=[batch.pk]) in page.content.decode()
    assert "steder.xlsx" in page.content.decode()


def test_staff_without_import_access_see_no_imports(viewer_client, editor_client):
    ImportBatch.objects.create(
        content_type=ContentType.objects.get_for_model(Place), file_name="secret.csv"
    )
    for client in (viewer_client, editor_client):
        page = client.get(INDEX)
        can_see = page.wsgi_request.user.has_perm("core.view_importbatch")
        assert ("secret.csv" in page.content.decode()) == can_see


@pytest.fixture
def no_quality_views():
    saved = list(admin.site.quality_views)
    admin.site.quality_views.clear()
    yield
    admin.site.quality_views[:] = saved


@pytest.mark.usefixtures("no_quality_views")
def test_data_quality_links_show_only_when_registered(editor_client):
    assert 'id="data-quality"' not in editor_client.get(INDEX).content.decode()

    admin.site.add_quality_view("Places without a source", "admin:places_place_changelist")
    admin.site.add_quality_view("Kept from you", "admin:index", permission="auth.delete_user")
    page = editor_client.get(INDEX).content.decode()

    assert 'id="data-quality"' in page
    assert "Places without a source" in page
    assert "Kept from you" not in page


def fill(user, size):
    today = timezone.localdate()
    for number in range(size):
        changed_by(PlaceFactory(), user)
        changed_by(OrganisationFactory(), user)
        changed_by(PartnershipFactory(), user)
        PlaceFactory(publication="draft")
        SourceFactory(last_reviewed_on=today - datetime.timedelta(days=500 + number))
        ImportBatch.objects.create(
            user=user, content_type=ContentType.objects.get_for_model(Place), file_name="x.csv"
        )


def test_the_dashboard_costs_the_same_number_of_queries_at_any_size(
    admin_client, admin_user, django_assert_max_num_queries
):
    fill(admin_user, 2)
    with CaptureQueriesContext(connection) as small:
        admin_client.get(INDEX)

    fill(admin_user, 25)
    with django_assert_max_num_queries(len(small.captured_queries)):
        page = admin_client.get(INDEX)
    assert len(page.context["dashboard"]["recent_changes"]) == 10
    assert page.context["dashboard"]["due_for_review"][-1].count == 27
    assert page.context["dashboard"]["drafts"][0].count == 27


def test_an_app_page_shows_its_models_without_the_dashboard(admin_client):
    PlaceFactory(name_en="Never looked at")

    page = admin_client.get(reverse("admin:app_list", args=["places"])).content.decode()

    assert 'id="due-for-review"' not in page
    assert 'id="recent-actions-module"' not in page
