"""What every record FilterSet shares: the search box, countries and facets."""

from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .text import validate_search_query


class SearchInput(forms.TextInput):
    input_type = "search"


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

    def filter_q(self, queryset, name, value):
        # The folding search in core.text, through the model's QuerySet.
        return queryset.search(value)

    def queryset_without(self, name):
        """The records every filter but ``name`` (and the sort) lets through.

        Uses the already validated values, so it costs no query of its own: a facet's
        counts say what choosing one more of its values would add, the usual faceting rule.
        """
        queryset = self.queryset.all()
        if not self.is_bound:
            return queryset
        for other, value in self.form.cleaned_data.items():
            if other not in (name, "sort"):
                queryset = self.filters[other].filter(queryset, value)
        return queryset

    def facet_list(self):
        """The facets with their counts, one query each; none while the form is invalid."""
        if self.is_bound and not self.is_valid():
            return []
        result = []
        for name, counter in self.facets.items():
            selected = [str(value) for value in self.data.getlist(name)] if self.is_bound else []
            counts = dict(counter(self, self.queryset_without(name).order_by()))
            labels = {str(value): str(label) for value, label in self.form.fields[name].choices}
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
            queryset.values(field_name).annotate(count=Count("pk")).values_list(field_name, "count")
        )

    return counter


def all_countries():
    """Every ISO country, named in the reader's language; no query to validate a choice."""
    return list(countries)


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
