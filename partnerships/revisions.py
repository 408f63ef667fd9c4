"""Each partnership's revision (``Partnership.revision``), moved by every write to what its
card and its API representation show, whatever path makes it.

A partnership's own columns move it as they are written: ``save()`` (through
``derive()``), ``update()`` and ``bulk_update()`` (``PartnershipQuerySet.update``), a new
row by its default. Here the writes to its relations move it: its participants, events,
themes and sources, each written alone (``post_save``, ``post_delete``,
``m2m_changed``) or in bulk (``core.versioning.bulk_written``), and a theme renamed or
deleted, for the partnerships that have it. A place's, an organisation's or a source's
own fields are not here: what is kept under a revision is kept under the places' and
organisations' versions too, which those writes move (``core.versioning.PART_MODELS``).

A revision moves in the writer's transaction, followed by a bump of the registry version:
outside a transaction (a shell), a page built between the write and the revision's move
would otherwise be cached under the new version with the old representation.
"""

from django.db import DEFAULT_DB_ALIAS, models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete, pre_save
from django.utils.translation import get_language

from core import versioning
from core.cache import per_version
from core.search import id_list
from core.versioning import bulk_written, bump

from .models import Event, Participant, Partnership, Theme, new_revision

Themes = Partnership.themes.through
Sources = Partnership.sources.through
# The partnership's own rows of it: each written alone or in bulk.
CHILDREN = (Participant, Event)
# The dispatch_uid of ``remember_partnership``, which more than one keeper connects.
BEFORE = "partnerships.partnership_before"


def kept(name, partnerships, build, *key):
    """``build()``, what ``partnerships`` (a page of them) show: for the public, kept under
    each one's revision and why a search found it, the places' and organisations'
    versions, the language and ``key``, for the day (``core.cache.per_version``). Staff,
    who may see drafts, have it built each time."""
    if not partnerships:
        return build()
    shown = [(p.pk, p.revision, p.found_via) for p in partnerships]
    return kept_under(name, shown, build, *key)


def kept_under(name, shown, build, *key, local=False):
    """``build()``, what the partnerships of ``shown`` ((id, revision, …) each) show, kept
    as ``kept()`` keeps it; with ``local``, by the process too (``per_version``)."""
    if versioning.request_version.get() is None:
        return build()
    return per_version(
        name, [get_language(), *key, shown], build, of=("places", "organisations"), local=local
    )


def move(pks, using=DEFAULT_DB_ALIAS):
    """Give the partnerships of ``pks`` (ids, or a query of them) a new revision."""
    if not isinstance(pks, models.QuerySet):
        pks = {pk for pk in pks if pk is not None}
        if not pks:
            return
        pks = id_list(sorted(pks))
    # Django's own update(): Partnership's would tell the version and the keepers of a
    # write to its columns, which this is not.
    models.QuerySet.update(
        Partnership._base_manager.using(using).filter(pk__in=pks), revision=new_revision()
    )
    bump(using, model=Partnership)


def remember_partnership(sender, instance, raw=False, using=DEFAULT_DB_ALIAS, **kwargs):
    """``pre_save`` of a partnership's participant or event: the partnership it belonged
    to, in ``partnerships_touched()``. Saved into another one, both change. Both keepers,
    this one and ``facets``, connect it under one ``dispatch_uid``, so it reads once."""
    instance._partnership_before = (
        None
        if instance.pk is None
        else sender._base_manager.using(using)
        .filter(pk=instance.pk)
        .values_list("partnership_id", flat=True)
        .first()
    )


def partnerships_touched(instance):
    """The partnerships a participant or event just saved or deleted changed: its own,
    and the one it left if it was saved into another."""
    return [instance.partnership_id, getattr(instance, "_partnership_before", None)]


def _child_saved(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    move(partnerships_touched(instance), using)


def _children_written(sender, using=DEFAULT_DB_ALIAS, pks=None, objs=None, fields=None, **kwargs):
    if objs is not None:
        move([obj.partnership_id for obj in objs], using)
    elif pks and fields and fields & {"partnership", "partnership_id"}:
        # Moved to other partnerships: those they left are no longer known. Every part's
        # version moves, and with them every card and representation kept, rather than
        # every partnership's revision: an UPDATE of each row of the registry.
        bump(using)
    elif pks:
        move(
            sender._base_manager.using(using).filter(pk__in=id_list(pks)).values("partnership_id"),
            using,
        )


def _own_written(sender, using=DEFAULT_DB_ALIAS, pks=None, fields=None, **kwargs):
    # Only the links of the import's many-to-many columns (``importing.columns``): an
    # update of the columns moved the revision itself, and new rows have their own.
    if pks and fields and "revision" not in fields:
        move(pks, using)


def _links_changed(sender, instance, action, reverse, pk_set, using=DEFAULT_DB_ALIAS, **kwargs):
    if not reverse:  # partnership.themes.add(…)
        if action in ("post_add", "post_remove", "post_clear"):
            move([instance.pk], using)
    elif action in ("post_add", "post_remove"):  # theme.partnerships.add(…)
        move(pk_set, using)
    elif action == "pre_clear":
        move(_linked(sender, type(instance), [instance.pk], using), using)


def _linked(through, model, pks, using):
    """The partnerships linked through ``through`` to the themes or sources (``model``) of
    ``pks``, as a query."""
    column = f"{model._meta.model_name}_id"
    return through.objects.using(using).filter(**{f"{column}__in": pks}).values("partnership_id")


def _theme_written(sender, instance, using=DEFAULT_DB_ALIAS, **kwargs):
    # Renamed, or about to be deleted with its links (which send no signal).
    if instance.pk is not None:
        move(_linked(Themes, Theme, [instance.pk], using), using)


def _themes_written(sender, using=DEFAULT_DB_ALIAS, pks=None, **kwargs):
    if pks:
        move(_linked(Themes, Theme, id_list(pks), using), using)


def connect():
    """Have every write path move the revisions it touched (``PartnershipsConfig``)."""
    uid = "partnerships.revisions"
    for child in CHILDREN:
        pre_save.connect(remember_partnership, sender=child, dispatch_uid=BEFORE)
        post_save.connect(_child_saved, sender=child, dispatch_uid=uid)
        post_delete.connect(_child_saved, sender=child, dispatch_uid=uid)
        bulk_written.connect(_children_written, sender=child, dispatch_uid=uid)
    bulk_written.connect(_own_written, sender=Partnership, dispatch_uid=uid)
    for through in (Themes, Sources):
        m2m_changed.connect(_links_changed, sender=through, dispatch_uid=uid)
    post_save.connect(_theme_written, sender=Theme, dispatch_uid=uid)
    pre_delete.connect(_theme_written, sender=Theme, dispatch_uid=uid)
    bulk_written.connect(_themes_written, sender=Theme, dispatch_uid=uid)
