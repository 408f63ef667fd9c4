"""Number fields for the admin that read and show numbers as the admin's language writes them."""

import re
from decimal import Decimal

from django import forms
from django.db import models
from django.utils import formats

from .numbers import grouped


def ungroup(value):
    """``value`` without the language's thousand separators, when it is grouped in threes.

    A localized form field reads the decimal separator (Django's sanitize_separators) but
    reads thousand separators only with USE_THOUSAND_SEPARATOR, which would also group
    every year and id the templates print ('2.009'). So the admin's number fields drop the
    separators here, and only from digits grouped exactly as the language groups them:
    Danish '367.095' and '1.234,5' are 367095 and 1234.5, while '55.6761' stays a decimal.
    """
    if not isinstance(value, str):
        return value
    thousands = formats.get_format("THOUSAND_SEPARATOR")
    whole, separator, fraction = value.strip().partition(formats.get_format("DECIMAL_SEPARATOR"))
    for mark in {thousands, "\N{NO-BREAK SPACE}" if thousands.isspace() else thousands}:
        if re.fullmatch(rf"[-+]?\d{{1,3}}(?:{re.escape(mark)}\d{{3}})+", whole):
            whole = whole.replace(mark, "")
    return whole + separator + fraction


class GroupedNumberInput(forms.TextInput):
    """Shows a stored number grouped, as the reader writes it: 367.095,00 or 367,095.00."""

    def format_value(self, value):
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return grouped(value)
        return super().format_value(value)


class UngroupedInputMixin:
    """A localized number field that also reads the language's thousand separators."""

    def __init__(self, **kwargs):
        kwargs["localize"] = True
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(ungroup(value))


class LocalizedDecimalField(UngroupedInputMixin, forms.DecimalField):
    widget = GroupedNumberInput

    def widget_attrs(self, widget):
        # No step/min/max: the field is text, so that '367.095' can be typed at all.
        return {"inputmode": "decimal"}


class LocalizedIntegerField(UngroupedInputMixin, forms.IntegerField):
    widget = forms.TextInput

    def widget_attrs(self, widget):
        return {"inputmode": "numeric"}


class LocalizedNumbersMixin:
    """For a ModelAdmin or inline: decimal and integer fields take numbers as staff type them.

    Years are left as they are: nobody writes 2.009.
    """

    plain_numbers = {"year"}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name not in self.plain_numbers and not db_field.choices:
            if isinstance(db_field, models.DecimalField):
                kwargs.setdefault("form_class", LocalizedDecimalField)
            elif isinstance(db_field, models.IntegerField) and not db_field.primary_key:
                kwargs.setdefault("form_class", LocalizedIntegerField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)
