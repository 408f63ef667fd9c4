"""Spreadsheet columns: each record type declares its columns once, as a list of these.

A column knows the model field or relation it stands for, how a cell is read, the header
names it answers to (English and Danish), how the stored value compares with a row's,
how a value is shown to a person (preview, dry run, report) and how it is written to an
export. Header mapping, parsing, comparison, diffs, undo snapshots and exports all come
from the declaration; nothing else lists a type's columns.
"""

from decimal import Decimal
from functools import partial

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured
from django.db import models
from django.utils import formats
from django.utils.translation import gettext as _
from django_countries.fields import Country, CountryField

from core.exports import plain_number
from core.fields import PartialDateField
from core.text import tidy
from core.translation import LANGUAGES, localized_field
from core.versioning import written

from .readers import (
    CellError,
    ChoiceReader,
    CountryReader,
    cell_text,
    parse_coordinate,
    parse_date,
    parse_integer,
    parse_number,
    read_url,
    split_list,
)

LIST_SEPARATOR = "; "


def comma_separated(text, names_one):
    """The names between the commas of ``text`` when it holds several and each names one
    record exactly (``names_one``: by slug, name or other name), else None.

    A Danish spreadsheet lists several partners as "Bycirklen, Wuxi": read as one name,
    it named nothing. It is only tried once the whole text has named nothing, so a name
    with a comma in it comes first, and never with a looser spelling of any part: two
    guesses on one cell would be one too many."""
    parts = [part.strip() for part in str(text).split(",")]
    if len(parts) < 2 or not all(parts) or not all(names_one(part) for part in parts):
        return None
    return parts


def split_at_commas(values, split, row, column, job):
    """Each of a list cell's ``values``; one that ``split`` reads as the names between its
    commas (``comma_separated``, or None) as those names, with a warning."""
    for text in values or ():
        parts = split(text) if "," in text else None
        if parts is None:
            yield text
            continue
        row.warn(
            _("%(column)s: read '%(value)s' as %(count)d names between commas: %(names)s")
            % {
                "column": job.label(column),
                "value": text,
                "count": len(parts),
                "names": LIST_SEPARATOR.join(parts),
            }
        )
        yield from parts


def listed_once(error, text):
    """``error``'s message, and where ``text`` has a comma, how a cell lists several."""
    message = str(error)
    if "," in str(text):
        message += "; " + _("separate several with ; or a line break")
    return message


def read_text(value):
    return cell_text(value)


def show_number(value):
    if value is None or value == "":
        return ""
    if isinstance(value, Decimal):
        value = value.normalize()
        if value == value.to_integral_value():
            value = value.quantize(Decimal(1))
    return formats.number_format(value, use_l10n=True, force_grouping=True)


class Column:
    """A column copied to and from one model field of the same row."""

    many = False
    # False when an empty cell means "not given" rather than "clear the value".
    keep_empty = True
    # A column that only ever changes what the file names (a removal); never exported.
    exported = True
    numeric = False
    # For a translated field's plain column ('name'): its column in each language.
    languages = {}

    def __init__(
        self,
        name,
        field=None,
        *,
        aliases=(),
        required=False,
        reader=None,
        label=None,
        numeric=None,
        empty=None,
    ):
        self.name = name
        self._empty = empty
        self.field_name = field if field is not None else name
        self.aliases = tuple(aliases)
        self.required = required
        self.reader = reader
        self._label = label
        if numeric is not None:
            self.numeric = numeric
        self.record_type = None
        self.model_field = None

    def __repr__(self):
        return f"<{type(self).__name__} {self.name}>"

    def bind(self, record_type):
        """Called once by the record type that declares the column."""
        self.record_type = record_type
        if self.field_name:
            try:
                self.model_field = record_type.model._meta.get_field(self.field_name)
            except FieldDoesNotExist:
                raise ImproperlyConfigured(
                    f"{record_type.__name__}.{self.name}: no field {self.field_name!r}"
                ) from None
        if self.reader is None:
            self.reader = self.default_reader()

    @property
    def label(self):
        """The column's name for a person who does not know the file's header."""
        if self._label is not None:
            return str(self._label)
        if self.model_field is not None:
            return str(self.model_field.verbose_name)
        return self.name

    @property
    def fields(self):
        """Model fields of the record's own row that this column writes."""
        if self.model_field is not None and self.model_field.concrete and not self.many:
            return [self.model_field.attname]
        return []

    def default_reader(self):
        field = self.model_field
        if field is None:
            return None
        if field.choices and not isinstance(field, CountryField):
            return ChoiceReader(field.choices)
        if isinstance(field, CountryField):
            return CountryReader()
        if isinstance(field, PartialDateField):
            return parse_date
        if isinstance(field, models.DecimalField):
            return parse_number
        if isinstance(field, models.IntegerField):
            return parse_integer
        if isinstance(field, models.URLField):
            return read_url
        if isinstance(field, models.CharField | models.TextField):
            return read_text
        return None

    @property
    def reader_validates(self):
        """True when the reader only returns values the field accepts (choices)."""
        return isinstance(self.reader, ChoiceReader | CountryReader)

    # Reading -----------------------------------------------------------------------
    def empty(self):
        if self._empty is not None:
            return self._empty
        if self.model_field is not None and self.model_field.null:
            return None
        return ""

    def read(self, value):
        return self.reader(value)

    def resolve(self, value, row, job):
        return value

    # Comparing ---------------------------------------------------------------------
    def current(self, record, job):
        value = getattr(record, self.model_field.attname)
        if isinstance(value, Country):
            return value.code or ""
        if value is None and not self.model_field.null:
            return ""
        return value

    def wanted(self, value, current, row, job):
        return value

    def differs(self, current, wanted):
        if isinstance(current, str) and isinstance(wanted, str):
            # Cells lose surrounding white space and Windows line ends on the way, and
            # are tidied (``core.text.tidy``): a value stored before it was is the same.
            return tidy(current).strip().replace("\r\n", "\n") != wanted.strip().replace(
                "\r\n", "\n"
            )
        return current != wanted

    # Writing the record -----------------------------------------------------------
    def apply(self, instance, value, job):
        setattr(instance, self.model_field.attname, value)

    def validate(self, row, wanted, job):
        """Rules of what lives outside the record's row, for a new or changed value."""

    def write(self, rows, job):
        """Write what lives outside the record's row (other names, links, figures)."""

    # Showing -------------------------------------------------------------------------
    def show(self, value, job):
        """``value`` as a person reads it, in the active language."""
        if value is None or value == "":
            return ""
        field = self.model_field
        if field is not None and field.choices:
            if isinstance(field, CountryField):
                return str(Country(value).name or value)
            return str(dict(field.flatchoices).get(value, value))
        if isinstance(value, Decimal | int) and not isinstance(value, bool):
            return show_number(value)
        if hasattr(value, "display"):
            return value.display()
        return str(value)

    def cell(self, value, job):
        """``value`` as an export writes it: what the importer reads back as the same."""
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return plain_number(value)
        return value if isinstance(value, int) else str(value)


class PublicationColumn(Column):
    """Draft or published. An empty cell, or no such column, leaves a stored record as it
    is; a new record gets what the import chose (``Job.publication``)."""

    keep_empty = False

    def __init__(self, name="publication", **kwargs):
        kwargs.setdefault("aliases", ["udgivelse", "offentliggørelse", "status for udgivelse"])
        super().__init__(name, **kwargs)

    def wanted(self, value, current, row, job):
        return value or current or job.publication


class Translation(Column):
    """A translated field in one language (``name_da``): empty or NULL both mean missing,
    and an empty cell stays empty, never filled from the other language."""

    def empty(self):
        return ""

    def current(self, record, job):
        return getattr(record, self.model_field.attname) or ""


class InFileLanguage(Column):
    """A translated field's plain column ('name', 'navn'): the field in the file's
    language, chosen on the import form or by ``--language``. The importer moves its value
    to that language's column before anything else reads the row; it is never exported."""

    exported = False

    def __init__(self, name, **kwargs):
        super().__init__(name, **kwargs)
        self.languages = {code: localized_field(name, code) for code in LANGUAGES}

    @property
    def fields(self):
        return []


# How a header names a language, in Danish and English.
LANGUAGE_WORDS = {"da": ("dansk", "danish"), "en": ("engelsk", "english")}


def in_languages(field, *, aliases=(), required=False, **kwargs):
    """A translated field's columns: ``name`` in the file's language, and ``name_da`` /
    ``name_en`` ('navn_da', 'navn (dansk)', 'dansk navn', 'name (english)'...).

    ``required`` asks for the field in at least one language.
    """
    columns = [InFileLanguage(field, aliases=aliases, required=required, **kwargs)]
    for code in LANGUAGES:
        words = LANGUAGE_WORDS.get(code, (code,))
        names = []
        for word in (field, *aliases):
            names += [f"{word}_{code}", *(f"{word} ({w})" for w in words)]
            names += [f"{w} {word}" for w in words]
        name = localized_field(field, code)
        columns.append(
            Translation(name, aliases=list(dict.fromkeys(names))[1:], label=name, **kwargs)
        )
    return columns


class Slug(Column):
    """The record's slug: names the record when given; an empty cell leaves it as it is."""

    keep_empty = False

    def __init__(self, name="slug", **kwargs):
        super().__init__(name, **kwargs)


class Coordinate(Column):
    """A latitude or a longitude (the field's name says which)."""

    numeric = True

    def default_reader(self):
        return partial(parse_coordinate, axis=self.field_name)


class Reference(Column):
    """A foreign key named by the other record's name, other name or slug.

    ``target`` is the model label of the record named ('places.place'); the job keeps
    one name index per model, holding the stored records and the rows of the file.
    """

    def __init__(self, name, field=None, *, target, **kwargs):
        super().__init__(name, field, **kwargs)
        self.target = target

    def default_reader(self):
        return read_text

    def empty(self):
        return None

    def resolve(self, value, row, job):
        if value in (None, ""):
            return None
        # A record is never its own parent: leave the row itself out of the candidates.
        exclude = row.target if self.target == self.record_type.label else None
        return job.resolve(self.target, value, row, self.name, exclude=exclude)

    def current(self, record, job):
        return getattr(record, self.model_field.attname)

    def differs(self, current, wanted):
        return current != wanted

    def apply(self, instance, value, job):
        pk = job.pk_of(value)
        if value is not None and pk is None:
            # A row of this file not saved yet; bound once it is.
            return
        setattr(instance, self.model_field.attname, pk)

    def show(self, value, job):
        return "" if value is None else job.names(self.target).name_of(value)

    def cell(self, value, job):
        return "" if value is None else job.names(self.target).reference(value)


class SourceReference(Reference):
    """A foreign key to a source, named by title, short title or web address; a new name
    creates the source, and an empty cell cites the import's own source."""

    def __init__(self, name="source", field="source", *, cites_import=True, **kwargs):
        super().__init__(name, field, target="core.source", **kwargs)
        # A figure must cite something; an event may cite nothing.
        self.cites_import = cites_import

    def resolve(self, value, row, job):
        if value in (None, ""):
            return job.import_source if self.cites_import else None
        return job.source_for(value, row, self.name)

    def wanted(self, value, current, row, job):
        if value is None and self.cites_import:
            return job.import_source
        return value


class ListColumn(Column):
    """Several values in one cell, separated by ';' or line breaks."""

    many = True

    def default_reader(self):
        return split_list

    def empty(self):
        return []

    def wanted(self, value, current, row, job):
        return frozenset(value or ())

    def show(self, value, job):
        return LIST_SEPARATOR.join(sorted(self.show_item(item, job) for item in value or ()))

    def show_item(self, item, job):
        return str(item)

    def cell(self, value, job):
        return LIST_SEPARATOR.join(sorted(self.cell_item(item, job) for item in value or ()))

    def cell_item(self, item, job):
        return str(item)


class OtherNames(ListColumn):
    """The record's other names; the cell lists all of them, so a name left out goes."""

    def __init__(self, name="aliases", *, name_model, owner_field, **kwargs):
        super().__init__(name, field="", **kwargs)
        self.name_model = name_model
        self.owner_field = owner_field

    @property
    def label(self):
        return str(self._label or self.name_model._meta.verbose_name_plural)

    def current(self, record, job):
        return frozenset(job.other_names(self.record_type.label).get(record.pk, ()))

    def wanted(self, value, current, row, job):
        return frozenset(dict.fromkeys(value or ()))

    def write(self, rows, job):
        owner = f"{self.owner_field}_id"
        add, stale = [], []
        for row in job.changed_rows(rows, self.name):
            wanted = row.wanted[self.name]
            have = row.current.get(self.name, frozenset())
            stale += [(row.instance.pk, name) for name in have - wanted]
            add += [
                self.name_model(**{owner: row.instance.pk, "name": name})
                for name in sorted(wanted - have)
            ]
        for pk, name in stale:
            for other in self.name_model.objects.filter(**{owner: pk, "name": name}):
                other._change_reason = job.change_reason
                other.delete()
        job.bulk_create(self.name_model, add)


class ManyReference(ListColumn):
    """A many-to-many relation named by the other records' names; the cell is the whole set."""

    adds_only = False
    # A name that fits nothing is read as the names between its commas, where each fits
    # one record (``comma_separated``): themes, not a source's title.
    reads_commas = True

    def __init__(self, name, field=None, *, target, **kwargs):
        super().__init__(name, field, **kwargs)
        self.target = target

    @property
    def fields(self):
        return []

    def resolve(self, value, row, job):
        resolved = []
        split = partial(self.split_commas, job=job)
        for text in split_at_commas(value, split, row, self.name, job):
            try:
                resolved.append(job.resolve(self.target, text, row, self.name))
            except CellError as error:
                row.error(self.name, text, listed_once(error, text))
        return resolved

    def split_commas(self, text, job):
        """The names between the commas of ``text`` when it names nothing and each of
        them names one record by its slug, name or other name; else None."""
        names = job.names(self.target)
        if not self.reads_commas or names.find(text)[0]:
            return None

        def names_one(part):
            targets, how = names.find(part)
            return len(targets) == 1 and how != "spelling"

        return comma_separated(text, names_one)

    def current(self, record, job):
        return frozenset(job.links(self.record_type.label, self.field_name).get(record.pk, ()))

    def wanted(self, value, current, row, job):
        value = frozenset(value or ())
        if self.adds_only and not job.replace_lists:
            return (current or frozenset()) | value
        return value

    def show_item(self, item, job):
        return job.names(self.target).name_of(item)

    def cell_item(self, item, job):
        return job.names(self.target).reference(item)

    def write(self, rows, job):
        through = self.model_field.remote_field.through
        owner = self.model_field.m2m_field_name() + "_id"
        other = self.model_field.m2m_reverse_field_name() + "_id"
        add, remove = [], {}
        for row in job.changed_rows(rows, self.name):
            wanted = {job.pk_of(target) for target in row.wanted[self.name]}
            have = {job.pk_of(target) for target in row.current.get(self.name, ())}
            add += [through(**{owner: row.instance.pk, other: pk}) for pk in wanted - have]
            if have - wanted:
                remove[row.instance.pk] = have - wanted
        for pk, gone in remove.items():
            through.objects.filter(**{owner: pk, f"{other}__in": gone}).delete()
        through.objects.bulk_create(add, batch_size=1000)
        if add or remove:
            # An automatic many-to-many table's writes send no signal: say which records'
            # links changed (the version, the partnership facet counts).
            written(
                self.record_type.model,
                pks=sorted({getattr(link, owner) for link in add} | set(remove)),
                fields={self.field_name},
            )


class Sources(ManyReference):
    """Sources the record cites. A cell adds citations; ``remove_source`` takes them off.

    A source is named by its title, short title or web address; a name that fits no
    source creates one (with the address as its web address when it is one).
    """

    adds_only = True

    def __init__(self, name="source", field="sources", **kwargs):
        super().__init__(name, field, target="core.source", **kwargs)

    def resolve(self, value, row, job):
        return [job.source_for(text, row, self.name) for text in value or ()]


class RemoveSources(ManyReference):
    """Sources to take off the record: the explicit way to remove a citation."""

    exported = False
    reads_commas = False

    def __init__(self, name="remove_source", field="sources", **kwargs):
        super().__init__(name, field, target="core.source", **kwargs)

    @property
    def label(self):
        return str(self._label or _("remove source"))

    def current(self, record, job):
        return frozenset()

    def wanted(self, value, current, row, job):
        cited = job.links(self.record_type.label, self.field_name).get(row.target, set())
        return frozenset(value or ()) & frozenset(cited)

    def write(self, rows, job):
        through = self.model_field.remote_field.through
        owner = self.model_field.m2m_field_name() + "_id"
        changed = []
        for row in job.changed_rows(rows, self.name):
            through.objects.filter(
                **{owner: row.instance.pk, "source_id__in": list(row.wanted[self.name])}
            ).delete()
            changed.append(row.instance.pk)
        if changed:
            written(self.record_type.model, pks=changed, fields={self.field_name})


def check_declaration(record_type):
    """Problems with a record type's columns: a column without a reader, a field without
    a column that is not on the type's commented exclusion list."""
    problems = []
    for column in record_type.columns:
        if column.reader is None:
            problems.append(f"{record_type.label}: column {column.name!r} has no reader")
    covered = {column.field_name for column in record_type.columns} | set(
        record_type.covered_fields
    )
    for field in record_type.model._meta.get_fields():
        if not getattr(field, "editable", False) or field.auto_created:
            continue
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        if field.name not in covered and field.name not in record_type.excluded_fields:
            problems.append(f"{record_type.label}: field {field.name!r} has no column")
    return problems
