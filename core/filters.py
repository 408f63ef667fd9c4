"""What every record FilterSet shares: the search box and the country choices."""

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_countries import countries


class SearchInput(forms.TextInput):
    input_type = "search"


class RecordFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="filter_q",
        help_text=_("Any name or spelling, with or without accents: Wuxi, Wutshi, 无锡."),
        widget=SearchInput(attrs={"id": "q", "autocomplete": "off"}),
    )

    def filter_q(self, queryset, name, value):
        # The folding search in core.text, through the model's QuerySet.
        return queryset.search(value)


def country_choices(queryset, *fields):
    """A callable giving the countries that ``queryset`` uses, named in the reader's language.

    Evaluated when the form renders, so the names follow the active language and the
    list only offers countries that will find something.
    """

    def choices():
        codes = set()
        for field in fields:
            codes.update(queryset.order_by().values_list(field, flat=True).distinct())
        return sorted(
            ((code, countries.name(code)) for code in codes if code), key=lambda pair: pair[1]
        )

    return choices


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
