"""What every record FilterSet shares: the search box, countries and facets."""

import copy
import functools
from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Count, Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .cache import per_version
from .forms import PythonLabelsMixin, render_in_python
from .text import validate_search_query
from .translation import DEFAULT_LANGUAGE, Localized, localized_field
from .visibility import viewer


class SearchInput(forms.TextInput):
    input_type = "search"


class AnyOfFilter(django_filters.MultipleChoiceFilter):
    """Any of the values chosen, as one ``IN (…)``.

    django-filter's own ORs an equality per value (``kind = 'a' OR kind = 'b'``), which
    PostgreSQL cannot search an index for: for two kinds, the faceted list read every
    published partnership's entry in ``partnership_counts_idx`` (publication, kind, …)
    and tested each, in each of its five counts. ``kind IN ('a', 'b')`` reads the two
    kinds' entries. The values are sorted, so that one choice makes one SQL text.
    """

    def filter(self, qs, value):
        if not value or self.is_noop(qs, value):
            return qs
        if self.null_value in value:  # "none of them" (a null_label) is no value of IN
            return super().filter(qs, value)
        qs = self.get_method(qs)(**{f"{self.field_name}__in": sorted(set(value))})
        return qs.distinct() if self.distinct else qs


def copy_filter(original):
    """A copy of a FilterSet's filter for one FilterSet: its own attributes, the rest shared.

    What a FilterSet changes on its filters is their own attributes (``model``, ``parent``,
    ``records``) and the form field each makes; the choices, querysets and labels they
    were declared with are only read, and a form field clones its queryset.
    """
    copied = copy.copy(original)
    copied.extra = dict(original.extra)
    # Each FilterSet's form gets fields of its own (``Filter.field`` makes them).
    copied.__dict__.pop("_field", None)
    if original.method is not None:
        # Binds the ``method`` to the copy, whose ``parent`` is the FilterSet.
        copied.method = original.method
    return copied


class FilterCopies(dict):
    """A FilterSet class's filters, which each FilterSet copies filter by filter.

    django-filter deep-copies every filter for each FilterSet, with the querysets,
    choices and lazy labels they hold: the partnership FilterSet and its form took 1.23 ms
    to make so, against 0.65 ms with ``copy_filter`` and ``FreshFields``.
    """

    def __deepcopy__(self, memo):
        return {name: copy_filter(original) for name, original in self.items()}


class FreshFields(dict):
    """A form class's fields, made for one form alone: its form takes them as they are.

    A Django form deep-copies its class's fields so that forms sharing a class do not
    share fields. A FilterSet makes its form class, and fresh fields for it, each time.
    """

    def __deepcopy__(self, memo):
        return dict(self)


# {(FilterSet class, facet, language): {value: label}} (``RecordFilterSet.facet_labels``).
_FIXED_LABELS = {}


class RecordFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        help_text=_("Any name or spelling, with or without accents: Wuxi, Wutshi, 无锡."),
        widget=SearchInput(attrs={"id": "q", "autocomplete": "off"}),
        validators=[validate_search_query],
    )

    # Filters shown as facets, in order: {name: method counting its values}. A method
    # takes the queryset filtered by every other filter and returns (value, count) pairs
    # from one GROUP BY query.
    facets = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._facet_counts = None
        # A filter naming a place or organisation knows only what the reader may see, so
        # a draft's slug filters nothing for the public (and shows no chip of its name).
        for value_filter in self.filters.values():
            if isinstance(value_filter, RecordNameFilter):
                value_filter.records = value_filter.records.visible_to(viewer(self.request))

    @classmethod
    def get_filters(cls):
        return FilterCopies(super().get_filters())

    def get_form_class(self):
        # Its widgets and labels render in Python, as the admin's do (core.forms): through
        # the template engine, the filter form took 2-4 ms of a list page's 14-30.
        form_class = super().get_form_class()
        for field in form_class.base_fields.values():
            render_in_python(field)
        form_class = type(form_class.__name__, (PythonLabelsMixin, form_class), {})
        form_class.base_fields = FreshFields(form_class.base_fields)
        return form_class

    # A facet on a field that every record has exactly one value of (its kind): its counts
    # add up to the records the list holds, those of the chosen values when some are.
    count_facet = None

    def known_count(self):
        """How many records ``qs`` holds, when known without a COUNT; else None.

        From the counts of ``count_facet``, which the list's facets need anyway: at
        100,000 partnerships a COUNT of the 20,000 organisations took 1.1 ms on SQLite.
        """
        if self.count_facet is None or (self.is_bound and not self.is_valid()):
            return None
        counts = self.facet_counts()[self.count_facet]
        chosen = set(self.chosen_values(self.count_facet))
        return sum(count for value, count in counts.items() if not chosen or str(value) in chosen)

    def chosen_values(self, name):
        """The values of the filter ``name`` in the address, as text; none while unbound."""
        return [str(value) for value in self.data.getlist(name)] if self.is_bound else []

    def filter_q(self, queryset, name, value):
        # The folding search in core.text, through the model's QuerySet.
        return queryset.search(value)

    def in_pages(self, rows):
        """``rows``, what this filter keeps (``qs``), as its pages and the search page read
        them: a queryset, or a list that reads only the rows asked for (``Ranked``)."""
        return rows

    def found(self, queryset, value):
        """What the search box lets through, in no order: what the facets count. A
        FilterSet that ranks its search results leaves the ranking out here."""
        return self.filter_q(queryset, "q", value)

    def queryset_without(self, name):
        """The records every filter but ``name`` (and the sort) lets through.

        Uses the already validated values, so it costs no query of its own: a facet's
        counts say what choosing one more of its values would add, the usual faceting rule.
        """
        queryset = self.queryset.all()
        if not self.is_bound:
            return queryset
        for other, value in self.form.cleaned_data.items():
            if other in (name, "sort"):
                continue
            if other == "q" and value:
                queryset = self.found(queryset, value)
            else:
                queryset = self.filters[other].filter(queryset, value)
        return queryset

    def facet_list(self):
        """The facets with their counts, one query each; none while the form is invalid."""
        if self.is_bound and not self.is_valid():
            return []
        result = []
        every_count = self.facet_counts()
        for name in self.facets:
            selected = self.chosen_values(name)
            counts = every_count[name]
            labels = self.facet_labels(name)
            options = [
                FacetOption(str(value), labels.get(str(value), str(value)), count, False)
                for value, count in counts.items()
                if count and str(value) not in selected
            ]
            options.sort(key=lambda option: (-option.count, str(option.label)))
            chosen = [
                FacetOption(value, labels.get(value, value), counts.get(value, 0), True)
                for value in selected
            ]
            if chosen or options:
                result.append(Facet(name, self.filters[name].label, chosen + options))
        return result

    def facet_labels(self, name):
        """{value: label} of the facet ``name``: its field's choices, as the form shows them.

        Fixed choices (every field's but one of records) are labelled once per FilterSet
        and language, and the dict shared: naming the 250 countries took 0.5 ms a page.
        """
        field = self.form.fields[name]
        if isinstance(field, forms.ModelChoiceField):
            return {str(value): str(label) for value, label in field.choices}
        key = (type(self), name, get_language())
        if key not in _FIXED_LABELS:
            _FIXED_LABELS[key] = {str(value): str(label) for value, label in field.choices}
        return _FIXED_LABELS[key]

    def facet_counts(self):
        """{facet name: {value: count}}: what ``facet_list`` shows, computed once per
        registry version for the same records and filters, whichever page (list, map,
        network) and language asks (``core.cache.per_version``)."""

        def count():
            kept = self.kept_counts(self.unfiltered_facets())
            kept.update(self.kept_for_chosen(skip=kept))
            kept.update(self.kept_less_the_rest(skip=kept))
            shared = self.shared_counts(skip=kept)
            return {
                name: kept[name]
                if name in kept
                else shared[name]
                if name in shared
                else dict(counter(self, self.queryset_without(name).order_by()))
                for name, counter in self.facets.items()
            }

        chosen = [(name, self.chosen_values(name)) for name in self.filters if name != "sort"]
        # What a named record filter may match depends on who reads: its records too.
        records = [
            value_filter.records
            for value_filter in self.filters.values()
            if isinstance(value_filter, RecordNameFilter)
        ]
        # Asked by the count and by the facets; counted once either way.
        if self._facet_counts is None:
            self._facet_counts = per_version(
                "facets", [self.queryset, chosen, *records], count, of=self.counted_from()
            )
        return self._facet_counts

    def counted_from(self):
        """The parts of the registry (``core.versioning.PART_MODELS``) whose records alone
        decide the facet counts of what this filter keeps, when known; else none, the
        whole registry. The counts are kept under those parts' versions
        (``facet_counts``), across writes to anything else."""
        return ()

    def unfiltered_facets(self):
        """The facets whose counts no other filter narrows: each counts every record."""
        cleaned = self.form.cleaned_data if self.is_bound else {}
        return [
            name
            for name in self.facets
            if not any(value for other, value in cleaned.items() if other not in (name, "sort"))
        ]

    def kept_counts(self, names):
        """{facet name: {value: count}} for those of ``names`` whose counts the writes keep
        up to date, so that none is counted here; a FilterSet with such counts says."""
        return {}

    def kept_for_chosen(self, skip=()):
        """{facet name: {value: count}} for facets not in ``skip`` that the writes keep
        counted for what the chosen filters keep, where a FilterSet has such counts."""
        return {}

    def kept_less_the_rest(self, skip=()):
        """{facet name: {value: count}} for facets not in ``skip``, from the kept counts
        less those of the few records the chosen filters leave out, where a FilterSet can
        tell that they are few."""
        return {}

    def shared_counts(self, skip=()):
        """Counts of the facets on the record's own fields that nothing is chosen in (and
        that are not in ``skip``).

        Leaving out a filter with no value changes nothing, so all of them count the same
        records: one GROUP BY over their fields together scans the table once, not once
        per facet. Returns {facet name: {value: count}}.
        """
        cleaned = self.form.cleaned_data if self.is_bound else {}
        names = [
            name
            for name, counter in self.facets.items()
            if getattr(counter, "field_name", None) and not cleaned.get(name) and name not in skip
        ]
        if len(names) < 2:
            return {}
        fields = [self.facets[name].field_name for name in names]
        counts = {name: {} for name in names}
        rows = (
            self.queryset_without(None)
            .order_by()
            .values(*fields)
            .annotate(count=Count("*"))
            .values_list(*fields, "count")
        )
        for *values, count in rows:
            for name, value in zip(names, values, strict=True):
                counts[name][value] = counts[name].get(value, 0) + count
        return counts


# A search matching at most this many records is fetched once per request and its ids
# handed to every later query (count, page, each facet): rebuilding, compiling and running
# the search's nested subqueries once per facet cost far more than reading the ids.
MATCHED_IDS = 100_000


@dataclass
class FacetOption:
    value: str
    label: str
    count: int
    selected: bool


@dataclass
class Facet:
    name: str
    label: str
    options: list

    # Facets with many values show the largest few; the rest open on demand.
    shown = 8

    @property
    def first(self):
        return self.options[: max(self.shown, sum(option.selected for option in self.options))]

    @property
    def rest(self):
        return self.options[len(self.first) :]


def count_by(field_name):
    """A facet counter for a field of the record itself."""

    def counter(filterset, queryset):
        return (
            queryset.values(field_name).annotate(count=Count("*")).values_list(field_name, "count")
        )

    counter.field_name = field_name  # RecordFilterSet.shared_counts counts several at once
    return counter


class OrderingFilter(django_filters.OrderingFilter):
    """``?sort=name`` by the name the reader sees, in their language or else the other.

    A plain ``order_by("name")`` would sort by the reader's language's column alone, with
    every record that lacks it at one end.
    """

    def get_ordering_value(self, param):
        value = super().get_ordering_value(param)
        field = value.lstrip("-")
        if not hasattr(self.model, localized_field(field, DEFAULT_LANGUAGE)):
            return value
        return Localized(field).desc() if value.startswith("-") else Localized(field).asc()


def all_countries():
    """Every ISO country, named in the reader's language; no query to validate a choice."""
    return list(countries)


@functools.cache
def _country_codes():
    return frozenset(code for code, _name in countries)


class CountryChoiceField(django_filters.fields.MultipleChoiceField):
    """Countries chosen by their codes, each checked against the codes: a choice checked
    as Django checks one walked every country, named in the reader's language, and took
    0.5 ms a value."""

    def valid_value(self, value):
        return str(value) in _country_codes()


class CountriesFilter(AnyOfFilter):
    """Any of the countries chosen (``AnyOfFilter``), by their codes."""

    field_class = CountryChoiceField


def year_input():
    return forms.NumberInput(attrs={"min": 1000, "max": 2200, "inputmode": "numeric"})


def date_input():
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class RecordNameFilter(django_filters.CharFilter):
    """Names records by slug or by any of their names, in any spelling: a text box.

    A select listing every place or organisation grows with the registry until it is
    unusable and slow to render; a name typed the way the reader knows it scales.
    'wutshi' and 'wuxi' both name Wuxi; a name that fits several records means all of them.
    """

    def __init__(self, *args, queryset, **kwargs):
        kwargs.setdefault("widget", SearchInput(attrs={"autocomplete": "off"}))
        super().__init__(*args, **kwargs)
        self.records = queryset

    def matching(self, value):
        """The records the value names, as a queryset (no query until it is used)."""
        named = self.records.search(value).values("pk")
        return self.records.filter(Q(slug=value) | Q(pk__in=named))
