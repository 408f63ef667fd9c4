from django.contrib import admin
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _
from modeltranslation.admin import TranslationTabularInline

from core.admin import (
    CountryInUseFilter,
    FastInlineMixin,
    PublishableRecordAdmin,
    RecordAdmin,
    ReviewStatusFilter,
    TranslatedFieldsMixin,
    country_name,
    side_by_side,
    translated_column,
)
from core.forms import LocalizedNumbersMixin
from importing.admin import SpreadsheetAdminMixin

from .models import Place, PlaceFigure, PlaceName
from .resources import PlaceType


class PlaceNameInline(FastInlineMixin, admin.TabularInline):
    model = PlaceName
    add_another_text = _("Add another name")
    extra = 1
    fields = ["name", "language", "kind"]


class PlaceFigureInline(
    TranslatedFieldsMixin, FastInlineMixin, LocalizedNumbersMixin, TranslationTabularInline
):
    model = PlaceFigure
    add_another_text = _("Add another figure")
    extra = 1
    fields = ["kind", "value", "year", "source", *side_by_side("note")]
    autocomplete_fields = ["source"]


@admin.register(Place)
class PlaceAdmin(SpreadsheetAdminMixin, PublishableRecordAdmin):
    import_spec = PlaceType
    list_display = [
        translated_column("name", _("name")),
        "native_name",
        "kind",
        country_name,
        "parent",
        "population",
        "review_status",
    ]
    list_filter = ["kind", ("country", CountryInUseFilter), ReviewStatusFilter]
    list_select_related = ["parent"]
    autocomplete_fields = ["parent", "capital", "sources"]
    # The web address comes from the English name, as Record.derive() makes it.
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [PlaceNameInline, PlaceFigureInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    side_by_side("name"),
                    ("native_name", "native_language"),
                    "slug",
                    ("kind", "country"),
                    ("parent", "capital"),
                    side_by_side("description"),
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
