"""Merge two records of a type into one, and undo it.

What moves is found from the model's reverse relations (other names, figures,
participations, events, children, organisations based there...) and its many-to-many
fields (sources, themes), so a relation added later moves too. Everything an undo needs
is kept in ``core.models.Merge.snapshot``:

- ``removed``: the removed record as serialized before the merge (with its many-to-many);
- ``moved``: ``{"app.model.field": [pks]}``, the rows that now point at the kept record;
- ``dropped``: serialized rows deleted because the kept record already had their twin
  (the same party in a partnership, the same name), restored by an undo;
- ``linked``: ``{field: [pks]}`` added to the kept record's many-to-many fields;
- ``names``: ``{"app.model": [pks]}`` of the other names the merge created;
- ``fields``: ``{attname: [before, after]}`` of the kept record's chosen values.
"""

import datetime
import json
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.core import serializers
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import UniqueConstraint
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import labels
from core.admin import stamp
from core.models import Language, Merge, Publication, stored_version, subtree_ids
from core.text import fold
from core.translation import fallback_order, translated
from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place

# history_change_reason is a CharField(max_length=100).
REASON_LENGTH = 100


class MergeRefused(Exception):
    """A merge or an undo that cannot be done; the message says why, for staff."""


@dataclass(frozen=True)
class Choice:
    """A value staff choose from one record or the other; fields that belong together
    (latitude and longitude) are chosen together. ``language`` marks one language's
    column of a translated field."""

    key: str
    label: object
    fields: tuple
    language: str = ""


def _choice(key, label=None, fields=None):
    return Choice(key, label, tuple(fields or [key]))


IN_LANGUAGE = {
    "da": gettext_lazy("%(field)s in Danish"),
    "en": gettext_lazy("%(field)s in English"),
}


def _translated_choices(field):
    return [Choice(f"{field}_{code}", field, (f"{field}_{code}",), code) for code in IN_LANGUAGE]


CHOICES = {
    Place: [
        *_translated_choices("name"),
        *_translated_choices("description"),
        _choice("kind"),
        _choice("country"),
        _choice("parent"),
        _choice("capital"),
        _choice("native_name", fields=["native_name", "native_language"]),
        _choice("coordinates", gettext_lazy("coordinates"), ["latitude", "longitude"]),
        _choice("wikidata_id"),
        _choice("geonames_id"),
        _choice("last_reviewed_on"),
        _choice("publication"),
    ],
    Organisation: [
        *_translated_choices("name"),
        _choice("short_name"),
        *_translated_choices("description"),
        _choice("kind"),
        _choice("country"),
        _choice("place"),
        _choice("parent"),
        _choice("native_name", fields=["native_name", "native_language"]),
        _choice("website"),
        _choice("wikidata_id"),
        _choice("ror_id"),
        _choice("last_reviewed_on"),
        _choice("publication"),
    ],
    Partnership: [
        *_translated_choices("title"),
        *_translated_choices("description"),
        _choice("kind"),
        _choice("status", fields=["status", "status_as_of"]),
        _choice("dates", gettext_lazy("start and end"), ["start", "end"]),
        _choice("last_reviewed_on"),
        _choice("publication"),
    ],
}
TYPES = {model._meta.model_name: model for model in CHOICES}


def choice_label(model, choice):
    if choice.language:
        field = model._meta.get_field(choice.label).verbose_name
        return IN_LANGUAGE[choice.language] % {"field": field}
    return choice.label or model._meta.get_field(choice.key).verbose_name


def display(record, choice):
    """The chosen fields' values as staff read them."""
    parts = []
    for name in choice.fields:
        field = record._meta.get_field(name)
        value = getattr(record, name)
        if value in (None, ""):
            continue
        if field.is_relation:
            value = translated(value, value.slug_from)[0] or str(value)
        elif name == "country":
            value = labels.country_name(value.code)
        elif field.choices:
            value = getattr(record, f"get_{name}_display")()
        parts.append(str(value))
    return ", ".join(parts)


def values_of(record, choice):
    return [getattr(record, record._meta.get_field(name).attname) for name in choice.fields]


def default_from_removed(kept, removed, choice):
    """Take the removed record's value only where the kept one has none."""
    return not any(values_of(kept, choice)) and any(values_of(removed, choice))


def moving_relations(model):
    """The foreign keys of other rows that point at a record of ``model``."""
    return [
        relation.field
        for relation in model._meta.related_objects
        if relation.one_to_many and relation.field.concrete
    ]


def label_of(field):
    return f"{field.model._meta.label_lower}.{field.name}"


def plan(kept, removed):
    """What a merge would do: each choice with both values, and what would move."""
    model = type(kept)
    rows = [
        {
            "choice": choice,
            "label": choice_label(model, choice),
            "kept": display(kept, choice),
            "removed": display(removed, choice),
            "differ": values_of(kept, choice) != values_of(removed, choice),
            "from_removed": default_from_removed(kept, removed, choice),
        }
        for choice in CHOICES[model]
    ]
    return rows, linked(removed)


def linked(record):
    """[(what, how many)] of the rows that point at ``record`` and would move with it."""
    found = []
    for field in moving_relations(type(record)):
        count = field.model._default_manager.filter(**{field.name: record}).count()
        if count:
            found.append((things(field.model, count), count))
    for field in type(record)._meta.many_to_many:
        count = getattr(record, field.name).count()
        if count:
            found.append((things(field.related_model, count), count))
    return found


def things(model, count):
    """ "place" for one, "places" for more: Danish and English need no more than that."""
    meta = model._meta
    return meta.verbose_name if count == 1 else meta.verbose_name_plural


def removed_name(merge_row):
    """The removed record's name as the merge's snapshot holds it, else its address."""
    model = merge_row.content_type.model_class()
    fields = merge_row.snapshot.get("removed", {}).get("fields", {})
    names = (fields.get(f"{model.slug_from}_{code}") for code in fallback_order())
    return next((name for name in names if name), merge_row.removed_slug)


def reason(text, name):
    return (text % {"name": name})[:REASON_LENGTH]


class ExactEncoder(DjangoJSONEncoder):
    """Times to the microsecond (Django's own encoder keeps milliseconds): an undo puts
    back the creation time exactly."""

    def default(self, o):
        if isinstance(o, datetime.datetime):
            return o.isoformat()
        return super().default(o)


def serialize(instance):
    return json.loads(serializers.serialize("json", [instance], cls=ExactEncoder))[0]


def deserialize(data):
    """The instance a ``serialize()`` dict describes and its many-to-many ``{field: pks}``."""
    found = next(serializers.deserialize("json", json.dumps([data])))
    return found.object, found.m2m_data


def unique_keys(model, fk):
    """For each unique constraint on ``model`` that includes ``fk``: its other fields."""
    keys = []
    # With conditional ones (a participant's place is unique when set): NULLs are skipped.
    for constraint in model._meta.constraints:
        if not isinstance(constraint, UniqueConstraint) or not constraint.fields:
            continue
        names = list(constraint.fields)
        if fk.name in names:
            keys.append([model._meta.get_field(n).attname for n in names if n != fk.name])
    for together in model._meta.unique_together:
        if fk.name in together:
            keys.append([model._meta.get_field(n).attname for n in together if n != fk.name])
    return keys


def _clash(row, keys, taken):
    for index, attnames in enumerate(keys):
        key = tuple(getattr(row, name) for name in attnames)
        # NULLs never clash in a unique constraint (and conditions here exclude them).
        if None not in key and (index, key) in taken:
            return True
    return False


def _taken(manager, fk, kept, keys):
    taken = set()
    for index, attnames in enumerate(keys):
        for key in manager.filter(**{fk.name: kept}).values_list(*attnames):
            taken.add((index, key))
    return taken


def _name_text(model):
    names = {
        Place: ("name_da", "name_en", "native_name"),
        Organisation: ("name_da", "name_en", "short_name", "native_name"),
    }
    return names.get(model, ())


def _name_language(record, attname):
    if attname == "native_name":
        return record.native_language
    if attname == "short_name":
        return ""
    return {"name_da": Language.DANISH, "name_en": Language.ENGLISH}[attname]


def refuse_self_containment(kept, removed, parent_id):
    """Refuse a kept parent that is the removed record or lies inside it: once the removed
    record's children are the kept one's, the kept record would lie inside itself."""
    if parent_id is not None and (
        parent_id == kept.pk or parent_id in subtree_ids(type(kept), [removed.pk])
    ):
        raise MergeRefused(
            _(
                "%(kept)s cannot stay part of %(parent)s: after the merge it would lie inside "
                "itself. Keep the other record's “part of”, or change it first."
            )
            % {"kept": kept, "parent": type(kept)._default_manager.get(pk=parent_id)}
        )


MERGE_REASON = "merge with %(name)s"
UNDO_REASON = "undo merge with %(name)s"


def name_of(record):
    return translated(record, type(record).slug_from)[0] or str(record.pk)


def merge(kept, removed, from_removed=(), user=None, versions=None):
    """Make ``removed`` part of ``kept``; ``from_removed`` names the choices (``Choice.key``)
    whose value comes from the removed record. Returns the ``Merge``.

    ``versions``, by primary key, are the records' versions (``stored_version``) the
    choices were made on: a record saved since refuses the merge, where it would merge
    values nobody was shown."""
    model = type(kept)
    if model is not type(removed) or model not in CHOICES:
        raise MergeRefused(_("Only two records of the same type can be merged."))
    if kept.pk == removed.pk:
        raise MergeRefused(_("Choose two different records to merge."))
    choices = {choice.key: choice for choice in CHOICES[model]}
    unknown = set(from_removed) - choices.keys()
    if unknown:
        raise MergeRefused(_("Unknown field: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    try:
        with transaction.atomic():
            return _merge(
                model, kept, removed, [choices[key] for key in from_removed], user, versions
            )
    except ObjectDoesNotExist as error:
        raise MergeRefused(_("One of the two records no longer exists.")) from error
    except (IntegrityError, ValidationError) as error:
        problem = "; ".join(getattr(error, "messages", None) or [str(error)])
        raise MergeRefused(
            _("The records could not be merged: %(problem)s") % {"problem": problem}
        ) from error


def _merge(model, kept, removed, taken_choices, user, versions=None):
    manager = model._default_manager
    # Both rows locked, and read again: the screen may have shown an older state.
    locked = manager.select_for_update()
    kept, removed = locked.get(pk=kept.pk), locked.get(pk=removed.pk)
    for record in (kept, removed):
        shown = (versions or {}).get(record.pk)
        if shown is not None and shown != stored_version(record.updated_at):
            raise MergeRefused(
                _(
                    "%(record)s was saved since this page was shown. Check the values below "
                    "and merge again."
                )
                % {"record": name_of(record)}
            )
    kept_reason = reason(MERGE_REASON, name_of(removed))
    removed_reason = reason(MERGE_REASON, name_of(kept))

    fields = {}
    chosen = {name for choice in taken_choices for name in choice.fields}
    for choice in CHOICES[model]:
        for name in choice.fields:
            field = model._meta.get_field(name)
            before = getattr(kept, field.attname)
            after = getattr(removed if name in chosen else kept, field.attname)
            if field.is_relation and after == removed.pk and name != "parent":
                # The removed record is gone: what pointed at it points at the kept one
                # (only the kept "part of" must not, see refuse_self_containment).
                after = None if name not in chosen else kept.pk
            if before != after:
                fields[field.attname] = [before, after]
    if "parent_id" in {f.attname for f in model._meta.concrete_fields}:
        parent_id = fields.get("parent_id", [None, kept.parent_id])[1]
        refuse_self_containment(kept, removed, parent_id)

    names_before = {attname: getattr(removed, attname) for attname in _name_text(model)}
    names_before |= {f"kept:{attname}": getattr(kept, attname) for attname in _name_text(model)}
    snapshot = {"removed": serialize(removed), "moved": {}, "dropped": [], "linked": {}}

    for fk in moving_relations(model):
        related = fk.model._default_manager
        keys = unique_keys(fk.model, fk)
        taken = _taken(related, fk, kept, keys) if keys else set()
        rows = related.filter(**{fk.name: removed})
        if fk.model is model:
            # The two records' own fields are the chosen values above.
            rows = rows.exclude(pk__in=[kept.pk, removed.pk])
        moved = []
        for row in rows:
            if keys and _clash(row, keys, taken):
                snapshot["dropped"].append(serialize(row))
                stamp(row, user, kept_reason).delete()
                continue
            setattr(row, fk.name, kept)
            stamp(row, user, kept_reason).save()
            moved.append(row.pk)
        if moved:
            snapshot["moved"][label_of(fk)] = moved

    for field in model._meta.many_to_many:
        have = set(getattr(kept, field.name).values_list("pk", flat=True))
        linked = getattr(removed, field.name).values_list("pk", flat=True)
        added = [pk for pk in linked if pk not in have]
        if added:
            getattr(kept, field.name).add(*added)
            snapshot["linked"][field.name] = added

    for attname, (_before, after) in fields.items():
        setattr(kept, attname, after)
    snapshot["names"] = _add_names(kept, removed, names_before, user, kept_reason)
    snapshot["fields"] = {
        attname: [_plain(model, attname, value) for value in pair]
        for attname, pair in fields.items()
    }
    if user is not None:
        kept.updated_by = user
    kept.full_clean(validate_unique=False, validate_constraints=False)
    was = fields.get("publication", [kept.publication])[0]
    if kept.is_published and was != Publication.PUBLISHED:
        # Publishing by merge asks what publishing asks (the sources are both records' now).
        problems = kept.publish_problems()
        if problems:
            raise MergeRefused(" ".join(str(problem) for problem in problems))
    stamp(kept, user, kept_reason).save()
    removed_slug = removed.slug
    stamp(removed, user, removed_reason).delete()
    return Merge.objects.create(
        content_type=ContentType.objects.get_for_model(model),
        kept_id=kept.pk,
        removed_id=snapshot["removed"]["pk"],
        removed_slug=removed_slug,
        snapshot=json.loads(json.dumps(snapshot, cls=ExactEncoder)),
        merged_by=user,
    )


def _add_names(kept, removed, names_before, user, why):
    """Names either record went by that the kept one no longer has become its other names."""
    if not _name_text(type(kept)):
        return {}
    names_model = kept.other_names.model
    have = {fold(name) for name in kept.all_names() if name}
    have |= {fold(name) for name in kept.other_names.values_list("name", flat=True)}
    created = []
    for key, name in names_before.items():
        source = kept if key.startswith("kept:") else removed
        attname = key.removeprefix("kept:")
        if not name or fold(name) in have:
            continue
        have.add(fold(name))
        other = names_model(
            **{names_model.record_field: kept},
            name=name,
            language=_name_language(source, attname) or "",
            kind=names_model.Kind.ALTERNATIVE,
        )
        stamp(other, user, why).save()
        created.append(other.pk)
    return {names_model._meta.label_lower: created} if created else {}


def undo(merge_row, user=None):
    """Bring the removed record back as it was and move back what moved."""
    undone_at = timezone.now()
    try:
        with transaction.atomic():
            # Claimed first, in the transaction: of two undos sent at once (a second
            # click) the second waits on this row until the first commits, then finds
            # it undone, where it would have tried to restore the record a second time.
            claimed = (
                type(merge_row)
                ._default_manager.filter(pk=merge_row.pk, undone_at=None)
                .update(undone_at=undone_at, undone_by=user)
            )
            if not claimed:
                raise MergeRefused(_("This merge has already been undone."))
            _undo(merge_row, user)
    except (IntegrityError, ValidationError) as error:
        problem = "; ".join(getattr(error, "messages", None) or [str(error)])
        raise MergeRefused(
            _("The merge could not be undone: %(problem)s") % {"problem": problem}
        ) from error
    merge_row.undone_at, merge_row.undone_by = undone_at, user


def _undo(merge_row, user):
    model = merge_row.content_type.model_class()
    manager = model._default_manager
    snapshot = merge_row.snapshot
    removed, m2m = deserialize(snapshot["removed"])
    kept = manager.select_for_update().filter(pk=merge_row.kept_id).first()
    if kept is None:
        raise MergeRefused(
            _("The kept record no longer exists (it was deleted or merged since); undo that first.")
        )
    problems = []
    if manager.filter(pk=removed.pk).exists():
        problems.append(_("a record with the removed record's id exists again"))
    holder = manager.filter(slug=removed.slug).first()
    if holder is not None:
        problems.append(
            _("the address “%(slug)s” is now used by %(record)s")
            % {"slug": removed.slug, "record": holder}
        )
    changed = [
        str(model._meta.get_field(attname).verbose_name)
        for attname, (_before, after) in snapshot["fields"].items()
        if _comparable(model, attname, getattr(kept, attname)) != _comparable(model, attname, after)
    ]
    if changed:
        problems.append(
            _("%(fields)s of %(record)s changed since the merge")
            % {"fields": ", ".join(changed), "record": kept}
        )
    moved_rows = []
    for label, pks in snapshot["moved"].items():
        fk = _field(label)
        rows = {
            row.pk: row
            for row in fk.model._default_manager.filter(pk__in=pks, **{fk.attname: kept.pk})
        }
        gone = [pk for pk in pks if pk not in rows]
        if gone:
            problems.append(
                _("%(count)d of the %(things)s moved by the merge were deleted or moved since")
                % {"count": len(gone), "things": fk.model._meta.verbose_name_plural}
            )
        moved_rows += [(fk, row) for row in rows.values()]
    if problems:
        raise MergeRefused(
            _("The merge cannot be undone: %(problems)s.") % {"problems": "; ".join(problems)}
        )

    why = reason(UNDO_REASON, name_of(removed))
    restore(removed, m2m, user, why)
    for fk, row in moved_rows:
        setattr(row, fk.attname, removed.pk)
        stamp(row, user, why).save()
    for data in snapshot["dropped"]:
        restore(*deserialize(data), user, why)
    for name, pks in snapshot["linked"].items():
        getattr(kept, name).remove(*pks)
    for label, pks in snapshot["names"].items():
        names_model = ContentType.objects.get_by_natural_key(*label.split(".")).model_class()
        for other in names_model._default_manager.filter(pk__in=pks):
            stamp(other, user, why).delete()
    for attname, (before, _after) in snapshot["fields"].items():
        setattr(kept, attname, model._meta.get_field(attname).to_python(before))
    if user is not None:
        kept.updated_by = user
    stamp(kept, user, why).save()


def restore(instance, m2m, user, why):
    """Insert a deleted row again with its primary key, creation time and links."""
    created = {
        field.attname: field.value_from_object(instance)
        for field in instance._meta.concrete_fields
        if getattr(field, "auto_now_add", False)
    }
    stamp(instance, user, why).save(force_insert=True)
    if created:
        # save() stamped the row as created now; it was created when it was first made.
        type(instance)._default_manager.filter(pk=instance.pk).update(**created)
    for name, pks in m2m.items():
        getattr(instance, name).set(pks)


def _field(label):
    app_label, model_name, name = label.split(".")
    model = ContentType.objects.get_by_natural_key(app_label, model_name).model_class()
    return model._meta.get_field(name)


def _plain(model, attname, value):
    """A field's value as JSON can hold it (a country as its code)."""
    return model._meta.get_field(attname).get_prep_value(value)


def _comparable(model, attname, value):
    field = model._meta.get_field(attname)
    target = field.target_field if field.is_relation else field
    value = target.to_python(value)
    return getattr(value, "code", value)
