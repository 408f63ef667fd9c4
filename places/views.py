from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from core.detail import RecordDetailView
from core.models import ListedById
from core.translation import Localized
from core.views import CSVExportMixin, RecordListView, first_page
from core.visibility import viewer

from .filters import PlaceFilter
from .models import Place, PlaceFigure
from .resources import PlaceResource

# Deep enough for district < city < province < country; higher ancestors cost a query.
ANCESTORS = "parent__parent__parent__parent"


class PlaceListView(RecordListView):
    search_label = _("Search places")
    filterset_class = PlaceFilter
    export_url_name = "places:place-export"

    def records(self):
        return Place.objects.select_related("parent").with_card_parts()


class PlaceExportView(CSVExportMixin, PlaceListView):
    resource_class = PlaceResource
    filename_prefix = "places"


# A place's figures, newest first within each kind, each with its source.
FIGURES = ListedById(
    Place,
    "figures",
    lambda: PlaceFigure.objects.select_related("source").order_by("kind", "-year", "-pk"),
)


class PlaceDetailView(RecordDetailView):
    """A place with its figures and the first page of the places in it.

    The organisations and partnerships sections come from template tags of those apps
    (``{% place_organisations %}``, ``{% place_partnerships %}``), because places sits
    below them and never imports them. The view computes the ids of the place and its
    sub-places once and hands them on.

    What the page shows of the place itself depends on the places alone, and is kept
    under the places version (``kept_under``): a write to a partnership or an
    organisation leaves it, and the page then reads only its organisations and
    partnerships.
    """

    kept_under = ("places",)
    own_templates = {"head": "places/_place_head.html", "foot": "places/_place_foot.html"}
    page_context = ("place_ids",)

    def records(self):
        return Place.objects.select_related(ANCESTORS, "capital").with_listed(
            "other_names", "sources", FIGURES, into_managers=True
        )

    def own_context(self, place):
        by_kind = {}
        for figure in place.figures.all():  # newest first within each kind
            by_kind.setdefault(figure.kind, []).append(figure)
        sources = list(place.sources.all())
        for figure in place.figures.all():
            if figure.source not in sources:
                sources.append(figure.source)
        children, children_count = first_page(
            Place.objects.visible_to(viewer(self.request))
            .filter(parent=place)
            .select_related("parent")
            .with_card_parts()
            .order_by(Localized("name").asc(), "pk")
        )
        return {
            "children": children,
            "children_count": children_count,
            "children_url": f"{reverse('places:place-list')}?{urlencode({'parent': place.slug})}",
            "ancestors": list(reversed(place.ancestors())),
            "place_ids": [place.pk, *place.descendant_ids()],
            "figure_groups": list(by_kind.values()),
            "older_figures": [figure for figures in by_kind.values() for figure in figures[1:]],
            "sources": sources,
        }
