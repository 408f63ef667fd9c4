"""Record content in Danish and English.

django-modeltranslation gives every translated field (a place's ``name``, a partnership's
``description``) one column per language, ``name_da`` and ``name_en``, and makes ``name``
read the reader's language, falling back to the other one. What it leaves to us: knowing
*which* language a shown value is in (so a page can mark "only in English"), ordering by
the name a reader sees, and both languages at once for the API and spreadsheets.
"""

from django.conf import settings
from django.db.models import F, Func, Index, Q, QuerySet, TextField
from django.db.models.functions import Coalesce
from django.utils.translation import get_language, gettext
from modeltranslation.translator import NotRegistered, translator

# The content languages, in the order a record's text falls back through.
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
DEFAULT_LANGUAGE = settings.MODELTRANSLATION_DEFAULT_LANGUAGE


def content_language(language=None):
    """The content language for a UI language code such as "da" or "en-gb"."""
    code = (language or get_language() or DEFAULT_LANGUAGE).split("-")[0].lower()
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def fallback_order(language=None):
    """The reader's language first, then the others."""
    first = content_language(language)
    return (first, *(code for code in LANGUAGES if code != first))


def only_in(language):
    """The note beside a text shown in another language than the reader's."""
    return {"da": gettext("only in Danish"), "en": gettext("only in English")}[language]


def localized_field(field, language):
    return f"{field}_{language}"


def untranslated(column):
    """The field a column of one language belongs to (``name_da`` → ``name``); any other
    name as it is."""
    base, _sep, code = column.rpartition("_")
    return base if base and code in LANGUAGES else column


def translated_columns(field):
    """A translated field's own column and its column in every language: what ``only()``
    must keep for the field to read as it always does."""
    return [field, *(localized_field(field, code) for code in LANGUAGES)]


def localized_verbose_name(verbose_name, language):
    """A translated field's label, "name (Danish)" (MODELTRANSLATION_BUILD_LOCALIZED_VERBOSE_NAME):
    modeltranslation calls it when the label is shown, so it is in the reader's language."""
    labels = {"da": gettext("%(field)s (Danish)"), "en": gettext("%(field)s (English)")}
    return labels[language] % {"field": verbose_name}


def translations(record, field):
    """``{"da": …, "en": …}``, with None for a language the record lacks."""
    return {code: getattr(record, localized_field(field, code), None) or None for code in LANGUAGES}


def translated(record, field, language=None, order=None):
    """The value to show a reader of ``language`` and the language it is in; ``order``, the
    reader's ``fallback_order``, when it is at hand.

    ``("", None)`` when the record has the field in no language.
    """
    for code in order or fallback_order(language):
        value = getattr(record, localized_field(field, code), None)
        if value:
            return value, code
    return "", None


class NullIfEmpty(Func):
    """NULL for an empty text. The '' is written into the SQL, not passed as a parameter,
    so that an ORDER BY and the index on the same expression match (SQLite compares them
    as written)."""

    function = "NULLIF"
    template = "%(function)s(%(expressions)s, '')"
    arity = 1


class Localized(Func):
    """The field in the reader's language, else in the other: what lists sort by.

    The language is chosen when the query is built, so one ``Meta.ordering`` serves both
    languages. Each language's order has an index (``localized_indexes``).
    """

    def __init__(self, field_name, language=None, **extra):
        self.field_name, self.language = field_name, language
        super().__init__(**extra)

    def resolve_expression(self, *args, **kwargs):
        # modeltranslation gives each language's column a field class of its own, which
        # Coalesce cannot match up by itself (a GROUP BY query asks it to).
        coalesce = self.coalesce(output_field=TextField())
        return coalesce.resolve_expression(*args, **kwargs)

    def coalesce(self, language=None, **extra):
        # An empty text is as missing as NULL (forms and spreadsheets write ""), as in
        # ``translated()``.
        order = fallback_order(language or self.language)
        return Coalesce(
            *(NullIfEmpty(F(localized_field(self.field_name, code))) for code in order),
            **extra,
        )

    def deconstruct(self):
        return "core.translation.Localized", (self.field_name,), {}

    def __repr__(self):
        return f"Localized({self.field_name!r})"


def localized_indexes(field_name, prefix, within=None, covering=False, leading=()):
    """An index per language on ``Localized(field_name)``, so either order reads an index.

    With ``within`` (a foreign key), on that field first and for the rows that have one:
    the records of one parent, in order. Left to the whole column, SQLite's statistics
    count the rows without a parent as one value shared by thousands. With ``leading``
    (field names), on those fields first: the records with one value of each, in order.

    ``covering``: the primary key after the name, as every list's order ends, then the
    publication, which the public lists filter on; and on PostgreSQL every language's
    column besides (INCLUDE), so that the ids of a page deep in a list come from the index
    alone (``core.pagination.EitherEndPaginator``). PostgreSQL reads an index on an
    expression without its table only when the index also holds the columns the
    expression is made of.
    """
    first = [F(name) for name in leading] + ([F(within)] if within else [])
    infix = f"_{within}" if within else ""
    condition = Q(**{f"{within}__isnull": False}) if within else None
    last = [F(name) for name in ("id", "publication") if name not in leading] if covering else []
    include = [localized_field(field_name, code) for code in LANGUAGES] if covering else None
    return [
        Index(
            *first,
            Localized(field_name, code).coalesce(),
            *last,
            name=f"{prefix}{infix}_{field_name}_{code}_idx",
            condition=condition,
            include=include,
        )
        for code in LANGUAGES
    ]


class PlainRowsQuerySet(QuerySet):
    """``values()`` and ``values_list()`` read as Django reads them when no translated field
    is asked for by name.

    django-modeltranslation otherwise passes every row through a model instance, so that
    a translated ``name`` falls back to the other language: a third of the time of
    reading 10,000 ids, or the places of the map, went there, for columns that have no
    fallback to give. ``values("name")`` still falls back as before.
    """

    def values(self, *fields, **expressions):
        if self._plain(fields):
            return QuerySet.values(self, *fields, **expressions)
        return super().values(*fields, **expressions)

    def values_list(self, *fields, flat=False, named=False):
        if self._plain(fields):
            return QuerySet.values_list(self, *fields, flat=flat, named=named)
        return super().values_list(*fields, flat=flat, named=named)

    def _plain(self, fields):
        # No field named (every column) is left to modeltranslation, as the rows differ.
        if not fields:
            return False
        try:
            translated = translator.get_options_for_model(self.model).all_fields
        except NotRegistered:
            return True
        return not any(isinstance(field, str) and field in translated for field in fields)
