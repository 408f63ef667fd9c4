"""The import's own INSERT (importing.engine.insert) writes what Django's bulk_create and
simple-history's bulk_create_with_history would: the same rows, the same history rows."""

import pytest
from django.apps import apps
from django.db import transaction
from simple_history.models import HistoricalChanges

from core.models import ImportBatch
from importing import engine
from partnerships.models import Partnership
from places.models import Place
from tests.factories import OrganisationFactory, ThemeFactory, UserFactory

from .conftest import csv_bytes, run

pytestmark = pytest.mark.django_db

PLACES = csv_bytes(
    [
        ["name", "kind", "country", "parent", "other names", "population", "population year"]
        + ["population source", "latitude", "longitude"],
        ["Fyn Region", "region", "DK", "", "", "", "", "", "", ""],
        ["Nyborg", "municipality", "DK", "Fyn Region", "Nyborg Kommune", "31000", "2020"]
        + ["Statistics Denmark", "55.3127", "10.7896"],
        ["Jiangsu Province", "province", "CN", "", "江苏", "", "", "", "", ""],
        ["Wuxi", "city", "CN", "Jiangsu Province", "", "7460000", "2020", "NBS", "31.49", "120.31"],
    ]
)
PARTNERSHIPS = csv_bytes(
    [
        ["participants", "kind", "status", "start", "end", "themes", "sources"],
        ["Nyborg; Wuxi", "sister_city", "active", "c. 1998", "", "Energy", "Letter of intent"],
        ["Wuxi; Aarhus University", "cooperation", "ended", "2001-05", "2009", "", ""],
    ]
)
# Moments of the import, the ids it gave and the random revisions of partnerships
# (Partnership.revision) differ from run to run; the rest must not.
MOMENTS = {"created_at", "updated_at", "history_date", "changed_at", "revision"}
PLACED = {
    "within",
    *(prefix + facet for prefix in ("", "draft_") for facet in ("place", "tie", "region_tie")),
}
BOOKKEEPING = {"core.importbatch", "core.importbatchitem", "core.registryversion"}


def registry_models():
    for label in ("core", "places", "organisations", "partnerships"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.label_lower not in BOOKKEEPING:
                yield model


def cell(obj, field, reasons):
    if isinstance(obj, HistoricalChanges) and field.name == "id":
        return str(obj.instance_type._base_manager.get(pk=obj.id))  # the record it is of
    if getattr(type(obj), "derived", False) and field.name == "partnership_id":
        # Kept facet values name their partnership by id alone (partnerships.facets).
        return str(Partnership._base_manager.get(pk=obj.partnership_id))
    if getattr(type(obj), "derived", False) and field.name == "value" and obj.facet in PLACED:
        # The map's facets and the places a tie lies in name places, and ties, by id.
        return "|".join(str(Place._base_manager.get(pk=int(pk))) for pk in obj.value.split("|"))
    if field.is_relation and field.many_to_one:
        target = getattr(obj, field.attname)
        return None if target is None else str(field.related_model._base_manager.get(pk=target))
    value = getattr(obj, field.attname)
    return reasons.get(value, value) if field.name == "history_change_reason" else value


def snapshot(user):
    """Every row of the registry and its history, ids and moments left out."""
    batches = ImportBatch.objects.order_by("pk")
    reasons = {batch.change_reason: f"batch {n}" for n, batch in enumerate(batches)}
    tables = {}
    for model in registry_models():
        fields = [
            field
            for field in model._meta.concrete_fields
            if not field.primary_key and field.name not in MOMENTS
        ]
        tables[model._meta.label] = sorted(
            (tuple(repr(cell(obj, field, reasons)) for field in fields))
            for obj in model._base_manager.all()
        )
    moments = {
        history.history_date
        for model in registry_models()
        if issubclass(model, HistoricalChanges)
        for history in model._base_manager.filter(history_user=user)
    }
    return tables, moments


def import_and_snapshot(user):
    with transaction.atomic():
        for record_type, data in (("places", PLACES), ("partnerships", PARTNERSHIPS)):
            report = run(record_type, data, user=user)
            assert not report.problems, [str(problem) for problem in report.problems]
        result = snapshot(user)
        transaction.set_rollback(True)
    return result


def test_insert_writes_the_rows_and_history_that_bulk_create_with_history_writes(monkeypatch):
    user = UserFactory(username="importer")
    OrganisationFactory(name="Aarhus University", country="DK")
    ThemeFactory(name="Energy")

    ours, our_moments = import_and_snapshot(user)
    # Django's bulk_create and simple-history's own history writer, as before insert().
    monkeypatch.setattr(engine, "plain_fields", lambda model: None)
    theirs, their_moments = import_and_snapshot(user)

    assert ours == theirs
    assert len(ours["partnerships.HistoricalPartnership"]) == 2
    assert len(ours["partnerships.HistoricalParticipant"]) == 4
    assert len(ours["places.HistoricalPlaceFigure"]) == 2
    # One moment for every history row an import writes: two imports, two moments.
    assert len(our_moments) == len(their_moments) == 2


def test_records_created_by_insert_are_saved_records(monkeypatch):
    """Each record comes back with its primary key, as saved, and later saves work."""
    from partnerships.models import Participant, Partnership

    OrganisationFactory(name="Aarhus University", country="DK")
    ThemeFactory(name="Energy")
    run("places", PLACES)
    report = run("partnerships", PARTNERSHIPS)

    created = [row.instance for row in report.rows]
    assert all(record.pk and not record._state.adding for record in created)
    assert {record.pk for record in created} == set(
        Partnership.objects.values_list("pk", flat=True)
    )
    assert report.batch.created["partnerships.partnership"] == [record.pk for record in created]
    assert Participant.objects.filter(partnership__in=created).count() == 4
    record = created[0]
    record.description = "Renewed in 2024."
    record.save()
    assert record.history.count() == 2
