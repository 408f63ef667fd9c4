from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.widgets import ForeignKeyWidget

from core.exports import ExportResource, join, sources_column
from importing.engine import NamedRecordSpec, NameIndex
from places.models import Place, PlaceName

from .models import Organisation, OrganisationName


class OrganisationResource(ExportResource):
    """The columns of the organisations spreadsheet; references by name, lists by '; '."""

    place = Field(attribute="place", column_name="place", widget=ForeignKeyWidget(Place, "name"))
    parent = Field(
        attribute="parent", column_name="parent", widget=ForeignKeyWidget(Organisation, "name")
    )
    aliases = Field(column_name="aliases", readonly=True)
    source = sources_column()

    class Meta:
        model = Organisation
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "name",
            "short_name",
            "kind",
            "country",
            "place",
            "parent",
            "website",
            "aliases",
            "description",
            "source",
        ]
        export_order = fields

    def export_queryset(self, queryset):
        return queryset.select_related("place", "parent").prefetch_related("other_names", "sources")

    def dehydrate_aliases(self, organisation):
        return join(other.name for other in organisation.other_names.all())


class OrganisationImportSpec(NamedRecordSpec):
    """Reads the organisations spreadsheet; see IMPORTING.md for the columns."""

    model = Organisation
    resource_class = OrganisationResource
    noun = gettext_lazy("organisation")
    alias_model = OrganisationName
    alias_field = "organisation"
    slug_fallback = "organisation"
    plain_fields = ("name", "short_name", "kind", "country", "website", "description")
    reference_fields = {
        "parent": ("parent", "own_index"),
        "place": ("place", "place_index"),
    }
    header_aliases = {
        "navn": "name",
        "kortnavn": "short_name",
        "kort navn": "short_name",
        "forkortelse": "short_name",
        "type": "kind",
        "art": "kind",
        "land": "country",
        "sted": "place",
        "by": "place",
        "hjemsted": "place",
        "overordnet": "parent",
        "del af": "parent",
        "part of": "parent",
        "hjemmeside": "website",
        "websted": "website",
        "andre navne": "aliases",
        "beskrivelse": "description",
        "kilde": "source",
        "kilder": "source",
        "sources": "source",
    }

    def parsers(self):
        return {**super().parsers(), "short_name": None, "place": None, "website": None}

    def load(self):
        super().load()
        self.place_index = NameIndex(_("place"))
        self.place_slugs = {}
        place_aliases = defaultdict(list)
        for place, name in PlaceName.objects.values_list("place_id", "name"):
            place_aliases[place].append(name)
        for pk, name, native, slug in Place.objects.values_list(
            "pk", "name", "native_name", "slug"
        ):
            self.place_index.add(pk, name, [native, *place_aliases[pk]], slug)
            self.place_slugs[pk] = slug

    def other_names(self, record):
        return [record.short_name, record.native_name, *self.aliases.get(record.pk, [])]

    def row_other_names(self, row):
        values = row.values
        native = self.records[row.existing.pk].native_name if row.existing else ""
        return [values.get("short_name") or "", native, *(values.get("aliases") or [])]

    def base_names(self, record):
        return [record.name, record.short_name, record.native_name]

    def validated_fields(self):
        return {*super().validated_fields(), "short_name", "website"}

    def slug_of(self, index_name, pk):
        if index_name == "place_index":
            return self.place_slugs.get(pk, "")
        return super().slug_of(index_name, pk)
