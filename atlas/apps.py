from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AtlasConfig(AppConfig):
    """The site on top of the record apps: home page, registry of record types, commands."""

    name = "atlas"
    verbose_name = _("Partnership Atlas")
