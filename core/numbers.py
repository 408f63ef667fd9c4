"""Numbers as a reader of the active language writes them: '77,3 mio.', '77.3 million'."""

import re
from decimal import Decimal

from django.utils import formats
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# Words for large numbers, per language. This is locale data of the same kind as the
# decimal separator (CLDR's "compact decimal" forms: Danish abbreviates, English writes
# the word out), so it lives beside the number formats rather than in the translations.
_LARGE_UNITS = {
    "da": ((10**9, "mia."), (10**6, "mio.")),
    "en": ((10**9, "billion"), (10**6, "million")),
}


def grouped(value, decimal_pos=None):
    """``value`` with the reader's thousand and decimal separators: 10.200 or 10,200."""
    if value is None or value == "":
        return ""
    if type(value) is int and -1000 < value < 1000 and decimal_pos is None:
        # Nothing to group: most counts a page shows. Django's formatting looks the
        # separators up in the active language each time, 10 µs a number, and the map
        # page shows 400 of them.
        return str(value)
    return formats.number_format(value, decimal_pos, use_l10n=True, force_grouping=True)


def large_number(value):
    """Millions and billions in words ('77,3 mio.'), smaller numbers grouped ('10.200')."""
    if value is None or value == "":
        return ""
    value = Decimal(value)
    language = (get_language() or "en").split("-")[0]
    for size, word in _LARGE_UNITS.get(language, _LARGE_UNITS["en"]):
        if abs(value) >= size:
            scaled = (value / size).quantize(Decimal("0.1"))
            decimals = 0 if scaled == scaled.to_integral_value() else 1
            return f"{grouped(scaled, decimals)}\N{NO-BREAK SPACE}{word}"
    decimals = 0 if value == value.to_integral_value() else None
    return grouped(value, decimals)


# Degrees, minutes and seconds as maps and encyclopaedias write a coordinate: 55°40′34″N,
# 12°34'06"E, Danish Wikipedia's 12°34′6″Ø (øst) and 8°12′V (vest), Google Maps'
# 55°40'34.0"N, or 55.6761° N; the hemisphere before the number or after it.
_HEMISPHERE = "NSEWØV"
_DEGREES = re.compile(
    rf"""(?P<before>[{_HEMISPHERE}])?\s*
    (?P<degrees>\d+(?:[.,]\d+)?)\s*°\s*
    (?:(?P<minutes>\d+(?:[.,]\d+)?)\s*['′’]\s*)?
    (?:(?P<seconds>\d+(?:[.,]\d+)?)\s*(?:["″”]|''|′′)\s*)?
    (?P<after>[{_HEMISPHERE}])?""",
    re.IGNORECASE | re.VERBOSE,
)
# The axis each hemisphere is on, and its sign.
_HEMISPHERES = {
    "N": ("latitude", 1),
    "S": ("latitude", -1),
    "E": ("longitude", 1),
    "Ø": ("longitude", 1),
    "W": ("longitude", -1),
    "V": ("longitude", -1),
}


def degrees(text, axis):
    """The decimal degrees of a ``text`` written in degrees (and minutes and seconds) with
    its hemisphere, to six decimals; None for text not written with degrees. ``axis``,
    'latitude' or 'longitude', is what the value is for: a hemisphere of the other axis,
    none, or 60 minutes or seconds is a ``ValueError`` whose message says so."""
    match = _DEGREES.fullmatch(text.strip())
    if match is None or (match["before"] and match["after"]):
        return None
    letter = (match["before"] or match["after"] or "").upper()
    on, sign = _HEMISPHERES.get(letter, (None, 1))
    if on != axis:
        if axis == "latitude":
            message = (
                _("'%(value)s' is a longitude (%(letter)s); a latitude is north (N) or south (S)")
                if letter
                else _("'%(value)s' needs its hemisphere: north (N) or south (S)")
            )
        else:
            message = (
                _(
                    "'%(value)s' is a latitude (%(letter)s); a longitude is east (E or Ø) or "
                    "west (W or V)"
                )
                if letter
                else _("'%(value)s' needs its hemisphere: east (E or Ø) or west (W or V)")
            )
        raise ValueError(message % {"value": text, "letter": letter})
    parts = [
        Decimal((match[name] or "0").replace(",", "."))
        for name in ("degrees", "minutes", "seconds")
    ]
    if parts[1] >= 60 or parts[2] >= 60:
        raise ValueError(_("'%(value)s' has 60 or more minutes or seconds") % {"value": text})
    return (sign * (parts[0] + parts[1] / 60 + parts[2] / 3600)).quantize(Decimal("0.000001"))
