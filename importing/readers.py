"""Cell readers: one function or callable per kind of cell, each raising ``CellError``.

Numbers as Danish or English spreadsheets write them, choices by value or label in either
language, countries by code or name, partial dates and lists.

A cell comes from ``clean_cell``: text, or what a workbook typed it as (a whole number
as ``int``, other numbers as ``Decimal``, a day as ``datetime.date``). Every reader takes
either; a number a workbook stored is used as it is, never re-read as text.
"""

import datetime
import difflib
import functools
import math
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django_countries import countries

from core.dates import PartialDate
from core.exports import needs_apostrophe
from core.numbers import degrees
from core.text import fold as fold_uncached
from core.text import tidy

# Multi-valued cells separate values with ';' or a line break.
_LIST_SPLIT = re.compile(r"\s*(?:;|\r\n|\n|\r)\s*")


class CellError(Exception):
    """A cell that cannot be read; the message names the value."""


# The same names come back row after row (every town names its province).
fold = functools.lru_cache(maxsize=65_536)(fold_uncached)

_NUMBER_TYPES = (int, float, Decimal)


def clean_cell(value):
    """A raw cell as the readers take it: trimmed text, or a number or date as typed.

    Text is tidied (``core.text.tidy``: no-break spaces, characters of no width, a
    Mac's decomposed letters) and loses the whitespace around it and the apostrophe our
    exports put in front (the exact inverse of ``core.exports.neutralise``); whitespace
    right behind that apostrophe belongs to the value and stays. Windows line breaks
    become '\\n'.
    """
    if value is None:
        return ""
    if isinstance(value, str):
        text = tidy(value).replace("\r\n", "\n").lstrip()
        if text.startswith("'") and needs_apostrophe(text[1:]):
            return text[1:].rstrip()
        return text.rstrip()
    if isinstance(value, bool):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        # repr() is the shortest text that reads back as the same float: 18.125, not
        # 18.12499999999999928945726423989981412887573242187500.
        number = Decimal(repr(value))
        return int(number) if number == number.to_integral_value() else number
    if isinstance(value, datetime.datetime) and value.time() == datetime.time(0):
        return value.date()
    if isinstance(value, (int, Decimal, datetime.date)):
        return value
    if isinstance(value, datetime.time):
        return value.isoformat()
    return clean_cell(str(value))


def cell_text(value):
    """The text of a cleaned cell: 2009 -> '2009', 18.125 -> '18.125', a day in ISO form."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        value = clean_cell(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value.is_finite() else str(value)
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _is_number(value):
    return isinstance(value, _NUMBER_TYPES) and not isinstance(value, bool)


def _not_a_number(value):
    return CellError(_("'%(value)s' is not a number") % {"value": cell_text(value)})


_MULTIPLIERS = [
    (re.compile(r"(?:mia\.?|milliard(?:er)?|billion|bn)$"), 10**9),
    (re.compile(r"(?:mio\.?|million(?:er)?|mn|m)$"), 10**6),
]
_GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


def parse_number(text):
    """A non-negative or negative number as Danish or English spreadsheets write it.

    1.234.567, 1,234,567 and 1234567 are the same number; '77,3 mio.' is 77300000. A lone
    separator followed by exactly three digits ('102,600', '102.600') groups thousands;
    any other lone separator ('55,6761', '7.5') is the decimal point. A number cell is
    taken as it is: Excel's 18.125 is eighteen and an eighth, not 18125.
    """
    if _is_number(text):
        number = clean_cell(text)
        if not isinstance(number, (int, Decimal)) or not Decimal(number).is_finite():
            raise _not_a_number(text)
        return Decimal(number)
    if not isinstance(text, str):
        raise _not_a_number(text)
    raw = text
    text = text.strip().lower().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    multiplier = 1
    for pattern, size in _MULTIPLIERS:
        match = pattern.search(text)
        if match and match.start() > 0:
            multiplier, text = size, text[: match.start()]
            break
    sign = ""
    if text[:1] in "+-":
        sign, text = ("-" if text[0] == "-" else ""), text[1:]
    if not text or not re.fullmatch(r"[\d.,]+", text) or not text[0].isdigit():
        raise CellError(_("'%(value)s' is not a number") % {"value": raw})
    if "." in text and "," in text:
        decimal_mark = "." if text.rfind(".") > text.rfind(",") else ","
        whole, _sep, fraction = text.rpartition(decimal_mark)
        thousands = "," if decimal_mark == "." else "."
        if not _GROUPED.match(whole) or thousands not in whole or decimal_mark in whole:
            raise CellError(_("'%(value)s' is not a number") % {"value": raw})
        text = whole.replace(thousands, "") + "." + fraction
    elif text.count(".") + text.count(",") > 1:
        if not _GROUPED.match(text) or ("." in text and "," in text):
            raise CellError(_("'%(value)s' is not a number") % {"value": raw})
        text = text.replace(".", "").replace(",", "")
    else:
        separator = "." if "." in text else "," if "," in text else ""
        if separator:
            whole, _sep, fraction = text.partition(separator)
            if len(fraction) == 3 and multiplier == 1:
                text = whole + fraction
            else:
                text = whole + "." + fraction
    try:
        return Decimal(sign + text) * multiplier
    except InvalidOperation:
        raise CellError(_("'%(value)s' is not a number") % {"value": raw}) from None


def parse_integer(text):
    number = parse_number(text)
    if number != number.to_integral_value():
        raise CellError(_("'%(value)s' is not a whole number") % {"value": cell_text(text)})
    return int(number)


def parse_coordinate(text, axis="latitude"):
    """Decimal degrees with a decimal comma or point: '55,6761', '-8.2'; or degrees,
    minutes and seconds with the hemisphere, as encyclopaedias and maps write them
    ('55°40′34″N', '12°34′06″Ø'), for ``axis``: 'latitude' or 'longitude'."""
    error = CellError(
        _("'%(value)s' is not a coordinate in decimal degrees") % {"value": cell_text(text)}
    )
    if isinstance(text, str) and "°" in text:
        try:
            number = degrees(text, axis)
        except ValueError as problem:
            raise CellError(str(problem)) from None
        if number is None:
            raise error
        return number
    if _is_number(text):
        number = clean_cell(text)
        if not isinstance(number, (int, Decimal)):
            raise error
        number = Decimal(number)
    elif isinstance(text, str):
        value = text.strip().replace("\u2212", "-").replace(" ", "")
        if value.count(",") == 1 and "." not in value:
            value = value.replace(",", ".")
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise error from None
    else:
        raise error
    # Coordinates are stored to six decimals (about 10 cm); spreadsheets often carry more.
    # A number too large to quantize is no coordinate either (the model checks the range).
    if not number.is_finite() or abs(number) >= 10**9:
        raise error
    return number.quantize(Decimal("0.000001"))


def parse_date(text):
    if _is_number(text):
        # A year typed into a number cell: 2009, or 2009.0 from some programs.
        number = clean_cell(text)
        text = number if isinstance(number, int) else cell_text(number)
    try:
        return PartialDate.parse(text)
    except ValidationError as error:
        raise CellError(" ".join(error.messages)) from None


def read_url(value):
    """A web address as staff type it: "www.sdu.dk" is https://www.sdu.dk, as the admin's
    own form reads it (``core.admin``: ``assume_scheme``); the field's validator judges
    the rest."""
    text = cell_text(value)
    if text and "://" not in text and not text.startswith(("/", "mailto:")):
        return "https://" + text
    return text


def split_list(text):
    return [part for part in _LIST_SPLIT.split(cell_text(text).strip()) if part]


# A spreadsheet program that saves text in an 8-bit encoding (Danish Excel's "CSV
# (semikolonsepareret)" is Windows-1252, Excel for Mac's CSV Mac Roman) writes '?' (or,
# on a Mac, '_') for every character the encoding cannot hold: 苏州 comes back as ??,
# Łódź as ?ódz. The file no longer says what the cell held, so it must not be read as a
# change.
_REPLACEMENTS = "?_"
_NOT_A_LETTER = re.compile(r"[\W_]")


def has_replacement(value):
    """Whether ``value``, a cell's text or a set of them, has a '?' or '_' at all: what
    ``lost_letters`` and ``only_question_marks`` need to be asked."""
    if isinstance(value, str):
        return "?" in value or "_" in value
    if isinstance(value, frozenset):
        return any(isinstance(item, str) and ("?" in item or "_" in item) for item in value)
    return False


def lost_letters(stored, text):
    """True when ``text`` is ``stored`` with '?' or '_' in place of some of its non-ASCII
    characters and otherwise the same: what such a file makes of a stored value."""
    if not isinstance(stored, str) or not isinstance(text, str):
        return False
    stored = stored.strip().replace("\r\n", "\n")
    text = text.strip()
    if len(stored) != len(text) or stored == text:
        return False
    return all(
        s == t or (t in _REPLACEMENTS and not s.isascii())
        for s, t in zip(stored, text, strict=True)
    )


def only_question_marks(text):
    """True for text that is nothing but question marks or underscores (and spaces or
    punctuation): what such a file makes of text with no letter it can hold, ?? for 苏州."""
    return sum(text.count(mark) for mark in _REPLACEMENTS) >= 2 and not _NOT_A_LETTER.sub("", text)


class ChoiceReader:
    """A choice by its value or its label in English or Danish, in any case; or by one of
    ``synonyms`` ({value: [words]}), other words spreadsheets use for it."""

    def __init__(self, choices, synonyms=None):
        self.lookup = {}
        # Lazy labels, so that a message lists them in the reader's language.
        self.labels = [label for _value, label in choices]
        for value, label in choices:
            self.lookup[fold(value)] = value
            for language in ("en", "da"):
                with translation.override(language):
                    self.lookup.setdefault(fold(str(label)), value)
        for value, words in (synonyms or {}).items():
            for word in words:
                self.lookup.setdefault(fold(word), value)

    def __call__(self, text):
        text = cell_text(text)
        value = self.lookup.get(fold(text))
        if value is None:
            raise CellError(
                _("'%(value)s' is not one of: %(choices)s")
                % {"value": text, "choices": ", ".join(str(label) for label in self.labels)}
            )
        return value


# Names people write for countries that django-countries knows by another name, in
# English and Danish. England, Scotland, Wales and Northern Ireland have no ISO 3166-1
# code of their own: a town there is in the United Kingdom (GB), which is all a country
# field can hold, and twin-town lists write 'England' far more often than 'UK'.
COUNTRY_ALIASES = {
    "US": [
        "United States",
        "America",
        "U.S.",
        "U.S.A.",
        "De Forenede Stater",
        "Forenede Stater",
        "Amerika",
    ],
    "GB": [
        "UK",
        "U.K.",
        "Great Britain",
        "Britain",
        "England",
        "Scotland",
        "Wales",
        "Northern Ireland",
        "Det Forenede Kongerige",
        "Britannien",
        "Skotland",
        "Nordirland",
    ],
    "CZ": ["Czech Republic", "Den Tjekkiske Republik", "Tjekkiske Republik"],
    "TR": ["Turkey", "Tyrkiet"],
    "NL": ["The Netherlands", "Holland", "Nederlandene", "Nederland"],
    "KR": ["Korea", "Republic of Korea", "Korea, Republic of", "Sydkorea"],
    "RU": ["Russian Federation", "Rusland"],
    "VN": ["Viet Nam"],
    "HK": ["Hongkong"],
    "MO": ["Macau"],
    "CN": ["PRC", "People's Republic of China", "Folkerepublikken Kina", "Mainland China"],
    "CI": ["Ivory Coast", "Elfenbenskysten"],
    "CV": ["Cape Verde", "Kap Verde"],
    "MM": ["Burma"],
    "MK": ["Macedonia", "Makedonien", "Nordmakedonien"],
    "VA": ["Vatican", "Vatican City", "Vatikanstaten"],
    "AE": ["UAE", "United Arab Emirates", "Emirates", "De Forenede Arabiske Emirater"],
    "BA": ["Bosnia", "Bosnien"],
}
# How many close names an unknown country lists, and how close (difflib ratio): at 0.6
# "Atlantis" would suggest Albania.
CLOSEST = 3


class CountryReader:
    """A country by ISO code or by its name in English or Danish: 'CN', 'China', 'Kina'.

    Codes must match exactly (in any case), names after folding: folding collapses 'ae',
    so 'UAE' would otherwise be read as 'UA', Ukraine.
    """

    def __init__(self):
        self.codes = {}
        self.names = {}
        self.display = {}
        for code, _name in countries:
            self.codes[code] = code
            alpha3 = countries.alpha3(code)
            if alpha3:
                self.codes.setdefault(alpha3, code)
        for language in ("en", "da"):
            with translation.override(language):
                for code, name in countries:
                    self._add(name, code)
        for code, names in COUNTRY_ALIASES.items():
            for name in names:
                self._add(name, code)

    def _add(self, name, code):
        folded = fold(str(name))
        self.names.setdefault(folded, code)
        self.display.setdefault(folded, str(name))

    def __call__(self, text):
        text = cell_text(text).strip()
        code = self.codes.get(text.upper()) or self.names.get(fold(text))
        if code is None:
            message = _("'%(value)s' is not a country code or name") % {"value": text}
            closest = difflib.get_close_matches(fold(text), self.names, n=CLOSEST, cutoff=0.7)
            if closest:
                # Best match first, as difflib ranks them.
                names = ", ".join(dict.fromkeys(self.display[name] for name in closest))
                message += " (" + _("closest: %(names)s") % {"names": names} + ")"
            raise CellError(message)
        return code
