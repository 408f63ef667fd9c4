"""Reading spreadsheets as offices save them, and writing ones Excel opens safely.

Reading turns CSV (comma, semicolon or tab; UTF-8 with or without BOM, Windows-1252 or
Mac Roman) and XLSX into a ``Table``: a header and a list of ``(row number, cells)``
pairs, numbered as the spreadsheet shows them (the header is row 1), with what the file
was (format, delimiter, encoding) so that the failed rows can go back in the same form.
Cells are raw: text from CSV; from XLSX, text or what the workbook typed (``int``,
``Decimal``, ``datetime.date``...). ``importing.readers.clean_cell`` makes a cell ready
for reading. Anything that cannot be read raises ``UnreadableFile`` with a sentence a
person understands.
"""

import csv
import datetime
import io
import json
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain, islice

from django.conf import settings
from django.utils.translation import gettext as _

from core.exports import BOM, FORMULA_STARTS, csv_text, neutralise

from .readers import cell_text, clean_cell, fold

XLSX_MAGIC = b"PK\x03\x04"
# An XLSX file is a zip archive; these keep a small upload from unpacking into gigabytes.
XLSX_MAX_ENTRIES = 1000
XLSX_MAX_UNPACKED = 200 * 1024 * 1024
XLSX_MAX_RATIO = 100
# The XML parts are what gets parsed (the shared strings all at once, on opening): a
# sheet of 20,000 rows and 15 columns unpacks to about 17 MB.
XLSX_MAX_XML = 64 * 1024 * 1024
# Reading stops at these, counted as the cells are read: openpyxl reads some tens of
# thousands of cells a second, so a sheet far wider or longer than any import would tie
# up a worker. The sheet's own size claim (its <dimension>) is not used: whatever program
# saved the file wrote it, often wrongly, and openpyxl would pad every row to it.
XLSX_MAX_COLUMNS = 200
XLSX_MAX_CELLS = 1_000_000
# OOXML writes characters XML cannot hold (and a carriage return, which XML parsers
# turn into a line feed) as _xHHHH_, and a literal '_xHHHH_' as '_x005F_xHHHH_'.
_OOXML_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_OOXML_NEEDS_ESCAPE = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)|[\x00-\x08\x0b-\x1f\ufffe\uffff]")


class UnreadableFile(Exception):
    """The file is no spreadsheet we can read; the message says why."""


@dataclass
class Table:
    header: list
    rows: list = field(default_factory=list)
    format: str = "csv"
    delimiter: str | None = ","
    encoding: str | None = "utf-8"
    # The row the spreadsheet shows the column names in.
    header_number: int = 1
    # The worksheet read, where it is not a workbook's first (``_sheet_with_columns``).
    sheet: str | None = None
    # Cells merged over several rows, read as their value in each (``_fill_merged``):
    # (range as the spreadsheet names it, value).
    merged: list = field(default_factory=list)

    def __iter__(self):
        # Callers written for the older ``header, rows = read_table(...)`` keep working.
        return iter((self.header, self.rows))


# How far below the first row a sheet's column names are looked for.
HEADER_SEARCH = 10


def max_rows():
    return getattr(settings, "ATLAS_IMPORT_MAX_ROWS", 20_000)


def read_table(data, filename="", column_names=frozenset()):
    """The ``Table`` in the bytes of a CSV or XLSX file; blank rows are skipped.
    ``column_names``: the folded names of the columns the import knows, by which a
    workbook's worksheet of data is told from a front page (``_sheet_with_columns``)."""
    if not data or not data.strip():
        raise UnreadableFile(_("The file is empty."))
    _refuse_other_formats(data)
    if data.startswith(XLSX_MAGIC):
        table = _read_xlsx(data, column_names)
    elif filename.lower().endswith((".xlsx", ".xlsm", ".xls", ".ods")):
        raise UnreadableFile(_("The file is not an Excel workbook (.xlsx) that can be read."))
    else:
        text, encoding = _decode(data)
        delimiter = _delimiter(text, column_names)
        table = _read_csv(text, delimiter)
        table.encoding = encoding
    if not table.header or not any(table.header):
        raise UnreadableFile(_("The file has no header row."))
    if len(table.rows) > max_rows():
        raise UnreadableFile(
            _("The file has %(count)d rows; at most %(limit)d can be imported at once.")
            % {"count": len(table.rows), "limit": max_rows()}
        )
    return table


# Compound documents: Excel 97-2003's .xls, and any workbook saved with a password.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# An OpenDocument file is a zip whose first entry, stored, names its type.
ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"


def _refuse_other_formats(data):
    """Spreadsheets in formats the import does not read, told apart by their first bytes
    (whatever their name says), each with how to save it so that it can."""
    if data.startswith(OLE2_MAGIC):
        raise UnreadableFile(
            _(
                "The file is in Excel's older format (.xls), or is a workbook protected by "
                "a password. Open it in Excel and save it as an Excel workbook (.xlsx) "
                "without a password, or as CSV UTF-8."
            )
        )
    if data.startswith(XLSX_MAGIC) and ODS_MIMETYPE in data[:100]:
        raise UnreadableFile(
            _(
                "The file is an OpenDocument spreadsheet (.ods), as LibreOffice saves it. "
                "Save it as an Excel workbook (.xlsx) or as CSV UTF-8: in LibreOffice, "
                "File, Save As, and the type Excel 2007-365 or Text CSV."
            )
        )
    if data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"<":
        # Web systems export an HTML table named .xls, which Excel opens with a warning.
        raise UnreadableFile(
            _(
                "The file is a web page or other markup (HTML or XML), not a spreadsheet, "
                "whatever its name says. Open it in Excel and save it as an Excel workbook "
                "(.xlsx) or as CSV UTF-8."
            )
        )


def _decode(data):
    """The text of a CSV file and the encoding it was saved in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UnreadableFile(
            _("The file is saved as UTF-16 text; save it as CSV UTF-8 or as an Excel workbook.")
        )
    # NUL is in no text; a late one would otherwise reach the database (PostgreSQL refuses it).
    if b"\x00" in data:
        raise UnreadableFile(_("The file is not a spreadsheet (CSV or XLSX)."))
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError:
            raise UnreadableFile(
                _("The file's text encoding is unknown; save it as CSV UTF-8 or as CSV (Windows).")
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text, encoding = data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        text, encoding = None, None
    # Excel for Mac saves "Comma Separated Values" in Mac Roman, which no byte tells from
    # Windows-1252: read as that, København was 'K¿benhavn', and Århus a refused file.
    # The reading with fewer signs inside words ('K¿benhavn', 'K¯ge') is the one, then
    # the one with more of the letters European names have.
    mac = data.decode("mac_roman")
    mac_fit = _fit(mac)
    if (text is None and mac_fit[0] == 0 and mac_fit[1] < 0) or (
        text is not None and mac_fit < _fit(text)
    ):
        text, encoding = mac, "mac_roman"
    if text is None:
        raise UnreadableFile(
            _("The file's text encoding is unknown; save it as CSV UTF-8 or as CSV (Windows).")
        )
    # Both decode nearly any bytes; control characters mean it was no text at all.
    if any(ord(char) < 32 and char not in "\r\n\t" for char in text):
        raise UnreadableFile(_("The file is not a spreadsheet (CSV or XLSX)."))
    return text, encoding


# Letters with accents European names have; what one 8-bit encoding's letters read as in
# another are mostly signs (¿ ¾ ® ¯) or capitals no one writes (Ê Â).
_EUROPEAN_LETTERS = re.compile("[æøåÆØÅéèêëáàâäöüóòôíìïúùûçñßÄÖÜÉÈÓÚÍÇÑłŁšŠžŽčČřŘ]")
# A sign that is neither ASCII nor a letter or digit; 'K¿benhavn' has one inside a word.
_SIGN = re.compile(r"[^\x00-\x7f\w]")


def _fit(text):
    """(signs inside words, minus the European letters): the lower, the likelier ``text``
    is the file read in the encoding it was saved in."""
    end = len(text) - 1
    signs = sum(
        1
        for match in _SIGN.finditer(text)
        if 0 < (at := match.start()) < end and text[at - 1].isalpha() and text[at + 1].isalpha()
    )
    return signs, -len(_EUROPEAN_LETTERS.findall(text))


# Between cells: a comma, Danish Excel's semicolon, or the tab of Excel's "Tekst
# (tabulatorsepareret)".
DELIMITERS = ",;\t"


def _delimiter(text, column_names=frozenset()):
    sample = text[:8192]
    lines = sample.splitlines()
    # The separator that makes one of the first lines name two columns the import knows:
    # a title above them may hold another ("Oversigt over samarbejder, 2024").
    if column_names:
        for line in [line for line in lines if line.strip()][: HEADER_SEARCH + 1]:
            for delimiter in DELIMITERS:
                if delimiter in line and names_columns(line.split(delimiter), column_names):
                    return delimiter
    # Header names hold no separator, so a header line with only one of them settles
    # it; the cells below may hold any (a list cell 'Aarhus; Odense'). A title above the
    # header ("Steder i Kina") holds none, and says nothing.
    first_line = next((line for line in lines if any(d in line for d in DELIMITERS)), "")
    present = [d for d in DELIMITERS if d in first_line]
    if len(present) == 1:
        return present[0]
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        return max(DELIMITERS, key=first_line.count)


def _read_csv(text, delimiter):
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        table = _table(enumerate(reader, start=1))
    except csv.Error as error:
        raise UnreadableFile(
            _("The CSV file cannot be read: %(error)s") % {"error": error}
        ) from None
    table.format, table.delimiter = "csv", delimiter
    return table


def _check_zip(data):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise UnreadableFile(_damaged_workbook()) from None
    entries = archive.infolist()
    unpacked = sum(entry.file_size for entry in entries)
    packed = sum(entry.compress_size for entry in entries) or 1
    xml = sum(entry.file_size for entry in entries if entry.filename.endswith((".xml", ".rels")))
    if (
        len(entries) > XLSX_MAX_ENTRIES
        or unpacked > XLSX_MAX_UNPACKED
        or unpacked / packed > XLSX_MAX_RATIO
        or xml > XLSX_MAX_XML
    ):
        raise UnreadableFile(
            _("The workbook unpacks to far more than its size; it was refused unread.")
        )


def _damaged_workbook():
    return _(
        "The file is not an Excel workbook (.xlsx) that can be read: it is damaged or in "
        "another format. Open it in Excel and save it again as a workbook or as CSV UTF-8."
    )


def _read_xlsx(data, column_names=frozenset()):
    import openpyxl
    from defusedxml import DefusedXmlException

    _check_zip(data)
    workbook = None
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        if not workbook.worksheets:
            raise UnreadableFile(_("The workbook has no worksheet."))
        # A hidden sheet (the lists a template's drop-downs offer) is no one's data: it
        # is read only when no sheet the editor sees names a column.
        sheets = [sheet for sheet in workbook.worksheets if sheet.sheet_state == "visible"]
        sheets += [sheet for sheet in workbook.worksheets if sheet not in sheets]
        sheet = _sheet_with_columns(sheets, column_names)
        merged = []
        lines = _fill_merged(_xlsx_lines(_shown(sheet.iter_rows())), _merged_down(sheet), merged)
        table = _table(lines)
        table.merged = merged
        if sheet is not sheets[0]:
            table.sheet = sheet.title
    except UnreadableFile:
        raise
    except Exception as error:  # openpyxl, zipfile and XML parsers raise many kinds
        # openpyxl wraps what the XML parser raised in a ValueError of its own.
        chain = [error]
        while chain[-1] is not None and len(chain) < 10:
            chain.append(chain[-1].__cause__ or chain[-1].__context__)
        if any(isinstance(link, DefusedXmlException) for link in chain):
            raise UnreadableFile(
                _(
                    "The workbook contains XML entity declarations, which Excel never "
                    "writes; it was refused unread."
                )
            ) from None
        raise UnreadableFile(_damaged_workbook()) from None
    finally:
        if workbook is not None:
            workbook.close()
    table.format, table.delimiter, table.encoding = "xlsx", None, None
    return table


def _sheet_with_columns(sheets, column_names):
    """The first of ``sheets`` whose first rows name two columns of ``column_names``,
    else the first: a workbook often opens on a front page or a sheet of instructions
    ("Vejledning"), and its data were refused for lacking every column."""
    for sheet in sheets:
        # Read the cells that are there, not the size the sheet claims (XLSX_MAX_CELLS).
        sheet.reset_dimensions()
    if len(sheets) == 1 or not column_names:
        return sheets[0]
    for sheet in sheets:
        # Its first hundred rows at most, however many blank rows it claims.
        rows = sheet.iter_rows(max_row=100, values_only=True)
        filled = (cells for _number, cells in _xlsx_lines(rows) if not _blank_row(cells))
        if any(names_columns(cells, column_names) for cells in islice(filled, HEADER_SEARCH + 1)):
            return sheet
    return sheets[0]


# <mergeCell ref="B3:B7"/>, with or without a namespace prefix.
_MERGE_CELL = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]{1,3})(\d+):([A-Z]{1,3})(\d+)"')


def _merged_down(sheet):
    """The sheet's merged cells that span several rows, as (column index, first row, last
    row, range name), by first row. A sheet kept for people merges a country or a
    municipality over the rows of its partners; openpyxl gives the value to the first row
    only, and the others read as empty: "a value is required", or a stored value cleared.

    The ranges are listed after the cells in the sheet's XML, so they are found by one
    pass over its text in pieces, before the rows are read."""
    from openpyxl.utils.cell import column_index_from_string

    found, tail = [], b""
    # openpyxl's own way to the sheet's XML in a read-only workbook.
    with sheet._get_source() as source:
        while True:
            chunk = source.read(1 << 20)
            text = tail + chunk
            # An element cut by the end of the piece is read with the next one.
            cut = text.rfind(b"<") if chunk else len(text)
            cut = len(text) if cut == -1 else cut
            for match in _MERGE_CELL.finditer(text, 0, cut):
                first, last = int(match[2]), int(match[4])
                if last > first:
                    column = column_index_from_string(match[1].decode()) - 1
                    name = b"%s%s:%s%s" % (match[1], match[2], match[3], match[4])
                    found.append((column, first, last, name.decode()))
            tail = text[cut:]
            if not chunk:
                break
    return sorted(found, key=lambda merge: (merge[1], merge[0]))


def _fill_merged(lines, merges, filled):
    """``lines`` with each range of ``merges`` read as its first cell's value in every row
    below it that has other values; ``filled`` collects (range, value) of those used.
    What a merge covers is shown as that value, and it is what the person who merged the
    cells meant; a row that is otherwise blank stays blank (a merge reaching past the
    data), and a covered cell with a value of its own keeps it."""
    if not merges:
        yield from lines
        return
    waiting, active, used = list(reversed(merges)), [], set()
    for number, cells in lines:
        while waiting and waiting[-1][1] <= number:
            column, first, last, name = waiting.pop()
            value = cells[column] if column < len(cells) else None
            if first == number and not _is_blank(value):
                active.append((column, last, name, value))
        active = [merge for merge in active if merge[1] >= number]
        if active and not _blank_row(cells):
            for column, _last, name, value in active:
                if column >= len(cells):
                    cells = cells + [None] * (column + 1 - len(cells))
                if _is_blank(cells[column]):
                    cells[column] = value
                    if name not in used:
                        used.add(name)
                        filled.append((name, value))
        yield number, cells


def names_columns(cells, column_names):
    """Whether a row's cells name two columns of ``column_names`` (folded): a header."""
    return sum(1 for name in header_cells(cells) if fold(name.strip()) in column_names) >= 2


def _shown(rows):
    """Each row's values, a date as precise as the sheet shows it (``_date_as_shown``)."""
    for cells in rows:
        yield tuple(
            _date_as_shown(cell.value, cell.number_format)
            if isinstance(cell.value, datetime.datetime)
            else cell.value
            for cell in cells
        )


# What a number format says besides its codes: "quoted text", [$-406] and [Red], \x.
_FORMAT_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.')


def _date_as_shown(value, number_format):
    """A date cell as vague as its format shows it: Excel turns "2011-05" typed into a
    cell into 1 May 2011 shown as "maj-11" (``mmm-yy``), and "2007" formatted ``yyyy``
    is 1 January 2007. Read as a day, a month or a year the sheet never claimed became
    exact; read by its format, it stays "2011-05" and "2007"."""
    if value.time() != datetime.time(0):
        return value
    codes = _FORMAT_LITERALS.sub("", number_format or "").lower()
    if "d" in codes or "h" in codes or "s" in codes or "y" not in codes:
        return value
    if "m" in codes:
        return f"{value.year:04d}-{value.month:02d}"
    return f"{value.year:04d}"


def _xlsx_lines(rows):
    cells_read = 0
    for number, values in enumerate(rows, start=1):
        cells_read += len(values)
        if cells_read > XLSX_MAX_CELLS:
            raise UnreadableFile(
                _("The worksheet has more than %(count)d cells; it was refused unread.")
                % {"count": XLSX_MAX_CELLS}
            )
        values = list(values)
        while values and values[-1] is None:
            values.pop()
        if len(values) > XLSX_MAX_COLUMNS:
            raise UnreadableFile(
                _(
                    "Row %(row)d has values in %(count)d columns; at most %(limit)d columns "
                    "can be imported."
                )
                % {"row": number, "count": len(values), "limit": XLSX_MAX_COLUMNS}
            )
        yield number, [_xlsx_value(value) for value in values]


def _xlsx_value(value):
    if isinstance(value, str):
        if "_x" in value:
            value = _OOXML_ESCAPED.sub(_ooxml_character, value)
        return value
    if isinstance(value, float) or (
        isinstance(value, datetime.datetime) and value.time() == datetime.time(0)
    ):
        return clean_cell(value)
    if isinstance(value, datetime.timedelta):
        return str(value)
    return value


def _ooxml_character(match):
    code = int(match.group(1), 16)
    # NUL is no text (and PostgreSQL refuses it); surrogates cannot be stored either.
    return "" if code == 0 or 0xD800 <= code <= 0xDFFF else chr(code)


def _is_blank(cell):
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _blank_row(cells):
    return all(_is_blank(cell) for cell in cells)


def _table(numbered_lines):
    header, header_number, rows = None, 1, []
    limit = max_rows()
    for number, cells in numbered_lines:
        if number > 10 * limit:
            # Sheets formatted far below their data would otherwise be read to the end.
            raise UnreadableFile(
                _("The file has more than %(count)d lines; at most %(limit)d rows can be imported.")
                % {"count": 10 * limit, "limit": limit}
            )
        if _blank_row(cells):
            continue
        if header is None:
            header, header_number = header_cells(cells), number
            continue
        rows.append((number, cells))
        if len(rows) > limit:
            break
    return Table(header or [], rows, header_number=header_number)


def header_cells(cells):
    """A row's cells as column names."""
    return [cell_text(clean_cell(cell)) for cell in cells]


# Writing ------------------------------------------------------------------------------

FORMATS = {
    "csv": ("text/csv; charset=utf-8", "csv"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "json": ("application/json", "json"),
}


def write_table(headers, rows, file_format, numeric_columns=(), title=None):
    """The bytes of a CSV, XLSX or JSON document; formula-like cells neutralised."""
    rows = [["" if cell is None else cell for cell in row] for row in rows]
    if file_format == "csv":
        return csv_text(headers, rows).encode("utf-8")
    if file_format == "json":
        records = [dict(zip(headers, (str(cell) for cell in row), strict=True)) for row in rows]
        return json.dumps(records, ensure_ascii=False, indent=2).encode("utf-8")
    if file_format == "xlsx":
        return _xlsx_bytes(headers, rows, set(numeric_columns), title)
    raise ValueError(file_format)


def _xlsx_bytes(headers, rows, numeric_columns, title=None):
    numeric = [header in numeric_columns for header in headers]
    return _workbook_bytes(
        headers,
        (
            [_xlsx_cell(cell, is_number) for cell, is_number in zip(row, numeric, strict=True)]
            for row in rows
        ),
        title,
    )


# An export's columns are as wide as the longest value in their first rows (in
# characters, a Chinese one counting two), within these bounds: Excel's default of 8.43
# showed 'Baggrund' of a source's title and 'Sino-Dan' of a name.
COLUMN_WIDTHS = (8, 60)
WIDTH_SAMPLE = 500


# What Excel does not allow in a worksheet's name, which has at most 31 characters.
_NOT_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")


def _workbook_bytes(headers, rows, title=None):
    """A workbook as an Excel user expects an export: the column names in bold, kept in
    view while scrolling and with Excel's filter on them, each column wide enough to read."""
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    rows = iter(rows)
    # The rows stream into the workbook; only the first are held, for the widths.
    first = list(islice(rows, WIDTH_SAMPLE))
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(_NOT_IN_SHEET_NAMES.sub(" ", title)[:31] if title else None)
    # Write-only sheets take their layout before the first row.
    widths = [_shown_width(header) for header in headers]
    for row in first:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], _shown_width(value))
    narrowest, widest = COLUMN_WIDTHS
    for index, width in enumerate(widths, start=1):
        column = sheet.column_dimensions[get_column_letter(index)]
        column.width = min(max(width + 2, narrowest), widest)
    if headers:
        sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    names = []
    for header in headers:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(header))
        cell.font = bold
        names.append(cell)
    sheet.append(names)
    count = 0
    for row in chain(first, rows):
        sheet.append(row)
        count += 1
    if headers:
        # Written after the rows, so it may be set once they are counted.
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _shown_width(value):
    """How many characters wide ``value`` shows in a cell: its longest line, a wide (CJK)
    character counting two."""
    if value is None or value == "":
        return 0
    text = str(value)
    if text.isascii():
        return max(map(len, text.split("\n")))
    return max(
        sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in line)
        for line in text.split("\n")
    )


def _xlsx_cell(value, is_number):
    if is_number and value not in ("", None):
        number = Decimal(str(value))
        return int(number) if number == number.to_integral_value() else float(number)
    return _xlsx_text(value)


def _xlsx_text(value):
    # openpyxl writes a string starting with '=' as a formula; neutralise() puts an
    # apostrophe in front of it, so no cell here is ever a formula.
    return _xlsx_escape(neutralise(value))


def _xlsx_escape(text):
    if _OOXML_NEEDS_ESCAPE.search(text):
        text = _OOXML_NEEDS_ESCAPE.sub(lambda match: f"_x{ord(match.group(0)):04X}_", text)
    return text


# The failed rows, to correct and upload again ----------------------------------------


def write_failed_rows(table, problems_by_row, errors_header):
    """The file's own header and failed rows, with an errors column, as the file was.

    ``problems_by_row`` maps a row number to its messages; those for rows that are not
    data rows (1, the header; 0, the whole file) come first, beside empty cells. A CSV
    keeps its delimiter and encoding; text that Windows-1252 cannot hold (a Chinese name
    in a message) turns the whole file into UTF-8 with a BOM, which Excel reads too,
    rather than losing the characters.
    """
    numbers = {number for number, _cells in table.rows}
    lines = [
        (cells, problems_by_row[number])
        for number, cells in table.rows
        if problems_by_row.get(number)
    ]
    file_problems = [
        problems_by_row[number]
        for number in sorted(problems_by_row)
        if number not in numbers and problems_by_row[number]
    ]
    width = max([len(table.header), *(_width(cells) for cells, _messages in lines)])
    header = [*table.header, *[""] * (width - len(table.header)), errors_header]
    rows = [([""] * width, _joined(messages)) for messages in file_problems]
    for cells, messages in lines:
        rows.append((list(cells[:width]) + [None] * (width - len(cells)), _joined(messages)))
    if table.format == "xlsx":
        return _workbook_bytes(
            header,
            ([*map(_failed_xlsx_cell, cells), _xlsx_escape(errors)] for cells, errors in rows),
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=table.delimiter or ",", lineterminator="\r\n")
    writer.writerow([neutralise(cell) for cell in header])
    writer.writerows([*map(_failed_csv_cell, cells), errors] for cells, errors in rows)
    text = buffer.getvalue()
    if table.encoding == "cp1252":
        try:
            return text.encode("cp1252")
        except UnicodeEncodeError:
            pass
    elif table.encoding == "utf-8":
        return text.encode("utf-8")
    return (BOM + text).encode("utf-8")


def file_type(table, data=b""):
    """``(content type, extension)`` for a file written in ``table``'s form."""
    if table.format == "xlsx":
        return FORMATS["xlsx"]
    utf8 = table.encoding != "cp1252" or data.startswith(BOM.encode("utf-8"))
    charset = "utf-8" if utf8 else "windows-1252"
    if table.delimiter == "\t":
        # Excel opens a .txt of tabs into columns, and a .csv of them into one.
        return (f"text/tab-separated-values; charset={charset}", "txt")
    return (f"text/csv; charset={charset}", "csv")


def _width(cells):
    width = len(cells)
    while width and _is_blank(cells[width - 1]):
        width -= 1
    return width


def _joined(messages):
    text = messages if isinstance(messages, str) else "\n".join(str(m) for m in messages)
    # Messages are never imported, so unlike values they need no apostrophe of their own
    # ("'lots' is not a number" stays as it is), only one against formulas.
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _failed_csv_cell(cell):
    # What the importer reads back is the cleaned cell, so write that, disarmed again.
    return neutralise(cell_text(clean_cell(cell)))


def _failed_xlsx_cell(cell):
    cell = clean_cell(cell)
    if isinstance(cell, str):
        return _xlsx_text(cell)
    return cell
