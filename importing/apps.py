from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportingConfig(AppConfig):
    """The spreadsheet import and export engine that every record app declares columns for."""

    name = "importing"
    verbose_name = _("Spreadsheet import")

    def ready(self):
        # Registers the sources record type, which core cannot declare itself.
        from . import resources  # noqa: F401
