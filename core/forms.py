"""Admin form parts: number fields that read and show numbers as the admin's language
writes them, translated fields that need one language at least, one field for a record of
several kinds, and widgets rendered in Python so that big forms stay fast."""

import functools
import json
import re
from decimal import Decimal

from django import forms
from django.contrib.admin.widgets import AutocompleteMixin, get_select2_language
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import formats
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from modeltranslation.translator import NotRegistered, translator

from .numbers import degrees, grouped
from .translation import LANGUAGES, localized_field


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


class CoordinateField(LocalizedDecimalField):
    """A latitude or a longitude (``axis``) in decimal degrees as the language writes
    them, or in degrees, minutes and seconds with the hemisphere, as copied from an
    encyclopaedia or a map ('55°40′34″N', '12°34′06″Ø'): ``core.numbers.degrees``."""

    def __init__(self, *, axis, **kwargs):
        self.axis = axis
        super().__init__(**kwargs)

    def to_python(self, value):
        if isinstance(value, str) and "°" in value:
            try:
                number = degrees(value, self.axis)
            except ValueError as problem:
                raise ValidationError(str(problem), code="invalid") from None
            if number is None:
                raise ValidationError(self.error_messages["invalid"], code="invalid")
            return number
        return super().to_python(value)


class LocalizedIntegerField(UngroupedInputMixin, forms.IntegerField):
    widget = forms.TextInput

    def widget_attrs(self, widget):
        return {"inputmode": "numeric"}


class LocalizedNumbersMixin:
    """For a ModelAdmin or inline: decimal and integer fields take numbers as staff type them.

    Years are left as they are: nobody writes 2.009.
    """

    plain_numbers = {"year"}
    coordinates = {"latitude", "longitude"}

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name in self.coordinates:
            kwargs.setdefault("form_class", CoordinateField)
            kwargs.setdefault("axis", db_field.name)
            kwargs.setdefault(
                "help_text",
                format_lazy(
                    "{} {}", db_field.help_text, _("Or as maps write it: 55°40′34″N, 12°34′06″Ø.")
                ),
            )
        if db_field.name not in self.plain_numbers and not db_field.choices:
            if isinstance(db_field, models.DecimalField):
                kwargs.setdefault("form_class", LocalizedDecimalField)
            elif isinstance(db_field, models.IntegerField) and not db_field.primary_key:
                kwargs.setdefault("form_class", LocalizedIntegerField)
        return super().formfield_for_dbfield(db_field, request, **kwargs)


SELECT = "django/forms/widgets/select.html"
SELECT_OPTION = "django/forms/widgets/select_option.html"
INPUTS = {
    f"django/forms/widgets/{kind}.html"
    for kind in ["input", "text", "hidden", "number", "checkbox", "email", "url", "date"]
}
TEXTAREA = "django/forms/widgets/textarea.html"


class PythonRenderedMixin:
    """Renders the plainest widgets in Python, to the HTML of Django's own templates.

    Through the template engine a widget costs about 0.3 ms and a select option 25 µs:
    with the 250 countries and the hidden ids, selects and checkboxes of every inline row,
    that was most of an admin change page's time. Other templates render as usual.
    """

    def _render(self, template_name, context, renderer=None):
        widget = context["widget"]
        if template_name == SELECT and self.option_template_name == SELECT_OPTION:
            return mark_safe(select_html(widget))
        if template_name in INPUTS:
            value = widget["value"]
            return mark_safe(
                f'<input type="{conditional_escape(widget["type"])}"'
                f' name="{conditional_escape(widget["name"])}"'
                + ("" if value is None else f' value="{conditional_escape(value)}"')
                + f"{html_attrs(widget['attrs'])}>"
            )
        if template_name == TEXTAREA:
            return mark_safe(
                f'<textarea name="{conditional_escape(widget["name"])}"'
                f"{html_attrs(widget['attrs'])}>\n"
                f"{conditional_escape(widget['value']) if widget['value'] else ''}</textarea>"
            )
        return super()._render(template_name, context, renderer)


def select_html(widget):
    groups = []
    for group_name, options, _index in widget["optgroups"]:
        html = "".join(
            f'\n  <option value="{conditional_escape(option["value"])}"'
            f"{html_attrs(option['attrs'])}>{conditional_escape(option['label'])}</option>"
            for option in options
        )
        if group_name:
            html = f'\n  <optgroup label="{conditional_escape(group_name)}">{html}\n  </optgroup>'
        groups.append(html)
    return (
        f'<select name="{conditional_escape(widget["name"])}"{html_attrs(widget["attrs"])}>'
        f"{''.join(groups)}\n</select>"
    )


def html_attrs(attrs):
    """As django/forms/widgets/attrs.html writes them."""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class PythonLabelsMixin:
    """For a form: its field labels render in Python, as django/forms/label.html."""

    def render(self, template_name=None, context=None, renderer=None):
        if template_name == "django/forms/label.html" and context is not None:
            label = conditional_escape(context["label"])
            if not context["use_tag"]:
                return mark_safe(label)
            tag = conditional_escape(context["tag"])
            return mark_safe(f"<{tag}{html_attrs(context['attrs'] or {})}>{label}</{tag}>")
        return super().render(template_name, context, renderer)


class FastModelForm(PythonLabelsMixin, forms.ModelForm):
    """A model form whose field labels render in Python too."""


class KnownLabelsMixin:
    """An autocomplete that names its selected record from ``known_labels`` ({pk: label})
    when it holds them, and asks nothing when empty, instead of a query per widget (that
    is, per inline row)."""

    known_labels = {}

    def optgroups(self, name, value, attr=None):
        # A value no record's key can be (a forged "abc", a number past what the database
        # holds) selects nothing: the form says the choice is not valid, where Django's
        # own widget raised ValueError or OverflowError reading it back, a server error.
        value = [v for v in value if self.could_name_record(v)]
        selected = [str(v) for v in value if str(v) not in self.choices.field.empty_values]
        if not all(pk in self.known_labels for pk in selected):
            return super().optgroups(name, value, attr)
        options = []
        if not self.is_required and not self.allow_multiple_selected:
            options.append(self.create_option(name, "", "", False, 0))
        for pk in selected:
            options.append(self.create_option(name, pk, self.known_labels[pk], True, len(options)))
        return [(None, options, 0)]

    def could_name_record(self, value):
        remote, options = self.field.remote_field, self.field.remote_field.model._meta
        # A foreign key names the field it points at; a many-to-many, the key.
        key = options.get_field(remote.field_name) if hasattr(remote, "field_name") else options.pk
        return str(value) in self.choices.field.empty_values or could_be_key(key, value)


@functools.cache
def faster(widget_class):
    mixins = (PythonRenderedMixin,)
    if issubclass(widget_class, AutocompleteMixin):
        mixins = (KnownLabelsMixin, *mixins)
    return type(widget_class.__name__, (*mixins, widget_class), {})


def render_in_python(formfield):
    """Switch the widget of ``formfield`` (also inside the admin's related-field wrapper)
    to ``PythonRenderedMixin``, keeping its state: a subclass of its own class."""
    widget = getattr(formfield, "widget", None)
    widget = getattr(widget, "widget", widget)  # RelatedFieldWidgetWrapper
    if isinstance(widget, forms.Widget) and not isinstance(widget, PythonRenderedMixin):
        widget.__class__ = faster(type(widget))
    return formfield


def could_be_key(field, value):
    """Whether ``value`` reads as a value of the key ``field`` that the database can hold."""
    try:
        field.run_validators(field.to_python(value))
    except ValidationError:
        return False
    return True


class KeysCheckedMultipleChoiceField(forms.ModelMultipleChoiceField):
    """A many-to-many choice that refuses a key the database cannot hold, as it refuses
    "abc": Django asks the database for every key it is sent, and SQLite cannot take a
    number past 2⁶³ (OverflowError, a server error, for a forged form)."""

    def _check_values(self, value):
        options = self.queryset.model._meta
        key = options.get_field(self.to_field_name) if self.to_field_name else options.pk
        for pk in value:
            if str(pk) not in self.empty_values and not could_be_key(key, pk):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"],
                    code="invalid_pk_value",
                    params={"pk": pk},
                )
        return super()._check_values(value)


class KeysCheckedMixin:
    """For a ModelAdmin or inline: many-to-many choices refuse keys the database cannot
    hold (``KeysCheckedMultipleChoiceField``)."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs.setdefault("form_class", KeysCheckedMultipleChoiceField)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class FastWidgetsMixin(KeysCheckedMixin):
    """For a ModelAdmin or inline: the plainest widgets and labels render in Python."""

    form = FastModelForm

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return render_in_python(super().formfield_for_dbfield(db_field, request, **kwargs))


class TranslatedModelForm(FastModelForm):
    """A form whose required translated fields (a name, a title) take the text in either
    language: modeltranslation alone would insist on the default language, English."""

    def clean(self):
        cleaned_data = super().clean()
        for name in required_translated_fields(self._meta.model):
            columns = [localized_field(name, code) for code in LANGUAGES]
            if not all(column in self.fields for column in columns):
                continue
            if not any(cleaned_data.get(column) for column in columns):
                self.add_error(
                    columns[0],
                    ValidationError(
                        _("Enter the %(field)s in Danish, in English or in both."),
                        code="required",
                        params={"field": self._meta.model._meta.get_field(name).verbose_name},
                    ),
                )
        return cleaned_data


@functools.cache
def required_translated_fields(model):
    try:
        options = translator.get_options_for_model(model)
    except NotRegistered:
        return ()
    return tuple(name for name in options.all_fields if not model._meta.get_field(name).blank)


def record_value(record):
    """How ``OneOfRecordsField`` writes a record: "place:12"."""
    return f"{record._meta.model_name}:{record.pk}"


def find_record(querysets, value):
    """The record ``value`` ("place:12") names in one of ``querysets``, else None."""
    kind, _colon, pk = str(value).partition(":")
    for queryset in querysets:
        if queryset.model._meta.model_name == kind:
            try:
                return queryset.get(pk=queryset.model._meta.pk.to_python(pk))
            except (ValidationError, queryset.model.DoesNotExist):
                return None
    return None


class RecordsAutocomplete(PythonRenderedMixin, forms.Select):
    """The admin's select2 autocomplete, asking ``url`` for records of several kinds.

    ``known_labels`` ({value: label}) names the chosen record without a query.
    """

    def __init__(self, url, querysets=(), attrs=None):
        super().__init__(attrs)
        self.url, self.querysets = url, querysets
        self.known_labels = {}

    @property
    def i18n_name(self):
        return get_select2_language()

    media = AutocompleteMixin.media

    def build_attrs(self, base_attrs, extra_attrs=None):
        attrs = super().build_attrs(base_attrs, extra_attrs)
        # The attributes django/contrib/admin's autocomplete.js starts select2 from.
        return {
            **attrs,
            "class": " ".join(filter(None, [attrs.get("class"), "admin-autocomplete"])),
            "data-ajax--cache": "true",
            "data-ajax--delay": 250,
            "data-ajax--type": "GET",
            "data-ajax--url": str(self.url),
            "data-theme": "admin-autocomplete",
            "data-allow-clear": json.dumps(not self.is_required),
            "data-placeholder": "",
            "lang": self.i18n_name,
        }

    def optgroups(self, name, value, attr=None):
        options = [] if self.is_required else [self.create_option(name, "", "", False, 0)]
        for chosen in value:
            if chosen in ("", None):
                continue
            label = self.known_labels.get(chosen)
            if label is None:
                record = find_record(self.querysets, chosen)
                if record is None:
                    continue
                label = str(record)
            options.append(self.create_option(name, chosen, label, True, len(options)))
        return [(None, options, 0)]


class OneOfRecordsField(forms.Field):
    """One record of any of several models, chosen in one autocomplete: "place:12" or
    "organisation:5". ``url`` answers the autocomplete's searches."""

    default_error_messages = {
        "invalid_choice": _(
            "Select a valid choice. That choice is not one of the available choices."
        ),
    }

    def __init__(self, querysets, url, **kwargs):
        self.querysets = tuple(querysets)
        kwargs.setdefault("widget", RecordsAutocomplete(url, self.querysets))
        super().__init__(**kwargs)

    def prepare_value(self, value):
        return record_value(value) if isinstance(value, models.Model) else value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        record = find_record(self.querysets, value)
        if record is None:
            raise ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return record

    def has_changed(self, initial, data):
        return (self.prepare_value(initial) or "") != (data or "")
