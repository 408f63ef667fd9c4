import datetime

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from core.permissions import EDITORS
from partnerships.models import Partnership, Theme
from places.models import Place
from tests.factories import (
    OrganisationFactory,
    PartnershipFactory,
    PlaceFactory,
    SourceFactory,
    ThemeFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ENDPOINTS = ["places", "organisations", "partnerships", "themes", "sources"]


def new_record(endpoint):
    """A valid body for a POST, and the record the detail requests work on."""
    if endpoint == "places":
        return {"name": "Suzhou", "kind": "city", "country": "CN"}, PlaceFactory()
    if endpoint == "organisations":
        return {"name": "DTU", "kind": "university", "country": "DK"}, OrganisationFactory()
    if endpoint == "partnerships":
        first, second = PlaceFactory(), PlaceFactory()
        body = {
            "title": "New tie",
            "kind": "sister_city",
            "participants": [{"place": first.slug}, {"place": second.slug}],
        }
        return body, PartnershipFactory()
    if endpoint == "themes":
        return {"name": "Water", "slug": "water"}, ThemeFactory()
    return {"title": "A new report"}, SourceFactory()


def detail_url(endpoint, record):
    key = record.pk if endpoint == "sources" else record.slug
    return f"/api/{endpoint}/{key}/"


@pytest.fixture(params=["anonymous", "user", "viewer", "editor", "superuser"])
def who(request, api):
    role = request.param
    if role == "user":
        api.force_authenticate(UserFactory(username="someone"))
    elif role == "viewer":
        api.force_authenticate(request.getfixturevalue("viewer"))
    elif role == "editor":
        api.force_authenticate(request.getfixturevalue("editor"))
    elif role == "superuser":
        api.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    return role


# Who may do what: anyone reads; Editors add and change; only superusers delete.
EXPECTED = {
    "anonymous": {"post": {401}, "patch": {401}, "delete": {401}},
    "user": {"post": {403}, "patch": {403}, "delete": {403}},
    "viewer": {"post": {403}, "patch": {403}, "delete": {403}},
    "editor": {"post": {201}, "patch": {200}, "delete": {403}},
    "superuser": {"post": {201}, "patch": {200}, "delete": {204}},
}


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_permission_matrix(api, who, endpoint):
    body, record = new_record(endpoint)
    url = detail_url(endpoint, record)
    assert api.get(f"/api/{endpoint}/").status_code == 200
    assert api.get(url).status_code == 200

    assert api.post(f"/api/{endpoint}/", body, format="json").status_code in EXPECTED[who]["post"]
    patch = {"description": "Changed"} if endpoint not in ("sources",) else {"notes": "Changed"}
    assert api.patch(url, patch, format="json").status_code in EXPECTED[who]["patch"]
    assert api.delete(url).status_code in EXPECTED[who]["delete"]


def test_a_token_writes_and_the_history_names_the_author(api):
    editor = UserFactory(username="tokened", is_staff=True)
    editor.groups.add(Group.objects.get(name=EDITORS))
    token = Token.objects.create(user=editor)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    response = api.post("/api/places/", {"name": "Wuxi", "kind": "city", "country": "CN"})
    assert response.status_code == 201, response.json()
    place = Place.objects.get(slug="wuxi")
    assert (place.created_by, place.updated_by) == (editor, editor)
    assert place.history.get().history_user == editor

    response = api.patch("/api/places/wuxi/", {"native_name": "无锡"})
    assert response.status_code == 200
    newest = place.history.first()
    assert (newest.native_name, newest.history_user) == ("无锡", editor)
    assert Place.objects.search("无锡").get() == place

    # A theme names its author too (it has no creator of its own), and says when it
    # last changed, as a record does.
    created = api.post("/api/themes/", {"name": "Water", "slug": "water"})
    assert created.status_code == 201
    changed = api.patch("/api/themes/water/", {"description": "Clean", "updated_at": "2001"})
    assert changed.status_code == 200
    theme = Theme.objects.get(slug="water")
    assert (theme.description, theme.updated_by) == ("Clean", editor)
    stamped = datetime.datetime.fromisoformat(changed.json()["updated_at"])
    assert stamped == theme.updated_at  # what was written, not what was sent
    assert stamped > datetime.datetime.fromisoformat(created.json()["updated_at"])


def test_a_partnership_is_created_through_the_service_with_its_participants(api, editor):
    api.force_authenticate(editor)
    place = PlaceFactory(slug="wuxi")
    organisation = OrganisationFactory(slug="au")
    ThemeFactory(slug="education")
    source = SourceFactory()
    response = api.post(
        "/api/partnerships/",
        {
            "title": "Wuxi–AU",
            "kind": "cooperation",
            "start": "c. 1985",
            "participants": [{"place": "wuxi", "role": "host"}, {"organisation": "au"}],
            "themes": ["education"],
            "sources": [source.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert [p["slug"] for p in body["participants"]] == ["wuxi", "au"]
    assert body["start"]["circa"] is True
    partnership = Partnership.objects.get(slug=body["slug"])
    assert {p.party for p in partnership.participants.all()} == {place, organisation}
    assert partnership.created_by == editor
    assert partnership.history.get().history_user == editor


def test_one_participant_is_refused_with_the_admins_message(api, editor):
    api.force_authenticate(editor)
    body = {
        "title": "Alone",
        "kind": "cooperation",
        "participants": [{"place": PlaceFactory().slug}],
    }
    response = api.post("/api/partnerships/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["A partnership needs at least 2 participants."]}
    assert not Partnership.objects.exists()


def test_an_end_before_the_start_is_refused_with_the_admins_message(api, editor):
    api.force_authenticate(editor)
    partnership = PartnershipFactory(slug="tie", start="2010")
    response = api.patch("/api/partnerships/tie/", {"end": "2005"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"end": ["The end (2005) lies before the start (2010)."]}
    partnership.refresh_from_db()
    assert partnership.end is None


def test_model_validation_runs_as_in_the_admin(api, editor):
    api.force_authenticate(editor)
    response = api.post(
        "/api/places/",
        {"name": "Half", "kind": "city", "country": "CN", "latitude": "10.0"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": ["Give both latitude and longitude, or neither."]
    }
    response = api.patch(
        "/api/partnerships/" + PartnershipFactory().slug + "/", {"start": "someday"}, format="json"
    )
    assert response.status_code == 400
    assert "is not a date this registry understands" in response.json()["start"][0]


def test_a_place_cannot_lie_inside_itself(api, editor):
    api.force_authenticate(editor)
    parent = PlaceFactory(slug="jiangsu")
    PlaceFactory(slug="wuxi", parent=parent)
    response = api.patch("/api/places/jiangsu/", {"parent": "wuxi"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "parent": ["A place cannot lie inside itself or inside a place it contains."]
    }


def test_participants_are_not_replaced_on_update(api, editor):
    api.force_authenticate(editor)
    partnership = PartnershipFactory(slug="tie")
    response = api.patch(
        "/api/partnerships/tie/", {"participants": [{"place": PlaceFactory().slug}]}, format="json"
    )
    assert response.status_code == 400
    assert partnership.participants.count() == 2


def test_an_update_answers_with_the_relations_it_wrote(api, editor):
    # Reads take a record's relations from lists read with it; an update answers from
    # the relations themselves, as they are once written.
    api.force_authenticate(editor)
    partnership = PartnershipFactory(slug="tie")
    partnership.themes.add(ThemeFactory(slug="water"))
    partnership.sources.add(SourceFactory(title="Old report"))
    ThemeFactory(slug="education")
    new_source = SourceFactory(title="New report")
    response = api.patch(
        "/api/partnerships/tie/",
        {"themes": ["education"], "sources": [new_source.pk]},
        format="json",
    )
    assert response.status_code == 200
    assert [theme["slug"] for theme in response.json()["themes"]] == ["education"]
    assert [source["title"] for source in response.json()["sources"]] == ["New report"]
    read = api.get("/api/partnerships/tie/").json()
    assert read["themes"] == response.json()["themes"]
    assert read["sources"] == response.json()["sources"]
    place = PlaceFactory(slug="wuxi")
    place.sources.add(SourceFactory(title="Old atlas"))
    response = api.patch("/api/places/wuxi/", {"sources": [new_source.pk]}, format="json")
    assert [source["title"] for source in response.json()["sources"]] == ["New report"]
    listed = {place["slug"]: place for place in api.get("/api/places/").json()["results"]}
    assert listed["wuxi"]["sources"] == response.json()["sources"]


def test_anonymous_readers_are_throttled_generously(api, settings):
    from rest_framework.throttling import AnonRateThrottle

    assert AnonRateThrottle().get_rate() == "1000/hour"


def test_a_record_in_use_is_not_deleted(api):
    api.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    partnership = PartnershipFactory()
    place = partnership.participants.first().place
    response = api.delete(f"/api/places/{place.slug}/")
    assert response.status_code == 409
    assert Place.objects.filter(pk=place.pk).exists()
    assert api.delete(f"/api/partnerships/{partnership.slug}/").status_code == 204
    assert partnership.history.first().history_type == "-"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_change_on_an_older_version_is_refused_with_if_match(api, endpoint):
    # Two integrators, or an integrator and an editor: the second change, made on the
    # version it read, used to undo the first without a word.
    api.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    _body, record = new_record(endpoint)
    url = detail_url(endpoint, record)
    read = api.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert read.status_code == 200
    etag = read["ETag"]
    field = "title" if endpoint in ("partnerships", "sources") else "name"

    first = api.patch(url, {field: "First change"}, format="json", HTTP_IF_MATCH=etag)
    assert first.status_code == 200, first.data
    assert first["ETag"] not in (etag, etag.removeprefix("W/"))
    second = api.patch(url, {field: "Second change"}, format="json", HTTP_IF_MATCH=etag)
    assert second.status_code == 412
    assert "changed since the version named in If-Match" in second.data["detail"]
    assert api.delete(url, HTTP_IF_MATCH=etag).status_code == 412
    record.refresh_from_db()
    assert getattr(record, field) == "First change"

    # The ETag of the answer to a change, or of a new read, is the version to change.
    again = api.patch(url, {field: "Second change"}, format="json", HTTP_IF_MATCH=first["ETag"])
    assert again.status_code == 200
    assert api.get(url)["ETag"] == again["ETag"]
    # '*', or no If-Match at all, changes whatever was saved since.
    assert api.patch(url, {field: "Third"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert api.patch(url, {field: "Fourth"}, format="json").status_code == 200


def test_a_save_in_the_admin_moves_the_version(api, admin_client):
    place = PlaceFactory(name="Ringsted", kind="municipality", country="DK")
    api.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    url = detail_url("places", place)
    etag = api.get(url)["ETag"]
    place.refresh_from_db()
    place.description = "An editor's text"
    place.save()
    response = api.put(
        url,
        {"name": "Ringsted", "kind": "municipality", "country": "DK"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert response.status_code == 412
    place.refresh_from_db()
    assert place.description == "An editor's text"


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_create_sent_again_with_its_key_makes_one_record(api, endpoint):
    # A client whose answer got lost sends the create again: it made a second record.
    from core.models import IdempotentRequest

    api.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    body, _record = new_record(endpoint)
    model = _record._meta.model
    before = model.objects.count()
    url = f"/api/{endpoint}/"

    first = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="a1b2-c3")
    again = api.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="a1b2-c3")

    assert first.status_code == again.status_code == 201
    assert model.objects.count() == before + 1
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    # Another key is another record; the same key with another body is refused.
    assert (
        api.post(url, body | other(endpoint), format="json", HTTP_IDEMPOTENCY_KEY="d4").status_code
        == 201
    )
    reused = api.post(url, body | other(endpoint), format="json", HTTP_IDEMPOTENCY_KEY="a1b2-c3")
    assert reused.status_code == 422
    assert "sent before with another request" in reused.json()["detail"]
    assert model.objects.count() == before + 2
    assert IdempotentRequest.objects.count() == 2


def other(endpoint):
    """What makes a second body of ``new_record`` another record."""
    if endpoint == "partnerships":
        return {"title": "Another tie"}
    if endpoint == "themes":
        return {"name": "Energy", "slug": "energy"}
    if endpoint == "sources":
        return {"title": "Another report"}
    return {"name": "Another"}


def test_a_key_is_per_user_and_forgotten_after_a_day(api, editor):
    from django.utils import timezone

    from core.models import IdempotentRequest

    body = {"name": "Suzhou", "kind": "city", "country": "CN"}
    api.force_authenticate(editor)
    assert (
        api.post("/api/places/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )
    api.force_authenticate(UserFactory(username="root", is_staff=True, is_superuser=True))
    assert (
        api.post("/api/places/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )
    assert Place.objects.filter(name="Suzhou").count() == 2
    IdempotentRequest.objects.update(created_at=timezone.now() - timezone.timedelta(hours=25))
    assert (
        api.post("/api/places/", body, format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    )
    assert Place.objects.filter(name="Suzhou").count() == 3
    assert IdempotentRequest.objects.count() == 1


@pytest.mark.parametrize("key", ["", "x" * 256, "tab\\tinside"])
def test_an_unusable_key_is_refused_and_nothing_made(api, editor, key):
    api.force_authenticate(editor)
    key = key.replace("\\t", "\t")
    response = api.post(
        "/api/places/",
        {"name": "Suzhou", "kind": "city", "country": "CN"},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key,
    )
    assert response.status_code == 400
    assert response.json() == {"Idempotency-Key": ["Send 1 to 255 printable characters."]}
    assert not Place.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_same_key_sent_while_the_first_writes_makes_one_record(monkeypatch):
    # The retry arrives on another connection while the first create still writes, and
    # commits first: the first, storing its key second, is undone, record and all, and
    # answers with the retry's answer.
    import threading

    from django.db import connection, connections
    from rest_framework.test import APIClient

    from core.api import RecordViewSet

    if connection.vendor == "sqlite":
        pytest.skip("SQLite's test database in memory locks the tables the second reads")
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    body = {"name": "Suzhou", "kind": "city", "country": "CN"}
    perform_create = RecordViewSet.perform_create
    writing, release = threading.Event(), threading.Event()

    def held_in_the_first(self, serializer):
        if threading.current_thread().name == "first":
            writing.set()
            release.wait(10)
        return perform_create(self, serializer)

    monkeypatch.setattr(RecordViewSet, "perform_create", held_in_the_first)
    answers = {}

    def send(name):
        client = APIClient()
        client.force_authenticate(root)
        answers[name] = client.post("/api/places/", body, format="json", HTTP_IDEMPOTENCY_KEY="k")
        if name == "first":
            connections.close_all()  # the thread's own

    first = threading.Thread(target=send, args=["first"], name="first")
    first.start()
    try:
        writing.wait(10)
        send("retry")
    finally:
        release.set()
        first.join()
    assert answers["first"].status_code == answers["retry"].status_code == 201
    assert answers["first"].json() == answers["retry"].json()
    assert answers["first"]["Idempotent-Replayed"] == "true"
    assert Place.objects.filter(name="Suzhou").count() == 1
