from django.contrib import admin
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from core.admin import (
    CountryInUseFilter,
    FastInlineMixin,
    RecordAdmin,
    ReviewStatusFilter,
    country_name,
)
from core.forms import LocalizedNumbersMixin
from importing.admin import SpreadsheetAdminMixin

from .models import Place, PlaceFigure, PlaceName
from .resources import PlaceType


class PlaceNameInline(FastInlineMixin, admin.TabularInline):
    model = PlaceName
    extra = 1
    fields = ["name", "language", "kind"]


class PlaceFigureInline(FastInlineMixin, LocalizedNumbersMixin, admin.TabularInline):
    model = PlaceFigure
    extra = 1
    fields = ["kind", "value", "year", "source", "note"]
    autocomplete_fields = ["source"]


@admin.register(Place)
class PlaceAdmin(SpreadsheetAdminMixin, RecordAdmin):
    import_spec = PlaceType
    list_display = [
        "name",
        "native_name",
        "kind",
        country_name,
        "parent",
        "population",
        "review_status",
        "updated_at",
    ]
    list_filter = ["kind", ("country", CountryInUseFilter), ReviewStatusFilter]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent", "capital", "sources"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [PlaceNameInline, PlaceFigureInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "native_name",
                    "native_language",
                    "slug",
                    ("kind", "country"),
                    "parent",
                    "capital",
                    "description",
                ]
            },
        ),
        (_("Location"), {"fields": [("latitude", "longitude")]}),
        (
            _("Sources and identifiers"),
            {"fields": ["sources", ("wikidata_id", "geonames_id")]},
        ),
        RecordAdmin.record_fieldset,
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).with_current_figures()

    @admin.display(description=_("population"), ordering="current_population")
    def population(self, obj):
        if obj.current_population is None:
            return "–"
        value = number_format(obj.current_population, 0, force_grouping=True)
        return f"{value} ({obj.current_population_year})"
