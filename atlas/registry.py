"""The record types the importer and exporter know, gathered where all apps are visible.

atlas sits on top of the record apps (core <- importing <- places <- organisations <-
partnerships <- atlas). The order is the order of dependence: importing every type's
export in this order into an empty registry gives the registry back.
"""

from importing.resources import SourceType
from organisations.resources import OrganisationType
from partnerships.resources import EventType, PartnershipType, ThemeType
from places.resources import FigureType, PlaceType

IMPORT_SPECS = {
    "sources": SourceType,
    "themes": ThemeType,
    "places": PlaceType,
    "figures": FigureType,
    "organisations": OrganisationType,
    "partnerships": PartnershipType,
    "events": EventType,
}
