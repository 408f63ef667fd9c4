"""CSV files that open cleanly in Excel and cannot smuggle formulas into it.

Spreadsheets run a cell that starts with = + - or @ (and, in some, a tab or carriage
return) as a formula, so a record named '=HYPERLINK(...)' would become a live link on
a reader's machine. Such cells get a leading apostrophe, which Excel shows as text.
Plain numbers, negative ones included (a longitude of -8.2), stay numbers.

The importer takes the apostrophe off again (``importing.readers.clean_cell``). So that
every value comes back exactly, text that itself starts with an apostrophe, or with
whitespace the importer would otherwise trim (a tab, a line break; not a plain space),
gets one too: "'quoted" is written "''quoted".
"""

import csv
import io
import re

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from import_export.fields import Field
from import_export.resources import ModelResource
from import_export.widgets import ManyToManyWidget

from .models import Source

# Excel reads a CSV file as UTF-8 only when it starts with a byte order mark.
BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def needs_apostrophe(text):
    """Whether ``text`` must be written behind an apostrophe to come back as it is."""
    first = text[:1]
    return (
        bool(first)
        and (first in "=+-@'" or (first.isspace() and first != " "))
        and not _NUMBER.fullmatch(text)
    )


def neutralise(value):
    """The cell text for ``value``, with a formula-like start disarmed."""
    text = "" if value is None else str(value)
    return "'" + text if needs_apostrophe(text) else text


def csv_text(headers, rows):
    """A whole CSV document (BOM, header row, neutralised cells) as a string."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralise(header) for header in headers])
    writer.writerows([neutralise(cell) for cell in row] for row in rows)
    return buffer.getvalue()


def csv_response(dataset, filename):
    """A download of a tablib ``Dataset`` (what a ``ModelResource`` exports)."""
    response = HttpResponse(
        csv_text(dataset.headers or [], dataset), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


class ExportResource(ModelResource):
    """A ``ModelResource`` whose export runs a fixed number of queries.

    import-export pages through a prefetching queryset in chunks, one round of queries
    per chunk; the registry is small enough to read in one go, so the queries stay the
    same for ten rows or ten thousand. Subclasses name their related lookups in
    ``export_queryset``; those a caller's queryset brings (a list view's) are dropped,
    since they are for other columns.
    """

    def export_queryset(self, queryset):
        return queryset

    def filter_export(self, queryset, **kwargs):
        queryset = super().filter_export(queryset, **kwargs).prefetch_related(None)
        return self.export_queryset(queryset)

    def iter_queryset(self, queryset):
        yield from queryset

    def get_export_fields(self, selected_fields=None):
        # import-export asks again for every row: a fifth of the time of a download of
        # 10,000 partnerships went to choosing the same columns.
        chosen = self.__dict__.setdefault("_export_fields", {})
        key = tuple(selected_fields or ())
        if key not in chosen:
            chosen[key] = super().get_export_fields(selected_fields)
        return chosen[key]


def join(values):
    """Several values in one cell, as the importer will read them back."""
    return "; ".join(str(value) for value in values if value not in (None, ""))


def plain_number(value):
    """A decimal as a spreadsheet reads it: 77300000 rather than 77300000.00."""
    if value is None:
        return ""
    return format(value.normalize(), "f") if hasattr(value, "normalize") else str(value)


def sources_column():
    """The ``source`` column every record exports: its sources' titles, joined by '; '."""
    return Field(
        attribute="sources",
        column_name="source",
        widget=ManyToManyWidget(Source, separator="; ", field="title"),
    )
