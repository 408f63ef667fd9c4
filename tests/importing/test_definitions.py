"""One declaration per record type: every editable field has a column, every column a reader."""

import pytest

from atlas.registry import IMPORT_SPECS
from importing.columns import Column
from importing.types import TYPES, RecordType
from organisations.resources import OrganisationResource
from partnerships.models import Theme
from partnerships.resources import PartnershipResource
from places.resources import PlaceResource


@pytest.mark.parametrize("name", list(IMPORT_SPECS))
def test_every_editable_field_has_a_column_and_every_column_a_reader(name):
    assert IMPORT_SPECS[name].declaration_problems() == []


def test_a_field_without_a_column_or_a_column_without_a_reader_is_found():
    class Incomplete(RecordType):
        registered = False
        model = Theme
        columns = [
            Column("name"),
            Column("slug", reader=None),
            Column("name_da"),
            Column("name_en"),
            Column("description"),
            # A translated field needs a column in every language.
            Column("description_da"),
        ]

    # A column whose field type has no reader of its own gets none.
    Incomplete.by_name["slug"].reader = None
    assert Incomplete.declaration_problems() == [
        "partnerships.theme: column 'slug' has no reader",
        "partnerships.theme: field 'description_en' has no column",
    ]
    assert TYPES["partnerships.theme"] is IMPORT_SPECS["themes"]


def test_the_registry_lists_every_type_in_the_order_they_depend_on_each_other():
    assert list(IMPORT_SPECS) == [
        "sources",
        "themes",
        "places",
        "figures",
        "organisations",
        "partnerships",
        "events",
    ]
    assert set(IMPORT_SPECS.values()) == set(TYPES.values())


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("places", PlaceResource),
        ("organisations", OrganisationResource),
        ("partnerships", PartnershipResource),
    ],
)
def test_the_export_resource_is_generated_from_the_columns(name, resource):
    # One definition: the public CSV download, the admin and the commands share it.
    assert IMPORT_SPECS[name].column_names() == resource().get_export_headers()
    exported = set(IMPORT_SPECS[name].column_names())
    for column in IMPORT_SPECS[name].columns:
        # A required text is exported in each language ('name_da', 'name_en').
        if column.required:
            assert column.name in exported or set(column.languages.values()) <= exported


@pytest.mark.django_db
def test_editors_may_import_and_export_viewers_may_not(editor, viewer):
    assert editor.has_perm("core.import_records") and editor.has_perm("core.export_records")
    assert not viewer.has_perm("core.import_records")
    assert not viewer.has_perm("core.export_records")
