"""The record types the importer and exporter know, gathered where all apps are visible.

atlas sits on top of the record apps (core <- importing <- places <- organisations <-
partnerships <- atlas), so the commands look the specs up here.
"""

from organisations.resources import OrganisationImportSpec
from partnerships.resources import PartnershipImportSpec
from places.resources import PlaceImportSpec

IMPORT_SPECS = {
    "places": PlaceImportSpec,
    "organisations": OrganisationImportSpec,
    "partnerships": PartnershipImportSpec,
}
