from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from core.admin import (
    CountryInUseFilter,
    FastInlineMixin,
    PublishableRecordAdmin,
    RecordAdmin,
    ReviewStatusFilter,
    country_name,
    side_by_side,
    translated_column,
)
from importing.admin import SpreadsheetAdminMixin

from .models import Organisation, OrganisationName
from .resources import OrganisationType


class OrganisationNameInline(FastInlineMixin, admin.TabularInline):
    model = OrganisationName
    add_another_text = _("Add another name")
    extra = 1
    fields = ["name", "language", "kind"]


@admin.register(Organisation)
class OrganisationAdmin(SpreadsheetAdminMixin, PublishableRecordAdmin):
    import_spec = OrganisationType
    list_display = [
        translated_column("name", _("name")),
        "kind",
        country_name,
        "place",
        "review_status",
    ]
    list_filter = ["kind", ("country", CountryInUseFilter), ReviewStatusFilter]
    list_select_related = ["place", "parent"]
    autocomplete_fields = ["place", "parent", "sources"]
    # The web address comes from the English name, as Record.derive() makes it.
    prepopulated_fields = {"slug": ["name_en"]}
    inlines = [OrganisationNameInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    side_by_side("name"),
                    "short_name",
                    ("native_name", "native_language"),
                    "slug",
                    ("kind", "country"),
                    ("place", "parent"),
                    "website",
                    side_by_side("description"),
                ]
            },
        ),
        (_("Sources and identifiers"), {"fields": ["sources", ("wikidata_id", "ror_id")]}),
        RecordAdmin.record_fieldset,
    ]
