"""Honest partial dates: '2007', '2011-05', '2011-05-03', '1980s', each maybe 'circa'.

Sources rarely give a full date ("since the 1980s", "in 2007", "spring 2012"), and a
registry that forced one would invent precision. A ``PartialDate`` keeps what is known
and nothing more. It is stored as its canonical text (``str(partial_date)``) and gives
the first and last day it may mean, so that ranges can be sorted and compared.
"""

import calendar
import datetime
import functools
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils import formats
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

DECADE = "decade"
YEAR = "year"
MONTH = "month"
DAY = "day"

_CIRCA = re.compile(
    r"^(?:circa|cirka|omkring|approx\.?|about|ca\.?|c\.?)(?:\s*(?=\d|the\s)|\s+(?=[^\W\d_]))",
    re.IGNORECASE,
)
_DECADE_FORMS = re.compile(r"^(?:the\s+)?(\d{3})0\s*(?:s|'s|’s|'erne|’erne|erne)$", re.IGNORECASE)
_DATE_FORMS = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")

# Dates as Danish and English spreadsheets write them besides ISO's, each read into
# (year, month, day): "maj 2011" and "May 2011", "3. maj 2011" and "May 3, 2011", Danish
# Excel's short date "03-05-2011" (day first, as Danish writes it; never "05/03/2011",
# which the United States reads the other way round) and "maj-11", what Excel writes of
# a date shown as month and year.
_MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("januar", "january", "jan"),
            ("februar", "february", "feb"),
            ("marts", "march", "mar"),
            ("april", "apr"),
            ("maj", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
_WRITTEN_FORMS = [
    re.compile(r"^(?P<month>[^\W\d_]+)\.?[\s-]+(?P<year>\d{4})$"),
    re.compile(r"^(?:den\s+)?(?P<day>\d{1,2})\.?\s+(?P<month>[^\W\d_]+)\.?\s+(?P<year>\d{4})$"),
    re.compile(r"^(?P<month>[^\W\d_]+)\.?\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})$"),
    re.compile(r"^(?P<day>\d{1,2})([.-])(?P<month>\d{1,2})\2(?P<year>\d{4})$"),
    re.compile(r"^(?P<month>[^\W\d_]+)-(?P<short_year>\d{2})$"),
]


def _written(text):
    """(year, month, day) as texts, or None, of a date written in words or day first."""
    for form in _WRITTEN_FORMS:
        match = form.match(text)
        if match is None:
            continue
        parts = match.groupdict()
        month = parts["month"]
        if not month.isdigit():
            month = _MONTHS.get(month.lower())
            if month is None:
                return None
        if parts.get("short_year"):
            # Two digits of a year, as Excel reads them: 00-29 this century, 30-99 the last.
            short = int(parts["short_year"])
            year = short + (2000 if short < 30 else 1900)
        else:
            year = int(parts["year"])
        return str(year), str(month), parts.get("day")
    return None


HELP_TEXT = gettext_lazy(
    "As precise as the source is: 2007, 2011-05, 2011-05-03 or 1980s; "
    "put 'c.' in front when the source says 'about' (c. 2008)."
)


@dataclass(frozen=True)
class PartialDate:
    year: int
    month: int | None = None
    day: int | None = None
    precision: str = YEAR
    circa: bool = False

    @classmethod
    def parse(cls, value):
        """Read the forms staff and spreadsheets write; raise ValidationError otherwise."""
        if isinstance(value, PartialDate):
            return value
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return cls(value.year, value.month, value.day, DAY)
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        text = str(value or "").strip()
        circa = bool(_CIRCA.match(text))
        text = _CIRCA.sub("", text).strip()
        decade = _DECADE_FORMS.match(text)
        if decade:
            return cls(int(decade.group(1)) * 10, precision=DECADE, circa=circa)
        match = _DATE_FORMS.match(text)
        groups = match.groups() if match else _written(text)
        if not groups:
            raise ValidationError(
                _(
                    "'%(value)s' is not a date this registry understands. Write 2007, "
                    "2011-05, 2011-05-03, 1980s or c. 2008."
                ),
                code="invalid_partial_date",
                params={"value": value},
            )
        year, month, day = (int(part) if part else None for part in groups)
        if year < 1000:
            raise ValidationError(_("Write the year with four digits."), code="invalid_year")
        if month is not None and not 1 <= month <= 12:
            raise ValidationError(
                _("'%(value)s' has no month %(month)s."),
                code="invalid_month",
                params={"value": value, "month": month},
            )
        if day is not None:
            try:
                datetime.date(year, month, day)
            except ValueError:
                raise ValidationError(
                    _("'%(value)s' is not a day in the calendar."),
                    code="invalid_day",
                    params={"value": value},
                ) from None
        precision = DAY if day else MONTH if month else YEAR
        return cls(year, month, day, precision, circa)

    @staticmethod
    @functools.lru_cache(maxsize=4096)
    def stored(text):
        """The date of a text as the database holds it (``str()`` of one). Kept per text,
        the date being frozen: the same years and months come back on every page, and
        the network's 300 partnerships read 376 of them, 1 ms of its miss at 10,000
        partnerships."""
        return PartialDate.parse(text)

    def __str__(self):
        prefix = "c. " if self.circa else ""
        if self.precision == DECADE:
            return f"{prefix}{self.year}s"
        if self.precision == YEAR:
            return f"{prefix}{self.year:04d}"
        if self.precision == MONTH:
            return f"{prefix}{self.year:04d}-{self.month:02d}"
        return f"{prefix}{self.year:04d}-{self.month:02d}-{self.day:02d}"

    @property
    def earliest(self):
        """The first day this date may mean."""
        return datetime.date(self.year, self.month or 1, self.day or 1)

    @property
    def latest(self):
        """The last day this date may mean."""
        if self.precision == DECADE:
            return datetime.date(self.year + 9, 12, 31)
        if self.precision == YEAR:
            return datetime.date(self.year, 12, 31)
        if self.precision == MONTH:
            return datetime.date(
                self.year, self.month, calendar.monthrange(self.year, self.month)[1]
            )
        return self.earliest

    def display(self):
        """How people write it, in the active language: '1980s', 'May 2011', 'c. 2008'."""
        if self.precision == DECADE:
            text = _("%(decade)ss") % {"decade": self.year}
        elif self.precision == YEAR:
            text = str(self.year)
        else:
            form = "YEAR_MONTH_FORMAT" if self.precision == MONTH else "DATE_FORMAT"
            text = _formatted(self.earliest, form, get_language())
        if self.circa:
            text = _("c. %(date)s") % {"date": text}
        return text


@functools.lru_cache(maxsize=4096)
def _formatted(day, form, language):
    """``date_format(day, form)`` in ``language``, the active one, worked out once: it
    took 11-14 µs, and a page of cards with their timeline or an API page shows dozens
    of the same months and days."""
    return formats.date_format(day, form)


def parse_or_none(value):
    if value in (None, ""):
        return None
    return PartialDate.parse(value)
