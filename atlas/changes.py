"""What changed in the registry lately, read from the change history of its records.

Every write through ``save()`` or ``delete()`` leaves a history row (django-simple-history),
whatever path made it: admin, import, undo, API, shell. The change feed reads those rows, so
it cannot miss a change the history has.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Max, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from core.models import Publication
from core.translation import translated
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place

# The record types the feed follows, by the name used in feed addresses.
FOLLOWED = {"place": Place, "organisation": Organisation, "partnership": Partnership}

# Columns that change on every save or are computed from others: not news for a reader.
NOT_NEWS = {
    "created_at",
    "updated_at",
    "created_by",
    "updated_by",
    "search_key",
    "start_on",
    "end_on",
    "status_as_of_on",
}

KINDS = {"+": _("added"), "~": _("changed"), "-": _("deleted")}


@dataclass
class Change:
    model: type
    record_id: int
    slug: str
    when: datetime
    kind: str
    name: str
    name_language: str | None
    fields: list = field(default_factory=list)
    history_id: int = 0
    # The history row: the record as it was, both languages of its name included.
    version: object = None

    @property
    def kind_label(self):
        return KINDS[self.kind]

    @property
    def type_label(self):
        return self.model._meta.verbose_name

    @property
    def url(self):
        if self.kind == "-":
            return ""
        return self.model(slug=self.slug).get_absolute_url()

    @property
    def key(self):
        """Stable across pages and feeds: the same history row is always the same entry."""
        return f"{self.model._meta.model_name}-{self.history_id}"


def title_field(model):
    return model.slug_from


def _shown_fields(history_model, model):
    translated_originals = {
        name for name in (title_field(model), "description") if hasattr(model, f"{name}_en")
    }
    return [
        f
        for f in history_model._meta.fields
        if not f.name.startswith("history_")
        and f.name not in NOT_NEWS
        and f.name not in translated_originals
        and f.name != "id"
    ]


def _history_rows(model, *, before=None, record_id=None, limit, user=None):
    """The newest ``limit`` history rows of ``model``, each with its predecessor's id.

    Rows of records ``user`` may not see now (the public: drafts) are left out, and so
    are those of records deleted while they were drafts.
    """
    history = model.history.model
    rows = history.objects.all()
    visible = model.objects.visible_to(user)
    if visible.query.has_filters():
        rows = rows.exclude(
            id__in=model.objects.exclude(pk__in=visible.values("pk")).values("pk")
        ).exclude(
            id__in=history.objects.filter(history_type="-")
            .exclude(publication=Publication.PUBLISHED)
            .values("id")
        )
    if record_id is not None:
        rows = rows.filter(id=record_id)
    if before is not None:
        rows = rows.filter(history_date__lt=before)
    previous = (
        history.objects.filter(id=OuterRef("id"), history_id__lt=OuterRef("history_id"))
        .order_by()
        .values("id")
        .annotate(last=Max("history_id"))
        .values("last")
    )
    return list(
        rows.annotate(previous_id=Subquery(previous[:1])).order_by("-history_date", "-history_id")[
            :limit
        ]
    )


def _changes(model, rows):
    """Turn history rows into changes, naming the fields each one changed (one query)."""
    history = model.history.model
    earlier = history.objects.in_bulk(
        [row.previous_id for row in rows if row.previous_id is not None]
    )
    shown = _shown_fields(history, model)
    changes = []
    for row in rows:
        name, language = translated(row, title_field(model))
        fields = []
        before = earlier.get(row.previous_id)
        if row.history_type == "~" and before is not None:
            fields = [
                str(f.verbose_name)  # "description (Danish)": modeltranslation labels it
                for f in shown
                if getattr(before, f.attname) != getattr(row, f.attname)
            ]
            if not fields:
                # A save that changed nothing a reader sees (a review date is shown).
                continue
        changes.append(
            Change(
                model=model,
                record_id=row.id,
                slug=row.slug,
                when=row.history_date,
                kind=row.history_type,
                name=name or row.slug,
                name_language=language,
                fields=fields,
                history_id=row.history_id,
                version=row,
            )
        )
    return changes


def recent_changes(limit=50, before=None, user=None):
    """The newest changes across places, organisations and partnerships, newest first.

    Two queries per record type whatever the registry's size: the newest rows of its
    history (each with its predecessor's id), then those predecessors.
    """
    # Saves that change nothing shown are skipped, so read a little more than asked.
    changes = []
    for model in FOLLOWED.values():
        changes += _changes(model, _history_rows(model, before=before, limit=limit * 2, user=user))
    changes.sort(key=lambda change: (change.when, change.history_id), reverse=True)
    return changes[:limit]


def record_changes(model, record_id, limit=50, user=None):
    return _changes(model, _history_rows(model, record_id=record_id, limit=limit, user=user))
