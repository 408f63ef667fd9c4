"""What the site adds to the record admins (the record apps never import atlas).

Runs after the record apps registered their admins (atlas comes last in INSTALLED_APPS).
Shared by the site's staff pages: keep each one's additions in a block of its own.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place

from .merge_views import merge_two_selected
from .quality import QualityFilter

# Data quality (atlas/quality.py): the page on the dashboard, ``?quality=`` on changelists.
admin.site.add_quality_view(_("Data quality"), "admin:atlas-quality", "places.view_place")

for model in (Place, Organisation, Partnership):
    model_admin = admin.site._registry[model]
    if QualityFilter not in model_admin.list_filter:
        model_admin.list_filter = [*model_admin.list_filter, QualityFilter]

# Merges (atlas/merge_views.py): the list of merges, with their undo, on the dashboard, and
# "Merge two selected" on the changelists of the types that can be merged.
admin.site.add_quality_view(_("Merges"), "admin:atlas-merges", "places.view_place")

for model in (Place, Organisation, Partnership):
    model_admin = admin.site._registry[model]
    if merge_two_selected not in model_admin.actions:
        model_admin.actions = [*model_admin.actions, merge_two_selected]
