"""Each FilterSet works on copies of its class's filters and on form fields of its own,
made without django-filter's deep copies (``core.filters.FilterCopies``, ``FreshFields``)."""

import pytest
from django.http import QueryDict

from partnerships.filters import PartnershipFilter
from partnerships.models import Partnership
from tests.factories import PartnershipFactory, PlaceFactory

pytestmark = pytest.mark.django_db


def filterset(query):
    return PartnershipFilter(QueryDict(query), queryset=Partnership.objects.all())


def test_each_filterset_has_filters_of_its_own_and_the_class_keeps_its_own_untouched():
    first, second = filterset("q=aarhus"), filterset("q=wuxi&country=CN")
    for name, declared in PartnershipFilter.base_filters.items():
        assert first.filters[name] is not second.filters[name] is not declared, name
        assert first.filters[name].parent is first and second.filters[name].parent is second
        assert not hasattr(declared, "parent"), name
        assert first.filters[name].extra is not declared.extra, name


def test_a_method_filter_calls_the_method_of_its_own_filterset():
    first, second = filterset("q=aarhus"), filterset("q=wuxi")
    assert first.filters["q"].filter.method.__self__ is first
    assert second.filters["q"].filter.method.__self__ is second


def test_each_form_has_fields_of_its_own_taken_as_its_filters_made_them():
    first, second = filterset("country=CN"), filterset("country=DK")
    for name in first.filters:
        assert first.form.fields[name] is first.filters[name].field, name
        assert first.form.fields[name] is not second.form.fields[name], name
    first.form.fields["country"].widget.attrs["data-mark"] = "first"
    assert "data-mark" not in second.form.fields["country"].widget.attrs
    assert "data-mark" not in filterset("").form.fields["country"].widget.attrs


def test_filtersets_made_one_after_another_filter_each_by_its_own_values():
    aarhus, wuxi = PlaceFactory(name_en="Aarhus"), PlaceFactory(name_en="Wuxi")
    PartnershipFactory(title_en="Aarhus pact", parties=[aarhus])
    PartnershipFactory(title_en="Wuxi pact", parties=[wuxi])
    first, second = filterset("q=aarhus"), filterset(f"place={wuxi.slug}")
    assert [str(tie) for tie in second.qs] == ["Wuxi pact"]
    assert [str(tie) for tie in first.qs] == ["Aarhus pact"]
