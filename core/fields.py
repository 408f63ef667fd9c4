from django import forms
from django.core.exceptions import ValidationError
from django.db import models

from .dates import HELP_TEXT, PartialDate


class PartialDateFormField(forms.CharField):
    def to_python(self, value):
        value = super().to_python(value)
        return PartialDate.parse(value) if value else None

    def prepare_value(self, value):
        return str(value) if isinstance(value, PartialDate) else value


class PartialDateDescriptor:
    """Turns text assigned to the attribute ('1980s') into a ``PartialDate`` at once."""

    def __init__(self, field):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance.__dict__.get(self.field.attname)

    def __set__(self, instance, value):
        if isinstance(value, str | int) and value not in ("", None):
            try:
                value = PartialDate.parse(value)
            except ValidationError:
                pass  # kept as typed, so that full_clean() reports it on the field
        elif value == "":
            value = None
        instance.__dict__[self.field.attname] = value


class PartialDateField(models.Field):
    """A ``PartialDate`` stored as its canonical text ('1980s', 'c. 2008', '2011-05')."""

    description = "A date known to a decade, year, month or day"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("help_text", HELP_TEXT)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if kwargs.get("max_length") == 16:
            del kwargs["max_length"]
        if kwargs.get("help_text") == HELP_TEXT:
            del kwargs["help_text"]
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, **kwargs):
        super().contribute_to_class(cls, name, **kwargs)
        setattr(cls, self.attname, PartialDateDescriptor(self))

    def get_internal_type(self):
        return "CharField"

    def from_db_value(self, value, expression, connection):
        return PartialDate.stored(value) if value else None

    def to_python(self, value):
        if value in (None, ""):
            return None
        return PartialDate.parse(value)

    def get_prep_value(self, value):
        if value in (None, ""):
            return None
        try:
            return str(PartialDate.parse(value))
        except Exception:  # a lookup such as __startswith passes fragments through
            return str(value)

    def value_to_string(self, obj):
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": PartialDateFormField, **kwargs})


class RowIdField(models.BigIntegerField):
    """A big integer primary key that SQLite keeps as the row's own id.

    SQLite makes a column the rowid only when its type is exactly ``integer``; Django's
    ``bigint`` primary key gets an index of its own beside the table, so every lookup by it
    searched two B-trees. PostgreSQL keeps ``bigint``.
    """

    def db_type(self, connection):
        if connection.vendor == "sqlite":
            return "integer"
        return super().db_type(connection)
