"""The spreadsheet importer: rows in, records checked in memory, then all or nothing.

The steps, for every record type alike:

1. read the file (``importing.spreadsheets``) and map its headers, in English or Danish, to
   the columns the type's export resource defines;
2. parse every cell (numbers as Danish or English spreadsheets write them, choices by
   value or label, countries by code or name, partial dates);
3. find which record each row is (slug, else name) and put every row's names into
   the name index, so that a reference may point to a row earlier or later in the file;
4. resolve references by folded name from indexes loaded once, validate in memory and
   compare with the stored record: new, updated or unchanged;
5. if no row has a problem and this is no dry run, write everything in one transaction
   with bulk writes, history rows and an ``ImportBatch``.

Each record type describes its columns in an ``ImportSpec`` subclass in its app's
``resources.py``.
"""

import difflib
from collections import defaultdict
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core.models import ImportBatch, ImportBatchItem
from core.text import slug_base

from .readers import CellError, ChoiceReader, CountryReader, fold, split_list
from .spreadsheets import read_table

NEW, UPDATED, UNCHANGED = "new", "updated", "unchanged"
# Every ImportSpec with a model, by model label ('places.place'); filled as apps load.
SPECS = {}
CANDIDATES = 3
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class Problem:
    row: int
    column: str
    value: str
    message: str

    def __str__(self):
        if not self.row:
            return self.message
        if not self.column:
            return _("row %(row)s: %(message)s") % {"row": self.row, "message": self.message}
        return _("row %(row)s: %(column)s: %(message)s") % {
            "row": self.row,
            "column": self.column,
            "message": self.message,
        }


@dataclass(eq=False)
class Row:
    number: int
    cells: dict
    values: dict = field(default_factory=dict)
    existing: object = None
    instance: object = None
    action: str = ""
    changes: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    before: dict | None = None

    @property
    def target(self):
        """What a reference to this row means: the stored record's pk, or the row itself."""
        return self.existing.pk if self.existing is not None else self

    def error(self, column, value, message):
        self.problems.append(Problem(self.number, column, str(value), message))


@dataclass
class Report:
    header: list
    rows: list
    problems: list
    batch: ImportBatch | None = None
    dry_run: bool = True

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self):
        return {action: self.count(action) for action in (NEW, UPDATED, UNCHANGED)}

    @property
    def failed_rows(self):
        return [row for row in self.rows if row.problems]


# Names -----------------------------------------------------------------------------------


class NameIndex:
    """Folded names of one record type, loaded once; a row's names join those stored.

    Targets are primary keys for stored records and ``Row`` objects for new rows.
    """

    def __init__(self, noun):
        self.noun = noun
        self.slugs = {}
        self.primary = defaultdict(set)
        self.other = defaultdict(set)
        self.display = {}
        self.labels = {}

    def add(self, target, name, other_names=(), slug=""):
        if slug:
            self.slugs[slug] = target
        folded = fold(name)
        if folded:
            self.primary[folded].add(target)
            self.display.setdefault(folded, name)
        for other in other_names:
            folded_other = fold(other)
            if folded_other:
                self.other[folded_other].add(target)
                self.display.setdefault(folded_other, other)
        self.labels.setdefault(target, name)

    def name_of(self, target):
        return self.labels.get(target, "")

    def matches(self, text):
        """The targets ``text`` names: by slug, else by main name, else by any name."""
        text = text.strip()
        if text in self.slugs:
            return {self.slugs[text]}
        folded = fold(text)
        if not folded:
            return set()
        return set(self.primary.get(folded) or self.other.get(folded) or ())

    def closest(self, text):
        names = list(self.primary) + list(self.other)
        found = difflib.get_close_matches(fold(text), names, n=CANDIDATES, cutoff=0.6)
        return sorted({self.display[name] for name in found})

    def unknown(self, text):
        closest = self.closest(text)
        message = _("unknown %(noun)s '%(value)s'") % {"noun": self.noun, "value": text}
        if closest:
            message += " (" + _("closest: %(names)s") % {"names": ", ".join(closest)} + ")"
        return message

    def ambiguous(self, text, targets):
        names = sorted(self.name_of(target) or "?" for target in targets)
        return _("'%(value)s' names more than one %(noun)s (%(names)s); write the slug instead") % {
            "value": text,
            "noun": self.noun,
            "names": ", ".join(names),
        }

    def resolve(self, text):
        targets = self.matches(text)
        if len(targets) == 1:
            return next(iter(targets))
        if not targets:
            raise CellError(self.unknown(text))
        raise CellError(self.ambiguous(text, targets))


def target_pk(target):
    """The primary key a resolved reference stands for, once new rows are saved."""
    if isinstance(target, Row):
        return target.instance.pk
    return target


# The importer ----------------------------------------------------------------------------


class ImportSpec:
    """How one record type is read from a spreadsheet; subclasses live in resources.py.

    ``resource_class`` is the export resource; its fields are the columns, so the admin,
    the command line and the public CSV download share one definition.
    """

    model = None
    resource_class = None
    noun = "record"
    required = ()
    # Danish (and other) header names, besides the column names themselves.
    header_aliases = {}
    numeric_columns = ()
    # Columns holding several values separated by ';' or line breaks.
    list_columns = ()

    def __init__(self, user=None):
        self.user = user
        self.today = timezone.now()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.model is not None:
            SPECS[cls.model._meta.label_lower] = cls

    @classmethod
    def columns(cls):
        return list(cls.resource_class._meta.export_order)

    @classmethod
    def header_map(cls):
        lookup = {fold(column): column for column in cls.columns()}
        for alias, column in cls.header_aliases.items():
            lookup.setdefault(fold(alias), column)
        return lookup

    # Hooks for subclasses.
    def load(self):
        """Read what the import needs from the database, once."""

    def parse(self, row):
        """Fill ``row.values`` from ``row.cells``; report problems on the row."""

    def identify(self, row):
        """Set ``row.existing``; return (key that must be unique in the file, its column)."""

    def index(self, row):
        """Add the row's names to the indexes that references search."""

    def resolve(self, row):
        """Turn names in ``row.values`` into targets."""

    def check(self, rows):
        """Build ``row.instance``, validate it, and set ``row.action`` and ``row.changes``."""

    def write(self, rows, batch, change_reason):
        """Save new and updated rows; return extra ``ImportBatchItem``s (created objects)."""
        return []

    def snapshot(self, instance):
        """The row of cells that would restore ``instance`` (references by slug)."""
        return {}

    # Shared helpers.
    def parse_cells(self, row, parsers):
        for column, parser in parsers.items():
            if column not in row.cells:
                continue
            text = row.cells[column]
            if column in self.required and not text:
                row.error(column, text, _("a value is required"))
                continue
            if not text:
                # Empty clears: no value, no list, or empty text for a plain text column.
                row.values[column] = (
                    [] if column in self.list_columns else "" if parser is None else None
                )
                continue
            try:
                row.values[column] = parser(text) if parser else text
            except CellError as error:
                row.error(column, text, str(error))

    def resolve_cell(self, row, column, index):
        if not row.values.get(column):
            if column in row.values:
                row.values[column] = None
            return
        try:
            row.values[column] = index.resolve(row.values[column])
        except CellError as error:
            row.error(column, row.cells[column], str(error))
            row.values.pop(column)

    def resolve_list(self, row, column, index):
        if not row.values.get(column):
            return
        resolved = []
        for name in row.values[column]:
            try:
                resolved.append(index.resolve(name))
            except CellError as error:
                row.error(column, name, str(error))
        row.values[column] = resolved

    def validate_fields(self, row, instance, fields, column_of=None):
        """Run the model fields' own checks (length, choices, validators) in memory.

        What ``Model.clean_fields`` does, for the named fields only: it is called once per
        row, and looping over every field of the model each time costs more than the checks.
        """
        column_of = column_of or {}
        for model_field in self._fields_to_validate(type(instance), frozenset(fields)):
            raw = getattr(instance, model_field.attname)
            if model_field.blank and raw in model_field.empty_values:
                continue
            try:
                setattr(instance, model_field.attname, model_field.clean(raw, instance))
            except ValidationError as error:
                column = column_of.get(model_field.name, model_field.name)
                row.error(column, row.cells.get(column, raw), " ".join(error.messages))

    _field_cache = {}

    @classmethod
    def _fields_to_validate(cls, model, names):
        key = (model, names)
        if key not in cls._field_cache:
            cls._field_cache[key] = [f for f in model._meta.concrete_fields if f.name in names]
        return cls._field_cache[key]

    def validation_error(self, row, error, default_column=""):
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                column = default_column if name == "__all__" else name
                row.error(column, row.cells.get(column, ""), " ".join(messages))
        else:
            row.error(default_column, "", " ".join(error.messages))

    def new_slug(self, text, taken, fallback):
        base = slug_base(text) or fallback
        slug, number = base, 2
        while slug in taken:
            slug = f"{base}-{number}"
            number += 1
        taken.add(slug)
        return slug


class Importer:
    def __init__(self, spec_class, user=None, progress=None):
        self.spec_class = spec_class
        self.user = user
        self.progress = progress or (lambda stage, done, total: None)

    def read(self, data, file_name=""):
        """``(header, rows)`` of the file; ``UnreadableFile`` if it is no spreadsheet."""
        return read_table(data, file_name)

    def run(self, data, file_name="", dry_run=False):
        header, table = self.read(data, file_name)
        return self.run_table(header, table, file_name, dry_run)

    def run_table(self, header, table, file_name="", dry_run=False, change_reason=None):
        problems = []
        columns = self.map_header(header, problems)
        report = self.check_and_write(
            header, table, columns, problems, file_name, dry_run, change_reason
        )
        # Name each column as the file does ('overordnet', not 'parent'), so that a
        # message points at the column the person sees in their spreadsheet.
        as_in_file = {column: header[position] for position, column in columns.items()}
        for problem in report.problems:
            problem.column = as_in_file.get(problem.column, problem.column)
        return report

    def check_and_write(self, header, table, columns, problems, file_name, dry_run, change_reason):
        spec = self.spec_class(user=self.user)
        rows = []
        total = len(table)
        for done, (number, cells) in enumerate(table, start=1):
            row = Row(number, {})
            for position, column in columns.items():
                text = cells[position] if position < len(cells) else ""
                text = text.strip().replace("\r\n", "\n")
                # Our exports put an apostrophe before formula-like text; take it off again.
                if text.startswith("'") and text[1:2] and text[1:].startswith(FORMULA_STARTS):
                    text = text[1:]
                row.cells[column] = text
            rows.append(row)
            if done % 1000 == 0:
                self.progress("read", done, total)
        self.progress("read", total, total)
        if problems:
            return Report(header, rows, problems, dry_run=dry_run)
        if dry_run:
            return self.check(spec, header, rows, problems, dry_run=True)
        # A real import reads, checks and writes in one transaction, so that what it
        # checked is what it writes (SQLite takes the write lock at the start: see
        # DATABASES' transaction_mode).
        try:
            with transaction.atomic():
                report = self.check(spec, header, rows, problems, dry_run=False)
                if not report.problems:
                    report.batch = self.write(spec, rows, file_name, change_reason)
        except IntegrityError as error:
            problem = Problem(
                0,
                "",
                "",
                _(
                    "the registry changed while this file was imported (%(error)s); "
                    "nothing was written, import it again"
                )
                % {"error": error},
            )
            return Report(header, rows, [problem], dry_run=False)
        return report

    def check(self, spec, header, rows, problems, dry_run):
        total = len(rows)
        spec.load()
        keys = {}
        for row in rows:
            spec.parse(row)
            key, column = spec.identify(row) or (None, None)
            if key is not None:
                if key in keys:
                    row.error(
                        column,
                        row.cells.get(column, ""),
                        _("the same record as row %(row)d; each record may appear once")
                        % {"row": keys[key].number},
                    )
                else:
                    keys[key] = row
        for row in rows:
            spec.index(row)
        for done, row in enumerate(rows, start=1):
            spec.resolve(row)
            if done % 1000 == 0:
                self.progress("checked", done, total)
        spec.check(rows)
        self.progress("checked", total, total)
        for row in rows:
            problems.extend(row.problems)
        return Report(header, rows, problems, dry_run=dry_run)

    def map_header(self, header, problems):
        lookup = self.spec_class.header_map()
        columns, seen = {}, {}
        for position, name in enumerate(header):
            if not name.strip():
                continue
            column = lookup.get(fold(name))
            if column is None:
                problems.append(
                    Problem(
                        1,
                        name,
                        name,
                        _("unknown column '%(name)s'; the columns are: %(columns)s")
                        % {"name": name, "columns": ", ".join(self.spec_class.columns())},
                    )
                )
            elif column in seen:
                problems.append(
                    Problem(1, name, name, _("column '%(name)s' appears twice") % {"name": column})
                )
            else:
                columns[position] = column
                seen[column] = name
        for column in self.spec_class.required:
            if column not in seen:
                problems.append(
                    Problem(
                        1,
                        column,
                        "",
                        _("the required column '%(name)s' is missing") % {"name": column},
                    )
                )
        return columns

    def write(self, spec, rows, file_name, change_reason=None):
        model = spec.model
        with transaction.atomic():
            batch = None
            if change_reason is None:
                batch = ImportBatch.objects.create(
                    user=self.user,
                    content_type=ContentType.objects.get_for_model(model),
                    file_name=file_name[:255],
                    created_count=sum(1 for row in rows if row.action == NEW),
                    updated_count=sum(1 for row in rows if row.action == UPDATED),
                    unchanged_count=sum(1 for row in rows if row.action == UNCHANGED),
                )
                change_reason = batch.change_reason
            extra_objects = spec.write(rows, batch, change_reason)
            if batch is not None:
                # What the import created is a list of ids per model (one row, however
                # many records); what it changed keeps its earlier columns, for an undo.
                created = {
                    model._meta.label_lower: [r.instance.pk for r in rows if r.action == NEW]
                }
                for obj in extra_objects:
                    created.setdefault(obj._meta.label_lower, []).append(obj.pk)
                batch.created = {label: pks for label, pks in created.items() if pks}
                batch.save(update_fields=["created"])
                content_type = ContentType.objects.get_for_model(model)
                ImportBatchItem.objects.bulk_create(
                    [
                        ImportBatchItem(
                            batch=batch,
                            content_type=content_type,
                            object_id=row.instance.pk,
                            before=row.before,
                        )
                        for row in rows
                        if row.action == UPDATED
                    ],
                    batch_size=1000,
                )
        return batch


def export_table(spec_class, queryset, file_format):
    """The bytes of ``queryset`` exported through the spec's resource, in the import's columns."""
    from .spreadsheets import write_table

    dataset = spec_class.resource_class().export(queryset=queryset)
    return write_table(dataset.headers, list(dataset), file_format, spec_class.numeric_columns)


def undo_batch(batch, spec_class, user=None):
    """Put back what ``batch`` changed and remove what it created, in one transaction.

    Returns a ``Report`` of restoring the changed records; its problems, if any, mean
    nothing was undone (a record the import made may since have gained dependants).
    """
    from django.apps import apps
    from django.db.models import ProtectedError

    model = spec_class.model
    restore = [item.before for item in batch.items.all() if item.before]
    created = {apps.get_model(label): pks for label, pks in (batch.created or {}).items()}
    reason = f"undo of import #{batch.pk}"
    with transaction.atomic():
        # Figures and other dependants the import added go first, then restore, then the
        # records it created (which restored records may have pointed to).
        for extra_model, pks in created.items():
            if extra_model is not model:
                extra_model.objects.filter(pk__in=pks).delete()
        report = None
        if restore:
            header = spec_class.columns()
            table = [
                (number, [cells.get(column, "") for column in header])
                for number, cells in enumerate(restore, start=2)
            ]
            report = Importer(spec_class, user=user).run_table(
                header, table, batch.file_name, change_reason=reason
            )
            if report.problems:
                transaction.set_rollback(True)
                return report
        to_delete = model.objects.filter(pk__in=created.get(model, []))
        try:
            # Newest first: rows created later may lie inside rows created earlier.
            for record in sorted(to_delete, key=lambda r: -r.pk):
                record._change_reason = reason
                record.delete()
        except ProtectedError as error:
            transaction.set_rollback(True)
            names = ", ".join(sorted({str(obj) for obj in error.protected_objects})[:5])
            return Report(
                [],
                [],
                [
                    Problem(
                        0,
                        "",
                        "",
                        _("records made by the import are now used by: %(names)s")
                        % {"names": names},
                    )
                ],
            )
        batch.undone_at = timezone.now()
        batch.undone_by = user
        batch.save(update_fields=["undone_at", "undone_by"])
    return report or Report([], [], [])


# Specs shared by records with names, kinds, countries, parents and other names -------------


class NamedRecordSpec(ImportSpec):
    """Places and organisations: a name in a country, other names, a parent, sources."""

    alias_model = None
    alias_field = ""
    required = ("name", "kind", "country")
    list_columns = ("aliases", "source")
    # Columns copied straight onto model fields of the same name.
    plain_fields = ("name", "kind", "country", "description")
    # Columns naming another record: column -> (model field, name of the index attribute).
    reference_fields = {"parent": ("parent", "own_index")}
    slug_fallback = "record"

    def parsers(self):
        return {
            "slug": self.parse_slug,
            "name": None,
            "kind": ChoiceReader(self.model.Kind.choices),
            "country": self.countries,
            "parent": None,
            "aliases": split_list,
            "description": None,
            "source": split_list,
        }

    def parse_slug(self, text):
        from django.core.validators import validate_slug

        try:
            validate_slug(text)
        except ValidationError:
            raise CellError(
                _("'%(value)s' is not a slug (letters, digits, hyphens)") % {"value": text}
            ) from None
        limit = self.model._meta.get_field("slug").max_length
        if len(text) > limit:
            raise CellError(
                _("'%(value)s' is longer than %(limit)d characters")
                % {"value": text, "limit": limit}
            )
        return text

    def load(self):
        from core.models import Source

        self.countries = CountryReader()
        self.records = {record.pk: record for record in self.model.objects.all()}
        self.aliases = defaultdict(list)
        for owner, name in self.alias_model.objects.values_list(f"{self.alias_field}_id", "name"):
            self.aliases[owner].append(name)
        self.sources = defaultdict(set)
        through = self.model.sources.through
        for owner, source in through.objects.values_list(f"{self.alias_field}_id", "source_id"):
            self.sources[owner].add(source)
        self.by_slug = {record.slug: record for record in self.records.values()}
        self.taken_slugs = set(self.by_slug)
        self.by_name = defaultdict(list)
        self.by_other_name = defaultdict(list)
        self.own_index = NameIndex(self.noun)
        for record in self.records.values():
            self.by_name[(fold(record.name), record.country.code)].append(record)
            for other in self.other_names(record):
                if other:
                    self.by_other_name[(fold(other), record.country.code)].append(record)
            self.own_index.add(record.pk, record.name, self.other_names(record), record.slug)
        self._parsers = self.parsers()
        self.source_index = NameIndex(_("source"))
        self.source_titles = {}
        for pk, title in Source.objects.values_list("pk", "title"):
            self.source_index.add(pk, title)
            self.source_titles[pk] = title

    def other_names(self, record):
        return [record.native_name, *self.aliases.get(record.pk, [])]

    def row_other_names(self, row):
        values = row.values
        return [values.get("native_name") or "", *(values.get("aliases") or [])]

    def parse(self, row):
        self.parse_cells(row, self._parsers)

    def identify(self, row):
        slug = row.values.get("slug")
        if slug:
            row.existing = self.by_slug.get(slug)
            key = ("pk", row.existing.pk) if row.existing else ("slug", slug)
            return key, "slug"
        name, country = row.values.get("name"), row.values.get("country")
        if not name or not country:
            return None
        matches = self.by_name.get((fold(name), country), [])
        if len(matches) > 1:
            row.error(
                "name",
                name,
                _("%(count)d records are named '%(name)s' in %(country)s; add a slug column")
                % {"count": len(matches), "noun": self.noun, "name": name, "country": country},
            )
            return None
        if matches:
            row.existing = matches[0]
            return ("pk", row.existing.pk), "name"
        known_as = self.by_other_name.get((fold(name), country), [])
        if known_as:
            # Most likely the same record under an older or other spelling: creating a
            # second one would duplicate it, updating it would rename it. Ask.
            row.error(
                "name",
                name,
                _(
                    "'%(name)s' is another name of %(records)s; to update it, put its slug "
                    "in a slug column; to add a new %(noun)s, give it its own name"
                )
                % {
                    "name": name,
                    "records": ", ".join(f"{r.name} ({r.slug})" for r in known_as),
                    "noun": self.noun,
                },
            )
            return None
        return ("name", fold(name), country), "name"

    def index(self, row):
        name = row.values.get("name")
        if name:
            self.own_index.add(
                row.target, name, self.row_other_names(row), row.values.get("slug") or ""
            )

    def resolve(self, row):
        for column, (_field, index_name) in self.reference_fields.items():
            self.resolve_cell(row, column, getattr(self, index_name))
        self.resolve_list(row, "source", self.source_index)

    # What the stored record holds, in the form parsed rows take.
    def current(self, record):
        values = {column: getattr(record, column) for column in self.plain_fields}
        values["country"] = record.country.code
        values["slug"] = record.slug
        values["description"] = (record.description or "").strip()
        for column, (field_name, _index) in self.reference_fields.items():
            values[column] = getattr(record, f"{field_name}_id")
        values["aliases"] = tuple(sorted(self.aliases.get(record.pk, [])))
        values["source"] = frozenset(self.sources.get(record.pk, ()))
        return values

    def wanted(self, row):
        values = dict(row.values)
        if "aliases" in values:
            values["aliases"] = tuple(sorted(set(values["aliases"] or [])))
        if "source" in values:
            values["source"] = frozenset(values["source"] or [])
        for column in self.reference_fields:
            if (
                column in values
                and values[column] is not None
                and not isinstance(values[column], Row)
            ):
                values[column] = int(values[column])
        return values

    def check(self, rows):
        for row in rows:
            if row.problems:
                continue
            record = row.existing
            current = self.current(record) if record is not None else {}
            wanted = self.wanted(row)
            if record is None:
                record = self.model()
            else:
                row.before = self.snapshot(record)
            row.instance = record
            row.changes = [
                column
                for column, value in wanted.items()
                if column in current and current[column] != value
            ]
            if row.existing is not None:
                row.changes += self.extra_changes(row, record, wanted)
            for column in self.plain_fields:
                if column in wanted:
                    value = wanted[column]
                    if value is None and not self.model._meta.get_field(column).null:
                        value = ""
                    setattr(record, column, value)
            if wanted.get("slug"):
                record.slug = wanted["slug"]
            self.apply_extra(row, record, wanted)
            if row.existing is None:
                if not record.slug:
                    record.slug = self.new_slug(
                        wanted.get("name", ""), self.taken_slugs, self.slug_fallback
                    )
                elif record.slug in self.taken_slugs:
                    row.error("slug", record.slug, _("another record uses this slug"))
                else:
                    self.taken_slugs.add(record.slug)
            self.validate_fields(row, record, self.validated_fields())
            self.check_extra(row, record, wanted)
            if row.problems:
                continue
            row.action = NEW if row.existing is None else UPDATED if row.changes else UNCHANGED
        self.check_cycles(rows)

    def extra_changes(self, row, record, wanted):
        """Columns that ``current`` cannot compare, such as figures kept as history."""
        return []

    def apply_extra(self, row, record, wanted):
        pass

    def check_extra(self, row, record, wanted):
        pass

    def validated_fields(self):
        # kind and country come from readers that only return valid choices, and slugs
        # are checked as they are read or made; checking them again against 250 countries
        # per row would cost more than everything else.
        return {"name", "description"}

    def check_cycles(self, rows):
        parents = {pk: record.parent_id for pk, record in self.records.items()}
        for row in rows:
            if "parent" in row.values and not row.problems:
                parents[row.target] = row.values["parent"]
        for row in rows:
            if row.problems or row.values.get("parent") is None:
                continue
            seen, node = {row.target}, row.values["parent"]
            while node is not None:
                if node in seen:
                    row.action = ""
                    row.error(
                        "parent",
                        row.cells.get("parent", ""),
                        _(
                            "'%(value)s' lies inside this %(noun)s; "
                            "a %(noun)s cannot lie inside itself"
                        )
                        % {"value": row.cells.get("parent", ""), "noun": self.noun},
                    )
                    break
                seen.add(node)
                node = parents.get(node)

    def names_for_search(self, record, row):
        if "aliases" in row.values:
            aliases = row.values["aliases"] or []
        else:
            aliases = self.aliases.get(record.pk, [])
        return [*self.base_names(record), *aliases]

    def base_names(self, record):
        return [record.name]

    def write(self, rows, batch, change_reason):
        from simple_history.utils import bulk_create_with_history, bulk_update_with_history

        from core.text import search_key

        # One moment for the whole import, in the records and in their history.
        self.now = now = timezone.now()
        new = [row for row in rows if row.action == NEW]
        updated = [row for row in rows if row.action == UPDATED]
        for row in new + updated:
            record = row.instance
            record.search_key = search_key(self.names_for_search(record, row))
            record.updated_by = self.user
            record.updated_at = now
            if row.action == NEW:
                record.created_by = self.user
        # Create parents before the rows inside them, one bulk insert per level.
        levels = defaultdict(list)
        for row in new:
            depth, node = 0, row.values.get("parent")
            while isinstance(node, Row) and node.action == NEW and depth <= len(new):
                depth, node = depth + 1, node.values.get("parent")
            levels[depth].append(row)
        for depth in sorted(levels):
            for row in levels[depth]:
                self.bind(row)
            bulk_create_with_history(
                [row.instance for row in levels[depth]],
                self.model,
                batch_size=500,
                default_user=self.user,
                default_change_reason=change_reason,
                default_date=self.now,
            )
        for row in updated:
            self.bind(row)
        if updated:
            bulk_update_with_history(
                [row.instance for row in updated],
                self.model,
                fields=self.update_fields(),
                batch_size=500,
                default_user=self.user,
                default_change_reason=change_reason,
                default_date=self.now,
            )
        self.write_aliases(new + updated, change_reason)
        self.write_sources(new + updated)
        return self.write_extra(new + updated, change_reason)

    def bind(self, row):
        for column, (field_name, _index) in self.reference_fields.items():
            if column in row.values:
                value = row.values[column]
                setattr(
                    row.instance,
                    f"{field_name}_id",
                    target_pk(value) if value is not None else None,
                )

    def update_fields(self):
        fields = list(self.plain_fields)
        fields += [field_name for field_name, _index in self.reference_fields.values()]
        return [*fields, "slug", "search_key", "updated_by", "updated_at"]

    def write_aliases(self, rows, change_reason):
        from simple_history.utils import bulk_create_with_history

        rows = [
            row
            for row in rows
            if "aliases" in row.values and (row.action == NEW or "aliases" in row.changes)
        ]
        stale_filter = []
        new_names = []
        for row in rows:
            wanted = list(dict.fromkeys(row.values["aliases"] or []))
            have = set(self.aliases.get(row.instance.pk, [])) if row.action == UPDATED else set()
            if have - set(wanted):
                stale_filter.append((row.instance.pk, have - set(wanted)))
            for name in wanted:
                if name not in have:
                    new_names.append(
                        self.alias_model(**{self.alias_field: row.instance, "name": name})
                    )
        for pk, names in stale_filter:
            self.alias_model.objects.filter(
                **{f"{self.alias_field}_id": pk, "name__in": names}
            ).delete()
        bulk_create_with_history(
            new_names,
            self.alias_model,
            batch_size=500,
            default_user=self.user,
            default_change_reason=change_reason,
            default_date=self.now,
        )

    def write_sources(self, rows):
        through = self.model.sources.through
        owner = f"{self.alias_field}_id"
        rows = [
            row
            for row in rows
            if "source" in row.values and (row.action == NEW or "source" in row.changes)
        ]
        changed = [row.instance.pk for row in rows if row.action == UPDATED]
        if changed:
            through.objects.filter(**{f"{owner}__in": changed}).delete()
        links = [
            through(**{owner: row.instance.pk, "source_id": target_pk(source)})
            for row in rows
            for source in dict.fromkeys(row.values["source"] or [])
        ]
        through.objects.bulk_create(links, batch_size=1000)

    def write_extra(self, rows, change_reason):
        return []

    def snapshot(self, record):
        cells = {column: str(getattr(record, column) or "") for column in self.plain_fields}
        cells["country"] = record.country.code
        cells["slug"] = record.slug
        for column, (field_name, index_name) in self.reference_fields.items():
            pk = getattr(record, f"{field_name}_id")
            cells[column] = self.slug_of(index_name, pk) if pk else ""
        cells["aliases"] = "; ".join(self.aliases.get(record.pk, []))
        cells["source"] = "; ".join(
            self.source_titles[pk] for pk in self.sources.get(record.pk, ())
        )
        return cells

    def slug_of(self, index_name, pk):
        return self.records[pk].slug if index_name == "own_index" else ""
