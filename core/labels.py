"""Display labels of choices and countries, looked up once per language.

``get_kind_display()`` rebuilds and hashes the field's lazy choices on every call, and
``record.country.name`` builds a Country and translates its name each time: on a page of
cards that is most of the rendering time. The labels here come from a dict made once per
field (or once for the countries) and language.
"""

from functools import cache

from django.utils.translation import get_language
from django_countries import countries


@cache
def _choices(field, language):
    return {value: str(label) for value, label in field.flatchoices}


@cache
def _countries(language):
    return dict(countries)


def choice_label(record, field_name, language=None):
    """What ``record.get_<field_name>_display()`` returns; ``language``, the active one,
    when the caller knows it already (``core.cards.Reader``)."""
    field = record._meta.get_field(field_name)
    value = getattr(record, field.attname)
    return _choices(field, language or get_language()).get(value, value)


def country_name(code, language=None):
    """The country's name in the reader's language; an unknown code as it is."""
    code = str(code or "")
    return _countries(language or get_language()).get(code, code)


def record_country(record, language=None):
    """The name of ``record.country``, looked up once."""
    # The stored code: the field's descriptor builds and validates a Country object first.
    code = vars(record).get("country")
    return country_name(record.country if code is None else code, language)
