"""Numbers as a reader of the active language writes them: '77,3 mio.', '77.3 million'."""

from decimal import Decimal

from django.utils import formats
from django.utils.translation import get_language

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
