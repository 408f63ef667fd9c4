"""The organisations spreadsheet: its columns, declared once."""

from django.utils.translation import gettext_lazy

from core.translation import Localized
from importing.columns import (
    Column,
    OtherNames,
    Reference,
    RemoveSources,
    Slug,
    Sources,
    in_languages,
)
from importing.types import NamedRecordType

from .models import Organisation, OrganisationName


class OrganisationType(NamedRecordType):
    model = Organisation
    noun = gettext_lazy("organisation")
    name_model = OrganisationName
    name_owner = "organisation"
    other_name_fields = ("short_name", "native_name")
    columns = [
        Slug(),
        *in_languages("name", aliases=["navn"], required=True),
        Column("short_name", aliases=["kortnavn", "kort navn", "forkortelse"]),
        Column("kind", required=True, aliases=["type", "art"]),
        Column("country", required=True, aliases=["land"]),
        Reference("place", target="places.place", aliases=["sted", "by", "hjemsted", "based in"]),
        Reference(
            "parent",
            target="organisations.organisation",
            aliases=["overordnet", "del af", "part of"],
        ),
        Column("native_name", aliases=["eget navn", "own-language name"]),
        Column("native_language", aliases=["eget sprog", "own language"]),
        Column("website", aliases=["hjemmeside", "websted"]),
        Column("wikidata_id", aliases=["wikidata"]),
        Column("ror_id", aliases=["ror"]),
        OtherNames(
            name_model=OrganisationName,
            owner_field="organisation",
            aliases=["andre navne", "other names"],
        ),
        *in_languages("description", aliases=["beskrivelse"]),
        Sources(aliases=["kilde", "kilder", "sources"]),
        RemoveSources(aliases=["fjern kilde", "fjern kilder"]),
    ]
    covered_fields = ["sources"]
    excluded_fields = {
        # A review is a person confirming the record in the admin, not a fact a file holds.
        "last_reviewed_on": "review",
    }

    @classmethod
    def export_queryset(cls, queryset):
        return queryset.order_by(Localized("name").asc(), "slug")


# The django-import-export resource, for the public CSV download.
OrganisationResource = OrganisationType.resource()
