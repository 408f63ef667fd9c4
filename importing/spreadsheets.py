"""Reading spreadsheets as offices save them, and writing ones Excel opens safely.

Reading turns CSV (comma or semicolon, UTF-8 with or without BOM, or Windows-1252) and
XLSX into a header and a list of ``(row number, cells)`` pairs, numbered as the
spreadsheet shows them (the header is row 1). Anything that cannot be read raises
``UnreadableFile`` with a sentence a person understands.
"""

import csv
import datetime
import io
import json
import zipfile
from decimal import Decimal

from django.conf import settings
from django.utils.translation import gettext as _

from core.exports import csv_text, neutralise

XLSX_MAGIC = b"PK\x03\x04"
# An XLSX file is a zip archive; these keep a small upload from unpacking into gigabytes.
XLSX_MAX_ENTRIES = 1000
XLSX_MAX_UNPACKED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100


class UnreadableFile(Exception):
    """The file is no spreadsheet we can read; the message says why."""


def max_rows():
    return getattr(settings, "ATLAS_IMPORT_MAX_ROWS", 20_000)


def read_table(data, filename=""):
    """``(header, rows)`` from the bytes of a CSV or XLSX file; blank rows are skipped."""
    if not data or not data.strip():
        raise UnreadableFile(_("The file is empty."))
    if data.startswith(XLSX_MAGIC):
        header, rows = _read_xlsx(data)
    elif filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise UnreadableFile(_("The file is not an Excel workbook (.xlsx) that can be read."))
    else:
        header, rows = _read_csv(_decode(data))
    if not header or not any(cell.strip() for cell in header):
        raise UnreadableFile(_("The file has no header row."))
    if len(rows) > max_rows():
        raise UnreadableFile(
            _("The file has %(count)d rows; at most %(limit)d can be imported at once.")
            % {"count": len(rows), "limit": max_rows()}
        )
    return header, rows


def _decode(data):
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(
            _("The file is saved as UTF-16 text; save it as CSV UTF-8 or as an Excel workbook.")
        )
    if b"\x00" in data[:4096]:
        raise UnreadableFile(_("The file is not a spreadsheet (CSV or XLSX)."))
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="strict")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        raise UnreadableFile(
            _("The file's text encoding is unknown; save it as CSV UTF-8 or as CSV (Windows).")
        ) from None
    # cp1252 decodes nearly any bytes; control characters mean it was no text at all.
    if any(ord(char) < 32 and char not in "\r\n\t" for char in text):
        raise UnreadableFile(_("The file is not a spreadsheet (CSV or XLSX)."))
    return text


def _delimiter(text):
    sample = text[:8192]
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        first_line = sample.splitlines()[0] if sample else ""
        return ";" if first_line.count(";") > first_line.count(",") else ","


def _read_csv(text):
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
        lines = list(reader)
    except csv.Error as error:
        raise UnreadableFile(
            _("The CSV file cannot be read: %(error)s") % {"error": error}
        ) from None
    return _table(enumerate(lines, start=1))


def _check_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile(
            _("The file is not an Excel workbook (.xlsx) that can be read.")
        ) from None
    entries = archive.infolist()
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    if (
        len(entries) > XLSX_MAX_ENTRIES
        or unpacked > XLSX_MAX_UNPACKED
        or unpacked / packed > XLSX_MAX_RATIO
    ):
        raise UnreadableFile(
            _("The workbook unpacks to far more than its size; it was refused unread.")
        )


def _read_xlsx(data):
    import openpyxl

    _check_zip(data)
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise UnreadableFile(
            _("The file is not an Excel workbook (.xlsx) that can be read.")
        ) from None
    try:
        sheet = workbook.worksheets[0]
        lines = (
            (number, [_xlsx_text(value) for value in values])
            for number, values in enumerate(sheet.iter_rows(values_only=True), start=1)
        )
        return _table(lines)
    finally:
        workbook.close()


def _xlsx_text(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f") if value == value else ""
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _table(numbered_lines):
    header, rows = None, []
    limit = max_rows()
    for number, cells in numbered_lines:
        if number > 10 * limit:
            # Sheets formatted far below their data would otherwise be read to the end.
            raise UnreadableFile(
                _("The file has more than %(count)d lines; at most %(limit)d rows can be imported.")
                % {"count": 10 * limit, "limit": limit}
            )
        cells = [str(cell) for cell in cells]
        if not any(cell.strip() for cell in cells):
            continue
        if header is None:
            header = [cell.strip() for cell in cells]
            continue
        rows.append((number, cells))
        if len(rows) > limit:
            break
    return header or [], rows


# Writing ------------------------------------------------------------------------------

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
}


def write_table(headers, rows, file_format, numeric_columns=()):
    """The bytes of a CSV, XLSX or JSON document; formula-like cells neutralised."""
    rows = [["" if cell is None else cell for cell in row] for row in rows]
    if file_format == "csv":
        return csv_text(headers, rows).encode("utf-8")
    if file_format == "json":
        records = [dict(zip(headers, (str(cell) for cell in row), strict=True)) for row in rows]
        return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8")
    if file_format == "xlsx":
        return _xlsx_bytes(headers, rows, set(numeric_columns))
    raise ValueError(file_format)


def _xlsx_bytes(headers, rows, numeric_columns):
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append([neutralise(header) for header in headers])
    numeric = [header in numeric_columns for header in headers]
    for row in rows:
        sheet.append(
            [_xlsx_cell(cell, is_number) for cell, is_number in zip(row, numeric, strict=True)]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value, is_number):
    if is_number and value not in ("", None):
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    text = neutralise(value)
    # openpyxl writes a string starting with '=' as a formula; neutralise() has already
    # put an apostrophe in front of it, so no cell here is ever a formula.
    return text
