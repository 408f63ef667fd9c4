"""Cell readers: one function or callable per kind of cell, each raising ``CellError``.

Numbers as Danish or English spreadsheets write them, choices by value or label in either
language, countries by code or name, partial dates and lists.
"""

import functools
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext as _
from django_countries import countries

from core.dates import PartialDate
from core.text import fold as fold_uncached

# Multi-valued cells separate values with ';' or a line break.
_LIST_SPLIT = re.compile(r"\s*(?:;|\r\n|\n|\r)\s*")


class CellError(Exception):
    """A cell that cannot be read; the message names the value."""


# The same names come back row after row (every town names its province).
fold = functools.lru_cache(maxsize=65_536)(fold_uncached)


_MULTIPLIERS = [
    (re.compile(r"(?:mia\.?|milliard(?:er)?|billion|bn)$"), 10**9),
    (re.compile(r"(?:mio\.?|million(?:er)?|mn|m)$"), 10**6),
]
_GROUPED = re.compile(r"^\d{1,3}(?:[.,]\d{3})+$")


def parse_number(text):
    """A non-negative or negative number as Danish or English spreadsheets write it.

    1.234.567, 1,234,567 and 1234567 are the same number; '77,3 mio.' is 77300000. A lone
    separator followed by exactly three digits ('102,600', '102.600') groups thousands;
    any other lone separator ('55,6761', '7.5') is the decimal point.
    """
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
        raise CellError(_("'%(value)s' is not a whole number") % {"value": text})
    return int(number)


def parse_coordinate(text):
    """Decimal degrees with a decimal comma or point: '55,6761', '-8.2'."""
    value = text.strip().replace("\u2212", "-").replace(" ", "")
    if value.count(",") == 1 and "." not in value:
        value = value.replace(",", ".")
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise CellError(
            _("'%(value)s' is not a coordinate in decimal degrees") % {"value": text}
        ) from None
    if not number.is_finite():
        raise CellError(_("'%(value)s' is not a coordinate in decimal degrees") % {"value": text})
    # Coordinates are stored to six decimals (about 10 cm); spreadsheets often carry more.
    return number.quantize(Decimal("0.000001"))


def parse_date(text):
    try:
        return PartialDate.parse(text)
    except ValidationError as error:
        raise CellError(" ".join(error.messages)) from None


def split_list(text):
    return [part for part in _LIST_SPLIT.split(text.strip()) if part]


class ChoiceReader:
    """A choice by its value or its label in English or Danish, in any case."""

    def __init__(self, choices):
        self.lookup = {}
        self.values = [value for value, _label in choices]
        for value, label in choices:
            self.lookup[fold(value)] = value
            for language in ("en", "da"):
                with translation.override(language):
                    self.lookup.setdefault(fold(str(label)), value)

    def __call__(self, text):
        value = self.lookup.get(fold(text))
        if value is None:
            raise CellError(
                _("'%(value)s' is not one of: %(choices)s")
                % {"value": text, "choices": ", ".join(self.values)}
            )
        return value


class CountryReader:
    """A country by ISO code or by its name in English or Danish: 'CN', 'China', 'Kina'."""

    def __init__(self):
        self.lookup = {}
        for language in ("en", "da"):
            with translation.override(language):
                for code, name in countries:
                    self.lookup.setdefault(fold(code), code)
                    self.lookup.setdefault(fold(name), code)
        for code, _name in countries:
            alpha3 = countries.alpha3(code)
            if alpha3:
                self.lookup.setdefault(fold(alpha3), code)

    def __call__(self, text):
        code = self.lookup.get(fold(text))
        if code is None:
            raise CellError(_("'%(value)s' is not a country code or name") % {"value": text})
        return code
