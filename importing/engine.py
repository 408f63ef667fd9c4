"""The spreadsheet importer: rows in, records checked in memory, then all or nothing.

Record types (``importing.types``) declare their columns (``importing.columns``) once, in
``<app>/resources.py``; names are found through ``importing.names``. For every type alike:

1. read the file (``importing.spreadsheets``) and map its headers, in English or Danish,
   to the type's columns; an unknown column is ignored with a warning, a near miss of a
   known one ('populaton') is an error;
2. read every cell with its column's reader;
3. find which record each row is (``RecordType.identify``) and index the rows' names, so
   that a reference may point to a row earlier or later in the file;
4. resolve references from name indexes loaded once, compare every column with the stored
   record, apply the row to the record and check it with the model's own rules;
5. if no row has a problem and this is no dry run, write everything in one transaction,
   in bulk, with history rows and an ``ImportBatch``.
"""

import dataclasses
import difflib
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language_info, ngettext
from django.utils.translation import gettext as _
from import_export.fields import Field as ExportField
from import_export.resources import ModelDeclarativeMetaclass

from core import planner
from core.cache import records_sql, whole_sql
from core.exports import ExportResource
from core.models import ImportBatch, ImportBatchItem, Publication, Source, stored_version
from core.translation import LANGUAGES, content_language, localized_field
from core.versioning import batch as batched
from core.versioning import written

from .names import identity
from .readers import (
    CellError,
    cell_text,
    clean_cell,
    fold,
    has_replacement,
    lost_letters,
    only_question_marks,
)
from .rows import NEW, UNCHANGED, UPDATED, NewSource, Problem, Row
from .spreadsheets import (
    HEADER_SEARCH,
    Table,
    header_cells,
    names_columns,
    read_table,
    write_table,
)
from .types import TYPES

BATCH_SIZE = 500
# How many merged ranges a warning names before it counts the rest.
MERGES_SHOWN = 5
# What an empty cell reads as, in every column.
EMPTY = (None, "", frozenset(), [], ())


class ImportBusy(Exception):
    """Another import holds the registry's write lock."""


class AlreadyUndone(Exception):
    """Another request undid the import first (a second click on its undo)."""


def busy_message():
    return _("Another import is running; try again in a moment. Nothing was imported.")


def import_user():
    """The user an import is recorded under when nobody is named: never nobody."""
    username = getattr(settings, "ATLAS_IMPORT_USER", "import")
    user, _created = get_user_model()._default_manager.get_or_create(
        username=username, defaults={"is_active": False}
    )
    return user


@dataclass
class Report:
    header: list
    rows: list
    problems: list
    warnings: list = field(default_factory=list)
    batch: ImportBatch | None = None
    dry_run: bool = True
    job: object = None
    table: Table | None = None
    # Rows that would do other than the preview said (``Importer.expected_plan``).
    moved: list = field(default_factory=list)

    def plan(self):
        """What each row does, to which record, at which of its versions: what a preview
        shows and a confirmation is held to."""
        return {str(row.number): _planned(row) for row in self.rows}

    def moved_rows(self):
        """The numbers of the rows that would now do otherwise, the first ten of them."""
        rows = ", ".join(str(number) for number in self.moved[:10])
        return rows + ", …" if len(self.moved) > 10 else rows

    def count(self, action):
        return sum(1 for row in self.rows if row.action == action)

    @property
    def counts(self):
        return {action: self.count(action) for action in (NEW, UPDATED, UNCHANGED)}

    def label(self, column_name):
        return self.job.label(column_name) if self.job else column_name

    def diffs(self, row):
        """``[(column as the file names it, old text, new text)]`` of a new or changed row."""
        if self.job is None or row.action not in (NEW, UPDATED):
            return []
        return self.job.diffs(row)

    def lines(self, row):
        """The row as the dry run prints it: what happens, each change, notes, warnings."""
        record = str(row.instance) if row.instance is not None else ""
        head = {
            NEW: _("row %(row)s: new %(noun)s %(record)s"),
            UPDATED: _("row %(row)s: changes %(noun)s %(record)s"),
            UNCHANGED: _("row %(row)s: %(noun)s %(record)s unchanged"),
        }.get(row.action)
        if head is None:
            return []
        noun = self.job.type.noun if self.job else ""
        lines = [head % {"row": row.number, "noun": noun, "record": record}]
        empty, warning = _("(empty)"), _("warning")
        for label, old, new in self.diffs(row):
            if row.action == NEW:
                lines.append(f"  {label}: {new}")
            else:
                lines.append(f"  {label}: {old or empty} → {new or empty}")
        lines += [f"  {note}" for note in row.notes]
        lines += [f"  {warning}: {text}" for text in row.warnings]
        return lines


def _planned(row):
    record = row.instance
    pk = getattr(record, "pk", None)
    version = stored_version(getattr(record, "updated_at", None)) if pk is not None else None
    return [row.action, pk, version]


# The job: one import or export ---------------------------------------------------------


class Job:
    """What one import or export reads from the database once, and what it is writing."""

    def __init__(
        self,
        record_type,
        user=None,
        file_name="",
        source=None,
        change_reason=None,
        replace_lists=False,
        progress=None,
        language=None,
        publication=None,
    ):
        # What a new record arrives as; drafts unless the import publishes them.
        self.publication = publication or Publication.DRAFT
        self.type = record_type(self)
        # The language of the file's plain 'name', 'description'... columns.
        self.language = content_language(language)
        self.user = user
        self.file_name = file_name
        self.source_text = source
        self.change_reason = change_reason
        self.replace_lists = replace_lists
        self.progress = progress or (lambda stage, done, total: None)
        self.now = timezone.now()
        self.slug_references = False
        self.exporting = False
        # The records an export writes (a queryset of the job's type), when they are not
        # all of them: what is read for each of them is read for those alone.
        self.exported = None
        self.header_labels = {}
        self.new_sources = {}
        self._import_source = None
        self.chosen_source = None
        self._names, self._other_names, self._links = {}, {}, {}
        self._slugs = None
        self._similar = {}
        self._cache = {}

    # Lookups, each loaded once and only when asked for.
    def cached(self, key, load):
        if key not in self._cache:
            self._cache[key] = load()
        return self._cache[key]

    def names(self, label):
        if label not in self._names:
            self._names[label] = TYPES[label].build_names(self)
        return self._names[label]

    def other_names(self, label):
        if label not in self._other_names:
            record_type = TYPES[label]
            found = defaultdict(list)
            if getattr(record_type, "name_model", None) is not None:
                owner = f"{record_type.name_owner}_id"
                for pk, name in record_type.name_model.objects.values_list(owner, "name"):
                    found[pk].append(name)
            self._other_names[label] = found
        return self._other_names[label]

    def links(self, label, field_name):
        key = (label, field_name)
        if key not in self._links:
            model_field = TYPES[label].model._meta.get_field(field_name)
            through = model_field.remote_field.through
            owner = model_field.m2m_field_name() + "_id"
            other = model_field.m2m_reverse_field_name() + "_id"
            links = through.objects.all()
            if self.exported is not None and label == self.type.label:
                links = links.filter(**{f"{owner}__in": self.exported.values("pk")})
            found = defaultdict(set)
            for pk, other_pk in links.values_list(owner, other):
                found[pk].add(other_pk)
            self._links[key] = found
        return self._links[key]

    @property
    def slugs(self):
        """Slugs in use by the type's records and by the rows checked so far."""
        if self._slugs is None:
            if any(f.name == "slug" for f in self.type.model._meta.fields):
                self._slugs = set(self.type.model._default_manager.values_list("slug", flat=True))
            else:
                self._slugs = set()
        return self._slugs

    def similar(self, label, name, country, exclude):
        """Stored records whose name is close to ``name`` in the same country: the same
        loose form ('Laeso' and 'Læsø'), or one name the other's first words
        ('Ballerup' and 'Ballerup Municipality')."""
        if label not in self._similar:
            whole, starts = defaultdict(list), defaultdict(list)
            name_fields = [localized_field("name", code) for code in LANGUAGES]
            records = TYPES[label].model._default_manager.values("pk", *name_fields, "country")
            for record in records:
                for stored in {record[field] for field in name_fields} - {None, ""}:
                    words = stored.split()
                    key = record["country"]
                    whole[(fold(stored), key)].append(record["pk"])
                    for end in range(1, len(words)):
                        starts[(fold(" ".join(words[:end])), key)].append(record["pk"])
            self._similar[label] = whole, starts
        whole, starts = self._similar[label]
        words = name.split()
        found = list(whole.get((fold(name), country), ()))
        found += starts.get((fold(name), country), ())[:3]
        for end in range(1, len(words)):
            found += whole.get((fold(" ".join(words[:end])), country), ())
        exclude_pk = exclude if isinstance(exclude, int) else None
        return [pk for pk in dict.fromkeys(found) if pk != exclude_pk][:3]

    # Targets: stored records are primary keys, new rows are Row objects.
    def pk_of(self, target):
        if target is None:
            return None
        if isinstance(target, Row):
            return target.instance.pk if target.instance is not None else None
        if isinstance(target, NewSource):
            return target.instance.pk
        return target

    def pk_or_row(self, target):
        if isinstance(target, Row):
            return target.target
        return target

    def resolve(self, label, text, row, column, exclude=None):
        target, how = self.names(label).resolve(text, exclude=exclude)
        if how == "spelling":
            self.warn_spelling(row, column, text, self.names(label).describe(target))
        return target

    def warn_spelling(self, row, column, text, record):
        """A reference found only by a looser spelling: worth a second look, not an error."""
        row.warn(
            _("%(column)s: read '%(value)s' as %(record)s")
            % {"column": self.label(column), "value": text, "record": record}
        )

    def source_for(self, text, row, column):
        """The source a cell names, or a new one made from the cell."""
        names = self.names("core.source")
        targets, how = names.find(text)
        if len(targets) > 1:
            row.error(column, text, names.ambiguous(text, targets))
            return None
        if targets:
            if how == "spelling":
                self.warn_spelling(row, column, text, names.name_of(targets[0]))
            return targets[0]
        source = self.create_source(text)
        row.warn(_("a new source will be created: %(source)s") % {"source": source})
        return source

    def create_source(self, text, **fields):
        key = identity(text)
        if key not in self.new_sources:
            is_url = text.startswith(("http://", "https://"))
            instance = Source(title=text[:500], url=text[:500] if is_url else "", **fields)
            source = self.new_sources[key] = NewSource(instance)
            self.names("core.source").add(source, text, [], "", _("new"))
        return self.new_sources[key]

    @property
    def import_source(self):
        """What figures without a source cite: the source chosen for the import, or the
        import itself (its file, who ran it and when)."""
        if self.chosen_source is not None:
            return self.chosen_source
        if self._import_source is None:
            user = self.user.get_username() if self.user else ""
            title = _("Spreadsheet import of %(file)s by %(user)s, %(date)s") % {
                "file": self.file_name or "-",
                "user": user,
                "date": timezone.localtime(self.now).strftime("%Y-%m-%d %H:%M"),
            }
            self._import_source = self.create_source(title, author=user)
        return self._import_source

    def label(self, column_name):
        """A column as the file names it ('indbyggere'), else its translated label."""
        if column_name in self.header_labels:
            return self.header_labels[column_name]
        column = self.type.by_name.get(column_name)
        return column.label if column else column_name

    def validation_error(self, row, error):
        column_of = {column.field_name: column.name for column in self.type.columns}
        if hasattr(error, "error_dict"):
            for name, messages in error.message_dict.items():
                column = column_of.get(name, "")
                row.error(column, row.cells.get(column, ""), " ".join(messages))
        else:
            row.error("", "", " ".join(error.messages))

    def changed_rows(self, rows, column_name):
        return [
            row
            for row in rows
            if column_name in row.wanted
            and (row.action == NEW and row.wanted[column_name] or column_name in row.changes)
        ]

    def cell_text(self, value):
        return "" if value is None else str(value)

    def diffs(self, row):
        result = []
        for name in row.changes:
            column = self.type.by_name[name]
            new = column.show(row.wanted[name], self)
            old = column.show(row.current.get(name), self) if row.action == UPDATED else ""
            result.append((self.label(name), old, new))
        return result

    # Writing, with history rows under one user, reason and moment.
    def bulk_create(self, model, objects):
        from simple_history.utils import bulk_create_with_history

        if not objects:
            return []
        if (
            connection.features.can_return_rows_from_bulk_insert
            and plain_fields(model)
            and all(obj.pk is None for obj in objects)
        ):
            insert(model, objects)
            if hasattr(model, "history"):
                self.record_history(model, [obj.pk for obj in objects])
            return objects
        if hasattr(model, "history"):
            return bulk_create_with_history(
                objects,
                model,
                batch_size=BATCH_SIZE,
                default_user=self.user,
                default_change_reason=self.change_reason,
                default_date=self.now,
            )
        return model._default_manager.bulk_create(objects, batch_size=BATCH_SIZE)

    def record_history(self, model, pks):
        """The first history row of each new record, copied by the database itself: one
        INSERT … SELECT per batch instead of building every history row in Python."""
        history = model.history.model
        quote = connection.ops.quote_name
        columns = ", ".join(
            quote(field.column)
            for field in history._meta.concrete_fields
            if not field.name.startswith("history_")
        )
        stamp = connection.ops.adapt_datetimefield_value(self.now)
        user = self.user.pk if self.user else None
        with connection.cursor() as cursor:
            for start in range(0, len(pks), BATCH_SIZE):
                chunk = pks[start : start + BATCH_SIZE]
                cursor.execute(
                    f"INSERT INTO {quote(history._meta.db_table)} ({columns}, history_date, "
                    "history_change_reason, history_type, history_user_id) "
                    f"SELECT {columns}, %s, %s, '+', %s FROM {quote(model._meta.db_table)} "
                    f"WHERE {quote(model._meta.pk.column)} IN ({', '.join(['%s'] * len(chunk))})",
                    [stamp, self.change_reason, user, *chunk],
                )

    def bulk_update(self, model, objects, fields):
        from simple_history.utils import bulk_update_with_history

        bulk_update_with_history(
            objects,
            model,
            fields=fields,
            batch_size=BATCH_SIZE,
            default_user=self.user,
            default_change_reason=self.change_reason,
            default_date=self.now,
        )

    def write_sources(self):
        """Create the sources the cells named for the first time; return them."""
        created = [
            source.instance for source in self.new_sources.values() if source.instance.pk is None
        ]
        for source in created:
            source.created_by = source.updated_by = self.user
            source.derive()
        return self.bulk_create(Source, created)


def plain_fields(model):
    """The columns an INSERT of new ``model`` records fills, or None if one of them needs
    more than its value (a database default, a generated column)."""
    fields = [field for field in model._meta.concrete_fields if field is not model._meta.pk]
    if any(field.generated or field.has_db_default() for field in fields):
        return None
    return fields


def insert(model, objects):
    """What ``bulk_create`` does for new records, with their primary keys returned, less
    its handling of expressions in every value: in an import of 10,000 partnerships that
    handling cost more than everything else the write does (benchmarks/imports.py)."""
    # The connection itself: every attribute read through django.db.connection's proxy
    # costs a context-local lookup, for each of some 300,000 values.
    database = connections[DEFAULT_DB_ALIAS]
    fields = plain_fields(model)
    quote = database.ops.quote_name
    pk = model._meta.pk
    row = f"({', '.join(['%s'] * len(fields))})"
    size = max(1, min(BATCH_SIZE, database.ops.bulk_batch_size(fields, objects)))
    with database.cursor() as cursor:
        for start in range(0, len(objects), size):
            chunk = objects[start : start + size]
            values = []
            for obj in chunk:
                # Foreign keys to records created earlier in this import take their ids.
                obj._prepare_related_fields_for_save(operation_name="bulk_create")
                values += [
                    field.get_db_prep_save(field.pre_save(obj, True), database) for field in fields
                ]
            cursor.execute(
                f"INSERT INTO {quote(model._meta.db_table)} "
                f"({', '.join(quote(field.column) for field in fields)}) "
                f"VALUES {', '.join([row] * len(chunk))} RETURNING {quote(pk.column)}",
                values,
            )
            # Rows come back in the order of VALUES, as bulk_create relies on too.
            for obj, (key,) in zip(chunk, cursor.fetchall(), strict=True):
                setattr(obj, pk.attname, pk.to_python(key))
                obj._state.adding = False
                obj._state.db = database.alias
    written(model, database.alias, objs=objects)


# Running an import -----------------------------------------------------------------------


class Importer:
    def __init__(
        self, record_type, user=None, progress=None, source=None, language=None, publish=False
    ):
        self.record_type = record_type
        self.publication = Publication.PUBLISHED if publish else Publication.DRAFT
        self.user = user
        self.progress = progress or (lambda stage, done, total: None)
        self.source = source
        self.language = content_language(language)
        self._unchecked = {}
        # The preview's ``Report.plan()``: a row that would now do otherwise (a record
        # saved since, a new record it would now match) stops the import unwritten.
        self.expected_plan = None

    def read(self, data, file_name=""):
        """The file as a ``Table``; ``UnreadableFile`` if it is no spreadsheet."""
        return read_table(data, file_name, frozenset(self.record_type.header_map()))

    def run(self, data, file_name="", dry_run=False):
        return self.run_table(self.read(data, file_name), file_name, dry_run)

    def run_table(
        self, table, file_name="", dry_run=False, change_reason=None, replace_lists=False
    ):
        if not isinstance(table, Table):
            header, rows = table
            table = Table(header=list(header), rows=list(rows))
        user = self.user or import_user()
        job = Job(
            self.record_type,
            user=user,
            file_name=file_name,
            source=self.source,
            change_reason=change_reason,
            replace_lists=replace_lists,
            progress=self.progress,
            language=self.language,
            publication=self.publication,
        )
        problems, warnings = [], []
        table = self.find_header(table, warnings)
        columns = self.map_header(table.header, problems, warnings, table.header_number)
        job.header_labels = {column: table.header[position] for position, column in columns.items()}
        for column in self.record_type.in_file_language():
            # What a plain 'navn' column fills is shown and blamed as the file names it.
            if column.name in job.header_labels:
                target = column.languages[self.language]
                job.header_labels.setdefault(target, job.header_labels[column.name])
        rows = self.rows(table, columns)
        report = Report(
            table.header, rows, problems, warnings, dry_run=dry_run, job=job, table=table
        )
        if problems:
            return report
        if dry_run:
            self.check(job, report)
            return report
        try:
            with import_lock():
                self.check(job, report)
                if not report.problems and self.expected_plan is not None:
                    report.moved = sorted(
                        row.number
                        for row in report.rows
                        if _planned(row) != self.expected_plan.get(str(row.number))
                    )
                if not report.problems and not report.moved:
                    report.batch = self.write(job, rows, file_name, change_reason)
            if report.batch is not None and len(rows) >= planner.LARGE_IMPORT:
                planner.refresh()
        except IntegrityError as error:
            report.problems.append(
                Problem(
                    0,
                    "",
                    "",
                    _(
                        "the registry changed while this file was imported (%(error)s); "
                        "nothing was written, import it again"
                    )
                    % {"error": error},
                )
            )
            report.batch = None
        return report

    def rows(self, table, columns):
        rows = []
        total = len(table.rows)
        for done, (number, cells) in enumerate(table.rows, start=1):
            row = Row(number, {})
            for position, column in columns.items():
                row.cells[column] = clean_cell(cells[position] if position < len(cells) else "")
            rows.append(row)
            if done % 1000 == 0:
                self.progress("read", done, total)
        self.progress("read", total, total)
        return rows

    def find_header(self, table, warnings):
        """``table`` with its column names where they are. A sheet kept for people often
        has a title, a date or a note above them ("Oversigt over kommunens samarbejder,
        2024"), and its first row then named no column and the file was refused for
        lacking every required one. Only when the first row names no column at all are
        the next rows looked at, for the first that names two; row numbers stay those the
        spreadsheet shows."""
        lookup = self.record_type.header_map()
        if table.sheet:
            warnings.append(
                _(
                    "the worksheet '%(sheet)s' is read: the worksheets before it name no "
                    "column this import knows"
                )
                % {"sheet": table.sheet}
            )
        if table.encoding == "mac_roman":
            warnings.append(
                _(
                    "the file is read as Mac Roman, the text encoding of Excel for Mac's "
                    "‘Comma Separated Values’ (its letters read as no other encoding's "
                    "would); check the names below, or save it as ‘CSV UTF-8’"
                )
            )
        if table.merged:
            shown = [f"{name} (‘{cell_text(clean_cell(value))}’)" for name, value in table.merged]
            if len(shown) > MERGES_SHOWN:
                shown[MERGES_SHOWN:] = [_("%(count)d more") % {"count": len(shown) - MERGES_SHOWN}]
            warnings.append(
                _(
                    "cells merged over several rows are read as their value in each of "
                    "those rows: %(ranges)s"
                )
                % {"ranges": "; ".join(shown)}
            )
        if any(fold(name.strip()) in lookup for name in table.header):
            return table
        for index, (number, cells) in enumerate(table.rows[:HEADER_SEARCH]):
            if names_columns(cells, lookup):
                warnings.append(
                    _("the column names are in row %(row)d; the rows above them are skipped")
                    % {"row": number}
                )
                return dataclasses.replace(
                    table,
                    header=header_cells(cells),
                    rows=table.rows[index + 1 :],
                    header_number=number,
                )
        return table

    def map_header(self, header, problems, warnings, header_number=1):
        record_type = self.record_type
        lookup = record_type.header_map()
        columns, seen = {}, {}
        for position, name in enumerate(header):
            name = str(name or "").strip()
            if not name:
                continue
            column = lookup.get(fold(name))
            if column is None:
                meant = difflib.get_close_matches(fold(name), list(lookup), n=1, cutoff=0.8)
                if meant:
                    problems.append(
                        Problem(
                            header_number,
                            name,
                            name,
                            _("unknown column '%(name)s'; did you mean '%(column)s'?")
                            % {"name": name, "column": lookup[meant[0]]},
                        )
                    )
                else:
                    warnings.append(
                        _("the column '%(name)s' is not one the import knows; it is ignored")
                        % {"name": name}
                    )
            elif column in seen:
                problems.append(
                    Problem(
                        header_number,
                        name,
                        name,
                        _("column '%(name)s' appears twice; keep one of them") % {"name": column},
                    )
                )
            else:
                columns[position] = column
                seen[column] = name
        for column in record_type.columns:
            # A translated field is there when the file has it in any language.
            names = [column.name, *column.languages.values()]
            if column.required and not any(name in seen for name in names):
                problems.append(
                    Problem(
                        header_number,
                        column.name,
                        "",
                        _("the required column '%(name)s' is missing")
                        % {"name": " / ".join(names)},
                    )
                )
        return columns

    def check(self, job, report):
        record_type, rows = job.type, report.rows
        total = len(rows)
        record_type.load()
        if job.source_text:
            dummy = Row(0, {})
            job.chosen_source = job.source_for(job.source_text, dummy, "source")
            for problem in dummy.problems:
                report.problems.append(Problem(0, "", "", problem.message))
            report.warnings += dummy.warnings
        for row in rows:
            self.parse(record_type, row)
            # A row with a bad cell is still identified and indexed, so that rows naming
            # it get no error of their own: one mistake, one message.
            record_type.identify(row)
        keys = {}
        self.unique(rows, keys)
        for row in rows:
            if row.key is not None or row.existing is not None:
                record_type.index(row)
        for done, row in enumerate(rows, start=1):
            self.resolve(record_type, row, job)
            if done % 1000 == 0:
                self.progress("checked", done // 2, total)
        for row in rows:
            if not row.problems:
                record_type.identify_late(row)
        self.unique(rows, keys)
        self.rows_with_lost_letters = 0
        for done, row in enumerate(rows, start=1):
            if not row.problems:
                self.compare(record_type, row, job)
            if done % 1000 == 0:
                self.progress("checked", (total + done) // 2, total)
        if self.rows_with_lost_letters:
            # Once for the file, with what to do; each row says which of its cells.
            report.warnings.append(
                ngettext(
                    "%(count)d row has question marks or underscores where the registry "
                    "has letters the file's encoding cannot hold (a CSV saved as "
                    "Windows-1252, as Excel's ‘CSV (semikolonsepareret)’ is, or as Mac "
                    "Roman): what is stored stays. To change such text, save the file as "
                    "‘CSV UTF-8’ or as an Excel workbook",
                    "%(count)d rows have question marks or underscores where the registry "
                    "has letters the file's encoding cannot hold (a CSV saved as "
                    "Windows-1252, as Excel's ‘CSV (semikolonsepareret)’ is, or as Mac "
                    "Roman): what is stored stays. To change such text, save the file as "
                    "‘CSV UTF-8’ or as an Excel workbook",
                    self.rows_with_lost_letters,
                )
                % {"count": self.rows_with_lost_letters}
            )
        record_type.check_rows(rows)
        for row in rows:
            if row.action == NEW:
                record_type.warn(row)
        self.progress("checked", total, total)
        for row in rows:
            report.problems.extend(row.problems)
        for problem in report.problems:
            problem.column = job.label(problem.column) if problem.column else ""

    def unique(self, rows, keys):
        for row in rows:
            if row.key is None or row.problems or row.key_checked:
                continue
            row.key_checked = True
            if row.key in keys:
                first = keys[row.key]
                column = "slug" if row.key[0] in ("pk", "slug") and "slug" in row.values else ""
                row.error(
                    column or self.identity_column(),
                    row.cells.get(column or self.identity_column(), ""),
                    _(
                        "the same %(noun)s as row %(row)d; each record may appear once: "
                        "remove one of the rows, or give each its own slug if they are "
                        "different records"
                    )
                    % {"noun": self.record_type.noun, "row": first.number},
                )
            else:
                keys[row.key] = row

    def identity_column(self):
        return self.record_type.identity_column

    def parse(self, record_type, row):
        for name, value in row.cells.items():
            column = record_type.by_name[name]
            if value == "":
                if not column.keep_empty:
                    continue
                if column.required and not column.languages:
                    row.error(name, "", _("a value is required"))
                else:
                    row.values[name] = column.empty()
                continue
            try:
                row.values[name] = column.read(value)
            except CellError as error:
                row.error(name, value, str(error))
        for column in record_type.in_file_language():
            self.in_file_language(record_type, column, row)

    def in_file_language(self, record_type, column, row):
        """Move a plain 'name' cell to the file language's column; a row that gives both,
        differently, is an error. A required field needs a value in some language."""
        if column.name in row.cells:
            target = column.languages[self.language]
            text = row.cells[column.name]
            other = row.cells.get(target, "")
            value = row.values.get(column.name)
            if target not in row.cells or (other == "" and text != ""):
                value = record_type.by_name[target].empty() if text == "" else value
                # In the plain column's place, so that diffs keep the file's order.
                row.values = {
                    (target if name == column.name else name): (value if name == column.name else v)
                    for name, v in row.values.items()
                    if name != target
                }
            elif text != "" and record_type.by_name[target].differs(
                cell_text(other), cell_text(text)
            ):
                language = get_language_info(self.language)["name_translated"]
                row.error(
                    column.name,
                    text,
                    _(
                        "'%(value)s' differs from %(column)s '%(other)s'; the file is read as "
                        "%(language)s, so both are the %(language)s text: make them agree or "
                        "leave one empty"
                    )
                    % {
                        "value": text,
                        "column": target,
                        "other": other,
                        "language": language,
                    },
                )
            row.values.pop(column.name, None)
        names = [column.name, *column.languages.values()]
        given = [name for name in names if name in row.cells]
        if column.required and given and not any(row.values.get(name) for name in names):
            row.error(given[0], "", _("a value is required"))

    def resolve(self, record_type, row, job):
        for name in list(row.values):
            column = record_type.by_name[name]
            try:
                row.values[name] = column.resolve(row.values[name], row, job)
            except CellError as error:
                row.error(name, row.cells.get(name, ""), str(error))
                row.values.pop(name)

    def compare(self, record_type, row, job):
        record = row.existing
        if record is not None:
            record = record_type.records.get(record.pk, record)
        columns = [record_type.by_name[name] for name in row.values]
        for column in columns:
            if record is not None:
                row.current[column.name] = column.current(record, job)
            row.wanted[column.name] = column.wanted(
                row.values[column.name], row.current.get(column.name), row, job
            )
        self.keep_lost_letters(row, columns, job)
        if record is None:
            row.changes = [
                column.name for column in columns if row.wanted[column.name] not in EMPTY
            ]
            instance = record_type.new_instance(row)
        else:
            row.changes = [
                column.name
                for column in columns
                if column.differs(row.current[column.name], row.wanted[column.name])
            ]
            instance = record
            self.warn_cleared(row, job)
        row.instance = instance
        if record is not None and not row.changes:
            row.action = UNCHANGED
            return
        if record is not None:
            # The columns as they are, for an undo: taken before the row is applied.
            row.before = record_type.snapshot(record)
        for column in columns:
            if column.fields:
                column.apply(instance, row.wanted[column.name], job)
            if column.name in row.changes:
                column.validate(row, row.wanted[column.name], job)
        slug = getattr(instance, "slug", None)
        if record is None and slug:
            if slug in job.slugs:
                row.error("slug", slug, _("another record uses this slug; choose another"))
                return
            job.slugs.add(slug)
        elif record is not None and "slug" in row.changes and slug in job.slugs:
            row.error("slug", slug, _("another record uses this slug; choose another"))
            return
        record_type.derive(row, instance)
        try:
            instance.clean_fields(exclude=self.unchecked(columns, instance._meta))
        except ValidationError as error:
            job.validation_error(row, error)
        if not row.problems:
            record_type.validate(row, instance)
        if row.problems:
            return
        row.action = NEW if record is None else UPDATED

    def keep_lost_letters(self, row, columns, job):
        """Keep the stored text where the file has question marks for its letters; refuse
        text that is only question marks (``readers.lost_letters``).

        Danish Excel saves "CSV (semikolonsepareret)" in Windows-1252: an export of the
        places, a population corrected and the file saved that way would otherwise have
        replaced every Chinese name with ?? and called it seventeen changes."""
        kept = []
        for column in columns:
            name = column.name
            wanted, current = row.wanted[name], row.current.get(name)
            if not has_replacement(wanted):
                # Nearly every cell: no '?' or '_', nothing lost.
                continue
            if isinstance(wanted, str):
                if lost_letters(current, wanted):
                    row.wanted[name] = current
                    kept.append((name, current, wanted))
                elif only_question_marks(wanted) and column.differs(current or "", wanted):
                    self.question_marks(row, name, wanted)
            elif isinstance(wanted, frozenset):
                current = current or frozenset()
                gone = [item for item in current if item not in wanted]
                restored = set(wanted)
                for item in sorted(wanted - current):
                    stored = next((old for old in gone if lost_letters(old, item)), None)
                    if stored is not None:
                        gone.remove(stored)
                        restored = (restored - {item}) | {stored}
                        kept.append((name, stored, item))
                    elif only_question_marks(item):
                        self.question_marks(row, name, item)
                row.wanted[name] = frozenset(restored)
        if kept:
            self.rows_with_lost_letters += 1
            row.warn(
                _(
                    "what is stored stays where the file has question marks or underscores "
                    "for letters it cannot hold: %(cells)s"
                )
                % {
                    "cells": "; ".join(
                        f"{job.label(name)} ‘{stored}’ (‘{text}’)" for name, stored, text in kept
                    )
                }
            )

    def question_marks(self, row, name, text):
        row.error(
            name,
            text,
            _(
                "only question marks or underscores: a spreadsheet program writes them for "
                "letters the file's encoding cannot hold (Chinese, in a CSV saved as "
                "Windows-1252 or Mac Roman). Save the file as ‘CSV UTF-8’ or as an Excel "
                "workbook, or leave the cell empty"
            ),
        )

    def warn_cleared(self, row, job):
        """Say which stored values the row's empty cells remove. An empty cell clears, so
        that a file exported, edited and imported again says what the registry holds; but
        a spreadsheet's blank often means "not filled in", and the preview listed the
        removal among the changes with nothing to make it stand out."""
        cleared = [
            job.label(name)
            for name in row.changes
            if row.wanted[name] in EMPTY and row.current.get(name) not in EMPTY
        ]
        if cleared:
            row.warn(
                _(
                    "empty cells remove what is stored: %(columns)s; to keep a value, fill "
                    "in the cell or leave the column out of the file"
                )
                % {"columns": ", ".join(cleared)}
            )

    def unchecked(self, columns, opts):
        """The fields ``clean_fields`` skips on a row with these columns: those the row
        does not set, relations, and what the readers checked already. The same for every
        row with the same columns, so worked out once."""
        key = frozenset(column.name for column in columns)
        if key not in self._unchecked:
            fields = {f for column in columns for f in column.fields}
            # Readers of choices only return valid choices, and references are resolved:
            # checking those again (against 250 countries, or by a query) would cost more
            # than every other check.
            fields -= {f for column in columns if column.reader_validates for f in column.fields}
            validated = {
                model_field.name
                for model_field in opts.concrete_fields
                if model_field.attname in fields and not model_field.is_relation
            }
            self._unchecked[key] = [f.name for f in opts.fields if f.name not in validated]
        return self._unchecked[key]

    def write(self, job, rows, file_name, change_reason=None):
        record_type = job.type
        batch = None
        if change_reason is None:
            batch = ImportBatch.objects.create(
                user=job.user,
                content_type=ContentType.objects.get_for_model(record_type.model),
                file_name=file_name[:255],
                created_count=sum(1 for row in rows if row.action == NEW),
                updated_count=sum(1 for row in rows if row.action == UPDATED),
                unchanged_count=sum(1 for row in rows if row.action == UNCHANGED),
            )
            job.change_reason = batch.change_reason
        # Derived counts follow the records once, at the end, not after each table.
        with batched():
            sources = job.write_sources()
            extra = record_type.write(rows)
        if batch is not None:
            # What the import created is a list of ids per model (one row, however many
            # records); what it changed keeps its earlier columns, for an undo.
            created = {record_type.label: [row.instance.pk for row in rows if row.action == NEW]}
            for obj in [*extra, *sources]:
                created.setdefault(obj._meta.label_lower, []).append(obj.pk)
            batch.created = {label: pks for label, pks in created.items() if pks}
            batch.save(update_fields=["created"])
            content_type = ContentType.objects.get_for_model(record_type.model)
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


class import_lock:
    """One import writes at a time: the second waits, then stops with ``ImportBusy``.

    SQLite takes its write lock at BEGIN (``transaction_mode`` IMMEDIATE in settings) and
    waits up to its busy timeout; PostgreSQL waits for a transaction-scoped advisory lock
    up to ``lock_timeout``. Either way the wait ends in an ``OperationalError``.
    """

    LOCK_ID = 0x41544C53  # 'ATLS'

    def __enter__(self):
        self.atomic = transaction.atomic()
        try:
            self.atomic.__enter__()
            if connection.vendor == "postgresql":
                wait = int(getattr(settings, "ATLAS_IMPORT_WAIT_SECONDS", 20) * 1000)
                with connection.cursor() as cursor:
                    cursor.execute(f"SET LOCAL lock_timeout = {wait}")
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [self.LOCK_ID])
        except OperationalError as error:
            self.atomic.__exit__(type(error), error, error.__traceback__)
            raise ImportBusy(busy_message()) from error
        return self

    def __exit__(self, kind, error, traceback):
        try:
            result = self.atomic.__exit__(kind, error, traceback)
        except OperationalError as busy:
            if is_busy(busy):
                raise ImportBusy(busy_message()) from busy
            raise
        if isinstance(error, OperationalError) and is_busy(error):
            raise ImportBusy(busy_message()) from error
        return result


def is_busy(error):
    text = str(error).lower()
    return "locked" in text or "lock timeout" in text or "lock_timeout" in text


# Exporting ------------------------------------------------------------------------------


class DeclaredResource(ExportResource):
    """A ``ModelResource`` whose columns are a record type's: each cell comes from the
    column's own export rendering, with names looked up once per export."""

    record_type = None

    def before_export(self, queryset, **kwargs):
        self.job = Job(self.record_type)
        self.job.exporting = True
        if queryset is None:
            return
        if records_sql(queryset) not in whole_sql(queryset.model, queryset.db).values():
            # A filtered list's download (the sister cities): links and participants read
            # for its records alone, not for the whole registry. The 10,000 sister cities
            # of 100,000 partnerships read all 275,000 participants. Not for every record,
            # or every published one, where the test took longer than it saved.
            self.job.exported = queryset

    def export_queryset(self, queryset):
        return self.record_type.export_queryset(queryset)

    def export_field(self, field, instance, **kwargs):
        column = self.record_type.by_name[field.column_name]
        job = self.job
        return column.cell(column.current(instance, job), job)


def resource_for(record_type):
    names = record_type.column_names()
    attributes = {
        name: ExportField(attribute=None, column_name=name, readonly=True) for name in names
    }
    meta = type("Meta", (), {"model": record_type.model, "fields": names, "export_order": names})
    return ModelDeclarativeMetaclass(
        f"{record_type.model.__name__}Resource",
        (DeclaredResource,),
        {
            "Meta": meta,
            "record_type": record_type,
            "__module__": record_type.__module__,
            **attributes,
        },
    )


def export_table(record_type, queryset, file_format):
    """The bytes of ``queryset`` in the record type's columns, as CSV, XLSX or JSON."""
    dataset = record_type.resource()().export(queryset=queryset)
    numeric = [column.name for column in record_type.columns if column.numeric]
    # The worksheet is named for what it holds ("Steder" in Danish), not Excel's "Sheet".
    title = capfirst(str(record_type.model._meta.verbose_name_plural))
    return write_table(dataset.headers, list(dataset), file_format, numeric, title=title)


# Undo ------------------------------------------------------------------------------------


def undo_batch(batch, record_type, user=None):
    """Put back what ``batch`` changed and remove what it created, in one transaction.

    Returns a ``Report`` of restoring the changed records; its problems, if any, mean
    nothing was undone (a record the import made may since have gained dependants).
    Raises ``AlreadyUndone`` if it was undone already, by this request or another, and
    ``ImportBusy`` if an import or another undo kept the registry's write lock too long.
    """
    from django.apps import apps
    from django.db.models import ProtectedError

    model = record_type.model
    restore = [item.before for item in batch.items.all() if item.before]
    created = {apps.get_model(label): pks for label, pks in (batch.created or {}).items()}
    reason = f"undo of import #{batch.pk}"
    user = user or import_user()
    undone_at = timezone.now()
    try:
        # An import's lock: an undo writes the records an import may be writing.
        with import_lock():
            # Claimed first, in the transaction: of two undos sent at once the second
            # waits on this row until the first commits, then finds it undone, where it
            # would have undone the import again over what the first had put back.
            claimed = ImportBatch.objects.filter(pk=batch.pk, undone_at=None).update(
                undone_at=undone_at, undone_by=user
            )
            if not claimed:
                raise AlreadyUndone
            # Figures and other dependants the import added go first, then restore, then
            # the records it created, then the sources its cells created.
            for extra_model, pks in created.items():
                if extra_model not in (model, Source):
                    delete_with_history(extra_model.objects.filter(pk__in=pks), reason, user)
            report = None
            if restore:
                header = record_type.column_names()
                table = Table(
                    header=header,
                    rows=[
                        (number, [cells.get(column, "") for column in header])
                        for number, cells in enumerate(restore, start=2)
                    ],
                )
                report = Importer(record_type, user=user).run_table(
                    table, batch.file_name, change_reason=reason, replace_lists=True
                )
                if report.problems:
                    transaction.set_rollback(True)
                    return report
            # Newest first: rows created later may lie inside rows created earlier.
            delete_with_history(model.objects.filter(pk__in=created.get(model, [])), reason, user)
            if model is not Source:
                delete_with_history(
                    Source.objects.filter(pk__in=created.get(Source, [])), reason, user
                )
        batch.undone_at, batch.undone_by = undone_at, user
    except ProtectedError as error:
        names = ", ".join(sorted({str(obj) for obj in error.protected_objects})[:5])
        return Report(
            [],
            [],
            [
                Problem(
                    0,
                    "",
                    "",
                    _("records made by the import are now used by: %(names)s") % {"names": names},
                )
            ],
        )
    return report or Report([], [], [])


def delete_with_history(queryset, reason, user):
    for record in sorted(queryset, key=lambda record: -record.pk):
        record._change_reason = reason
        record._history_user = user
        record.delete()
