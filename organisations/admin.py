from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import (
    CountryInUseFilter,
    FastInlineMixin,
    RecordAdmin,
    ReviewStatusFilter,
    country_name,
)
from importing.admin import SpreadsheetAdminMixin

from .models import Organisation, OrganisationName
from .resources import OrganisationType


class OrganisationNameInline(FastInlineMixin, admin.TabularInline):
    model = OrganisationName
    extra = 1
    fields = ["name", "language", "kind"]


@admin.register(Organisation)
class OrganisationAdmin(SpreadsheetAdminMixin, RecordAdmin):
    import_spec = OrganisationType
    list_display = [
        "name",
        "short_name",
        "kind",
        country_name,
        "place",
        "parent",
        "review_status",
        "updated_at",
    ]
    list_filter = ["kind", ("country", CountryInUseFilter), ReviewStatusFilter]
    list_select_related = ["place", "parent"]
    autocomplete_fields = ["place", "parent", "sources"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [OrganisationNameInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "short_name",
                    "native_name",
                    "native_language",
                    "slug",
                    ("kind", "country"),
                    "place",
                    "parent",
                    "website",
                    "description",
                ]
            },
        ),
        (_("Sources and identifiers"), {"fields": ["sources", ("wikidata_id", "ror_id")]}),
        RecordAdmin.record_fieldset,
    ]
