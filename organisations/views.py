from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.detail import RecordDetailView
from core.translation import Localized
from core.views import CSVExportMixin, RecordListView, first_page
from core.visibility import viewer
from places.views import ANCESTORS

from .filters import OrganisationFilter
from .models import Organisation
from .resources import OrganisationResource


class OrganisationListView(RecordListView):
    search_label = _("Search organisations")
    filterset_class = OrganisationFilter
    export_url_name = "organisations:organisation-export"

    def records(self):
        # A card names the place an organisation is based in, not what it belongs to, and
        # the spreadsheet reads its own lookups: joined to its parent as well, the list
        # took 6-9% longer at 10,000 partnerships.
        return Organisation.objects.select_related("place")


class OrganisationExportView(CSVExportMixin, OrganisationListView):
    resource_class = OrganisationResource
    filename_prefix = "organisations"


class OrganisationDetailView(RecordDetailView):
    """An organisation; its partnerships come from ``{% organisation_partnerships %}``.

    What the page shows of the organisation itself (where it is based, what it belongs
    to, its parts, names and sources) depends on the organisations and places alone, and
    is kept under their versions (``kept_under``): a write to a partnership leaves it.
    """

    kept_under = ("places", "organisations")
    own_templates = {
        "head": "organisations/_organisation_head.html",
        "foot": "organisations/_organisation_foot.html",
    }

    def records(self):
        return Organisation.objects.select_related(
            f"place__{ANCESTORS}", "parent__parent"
        ).with_listed("other_names", "sources", into_managers=True)

    def own_context(self, organisation):
        children, children_count = first_page(
            organisation.children.visible_to(viewer(self.request)).order_by(
                Localized("name").asc(), "pk"
            )
        )
        query = urlencode({"parent": organisation.slug})
        return {
            "place_chain": (
                [organisation.place, *organisation.place.ancestors()] if organisation.place else []
            ),
            "children": children,
            "children_count": children_count,
            "children_url": f"{reverse('organisations:organisation-list')}?{query}",
        }
