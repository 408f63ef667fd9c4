"""Record types: how one model reads from and writes to a spreadsheet, declared once.

``RecordType`` holds what every type shares (loading, comparing, writing in bulk with
history, undo snapshots); ``NamedRecordType`` adds what places and organisations share
(a name in a country, a kind, other names, a parent). Each app subclasses them in its
``resources.py`` with its model and columns.
"""

from collections import ChainMap, defaultdict
from functools import partial

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _

from core.models import ParentsInDatabase, Publication, contains_itself
from core.translation import LANGUAGES, localized_field, translations

from .columns import PublicationColumn, Reference, check_declaration
from .names import Names, first_text, identity
from .readers import fold
from .rows import NEW, UPDATED, Row

# Every record type, by model label ('places.place'); filled as the apps load.
TYPES = {}


def row_translations(values, field):
    """A row's text of a translated field in each language it gives: ``{"da": …}``."""
    found = {code: values.get(localized_field(field, code)) for code in LANGUAGES}
    return {code: text for code, text in found.items() if text}


def stored_translations(record, field):
    return {code: text for code, text in translations(record, field).items() if text}


def drop_known_names(values, field, record, known=()):
    """Leave out the row's names that only found ``record``: the same name in the same
    language however spelled, or another of its names (``known``, identities) where the
    record has a name in that language already: without a slug a name finds a record,
    renaming takes the slug. A name in a language the record lacks fills it in."""
    known = {*known, *(identity(text) for text in stored_translations(record, field).values())}
    for code in LANGUAGES:
        column = localized_field(field, code)
        text = values.get(column)
        if not text:
            continue
        stored = getattr(record, column) or ""
        if identity(text) == identity(stored) or (stored and identity(text) in known):
            values.pop(column)


class RecordType:
    """How one record type reads from and writes to a spreadsheet: its columns, once.

    Subclasses in ``<app>/resources.py`` name the model, the columns and which editable
    model fields are deliberately left out (``excluded_fields``, each with its reason).
    """

    model = None
    noun = "record"
    columns = ()
    # Editable model fields with no column, and why: a test fails on any field not here.
    excluded_fields = {}
    # Fields a column writes under another name (sources via 'source').
    covered_fields = ()
    # The self-referencing column whose rows must be created parents first.
    parent_column = None
    # The column a message about a row's identity (the same record twice) points at.
    identity_column = "name"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.model is None:
            return
        cls.label = cls.model._meta.label_lower
        cls.columns = list(cls.columns)
        if hasattr(cls.model, "publish_problems") and "publication" not in {
            column.name for column in cls.columns
        }:
            # Every publishable type has the column, declared once here.
            cls.columns.append(PublicationColumn())
        for column in cls.columns:
            column.bind(cls)
        cls.by_name = {column.name: column for column in cls.columns}
        if cls.__dict__.get("registered", True):
            TYPES[cls.label] = cls

    def __init__(self, job):
        self.job = job

    # The declaration, read by everything else.
    @classmethod
    def column_names(cls):
        return [column.name for column in cls.columns if column.exported]

    @classmethod
    def required(cls):
        return [column.name for column in cls.columns if column.required]

    @classmethod
    def in_file_language(cls):
        """The plain columns of translated fields ('name'), which mean the file's language."""
        return [column for column in cls.columns if column.languages]

    @classmethod
    def header_map(cls):
        lookup = {fold(column.name): column.name for column in cls.columns}
        for column in cls.columns:
            for alias in column.aliases:
                lookup.setdefault(fold(alias), column.name)
        return lookup

    @classmethod
    def declaration_problems(cls):
        return check_declaration(cls)

    @classmethod
    def resource(cls):
        """A django-import-export ``ModelResource`` generated from the columns (exports)."""
        from .engine import resource_for  # the engine builds on the types, not the reverse

        return resource_for(cls)

    # Loading ---------------------------------------------------------------------------
    def queryset(self):
        return self.model._default_manager.all()

    def load(self):
        self.records = {record.pk: record for record in self.queryset()}

    @classmethod
    def build_names(cls, job):
        """The name index of this type's stored records."""
        raise ImproperlyConfigured(f"{cls.__name__} cannot be referred to by name")

    # Rows ------------------------------------------------------------------------------
    def identify(self, row):
        """Set ``row.existing`` (or an error) and ``row.key``, unique in a file."""

    def identify_late(self, row):
        """Identify a row whose identity needs its resolved references."""

    def index(self, row):
        """Add a new row's names to the index that references search."""

    def new_instance(self, row):
        record = self.model()
        if hasattr(record, "publication"):
            record.publication = self.job.publication
        return record

    def validate(self, row, instance):
        """Model rules beyond the fields: the model's ``clean()``, and publishing's."""
        try:
            instance.clean()
        except ValidationError as error:
            self.job.validation_error(row, error)
        if hasattr(instance, "publish_problems"):
            self.check_publication(row, instance)

    def check_publication(self, row, instance):
        """A row that publishes a record, or takes sources off a published one, needs what
        publishing needs (``Publishable.publish_problems``)."""
        if instance.publication != Publication.PUBLISHED:
            return
        new = row.existing is None
        if not (new or "publication" in row.changes or "remove_source" in row.changes):
            return
        cited = set() if new else set(self.job.links(self.label, "sources").get(row.target, ()))
        cited |= set(row.wanted.get("source") or ())
        cited -= set(row.wanted.get("remove_source") or ())
        reviewed_by = None if not new and "publication" not in row.changes else self.job.user
        column = "publication" if "publication" in row.cells else "source"
        for problem in instance.publish_problems(user=reviewed_by, sources=cited):
            row.error(column, row.cells.get(column, ""), problem)

    def check_rows(self, rows):
        """Checks across rows, once every row is checked alone."""
        if self.parent_column:
            self.check_cycles(rows)

    def warn(self, row):
        """Warnings for a row that may be a mistake though it breaks no rule."""

    def derive(self, row, instance):
        instance.derive(names=self.names_for_search(row, instance), taken_slugs=self.job.slugs)

    def names_for_search(self, row, instance):
        return None

    def check_cycles(self, rows):
        column = self.parent_column
        parents = {
            row.target: self.job.pk_or_row(row.wanted[column])
            for row in rows
            if column in row.wanted and not row.problems
        }
        if not parents:
            return
        parent_of = ChainMap(parents, ParentsInDatabase(self.model))
        for row in rows:
            parent = parents.get(row.target)
            if row.problems or parent is None or not isinstance(row.target, int):
                continue
            if contains_itself(row.target, parent, parent_of):
                row.action = ""
                row.error(
                    column,
                    row.cells.get(column, ""),
                    _("'%(value)s' lies inside this %(noun)s (as this file has it)")
                    % {"value": row.cells.get(column, ""), "noun": self.noun},
                )

    def snapshot(self, record):
        """The cells that would put ``record`` back as it is (references by slug)."""
        job = self.job
        job.slug_references = True
        try:
            return {
                column.name: job.cell_text(column.cell(column.current(record, job), job))
                for column in self.columns
                if column.exported
            }
        finally:
            job.slug_references = False

    # Writing ---------------------------------------------------------------------------
    def write(self, rows):
        """Save new and changed rows; return what else the import created, for an undo."""
        job = self.job
        new = [row for row in rows if row.action == NEW]
        updated = [row for row in rows if row.action == UPDATED]
        for row in new + updated:
            record = row.instance
            if hasattr(record, "updated_by_id"):
                record.updated_by = job.user
                record.updated_at = job.now
                if row.action == NEW:
                    record.created_by = job.user
                    record.created_at = job.now
        references = [column for column in self.columns if isinstance(column, Reference)]
        deferred = []
        for level in self.levels(new):
            for row in level:
                for column in references:
                    if column.name in row.wanted:
                        column.apply(row.instance, row.wanted[column.name], job)
                        if row.instance.pk is None and job.pk_of(row.wanted[column.name]) is None:
                            if row.wanted[column.name] is not None:
                                deferred.append((row, column))
            job.bulk_create(self.model, [row.instance for row in level])
        for row in updated:
            for column in references:
                if column.name in row.wanted:
                    column.apply(row.instance, row.wanted[column.name], job)
        if updated:
            fields = {name for row in updated for name in self.changed_fields(row)}
            job.bulk_update(self.model, [row.instance for row in updated], sorted(fields))
        self.write_deferred(deferred)
        created = []
        for column in self.columns:
            created += column.write(rows, job) or []
        return created

    def changed_fields(self, row):
        fields = ["search_key", "slug"] if hasattr(row.instance, "search_key") else []
        if hasattr(row.instance, "updated_by_id"):
            fields += ["updated_by", "updated_at"]
        for name in row.changes:
            fields += self.by_name[name].fields
        return [name for name in fields if name != "id"]

    def levels(self, new):
        """New rows grouped so that a row's parent is created before it."""
        if not self.parent_column:
            return [new] if new else []
        column, depth_of = self.parent_column, {}
        for row in new:
            depth, node = 0, row.wanted.get(column)
            while isinstance(node, Row) and node.action == NEW and depth <= len(new):
                depth, node = depth + 1, node.wanted.get(column)
            depth_of[row] = depth
        levels = defaultdict(list)
        for row in new:
            levels[depth_of[row]].append(row)
        return [levels[depth] for depth in sorted(levels)]

    def write_deferred(self, deferred):
        """References to rows created later in the same import (a capital inside its
        province): set once both exist, in the record and in its first history row."""
        job = self.job
        for row, column in deferred:
            pk = job.pk_of(row.wanted[column.name])
            attname = column.model_field.attname
            values = {attname: pk}
            if hasattr(row.instance, "updated_at"):
                # The import's moment, as the record and its history row were written.
                values["updated_at"] = job.now
            self.model._default_manager.filter(pk=row.instance.pk).update(**values)
            setattr(row.instance, attname, pk)
            history = getattr(self.model, "history", None)
            if history is not None:
                history.filter(id=row.instance.pk).update(**{attname: pk})

    @classmethod
    def export_queryset(cls, queryset):
        return queryset


class NamedRecordType(RecordType):
    """Places and organisations: a name in a country, a kind, other names, a parent."""

    parent_column = "parent"
    # Fields holding names besides ``name`` (native name, short name).
    other_name_fields = ("native_name",)
    name_model = None
    name_owner = ""
    # Words a reference may write a name with or without (``importing.names.bare``).
    generic_words = ()

    def queryset(self):
        return self.model._default_manager.all()

    def load(self):
        super().load()
        job = self.job
        self.kinds = dict(self.model.Kind.choices)
        others = job.other_names(self.label)
        self.by_identity = defaultdict(list)
        for record in self.records.values():
            names = [*stored_translations(record, "name").values()]
            names += self.stored_other_names(record, others)
            country = record.country.code
            for key in dict.fromkeys(identity(name) for name in names if name):
                self.by_identity[(key, country)].append(record)

    def stored_other_names(self, record, others):
        return [
            *(getattr(record, name) for name in self.other_name_fields),
            *others.get(record.pk, ()),
        ]

    @classmethod
    def build_names(cls, job):
        names = Names(cls.model._meta.verbose_name, cls.generic_words)
        # An export only asks whether a record's own name names it alone, which other
        # names never decide (main names come first): it need not read them.
        others = {} if job.exporting else job.other_names(cls.label)
        name_fields = [localized_field("name", code) for code in LANGUAGES]
        records = cls.model._default_manager.values(
            "pk", *name_fields, "slug", "kind", "country", "parent_id", *cls.other_name_fields
        )
        records = list(records)
        translated = {
            record["pk"]: {code: record[localized_field("name", code)] for code in LANGUAGES}
            for record in records
        }
        name_of = {pk: first_text(texts, names.order) for pk, texts in translated.items()}
        kinds = dict(cls.model.Kind.choices)
        for record in records:
            names.add(
                record["pk"],
                translated[record["pk"]],
                [*(record[name] for name in cls.other_name_fields), *others.get(record["pk"], ())],
                record["slug"],
                partial(
                    cls.detail,
                    kinds,
                    record["kind"],
                    name_of.get(record["parent_id"]),
                    record["country"],
                ),
            )
        return names

    @staticmethod
    def detail(kinds, kind, parent_name, country):
        from django_countries import countries

        where = (
            _("in %(place)s") % {"place": parent_name}
            if parent_name
            else str(countries.name(country) or country)
        )
        return ", ".join(part for part in (str(kinds.get(kind, kind or "")), where) if part)

    def identify(self, row):
        values, job = row.values, self.job
        slug = values.get("slug")
        if slug:
            row.existing = self.records_by_slug().get(slug)
            row.key = ("pk", row.existing.pk) if row.existing else ("slug", slug)
            if row.existing is None:
                return
            return
        given = row_translations(values, "name")
        country, kind = values.get("country"), values.get("kind")
        if not given or not country or not kind:
            return
        # The first language the row names the record in is where a message points.
        column = localized_field("name", next(iter(given)))
        name = given[next(iter(given))]
        candidates = list(
            {
                record.pk: record
                for text in given.values()
                for record in self.by_identity.get((identity(text), country), ())
                if record.kind == kind
            }.values()
        )
        parent_text = values.get(self.parent_column) if self.parent_column else None
        if parent_text and candidates:
            parents = set(job.names(self.label).find(parent_text)[0])
            candidates = [record for record in candidates if record.parent_id in parents]
        if len(candidates) > 1:
            names = job.names(self.label)
            row.error(
                column,
                name,
                _(
                    "%(count)d %(nouns)s fit this row: %(candidates)s; add a slug column "
                    "and write the slug of the one you mean (or a new slug for a new one)"
                )
                % {
                    "count": len(candidates),
                    "nouns": self.model._meta.verbose_name_plural,
                    "candidates": "; ".join(
                        sorted(names.describe(record.pk) for record in candidates)
                    ),
                },
            )
            return
        if candidates:
            record = row.existing = candidates[0]
            row.key = ("pk", record.pk)
            stored = stored_translations(record, "name").values()
            if not {identity(text) for text in given.values()} & {identity(t) for t in stored}:
                row.notes.append(
                    _("matched %(record)s by its other name '%(name)s'")
                    % {"record": job.names(self.label).describe(record.pk), "name": name}
                )
            elif not set(given.values()) & set(stored):
                row.notes.append(
                    _("matched %(record)s by its name, written '%(name)s'")
                    % {"record": job.names(self.label).describe(record.pk), "name": name}
                )
            others = self.stored_other_names(record, job.other_names(self.label))
            drop_known_names(values, "name", record, {identity(other) for other in others})
            return
        row.key = (
            "name",
            tuple(sorted(identity(text) for text in given.values())),
            country,
            kind,
            identity(parent_text or ""),
        )

    def records_by_slug(self):
        if not hasattr(self, "_by_slug"):
            self._by_slug = {record.slug: record for record in self.records.values()}
        return self._by_slug

    def index(self, row):
        values = row.values
        name = stored_translations(row.existing, "name") if row.existing else {}
        name.update(row_translations(values, "name"))
        if not name:
            return
        kinds = self.kinds
        others = [values.get(field_name) or "" for field_name in self.other_name_fields]
        others += list(values.get("aliases") or ())
        self.job.names(self.label).add(
            row.target,
            name,
            others,
            values.get("slug") or (row.existing.slug if row.existing else ""),
            partial(
                self.detail,
                kinds,
                values.get("kind"),
                values.get(self.parent_column) or "",
                values.get("country") or "",
            ),
        )

    def names_for_search(self, row, instance):
        if "aliases" in row.wanted:
            aliases = list(row.wanted["aliases"])
        else:
            aliases = list(self.job.other_names(self.label).get(instance.pk, ()))
        return [
            *stored_translations(instance, "name").values(),
            *(getattr(instance, f) for f in self.other_name_fields),
            *aliases,
        ]

    def warn(self, row):
        if row.action != NEW:
            return
        country = row.instance.country.code
        # A city named like the municipality it lies in (Odense in Odense Municipality) is
        # the usual case, not a duplicate.
        parent = row.values.get(self.parent_column)
        found = []
        for name in stored_translations(row.instance, "name").values():
            found += self.job.similar(self.label, name, country, row.target)
        for record in list(dict.fromkeys(found))[:3]:
            if record == parent:
                continue
            row.warn(
                _(
                    "possible duplicate of %(record)s; if it is the same, write its slug "
                    "in a slug column"
                )
                % {"record": self.job.names(self.label).describe(record)}
            )
