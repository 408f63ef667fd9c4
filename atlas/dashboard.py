"""What the admin index shows a member of staff: their changes, what is due, the imports.

A fixed number of queries per record type, however large the registry.
"""

from dataclasses import dataclass

from django.db.models import F
from django.urls import NoReverseMatch, reverse

from core.history import history_manager
from core.models import ImportBatch, Source
from core.translation import translated
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place

RECORD_TYPES = [Place, Organisation, Partnership, Source]
RECENT_CHANGES = 10
DUE_SHOWN = 3
IMPORTS_SHOWN = 5


@dataclass
class Change:
    type_name: str
    label: str
    when: object
    deleted: bool
    url: str


@dataclass
class Due:
    name: str
    count: int
    url: str
    records: list


def label(record, model):
    if model.slug_from:
        return translated(record, model.slug_from)[0] or f"#{record.pk}"
    return str(record)


def admin_url(site, model, view, *args):
    try:
        return reverse(
            f"{site.name}:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args
        )
    except NoReverseMatch:
        return ""


def recent_changes(site, user, models):
    """The records ``user`` changed last, each once, newest first."""
    rows = []
    for model in models:
        pk_name = model._meta.pk.attname
        # A record saved many times in a row fills the list once; the extra rows keep
        # ten distinct records in view when someone works on a few at a time.
        versions = (
            history_manager(model)
            .filter(history_user=user)
            .order_by("-history_date", "-history_id")[: RECENT_CHANGES * 3]
        )
        rows += [(version, model, getattr(version, pk_name)) for version in versions]
    rows.sort(key=lambda row: row[0].history_date, reverse=True)
    seen, changes = set(), []
    for version, model, pk in rows:
        if (model, pk) in seen:
            continue
        seen.add((model, pk))
        deleted = version.history_type == "-"
        changes.append(
            Change(
                type_name=model._meta.verbose_name,
                label=label(version.instance, model),
                when=version.history_date,
                deleted=deleted,
                url=admin_url(site, model, "history" if deleted else "change", pk),
            )
        )
        if len(changes) == RECENT_CHANGES:
            break
    return changes


def waiting(site, models, records_of, query, oldest_first):
    """Per type, how many records ``records_of(model)`` holds and the first few, linked to
    the changelist filtered by ``query``; types with none are left out."""
    found = []
    for model in models:
        records = records_of(model)
        count = records.count()
        if not count:
            continue
        first = records.order_by(*oldest_first, "pk")[:DUE_SHOWN]
        found.append(
            Due(
                name=model._meta.verbose_name_plural,
                count=count,
                url=admin_url(site, model, "changelist") + query,
                records=[
                    (label(record, model), admin_url(site, model, "change", record.pk))
                    for record in first
                ],
            )
        )
    return found


def due_for_review(site, models):
    """Per type, how many records are stale (see ``RecordQuerySet.stale``), oldest first."""
    return waiting(
        site,
        models,
        lambda model: model.objects.stale(),
        "?review=stale",
        [F("last_reviewed_on").asc(nulls_first=True)],
    )


def drafts(site, models):
    """Per publishable type, the records the public cannot see yet, the oldest first."""
    return waiting(
        site,
        [model for model in models if hasattr(model, "publication")],
        lambda model: model.objects.unpublished(),
        "?publication__in=draft,ready",
        ["created_at"],
    )


def dashboard(site, request):
    """The index page's context for ``request.user``: only what they may see."""

    def visible(model):
        model_admin = site._registry.get(model)
        return model_admin is not None and model_admin.has_view_or_change_permission(request)

    models = [model for model in RECORD_TYPES if visible(model)]
    imports = None
    if visible(ImportBatch):
        imports = list(ImportBatch.objects.select_related("user", "content_type")[:IMPORTS_SHOWN])
    quality_views = [
        (view.title, reverse(view.url_name))
        for view in site.quality_views
        if not view.permission or request.user.has_perm(view.permission)
    ]
    return {
        "dashboard": {
            "recent_changes": recent_changes(site, request.user, models),
            "due_for_review": due_for_review(site, models),
            "drafts": drafts(site, models),
            "last_imports": imports,
            "quality_views": quality_views,
        }
    }
