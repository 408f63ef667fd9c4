"""Drafts and publishing for staff: the model rule, the admin, the import and the seed."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from core.history import PUBLISHED, UNPUBLISHED
from core.models import Publication
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    UserFactory,
)
from tests.importing.conftest import csv_bytes
from tests.test_admin import inline_management

pytestmark = pytest.mark.django_db

NO_SOURCE = "It has no source: add at least one source before publishing."
CHANGELIST = reverse("admin:places_place_changelist")


def draft(factory=PlaceFactory, sourced=True, **fields):
    record = factory(publication=Publication.DRAFT, **fields)
    if sourced:
        record.sources.add(SourceFactory())
    return record


def reasons(record):
    return [
        (row.history_change_reason, row.history_user)
        for row in record.history.order_by("history_date", "history_id")
    ]


# The model rule -------------------------------------------------------------------------
@pytest.mark.parametrize("factory", [PlaceFactory, OrganisationFactory, PartnershipFactory])
def test_publishing_needs_a_source_and_is_in_the_history(factory, editor):
    record = draft(factory, sourced=False)

    with pytest.raises(ValidationError) as refused:
        record.publish(editor)
    assert refused.value.messages == [NO_SOURCE]
    record.refresh_from_db()
    assert record.publication == Publication.DRAFT

    record.sources.add(SourceFactory())
    record.publish(editor)
    record.unpublish(editor)

    record.refresh_from_db()
    assert record.publication == Publication.DRAFT
    assert reasons(record)[-2:] == [(PUBLISHED, editor), (UNPUBLISHED, editor)]
    assert record.history.order_by("history_date", "history_id")[1].publication == "published"


def test_sources_a_form_is_about_to_save_count():
    record = draft(sourced=False)

    assert record.publish_problems(sources=[SourceFactory()]) == []
    assert record.publish_problems(sources=[]) == [NO_SOURCE]
    assert Place(publication=Publication.DRAFT).publish_problems() == [NO_SOURCE]


@pytest.fixture
def review(settings):
    settings.ATLAS_PUBLISH_NEEDS_REVIEW = True


def test_with_review_someone_else_publishes_what_an_editor_marked_ready(review, editor):
    record = draft()
    other = UserFactory(username="second", is_staff=True)

    with pytest.raises(ValidationError) as refused:
        record.publish(editor)
    assert refused.value.messages == [
        "It must be marked ready for review before someone else publishes it."
    ]

    record.set_publication(Publication.READY, editor)
    with pytest.raises(ValidationError) as refused:
        record.publish(editor)
    assert refused.value.messages == [
        "You marked it ready for review: someone else must publish it."
    ]

    record.publish(other)
    record.refresh_from_db()
    assert record.is_published
    assert reasons(record)[-2:] == [("Ready for review", editor), (PUBLISHED, other)]


def test_without_review_an_editor_publishes_directly(settings, editor):
    settings.ATLAS_PUBLISH_NEEDS_REVIEW = False
    record = draft()

    record.publish(editor)

    assert Place.objects.get(pk=record.pk).is_published


# The admin --------------------------------------------------------------------------------
def place_form(record, **fields):
    return {
        "name_en": record.name_en,
        "slug": record.slug,
        "kind": record.kind,
        "country": str(record.country),
        **inline_management("other_names"),
        **inline_management("figures"),
        **fields,
    }


def test_the_change_form_starts_with_the_publication(editor_client):
    record = draft()

    page = editor_client.get(reverse("admin:places_place_change", args=[record.pk]))

    fieldsets = page.context["adminform"].fieldsets
    assert fieldsets[0][1]["fields"] == ["publication"]


def test_publishing_in_the_form_without_a_source_says_what_is_missing(editor_client):
    record = draft(sourced=False)
    url = reverse("admin:places_place_change", args=[record.pk])

    page = editor_client.post(url, place_form(record, publication="published"))

    assert page.status_code == 200
    assert page.context["adminform"].form.errors["publication"] == [NO_SOURCE]
    record.refresh_from_db()
    assert record.publication == Publication.DRAFT


def test_publishing_in_the_form_with_a_source_is_in_the_history(editor_client, editor):
    record = draft(sourced=False)
    source = SourceFactory()
    url = reverse("admin:places_place_change", args=[record.pk])

    page = editor_client.post(
        url, place_form(record, publication="published", sources=[str(source.pk)])
    )

    assert page.status_code == 302, page.context["adminform"].form.errors
    record.refresh_from_db()
    assert record.is_published
    assert reasons(record)[-1] == (PUBLISHED, editor)


def test_the_form_refuses_to_take_the_last_source_off_a_published_record(editor_client):
    record = PlaceFactory()
    record.sources.add(SourceFactory())
    url = reverse("admin:places_place_change", args=[record.pk])

    page = editor_client.post(url, place_form(record, publication="published"))

    assert page.context["adminform"].form.errors["publication"] == [NO_SOURCE]
    assert record.sources.count() == 1


def test_a_form_without_the_field_keeps_the_state(editor_client):
    record = draft(sourced=False)
    url = reverse("admin:places_place_change", args=[record.pk])

    page = editor_client.post(url, place_form(record, name_en="Renamed"))

    assert page.status_code == 302
    record.refresh_from_db()
    assert record.name_en == "Renamed" and record.publication == Publication.DRAFT


def test_with_review_the_form_refuses_to_publish_a_draft(review, editor_client):
    record = draft()
    url = reverse("admin:places_place_change", args=[record.pk])
    data = place_form(
        record,
        publication="published",
        sources=[str(pk) for pk in record.sources.values_list("pk", flat=True)],
    )

    page = editor_client.post(url, data)

    assert page.context["adminform"].form.errors["publication"] == [
        "It must be marked ready for review before someone else publishes it."
    ]


def test_the_changelist_shows_and_filters_the_publication(editor_client):
    shown = draft(name_en="Draft town")
    PlaceFactory(name_en="Published town")

    page = editor_client.get(CHANGELIST + "?publication__exact=draft")

    assert list(page.context["cl"].result_list) == [shown]
    everything = editor_client.get(CHANGELIST).content.decode()
    # The badge marks the draft alone, inside its name's link.
    assert everything.count('class="atlas-draft"') == 1
    assert 'Draft town <span class="atlas-draft">draft</span></a>' in everything
    assert "Published town</a>" in everything


def test_the_publish_action_refuses_records_without_a_source(editor_client, editor):
    ready = draft(name_en="Sourced town")
    unsourced = draft(name_en="Bare town", sourced=False)

    page = editor_client.post(
        CHANGELIST,
        {"action": "publish_selected", "_selected_action": [ready.pk, unsourced.pk]},
        follow=True,
    )

    texts = [str(message) for message in page.context["messages"]]
    assert "1 record published." in texts
    assert any("Bare town: " + NO_SOURCE in text for text in texts)
    ready.refresh_from_db()
    unsourced.refresh_from_db()
    assert ready.is_published and not unsourced.is_published
    assert reasons(ready)[-1] == (PUBLISHED, editor)


def test_the_unpublish_action(editor_client, editor):
    record = PlaceFactory()

    editor_client.post(
        CHANGELIST, {"action": "unpublish_selected", "_selected_action": [record.pk]}
    )

    record.refresh_from_db()
    assert record.publication == Publication.DRAFT
    assert reasons(record)[-1] == (UNPUBLISHED, editor)


def test_viewers_have_no_publish_actions(viewer_client):
    PlaceFactory()

    page = viewer_client.get(CHANGELIST)

    assert page.status_code == 200
    assert b"publish_selected" not in page.content


# The import -------------------------------------------------------------------------------
def import_places(tmp_path, lines, *args):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes(lines))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", "places", str(path), *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_new_records_arrive_as_drafts_by_default(tmp_path):
    import_places(tmp_path, [["name", "kind", "country"], ["Nanjing", "city", "CN"]])

    assert Place.objects.get().publication == Publication.DRAFT


def test_publish_publishes_new_records_with_a_source(tmp_path):
    import_places(
        tmp_path,
        [["name", "kind", "country", "source"], ["Nanjing", "city", "CN", "Background note"]],
        "--publish",
    )

    place = Place.objects.get()
    assert place.is_published and place.sources.count() == 1


def test_a_published_row_without_a_source_is_a_row_error(tmp_path):
    path = tmp_path / "places.csv"
    path.write_bytes(csv_bytes([["name", "kind", "country"], ["Nanjing", "city", "CN"]]))
    err = io.StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("import_records", "places", str(path), "--publish", stderr=err)
    assert failed.value.returncode == 1
    assert "row 2" in err.getvalue() and NO_SOURCE in err.getvalue()


def test_existing_records_keep_their_state_unless_a_column_says_otherwise(tmp_path):
    kept = draft(name_en="Wuxi", kind="city", country="CN")
    published = draft(name_en="Suzhou", kind="city", country="CN")

    import_places(
        tmp_path,
        [
            ["name", "kind", "country", "description", "publication"],
            ["Wuxi", "city", "CN", "A city in Jiangsu", ""],
            ["Suzhou", "city", "CN", "", "published"],
        ],
        "--publish",
    )

    kept.refresh_from_db()
    published.refresh_from_db()
    assert kept.publication == Publication.DRAFT and kept.description_en == "A city in Jiangsu"
    assert published.is_published


def test_a_publication_column_cannot_publish_a_record_without_a_source(tmp_path):
    record = draft(name_en="Wuxi", kind="city", country="CN", sourced=False)

    with pytest.raises(CommandError):
        import_places(
            tmp_path,
            [["name", "kind", "country", "publication"], ["Wuxi", "city", "CN", "published"]],
        )

    record.refresh_from_db()
    assert record.publication == Publication.DRAFT


def test_the_import_form_publishes_new_records_when_asked(editor_client, settings, tmp_path):
    settings.ATLAS_IMPORT_UPLOAD_DIR = str(tmp_path)
    data = csv_bytes(
        [["name", "kind", "country", "source"], ["Nanjing", "city", "CN", "Background note"]]
    )
    upload = io.BytesIO(data)
    upload.name = "places.csv"

    preview = editor_client.post(
        reverse("admin:places_place_import"), {"file": upload, "language": "en", "publish": "on"}
    )
    assert preview.status_code == 200
    editor_client.post(
        reverse("admin:places_place_import_confirm"), {"token": preview.context["token"]}
    )

    assert Place.objects.get().is_published


def test_the_source_import_form_has_no_publish_box(editor_client):
    page = editor_client.get(reverse("admin:core_source_import"))

    assert page.status_code == 200
    assert "publish" not in page.context["form"].fields


# The seed ---------------------------------------------------------------------------------
def test_every_seed_record_is_published():
    call_command("loaddata", "seed", verbosity=0)

    for model in (Place, Organisation, Partnership):
        assert model.objects.exists()
        assert not model.objects.exclude(publication=Publication.PUBLISHED).exists()


def test_creating_a_published_partnership_needs_a_source():
    from partnerships.services import partnership_create

    fields = {"title": "Twins", "kind": Partnership.Kind.OTHER, "publication": "published"}
    parties = [{"place": PlaceFactory()}, {"place": PlaceFactory()}]
    with pytest.raises(ValidationError) as refused:
        partnership_create(participants=parties, **fields)
    assert refused.value.message_dict == {"publication": [NO_SOURCE]}
    assert not Partnership.objects.exists()

    partnership = partnership_create(participants=parties, sources=[SourceFactory()], **fields)
    assert partnership.is_published
