"""The record types the importer and exporter know, gathered where all apps are visible.

partnerships sits at the top of the dependency chain (core <- places <- organisations <-
partnerships), so the commands and the admin look the specs up here.
"""

from organisations.resources import OrganisationImportSpec
from places.resources import PlaceImportSpec

from .resources import PartnershipImportSpec

IMPORT_SPECS = {
    "places": PlaceImportSpec,
    "organisations": OrganisationImportSpec,
    "partnerships": PartnershipImportSpec,
}
