"""Merging two places, organisations or partnerships, and undoing it (atlas.merging)."""

import re
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from atlas.merge_views import merge_two_selected
from core import versioning
from core.models import Merge, Source
from organisations.models import Organisation, OrganisationName
from partnerships.models import Event, Participant, Partnership
from places.models import Place, PlaceFigure, PlaceName

from .factories import (
    EventFactory,
    OrganisationFactory,
    OrganisationNameFactory,
    PartnershipFactory,
    PlaceFactory,
    PlaceFigureFactory,
    PlaceNameFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MERGE_URL = reverse("admin:atlas-merge")
# Columns a save rewrites whatever it changes; a partnership's revision moves with every
# write to it or its participants (partnerships.revisions).
VOLATILE = {"updated_at", "search_key", "updated_by_id", "revision"}


def dump(*models):
    """Every row of the models and of their many-to-many tables, without volatile columns."""
    rows = {}
    for model in models:
        fields = [f.attname for f in model._meta.concrete_fields if f.attname not in VOLATILE]
        rows[model._meta.label] = sorted(model._default_manager.values_list(*fields))
        for field in model._meta.many_to_many:
            through = field.remote_field.through
            # The link rows' own ids are no fact of the registry.
            links = [f.attname for f in through._meta.concrete_fields if not f.primary_key]
            rows[through._meta.label] = sorted(through.objects.values_list(*links))
    return rows


ALL_MODELS = (Place, PlaceName, PlaceFigure, Organisation, OrganisationName, Partnership)
ALL_MODELS += (Participant, Event)


def post_merge(client, kept, removed, keep="a", **fields):
    data = {"type": kept._meta.model_name, "a": kept.pk, "b": removed.pk, "keep": keep}
    data |= {f"field-{key}": side for key, side in fields.items()}
    return client.post(MERGE_URL, data)


@pytest.fixture
def ballerup():
    """Two records of one municipality, each with everything that can point at a place."""
    region = PlaceFactory(name_en="Capital Region", kind="region", country="DK")
    kept = PlaceFactory(
        name_en="Ballerup", name_da="Ballerup", kind="municipality", country="DK", parent=region
    )
    removed = PlaceFactory(
        name_en="Ballerup Municipality",
        name_da="Ballerup Kommune",
        native_name="Ballerup Kommune",
        kind="municipality",
        country="DK",
        latitude="55.73",
        longitude="12.36",
    )
    source = SourceFactory()
    removed.sources.add(source)
    PlaceNameFactory(place=removed, name="Balerup")
    PlaceFigureFactory(place=removed, value=48000, year=2011)
    child = PlaceFactory(name_en="Skovlunde", parent=removed, country="DK")
    capital_of = PlaceFactory(name_en="Ballerup area", capital=removed, country="DK")
    based = OrganisationFactory(name_en="Ballerup Library", place=removed)
    partnership = PartnershipFactory(parties=[removed, PlaceFactory()])
    event = EventFactory(partnership=partnership, place=removed)
    return {
        "kept": kept,
        "removed": removed,
        "source": source,
        "child": child,
        "capital_of": capital_of,
        "based": based,
        "partnership": partnership,
        "event": event,
    }


def test_merging_two_places_moves_everything_to_the_kept_one(editor_client, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    response = post_merge(editor_client, kept, removed, coordinates="b")

    assert response.status_code == 302
    assert response.url == reverse("admin:places_place_change", args=[kept.pk])
    assert not Place.objects.filter(pk=removed.pk).exists()
    kept.refresh_from_db()
    assert list(kept.sources.all()) == [ballerup["source"]]
    assert kept.figures.get().value == 48000
    assert Place.objects.get(pk=ballerup["child"].pk).parent == kept
    assert Place.objects.get(pk=ballerup["capital_of"].pk).capital == kept
    assert Organisation.objects.get(pk=ballerup["based"].pk).place == kept
    assert ballerup["partnership"].participants.filter(place=kept).exists()
    assert Event.objects.get(pk=ballerup["event"].pk).place == kept
    # The chosen value came from the removed record; the rest stayed the kept one's.
    assert (kept.latitude, kept.name_en, kept.parent.name_en) == (
        Decimal("55.730000"),
        "Ballerup",
        "Capital Region",
    )
    # Its names became other names, once each, each in its language.
    names = dict(kept.other_names.values_list("name", "language"))
    assert names == {"Balerup": "", "Ballerup Municipality": "en", "Ballerup Kommune": "da"}
    assert Place.objects.search("Ballerup Municipality").get() == kept


def test_a_merge_is_one_history_entry_on_each_record(editor_client, editor, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    entries_before = kept.history.count()
    post_merge(editor_client, kept, removed)

    assert kept.history.count() == entries_before + 1
    entry = kept.history.latest("history_date")
    assert (entry.history_type, entry.history_user) == ("~", editor)
    assert entry.history_change_reason == "merge with Ballerup Municipality"
    deletion = Place.history.filter(id=removed.pk).latest("history_date")
    assert (deletion.history_type, deletion.history_user) == ("-", editor)
    assert deletion.history_change_reason == "merge with Ballerup"
    merge = Merge.objects.get()
    assert (merge.kept_id, merge.removed_id, merge.removed_slug, merge.merged_by) == (
        kept.pk,
        removed.pk,
        removed.slug,
        editor,
    )


def test_the_removed_address_redirects_until_the_merge_is_undone(client, editor, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    client.force_login(editor)
    post_merge(client, kept, removed)
    client.logout()

    for language in ("en", "da"):
        response = client.get(f"/{language}/places/{removed.slug}/")
        assert response.status_code == 301
        assert response.url == f"/{language}/places/{kept.slug}/"

    client.force_login(editor)
    client.post(reverse("admin:atlas-merge-undo", args=[Merge.objects.get().pk]))
    client.logout()
    assert client.get(f"/en/places/{removed.slug}/").status_code == 200


def test_the_kept_record_may_take_the_other_ones_publication(editor_client, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    Place.objects.filter(pk=kept.pk).update(publication="draft")

    assert post_merge(editor_client, kept, removed, publication="b").status_code == 302

    kept.refresh_from_db()
    assert kept.is_published and kept.sources.get() == ballerup["source"]


def test_a_merge_publishes_nothing_without_a_source(editor_client):
    kept = PlaceFactory(name_en="Ballerup", country="DK", publication="draft")
    removed = PlaceFactory(name_en="Ballerup Municipality", country="DK")
    before = dump(*ALL_MODELS)

    answer = post_merge(editor_client, kept, removed, publication="b")

    assert answer.status_code == 200
    assert "no source" in answer.content.decode()
    assert dump(*ALL_MODELS) == before


def test_a_later_merge_of_the_kept_record_is_followed(editor_client):
    first, second, third = (PlaceFactory() for _ in range(3))
    post_merge(editor_client, second, first)
    post_merge(editor_client, third, second)

    response = editor_client.get(f"/en/places/{first.slug}/")
    assert (response.status_code, response.url) == (301, third.get_absolute_url())


def test_undo_restores_every_row_as_it_was(editor_client, editor, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    PlaceNameFactory(place=kept, name="Balerup Kommune")
    shared = PartnershipFactory(parties=[kept, removed])
    before = dump(*ALL_MODELS)
    version = versioning.current()[0]

    post_merge(editor_client, kept, removed, coordinates="b", name_da="b", parent="b")
    assert dump(*ALL_MODELS) != before
    assert versioning.current()[0] > version
    merge = Merge.objects.get()
    version = versioning.current()[0]

    response = editor_client.post(reverse("admin:atlas-merge-undo", args=[merge.pk]))

    assert response.status_code == 302
    assert dump(*ALL_MODELS) == before
    assert versioning.current()[0] > version
    restored = Place.objects.get(pk=removed.pk)
    assert (restored.slug, restored.name_en) == (removed.slug, "Ballerup Municipality")
    assert shared.participants.count() == 2
    merge.refresh_from_db()
    assert merge.undone_by == editor and merge.undone_at is not None
    assert Place.objects.get(pk=kept.pk).search_key == kept.search_key
    assert restored.history.latest("history_date").history_change_reason == (
        "undo merge with Ballerup Municipality"
    )


def test_a_partnership_both_take_part_in_keeps_one_participant(editor_client):
    kept, removed, other = PlaceFactory(), PlaceFactory(), PlaceFactory()
    shared = PartnershipFactory(parties=[kept, removed, other])
    kept_row = shared.participants.get(place=kept)

    post_merge(editor_client, kept, removed)

    assert list(shared.participants.order_by("pk")) == [
        kept_row,
        shared.participants.get(place=other),
    ]
    dropped = Merge.objects.get().snapshot["dropped"]
    assert [(row["model"], row["fields"]["place"]) for row in dropped] == [
        ("partnerships.participant", removed.pk)
    ]


def test_a_place_cannot_be_merged_into_a_place_inside_it(editor_client):
    removed = PlaceFactory(name_en="Jiangsu")
    inside = PlaceFactory(name_en="Nanjing", parent=removed)
    kept = PlaceFactory(name_en="Jiangsu Province", parent=inside)
    before = dump(Place, PlaceName)

    response = post_merge(editor_client, kept, removed)

    assert response.status_code == 200
    assert "after the merge it would lie inside itself" in response.content.decode()
    assert dump(Place, PlaceName) == before and not Merge.objects.exists()
    # Keeping the removed record's own "part of" instead is fine.
    assert post_merge(editor_client, kept, removed, parent="b").status_code == 302
    assert Place.objects.get(pk=inside.pk).parent_id == kept.pk


def test_the_kept_record_cannot_stay_inside_the_removed_one(editor_client):
    removed = PlaceFactory()
    kept = PlaceFactory(parent=removed)
    response = post_merge(editor_client, kept, removed)
    assert "would lie inside itself" in response.content.decode()
    assert Place.objects.filter(pk=removed.pk).exists()


def test_merging_organisations(editor_client):
    kept = OrganisationFactory(name_en="Aarhus University", short_name="AU")
    removed = OrganisationFactory(
        name_en="University of Aarhus", name_da="Aarhus Universitet", website="https://au.dk"
    )
    OrganisationNameFactory(organisation=removed, name="AAU")
    OrganisationNameFactory(organisation=kept, name="AAU")
    part = OrganisationFactory(parent=removed)
    source = SourceFactory()
    removed.sources.add(source)
    partnership = PartnershipFactory(parties=[removed, PlaceFactory()])
    before = dump(*ALL_MODELS)

    post_merge(editor_client, kept, removed, website="b")

    kept.refresh_from_db()
    assert kept.website == "https://au.dk"
    assert Organisation.objects.get(pk=part.pk).parent == kept
    assert partnership.participants.filter(organisation=kept).exists()
    assert list(kept.sources.all()) == [source]
    assert sorted(kept.other_names.values_list("name", flat=True)) == [
        "AAU",
        "Aarhus Universitet",
        "University of Aarhus",
    ]
    editor_client.post(reverse("admin:atlas-merge-undo", args=[Merge.objects.get().pk]))
    assert dump(*ALL_MODELS) == before


def test_merging_partnerships_keeps_events_themes_and_sources(editor_client):
    aarhus, harbin = PlaceFactory(), PlaceFactory()
    kept = PartnershipFactory(parties=[aarhus, harbin])
    removed = PartnershipFactory(parties=[harbin, aarhus])
    theme, source = ThemeFactory(), SourceFactory()
    removed.themes.add(theme)
    removed.sources.add(source)
    event = EventFactory(partnership=removed)
    before = dump(*ALL_MODELS)

    response = post_merge(editor_client, kept, removed)

    assert response.status_code == 302
    assert not Partnership.objects.filter(pk=removed.pk).exists()
    assert list(kept.themes.all()) == [theme] and list(kept.sources.all()) == [source]
    assert Event.objects.get(pk=event.pk).partnership == kept
    assert sorted(kept.participants.values_list("place_id", flat=True)) == [aarhus.pk, harbin.pk]
    editor_client.post(reverse("admin:atlas-merge-undo", args=[Merge.objects.get().pk]))
    assert dump(*ALL_MODELS) == before


def test_undo_is_refused_when_later_edits_stand_in_its_way(editor_client, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    post_merge(editor_client, kept, removed, coordinates="b")
    merge = Merge.objects.get()
    moved_name = PlaceName.objects.get(name="Balerup")
    moved_name.place = PlaceFactory()
    moved_name.save()
    Place.objects.filter(pk=kept.pk).update(latitude=1, longitude=1)
    newcomer = PlaceFactory(slug=removed.slug)
    before = dump(*ALL_MODELS)

    response = editor_client.post(reverse("admin:atlas-merge-undo", args=[merge.pk]), follow=True)

    text = response.content.decode()
    assert "The merge cannot be undone" in text
    assert "1 of the other names moved by the merge were deleted or moved since" in text
    assert "latitude, longitude of Ballerup changed since the merge" in text
    assert f"is now used by {newcomer}" in text
    assert dump(*ALL_MODELS) == before
    merge.refresh_from_db()
    assert merge.undone_at is None


def test_an_undone_merge_cannot_be_undone_again(editor_client, ballerup):
    post_merge(editor_client, ballerup["kept"], ballerup["removed"])
    url = reverse("admin:atlas-merge-undo", args=[Merge.objects.get().pk])
    editor_client.post(url)
    before = dump(*ALL_MODELS)
    response = editor_client.post(url, follow=True)
    assert "This merge has already been undone." in response.content.decode()
    assert dump(*ALL_MODELS) == before


def test_an_undo_sent_again_during_the_undo_does_nothing(
    editor_client, editor, ballerup, monkeypatch
):
    # A second click, arriving while the first undo writes. It read the merge as not
    # undone and tried to restore the removed record a second time.
    from atlas import merging

    post_merge(editor_client, ballerup["kept"], ballerup["removed"])
    url = reverse("admin:atlas-merge-undo", args=[Merge.objects.get().pk])
    clicks, seconds = [], []
    restore = merging.restore

    def with_a_second_click(*args):
        if not clicks:
            clicks.append("second")
            seconds.append(editor_client.post(url, follow=True))
        return restore(*args)

    monkeypatch.setattr(merging, "restore", with_a_second_click)
    first = editor_client.post(url, follow=True)

    assert "The merge was undone" in first.content.decode()
    (second,) = seconds
    assert "This merge has already been undone." in second.content.decode()
    merge = Merge.objects.get()
    assert merge.undone_at is not None and merge.undone_by == editor
    assert Place.objects.filter(pk=ballerup["removed"].pk).exists()


def test_a_record_saved_since_the_merge_screen_was_shown_refuses_the_merge(editor_client, ballerup):
    # The editor chose values on the screen; another save then changed one of the two,
    # and the merge went on with values nobody was shown.
    kept, removed = ballerup["kept"], ballerup["removed"]
    page = editor_client.get(
        MERGE_URL, {"type": "place", "a": kept.pk, "b": removed.pk}
    ).content.decode()
    shown = dict(re.findall(r'name="(version-[ab])" value="([^"]+)"', page))
    assert set(shown) == {"version-a", "version-b"}
    removed.refresh_from_db()
    removed.description = "Written by a colleague meanwhile"
    removed.save()
    data = {"type": "place", "a": kept.pk, "b": removed.pk, "keep": "a", **shown}

    response = editor_client.post(MERGE_URL, data)

    assert response.status_code == 200
    assert (
        "Ballerup Municipality was saved since this page was shown. Check the values below "
        "and merge again."
    ) in response.content.decode()
    assert not Merge.objects.exists()
    assert Place.objects.filter(pk=removed.pk).exists()
    # The screen shown again carries the versions as they are now.
    data |= dict(re.findall(r'name="(version-[ab])" value="([^"]+)"', response.content.decode()))
    assert editor_client.post(MERGE_URL, data).status_code == 302
    assert not Place.objects.filter(pk=removed.pk).exists()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize(
    "key, message",
    [
        ("", "Choose the two records to merge."),
        ("abc", "Choose the two records to merge."),
        # str.isdigit() takes a superscript two, which int() refuses.
        ("²", "Choose the two records to merge."),
        # Past what the database holds: SQLite could not take it.
        ("9" * 30, "Choose the two records to merge."),
        ("0", "One of the two records no longer exists."),
    ],
)
def test_a_merge_of_a_record_the_address_cannot_name_changes_nothing(
    editor_client, ballerup, method, key, message
):
    before = dump(*ALL_MODELS)
    kept = ballerup["kept"]
    data = {"type": "place", "a": kept.pk, "b": key, "keep": "a"}
    response = getattr(editor_client, method)(MERGE_URL, data, follow=True)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert dump(*ALL_MODELS) == before


def test_a_merge_reads_the_keys_as_numbers(editor_client, ballerup):
    # "٣" is a number to Python, as to the database's key: the merge screen opens.
    kept, removed = ballerup["kept"], ballerup["removed"]
    arabic = str(removed.pk).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    response = editor_client.get(MERGE_URL, {"type": "place", "a": kept.pk, "b": arabic})
    assert response.status_code == 200
    assert "Ballerup Kommune" in response.content.decode()


def test_the_merge_screen_shows_both_records_side_by_side(editor_client, ballerup):
    kept, removed = ballerup["kept"], ballerup["removed"]
    response = editor_client.get(MERGE_URL, {"type": "place", "a": kept.pk, "b": removed.pk})
    text = response.content.decode()
    assert response.status_code == 200
    assert "Name in Danish" in text and "Ballerup Kommune" in text
    # The kept record has no coordinates, so the removed one's are proposed.
    assert 'name="field-coordinates" value="b" checked' in text
    assert "1 other name," in text or "1 other name<" in text


@pytest.mark.parametrize(
    "query",
    [
        {"type": "country", "a": "1", "b": "2"},
        {"type": "place", "a": "x", "b": "2"},
        {"type": "place", "a": "1", "b": "1"},
        {"type": "place", "a": "1", "b": "999999"},
    ],
)
def test_bad_input_gets_a_message_and_changes_nothing(editor_client, query):
    PlaceFactory(pk=1)
    PlaceFactory(pk=2)
    before = dump(Place)
    response = editor_client.post(MERGE_URL, {**query, "keep": "a"}, follow=True)
    assert response.status_code == 200
    assert response.context["messages"]
    assert dump(Place) == before and not Merge.objects.exists()


def test_a_bad_choice_changes_nothing(editor_client):
    kept, removed = PlaceFactory(), PlaceFactory()
    for data in ({"keep": "c"}, {"keep": "a", "field-kind": "z"}):
        response = editor_client.post(
            MERGE_URL, {"type": "place", "a": kept.pk, "b": removed.pk, **data}
        )
        assert "Choose the record that stays" in response.content.decode()
    assert Place.objects.count() == 2


def test_who_may_merge_and_undo(client, editor, viewer):
    kept, removed = PlaceFactory(), PlaceFactory()
    query = {"type": "place", "a": kept.pk, "b": removed.pk}
    undo_merge = Merge.objects.create(
        content_type=ContentType.objects.get_for_model(Place),
        kept_id=kept.pk,
        removed_id=removed.pk,
        removed_slug="x",
    )
    undo_url = reverse("admin:atlas-merge-undo", args=[undo_merge.pk])

    response = client.get(MERGE_URL, query)
    assert response.status_code == 302 and "/login/" in response.url
    assert client.post(MERGE_URL, {**query, "keep": "a"}).status_code == 302
    assert client.get(reverse("admin:atlas-merges")).status_code == 302
    assert Place.objects.count() == 2

    client.force_login(UserFactory(is_staff=True))
    assert client.get(MERGE_URL, query).status_code == 403
    assert client.post(MERGE_URL, {**query, "keep": "a"}).status_code == 403
    assert client.get(reverse("admin:atlas-merges")).status_code == 403

    client.force_login(viewer)
    assert client.get(MERGE_URL, query).status_code == 403
    assert client.post(MERGE_URL, {**query, "keep": "a"}).status_code == 403
    assert client.get(reverse("admin:atlas-merges")).status_code == 200
    assert client.post(undo_url).status_code == 403
    assert Place.objects.count() == 2

    client.force_login(editor)
    assert client.get(MERGE_URL, query).status_code == 200
    assert client.get(undo_url).status_code == 405
    assert client.post(MERGE_URL, {**query, "keep": "a"}).status_code == 302
    assert Place.objects.count() == 1


def test_change_permission_on_organisations_does_not_merge_places(client):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="change_organisation"))
    client.force_login(user)
    kept, removed = PlaceFactory(), PlaceFactory()
    assert post_merge(client, kept, removed).status_code == 403
    assert Place.objects.count() == 2


def test_the_list_of_merges_offers_undo(editor_client, ballerup):
    post_merge(editor_client, ballerup["kept"], ballerup["removed"])
    response = editor_client.get(reverse("admin:atlas-merges"))
    text = response.content.decode()
    assert "Ballerup Municipality" in text
    assert reverse("admin:atlas-merge-undo", args=[Merge.objects.get().pk]) in text
    assert (
        reverse("admin:atlas-merges") in editor_client.get(reverse("admin:index")).content.decode()
    )


def test_the_changelist_action_opens_the_merge_screen(editor_client, monkeypatch):
    place_admin = admin.site._registry[Place]
    monkeypatch.setattr(place_admin, "actions", [*place_admin.actions, merge_two_selected])
    first, second, third = PlaceFactory(), PlaceFactory(), PlaceFactory()
    changelist = reverse("admin:places_place_changelist")

    response = editor_client.post(
        changelist, {"action": "merge_two_selected", "_selected_action": [first.pk, second.pk]}
    )
    assert response.status_code == 302
    assert response.url.startswith(MERGE_URL + "?type=place&a=")
    assert {response.url.split("&a=")[1].split("&")[0], response.url.split("&b=")[1]} == {
        str(first.pk),
        str(second.pk),
    }

    response = editor_client.post(
        changelist,
        {"action": "merge_two_selected", "_selected_action": [first.pk, second.pk, third.pk]},
        follow=True,
    )
    assert "Select exactly two records to merge." in response.content.decode()
    assert Place.objects.count() == 3


def test_the_source_of_a_figure_is_untouched(editor_client):
    # A figure's source is not the place's: merging two places moves the figure, not it.
    kept, removed = PlaceFactory(), PlaceFactory()
    figure = PlaceFigureFactory(place=removed)
    post_merge(editor_client, kept, removed)
    assert PlaceFigure.objects.get(pk=figure.pk).source == figure.source
    assert Source.objects.count() == 1
