import datetime
from collections.abc import Mapping

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import connections, models, transaction
from django.db.models.query import get_related_populators
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import history
from .fields import PartialDateField
from .search import ID_LIST_SQL, SearchKeyField, compiled_by_ids, id_list, run_by_ids, subtree
from .text import query_terms, search_key, tidy_fields, unique_slug
from .translation import DEFAULT_LANGUAGE, translated, untranslated
from .versioning import RegistryVersion, VersionedQuerySet  # noqa: F401 (a core model)

# A record nobody has confirmed for this long is shown as stale.
REVIEW_INTERVAL = datetime.timedelta(days=365)

wikidata_validator = RegexValidator(
    r"^Q[1-9]\d*$", _("A Wikidata id is a Q followed by digits, such as Q42.")
)


class DerivedQuerySet(VersionedQuerySet):
    """``update()`` of a field that others are derived from (the model's ``derived_from``:
    names, partial dates) derives those (``derived_fields``) again for the rows it wrote,
    as ``save()`` and the bulk writers do with ``derive()``: a record renamed by an update
    is found by its new name, and a start changed so is counted in its new year."""

    DERIVE_CHUNK = 1000

    def derives_from(self, fields):
        derived_from = getattr(self.model, "derived_from", ())
        return any(untranslated(field) in derived_from for field in fields)

    def derive_again(self, pks):
        manager = self.model._default_manager.using(self.db)
        if hasattr(self.model, "other_names"):
            manager = manager.prefetch_related("other_names")
        for start in range(0, len(pks), self.DERIVE_CHUNK):
            records = list(manager.filter(pk__in=pks[start : start + self.DERIVE_CHUNK]))
            for record in records:
                record.derive()
            # Through update() again, with derived fields only: the version and the keepers
            # hear of those too.
            self.model._default_manager.using(self.db).bulk_update(
                records, self.model.derived_fields
            )


class StampedQuerySet(VersionedQuerySet):
    """For a model with ``updated_at``: a save moves it (auto_now); an update() of what a
    person wrote moves it too, so that a page, a preview or an API read made before it
    sees the change (``stored_version``). Derived fields alone are no one's change."""

    def update(self, **kwargs):
        written = {untranslated(field) for field in kwargs} - {"updated_at"}
        derived = getattr(self.model, "derived_fields", ())
        if written - set(derived) and "updated_at" not in kwargs:
            kwargs["updated_at"] = timezone.now()
        return super().update(**kwargs)


def sees_every(model, user):
    """Whether ``user`` sees every record of ``model``, drafts too: staff who may view or
    change that type (``RecordQuerySet.visible_to``'s rule)."""
    if user is None or not (user.is_active and user.is_staff):
        return False
    opts = model._meta
    return user.has_perm(f"{opts.app_label}.view_{opts.model_name}") or user.has_perm(
        f"{opts.app_label}.change_{opts.model_name}"
    )


class RecordQuerySet(StampedQuerySet, DerivedQuerySet):
    # Whether the records are read with what their cards show besides their own fields
    # (``with_card_parts``).
    _card_parts = False
    # The relations read into lists with the records (``with_listed``).
    _listed = ()
    # Whether those and the card parts are read only when ``load_parts`` asks.
    _on_demand = False

    def with_card_parts(self, read=True):
        """The records, each with what its card shows besides its own fields, read when
        they are (``attach_card_parts``); with ``read=False``, without it."""
        clone = self._chain()
        clone._card_parts = read
        return clone

    def attach_card_parts(self, records):
        """Set on ``records`` what their cards show besides their own fields: nothing by
        default; a record type whose card shows more reads it here, in a query or two for
        all of them."""

    def with_listed(self, *relations, into_managers=False):
        """The records, each with the records of its ``relations`` in the list
        ``listed(relation)``, as ``core.serializers.with_listed`` leaves them, read by
        ``ListedById``: for reading, as those lists are. A relation is its name (every
        related record, through their own manager) or a ``ListedById``. With
        ``into_managers``, where ``prefetch_related`` leaves them instead, for
        ``record.relation.all()``."""
        clone = self._chain()
        clone._listed = (*self._listed, *((relation, into_managers) for relation in relations))
        return clone

    def parts_on_demand(self):
        """The records without their card parts and listed relations until
        ``load_parts(records)`` reads them: for a page that may have kept what they show
        (``partnerships.cards.kept_cards``) and then needs none of it."""
        clone = self._chain()
        clone._on_demand = True
        return clone

    def _clone(self):
        clone = super()._clone()
        clone._card_parts = self._card_parts
        clone._listed = self._listed
        clone._on_demand = self._on_demand
        return clone

    def _fetch_all(self):
        fetching = self._result_cache is None
        super()._fetch_all()
        if not fetching or self._iterable_class is not models.query.ModelIterable:
            return
        if self._on_demand and (self._card_parts or self._listed):
            parts = _PartsToLoad(self, self._result_cache)
            for record in self._result_cache:
                record.__dict__[_PartsToLoad.NAME] = parts
            return
        self.attach_parts(self._result_cache)

    def attach_parts(self, records):
        """Read the card parts and listed relations the queryset asks for into
        ``records``."""
        if self._card_parts:
            self.attach_card_parts(records)
        for relation, into_managers in self._listed:
            if isinstance(relation, str):
                relation = ListedById.of(self.model, relation)
            relation.attach(records, into_managers)

    def stale(self, today=None):
        """Never reviewed, or not reviewed within the review interval."""
        today = today or timezone.localdate()
        return self.filter(
            models.Q(last_reviewed_on__isnull=True)
            | models.Q(last_reviewed_on__lt=today - REVIEW_INTERVAL)
        )

    def published(self):
        """What the public may see (publishable records only: places, organisations and
        partnerships)."""
        return self.filter(publication=Publication.PUBLISHED)

    def unpublished(self):
        """What only staff may see: drafts and records ready for review. Named, not "not
        published", so that the index of publications finds the few there are."""
        return self.filter(publication__in=UNPUBLISHED)

    def visible_to(self, user):
        """Everything for staff who may view this type; the published records for others."""
        return self if sees_every(self.model, user) else self.published()

    def reviewed_since(self, day):
        return self.filter(last_reviewed_on__gte=day)

    def matching(self, terms):
        """Records whose names contain every folded term (see ``core.text``)."""
        queryset = self
        for term in terms:
            queryset = queryset.filter(search_key__contains=term)
        return queryset

    def search(self, query):
        """Records found by what a person typed in a search box: any name, any spelling."""
        return self.matching(query_terms(query))

    def formerly_at(self, slug):
        """The record whose slug was ``slug`` before it changed, or None.

        The old slugs come from the history table (its slug column is indexed), so every
        write through ``save()`` counts, whatever path made it. A ``queryset.update()`` of
        slugs writes no history: the slug it replaces is found only if the history holds it.
        """
        merged_into = self.merged_into(slug)
        if merged_into is not None:
            return merged_into
        versions = self.model.history.filter(slug=slug).order_by("-history_date")
        pk = versions.values_list(self.model._meta.pk.attname, flat=True).first()
        return None if pk is None else self.filter(pk=pk).exclude(slug=slug).first()

    def merged_into(self, slug):
        """The record kept when the one at ``slug`` was merged into it (``Merge``), or None.

        Follows later merges of the kept record; a merge that was undone leads nowhere.
        """
        merges = Merge.objects.filter(
            content_type=ContentType.objects.get_for_model(self.model), undone_at__isnull=True
        )
        merge, seen = merges.filter(removed_slug=slug).first(), set()
        while merge is not None and merge.pk not in seen:
            seen.add(merge.pk)
            record = self.filter(pk=merge.kept_id).first()
            if record is not None:
                return record
            merge = merges.filter(removed_id=merge.kept_id).first()
        return None


def stored_version(updated_at):
    """The version of a record a page or a preview showed, from its ``updated_at``: every
    save moves it (``auto_now``), whatever path made the save, and the import's bulk
    writes set it too. A write made on what was shown compares it with the row's."""
    return updated_at.isoformat() if updated_at else None


def locked_stamp(record, *fields):
    """``updated_at`` (and ``fields``) of ``record``'s row as stored, locked until the
    write's transaction ends, so that of two writes checked at once the second sees the
    first; None once the row is gone."""
    rows = type(record)._base_manager.select_for_update().filter(pk=record.pk)
    return rows.values("updated_at", *fields).first()


class Tidied(models.Model):
    """A model whose ``save()`` tidies the text fields (``core.text.tidy``), as its bulk
    writers do (``VersionedQuerySet``), and then derives what is derived from them."""

    # VersionedQuerySet's update() and bulk_create() tidy the text of models that say so.
    tidy_text = True

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        # Before derive(): a slug made from a Mac's decomposed 'Skåne' would be 'skane'.
        tidy_fields(self)
        self.derive()
        super().save(*args, **kwargs)

    def derive(self):
        """Fill the fields computed from others on the same row; ``save()`` and bulk
        writers both call it."""


class Record(Tidied):
    """What every registry record carries: who made it, when, and when it was checked."""

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    last_reviewed_on = models.DateField(
        _("last reviewed"),
        null=True,
        blank=True,
        help_text=_("The day someone last confirmed that this record is still true."),
    )
    search_key = SearchKeyField(editable=False, blank=True, default="")

    objects = RecordQuerySet.as_manager()
    # The field a new record's slug is made from; None for records without a slug.
    slug_from = None
    # What ``derive()`` fills, and the fields it reads (``DerivedQuerySet``): the names.
    derived_fields = ("search_key",)
    derived_from = frozenset()
    # True once a migration has indexed the search keys (``core.search.IndexSearchKey``).
    search_indexed = False

    class Meta:
        abstract = True

    def derive(self, names=None, taken_slugs=None):
        """Fill the fields computed from others on the same row; ``save()`` and bulk writers
        both call it.

        ``names`` stands in for ``all_names()`` when the caller already knows them (a record
        not yet saved has no other names to read). ``taken_slugs`` is the set of slugs in
        use, for a bulk writer that cannot ask the database row by row; it gains the new slug.
        """
        if self.slug_from and not self.slug:
            # A bulk writer's set of taken slugs spares building a queryset per row.
            others = None if taken_slugs is not None else type(self)._default_manager
            self.slug = unique_slug(
                others.exclude(pk=self.pk) if others is not None else None,
                # The English name where there is one, so a record's address is the same
                # whichever language the editor works in.
                translated(self, self.slug_from, DEFAULT_LANGUAGE)[0]
                or getattr(self, self.slug_from),
                self._meta.model_name,
                taken=taken_slugs,
            )
            if taken_slugs is not None:
                taken_slugs.add(self.slug)
        self.search_key = search_key(self.all_names() if names is None else names)

    def all_names(self):
        """Every name the record goes by; subclasses add their own."""
        return [str(self)]

    def refresh_search_key(self, save=True):
        """Recompute the folded key after the record's names changed."""
        key = search_key(self.all_names())
        changed = key != self.search_key
        self.search_key = key
        if save and changed and self.pk:
            type(self).objects.filter(pk=self.pk).update(search_key=key)
        return key

    @property
    def is_stale(self):
        return (
            self.last_reviewed_on is None
            or self.last_reviewed_on < timezone.localdate() - REVIEW_INTERVAL
        )

    def mark_reviewed(self, user=None, day=None):
        self.last_reviewed_on = day or timezone.localdate()
        if user is not None:
            self.updated_by = user


class Publication(models.TextChoices):
    DRAFT = "draft", _("draft")
    READY = "ready", _("ready for review")
    PUBLISHED = "published", _("published")


UNPUBLISHED = [state for state in Publication.values if state != Publication.PUBLISHED]


class Publishable(Record):
    """A record the public sees only once it is published: places, organisations and
    partnerships. Sources stay staff's own."""

    publication = models.CharField(
        _("publication"),
        max_length=10,
        choices=Publication.choices,
        default=Publication.DRAFT,
        db_index=True,
        help_text=_("Drafts are seen by staff only; publishing needs at least one source."),
    )

    class Meta:
        abstract = True

    @property
    def is_published(self):
        return self.publication == Publication.PUBLISHED

    def publish_problems(self, user=None, sources=None):
        """Why this record cannot be published (by ``user``, if given): a list of messages,
        empty when it can.

        ``sources`` stands in for the record's sources when the caller knows them before
        they are saved (a form, an import row). Every way in (admin form and actions,
        import, API, shell through ``publish()``) asks this one function.
        """
        problems = []
        if sources is None:
            has_source = self.pk is not None and self.sources.exists()
        else:
            has_source = bool(sources)
        if not has_source:
            problems.append(_("It has no source: add at least one source before publishing."))
        if needs_review() and user is not None:
            ready_by = self.made_ready_by()
            if ready_by is _NOT_READY:
                problems.append(
                    _("It must be marked ready for review before someone else publishes it.")
                )
            elif ready_by == user.pk:
                problems.append(_("You marked it ready for review: someone else must publish it."))
        return problems

    def made_ready_by(self):
        """The id of the user who last marked this record ready for review (None if not
        known), read from its history; ``_NOT_READY`` when it is not ready now."""
        if self.pk is None:
            return _NOT_READY
        rows = self.history.order_by("-history_date", "-history_id").values_list(
            "publication", "history_user_id"
        )[:100]
        setter = _NOT_READY
        for publication, user_id in rows:
            if publication != Publication.READY:
                break
            setter = user_id
        return setter

    def set_publication(self, publication, user=None):
        """Publish, unpublish or mark ready, with a history entry saying so and who did it.

        Raises ``ValidationError`` with every problem when ``user`` may not publish it now.
        """
        if publication == Publication.PUBLISHED:
            problems = self.publish_problems(user=user)
            if problems:
                raise ValidationError(problems)
        self.publication = publication
        self._change_reason = PUBLICATION_REASONS[publication]
        if user is not None:
            self._history_user = user
            self.updated_by = user
        self.save()

    def publish(self, user=None):
        self.set_publication(Publication.PUBLISHED, user)

    def unpublish(self, user=None):
        self.set_publication(Publication.DRAFT, user)


PUBLICATION_REASONS = {
    Publication.PUBLISHED: history.PUBLISHED,
    Publication.READY: history.MARKED_READY,
    Publication.DRAFT: history.UNPUBLISHED,
}

# ``made_ready_by`` when the record is not ready for review (None means "ready, by nobody
# known": a shell or an import).
_NOT_READY = object()


def listed(relation):
    """The attribute a record's ``relation`` is read into, as a plain list (by
    ``ListedById``, or ``Prefetch(relation, to_attr=listed(relation))``), for the API's
    fields (``core.serializers.with_listed``) and the models' own readers
    (``Place.current_figure``) to read.

    Prefetched into the related manager, as Django does by default, each record gets a
    queryset of its own for each relation: for twenty places with their names, figures and
    sources, 2.0 ms of the 5.5 their prefetches took at 10,000 partnerships.
    """
    return f"listed_{relation}"


class ListedById:
    """A to-many relation of ``model`` read into the list ``listed(relation)`` of each
    record, as ``Prefetch(relation, queryset, to_attr=listed(relation))`` reads it: a
    many-to-many relation (a partnership's themes), or the records whose foreign key points
    at the model (a place's other names), each of those with its record as its own.
    ``queryset``: a callable that gives the related records to read (with
    ``select_related``, ``only``), their own manager's by default.

    Django builds and compiles a prefetch's query every time it runs: for the themes or
    the sources of twenty partnerships, 0.7 ms of the 1.6 ms it took at 10,000
    partnerships. Here the SQL is compiled once per database and language
    (``core.search.compiled_by_ids``), and the records are made from their rows as
    Django's ``ModelIterable`` makes them.

    ``kept``: {foreign key of the related records: the fields of the record it points
    to} that are kept for each set of those records (``core.cache.per_version``) under
    the versions of the parts of the registry ``of``, and set on each related record as
    ``select_related`` with ``only`` sets them, instead of being joined. PostgreSQL joined
    the 50 participants of twenty partnerships to their places and organisations by
    hashing every place and organisation.
    """

    _of = {}

    @classmethod
    def of(cls, model, relation):
        """The reader of ``relation`` with its default records, one per model."""
        key = (model, relation)
        if key not in cls._of:
            cls._of[key] = cls(model, relation)
        return cls._of[key]

    def __init__(self, model, relation, queryset=None, kept=None, of=()):
        field = model._meta.get_field(relation)
        if field.many_to_many and not field.auto_created:
            self.path, self.owner_field = field.related_query_name(), None
        elif field.one_to_many:
            self.path, self.owner_field = field.field.name, field.field
        else:
            raise ValueError(f"{model.__name__}.{relation} is not a to-many relation.")
        self.relation = relation
        self.label = f"listed-{model._meta.label_lower}.{relation}"
        self.queryset = queryset or field.related_model._default_manager.all
        self._compiled = {}
        # Each foreign key kept, with the columns read of the record it points to: its
        # primary key and ``fields``, in the order of the model's fields, as ``from_db``
        # takes them.
        self.kept = []
        for name, fields in (kept or {}).items():
            key = field.related_model._meta.get_field(name)
            wanted = {key.related_model._meta.get_field(f).attname for f in fields}
            wanted.add(key.related_model._meta.pk.attname)
            columns = [
                f.attname for f in key.related_model._meta.concrete_fields if f.attname in wanted
            ]
            self.kept.append((key, columns))
        self.of = of

    def prefetch(self, to_attr=None):
        """The same records as Django's ``Prefetch``, the kept foreign keys joined: for a
        database ``run_by_ids`` does not serve, and for records read to be written."""
        queryset = self.queryset().select_related(*(key.name for key, _columns in self.kept))
        return models.Prefetch(self.relation, queryset, to_attr=to_attr)

    def _compile(self, using):
        # The owner's id as an annotation: a filter and an annotation on one relation
        # share its join.
        compiled = compiled_by_ids(
            lambda ids: (
                self.queryset()
                .filter(**{f"{self.path}__in": ids})
                .annotate(_listed_owner=models.F(self.path))
            ),
            using,
        )
        compiler = compiled[0]
        select, klass_info = compiler.select, compiler.klass_info
        fields = klass_info["select_fields"]
        start, end = fields[0], fields[-1] + 1
        return (
            compiled,
            klass_info["model"],
            slice(start, end),
            [column[0].target.attname for column in select[start:end]],
            get_related_populators(klass_info, select, using),
            compiler.annotation_col_map["_listed_owner"],
        )

    def attach(self, records, into_managers=False):
        """Read the relation of ``records`` into their lists; ``into_managers``: where
        ``prefetch_related`` leaves it, for ``record.relation.all()``."""
        if not records:
            return
        using = records[0]._state.db
        attribute = None if into_managers else listed(self.relation)
        if connections[using].vendor not in ID_LIST_SQL:
            models.prefetch_related_objects(records, self.prefetch(to_attr=attribute))
            return
        key = (using, get_language())
        if key not in self._compiled:
            self._compiled[key] = self._compile(using)
        compiled, related, columns, names, populators, owner_column = self._compiled[key]
        owners = {record.pk: record for record in records}
        lists = {pk: [] for pk in owners}
        for row in run_by_ids(compiled, list(owners), using):
            found = related.from_db(using, names, row[columns])
            for populator in populators:
                populator.populate(row, found)
            owner = row[owner_column]
            if self.owner_field is not None:
                self.owner_field.set_cached_value(found, owners[owner])
            lists[owner].append(found)
        if self.kept:
            gone = self._attach_kept(
                [found for listed in lists.values() for found in listed], using
            )
            if gone:
                lists = {
                    pk: [found for found in listed if found not in gone]
                    for pk, listed in lists.items()
                }
        for record in records:
            if not into_managers:
                record.__dict__[attribute] = lists[record.pk]
                continue
            # As Django's prefetch leaves them: the relation's queryset, read already. Its
            # cache is named after the relation, for a many-to-many field and for the
            # foreign keys of another model alike.
            found = getattr(record, self.relation).get_queryset()
            found._result_cache, found._prefetch_done = lists[record.pk], True
            record.__dict__.setdefault("_prefetched_objects_cache", {})[self.relation] = found

    def _attach_kept(self, records, using):
        """Set on each of ``records`` the records its ``kept`` foreign keys point to; return
        those whose record has been deleted since they were read, to leave out, as a join
        would have."""
        from .cache import per_version  # the cache backend's module, loaded first

        keys = [
            (key, columns, sorted({getattr(record, key.attname) for record in records} - {None}))
            for key, columns in self.kept
        ]

        def read():
            # A plain QuerySet: a translated model's own reads "name" in the reader's
            # language, where ``select_related`` with ``only`` reads its own column.
            found = {}
            for key, columns, pks in keys:
                at = columns.index(key.related_model._meta.pk.attname)
                records = models.QuerySet(key.related_model, using=using).filter(
                    pk__in=id_list(pks)
                )
                found[key.name] = {
                    values[at]: values for values in records.order_by().values_list(*columns)
                }
            return found

        rows = per_version(self.label, [pks for _key, _columns, pks in keys], read, of=self.of)
        gone = set()
        for key, columns, _pks in keys:
            model, found = key.related_model, rows[key.name]
            for record in records:
                pk = getattr(record, key.attname)
                if pk is None:
                    key.set_cached_value(record, None)
                elif pk in found:
                    # ``from_db`` takes the values in the order of the model's fields.
                    key.set_cached_value(record, model.from_db(using, columns, found[pk]))
                else:
                    gone.add(record)  # deleted since the record was read
        return gone


def needs_review():
    """True when a second person must publish what an editor marked ready for review."""
    return getattr(settings, "ATLAS_PUBLISH_NEEDS_REVIEW", False)


def ancestors_of(record):
    """A record's parent, its parent, and so on up; stops at a cycle rather than looping."""
    chain, seen, current = [], {record.pk}, record.parent
    while current is not None and current.pk not in seen:
        chain.append(current)
        seen.add(current.pk)
        current = current.parent
    return chain


def subtree_ids(model, ids, using=None):
    """The given ids followed by those of every record of ``model`` below them (through
    ``parent``), drafts included, in one query (``core.search.subtree``)."""
    found = list(dict.fromkeys(ids))
    if not found:
        return found
    seen = set(found)
    seed = model._base_manager.db_manager(using).filter(pk__in=id_list(found))
    return found + [pk for pk in subtree(seed) if pk not in seen]


class ParentsInDatabase(Mapping):
    """``{pk: parent pk}`` read from the database as a walk up the tree asks for it."""

    def __init__(self, model):
        self.model, self.known = model, {}

    def __getitem__(self, pk):
        if pk not in self.known:
            found = list(
                self.model._default_manager.filter(pk=pk).values_list("parent_id", flat=True)
            )
            if not found:
                raise KeyError(pk)
            self.known[pk] = found[0]
        return self.known[pk]

    def __iter__(self):
        return iter(self.known)

    def __len__(self):
        return len(self.known)


def contains_itself(pk, parent_id, parent_of):
    """True when giving record ``pk`` the parent ``parent_id`` would put it inside itself.

    ``parent_of`` maps a pk to its parent's pk (or None). A bulk writer passes the parents
    its rows are about to have, for example ``ChainMap(new_parents, ParentsInDatabase(Place))``,
    so that rows not yet saved are checked by the same rule as ``clean()``.
    """
    if pk is None or parent_id is None:
        return False
    seen, current = set(), parent_id
    while current is not None and current not in seen:
        if current == pk:
            return True
        seen.add(current)
        current = parent_of.get(current)
    return False


def would_contain_itself(record):
    """True when the record's parent is the record itself or lies inside it."""
    return contains_itself(record.pk, record.parent_id, ParentsInDatabase(type(record)))


class Language(models.TextChoices):
    DANISH = "da", _("Danish")
    ENGLISH = "en", _("English")
    CHINESE = "zh", _("Chinese")
    CHINESE_PINYIN = "zh-Latn", _("Chinese (pinyin)")
    GERMAN = "de", _("German")
    SWEDISH = "sv", _("Swedish")
    DUTCH = "nl", _("Dutch")
    ITALIAN = "it", _("Italian")
    NORWEGIAN = "no", _("Norwegian")
    FRENCH = "fr", _("French")
    OTHER = "other", _("Other")


class _PartsToLoad:
    """The records of a query read ``parts_on_demand``, and how to read their parts."""

    NAME = "_parts_to_load"

    def __init__(self, queryset, records):
        self.queryset, self.records = queryset, list(records)

    def load(self):
        if self.queryset is not None:
            queryset, self.queryset = self.queryset, None
            queryset.attach_parts(self.records)


def load_parts(records):
    """Read the parts of ``records`` that their query left for later
    (``RecordQuerySet.parts_on_demand``): once, in a query or two for each query's records
    (a page's records, or some of them, read together)."""
    for record in records:
        parts = getattr(record, "__dict__", {}).pop(_PartsToLoad.NAME, None)
        if parts is not None:
            parts.load()
    return records


class AlternativeNameQuerySet(VersionedQuerySet):
    """A bulk delete or update of names skips the model's ``delete()`` and ``save()``; the
    records named still need new keys. (Bulk writers of new names set the records' keys
    themselves with ``Record.derive()``, as the import does.)"""

    def delete(self):
        record_ids = self._record_ids()
        deleted = super().delete()
        self._derive_records(record_ids)
        return deleted

    def update(self, **kwargs):
        with transaction.atomic(using=self.db, savepoint=False):
            record_ids = self._record_ids()
            rows = super().update(**kwargs)
            # A name given to another record: that one too.
            moved_to = kwargs.get(
                self.model.record_field, kwargs.get(f"{self.model.record_field}_id")
            )
            if moved_to is not None:
                record_ids.add(getattr(moved_to, "pk", moved_to))
            self._derive_records(record_ids)
        return rows

    def _record_ids(self):
        return set(self.order_by().values_list(f"{self.model.record_field}_id", flat=True))

    def _derive_records(self, record_ids):
        record_model = self.model._meta.get_field(self.model.record_field).related_model
        record_model._default_manager.using(self.db).all().derive_again(sorted(record_ids))


class AlternativeName(Tidied):
    """A name a record also goes by: a seed spelling, a former name, a transliteration."""

    class Kind(models.TextChoices):
        ALTERNATIVE = "alternative", _("alternative spelling")
        FORMER = "former", _("former name")
        ABBREVIATION = "abbreviation", _("abbreviation")
        TRANSLATION = "translation", _("translation")
        TRANSLITERATION = "transliteration", _("transliteration")
        SOURCE_SPELLING = "source", _("spelling used in a source")

    name = models.CharField(_("name"), max_length=255)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    kind = models.CharField(
        _("kind"), max_length=16, choices=Kind.choices, default=Kind.ALTERNATIVE
    )

    objects = AlternativeNameQuerySet.as_manager()
    # The foreign key to the record this is a name of; concrete subclasses set it.
    record_field = None

    class Meta:
        abstract = True
        ordering = ["name"]

    def __str__(self):
        return self.name

    # Every write of a name passes here (admin inline, API, shell), so the record stays
    # findable by it. Bulk writers set the record's key themselves with Record.derive().
    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self.refresh_record()

    def delete(self, *args, **kwargs):
        deleted = super().delete(*args, **kwargs)
        self.refresh_record()
        return deleted

    def refresh_record(self):
        record = getattr(self, self.record_field)
        # Names prefetched before this write are stale now.
        getattr(record, "_prefetched_objects_cache", {}).pop("other_names", None)
        record.refresh_search_key()


class Source(Record):
    """A citable document that places, figures, organisations and partnerships cite."""

    title = models.CharField(_("title"), max_length=500)
    short_title = models.CharField(
        _("short title"),
        max_length=100,
        blank=True,
        help_text=_("What staff call it in a spreadsheet's source column, e.g. 'DST 2024'."),
    )
    author = models.CharField(
        _("author or publisher"),
        max_length=255,
        blank=True,
        help_text=_("The person or body that wrote or published the document."),
    )
    published = PartialDateField(_("date"), null=True, blank=True)
    language = models.CharField(_("language"), max_length=8, choices=Language.choices, blank=True)
    url = models.URLField(_("web address"), max_length=500, blank=True)
    page = models.CharField(
        _("page"), max_length=50, blank=True, help_text=_("A page or page range, if useful.")
    )
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(fields=["title", "author"], name="source_unique_title_author")
        ]

    derived_from = frozenset({"title", "short_title", "author"})

    def __str__(self):
        return self.title

    def all_names(self):
        return [self.title, self.short_title, self.author]

    def citation(self):
        parts = [self.author, self.title]
        if self.published:
            parts.append(self.published.display())
        if self.page:
            parts.append(_("p. %(page)s") % {"page": self.page})
        return ", ".join(part for part in parts if part)


class ImportBatch(models.Model):
    """One spreadsheet import: who ran it, on which file, and what it created or changed."""

    created_at = models.DateTimeField(_("imported"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("record type"), on_delete=models.PROTECT
    )
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    created_count = models.PositiveIntegerField(_("new"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    # The ids of what the import created, per model: {"places.place": [12, 13], ...}.
    created = models.JSONField(_("created records"), default=dict, blank=True, editable=False)
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("import batch")
        verbose_name_plural = _("import batches")
        ordering = ["-created_at", "-pk"]
        permissions = [
            ("import_records", _("Can import places, organisations and partnerships")),
            ("export_records", _("Can export places, organisations and partnerships")),
        ]

    def __str__(self):
        return _("import #%(number)s of %(file)s") % {"number": self.pk, "file": self.file_name}

    @property
    def change_reason(self):
        return f"import #{self.pk}"


class ImportBatchItem(models.Model):
    """A record an import changed; ``before`` holds its columns as they were, for an undo."""

    batch = models.ForeignKey(
        ImportBatch, verbose_name=_("import"), on_delete=models.CASCADE, related_name="items"
    )
    content_type = models.ForeignKey("contenttypes.ContentType", on_delete=models.CASCADE)
    object_id = models.PositiveBigIntegerField()
    record = GenericForeignKey("content_type", "object_id")
    before = models.JSONField(_("columns before the import"), null=True, blank=True)

    class Meta:
        verbose_name = _("changed record")
        verbose_name_plural = _("changed records")
        ordering = ["pk"]
        indexes = [models.Index(fields=["content_type", "object_id"])]

    def __str__(self):
        return f"{self.content_type.model} #{self.object_id}"


class Merge(models.Model):
    """Two records made one: where the removed record's address leads now, and its undo.

    ``snapshot`` holds what an undo needs to restore the removed record and move back what
    the merge moved to the kept one.
    """

    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("record type"), on_delete=models.PROTECT
    )
    kept_id = models.PositiveBigIntegerField(_("kept record"))
    removed_id = models.PositiveBigIntegerField(_("removed record"))
    removed_slug = models.SlugField(_("address of the removed record"), max_length=100)
    snapshot = models.JSONField(_("state before the merge"), default=dict, editable=False)
    merged_at = models.DateTimeField(_("merged"), auto_now_add=True)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("merged by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("undone by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    # A merge changes where a public address leads: it moves the registry version.
    objects = VersionedQuerySet.as_manager()

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")
        ordering = ["-merged_at", "-pk"]
        indexes = [models.Index(fields=["content_type", "removed_slug"])]

    def __str__(self):
        return f"{self.content_type.model} #{self.removed_id} → #{self.kept_id}"


class NotDuplicate(models.Model):
    """Staff decided that two records that look alike are two different things."""

    content_type = models.ForeignKey(
        "contenttypes.ContentType", verbose_name=_("record type"), on_delete=models.CASCADE
    )
    # The smaller id first, so a pair is stored once whichever way round it was decided.
    first_id = models.PositiveBigIntegerField()
    second_id = models.PositiveBigIntegerField()
    decided_at = models.DateTimeField(_("decided"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("not a duplicate")
        verbose_name_plural = _("not duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "first_id", "second_id"], name="notduplicate_unique_pair"
            ),
            models.CheckConstraint(
                condition=models.Q(first_id__lt=models.F("second_id")),
                name="notduplicate_ordered_pair",
            ),
        ]

    def __str__(self):
        return f"{self.content_type.model} #{self.first_id} ≠ #{self.second_id}"


class IdempotentRequest(models.Model):
    """An API create sent with an ``Idempotency-Key``, and its answer, kept for a day: the
    same key again (a client's retry after a lost answer) gets that answer, not a second
    record. Written in the create's own transaction (``core.api.RecordViewSet.create``)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    # The request the key was first sent with (address and body), to refuse its reuse.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    location = models.CharField(max_length=500, blank=True)
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("API create sent with a key")
        verbose_name_plural = _("API creates sent with a key")
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotent_request_once")
        ]

    def __str__(self):
        return self.key
