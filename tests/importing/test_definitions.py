import pytest

from organisations.resources import OrganisationResource
from partnerships.resources import PartnershipResource
from places.resources import PlaceResource

from .conftest import SPECS


@pytest.mark.parametrize(
    ("name", "resource"),
    [
        ("places", PlaceResource),
        ("organisations", OrganisationResource),
        ("partnerships", PartnershipResource),
    ],
)
def test_import_columns_are_the_export_columns(name, resource):
    # One definition: the public CSV download, the admin and the commands share it.
    assert SPECS[name].columns() == resource().get_export_headers()
    assert set(SPECS[name].required) <= set(SPECS[name].columns())
    aliases = SPECS[name].header_aliases
    assert set(aliases.values()) <= set(SPECS[name].columns())


@pytest.mark.django_db
def test_editors_may_import_and_export_viewers_may_not(editor, viewer):
    assert editor.has_perm("core.import_records") and editor.has_perm("core.export_records")
    assert not viewer.has_perm("core.import_records")
    assert not viewer.has_perm("core.export_records")
