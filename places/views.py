from urllib.parse import urlencode

from django.db.models import Prefetch
from django.http import Http404
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from core.cache import per_version
from core.detail import RecordDetailView
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


class PlaceDetailView(RecordDetailView):
    """A place with its figures and the first page of the places in it.

    The organisations and partnerships sections come from template tags of those apps
    (``{% place_organisations %}``, ``{% place_partnerships %}``), because places sits
    below them and never imports them. The view computes the ids of the place and its
    sub-places once and hands them on.

    What the page shows of the place itself depends on the places alone, and is kept
    under the places version (``parts``): a write to a partnership or an organisation
    leaves it, and the page then reads only its organisations and partnerships.
    """

    def records(self):
        return Place.objects.select_related(ANCESTORS, "capital").prefetch_related(
            "other_names",
            "sources",
            Prefetch(
                "figures",
                queryset=PlaceFigure.objects.select_related("source").order_by(
                    "kind", "-year", "-pk"
                ),
            ),
        )

    def get_object(self, queryset=None):
        place = self.parts()["place"]
        if place is None:
            raise Http404
        return place

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update({name: value for name, value in self.parts().items() if name != "place"})
        return context

    def parts(self):
        """The place (None if the reader may not see it) and the context of its own parts,
        read once per places version, reader's view and language (``read_parts``)."""
        if not hasattr(self, "_parts"):
            queryset = self.get_queryset()
            slug = self.kwargs[self.slug_url_kwarg]
            self._parts = per_version(
                "place-page",
                [queryset, slug, get_language()],
                lambda: self.read_parts(queryset, slug),
                places=True,
            )
        return self._parts

    def read_parts(self, queryset, slug):
        place = next(iter(queryset.filter(slug=slug)), None)
        if place is None:
            return {"place": None}
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
            "place": place,
            "children": children,
            "children_count": children_count,
            "children_url": f"{reverse('places:place-list')}?{urlencode({'parent': place.slug})}",
            "ancestors": list(reversed(place.ancestors())),
            "place_ids": [place.pk, *place.descendant_ids()],
            "figure_groups": list(by_kind.values()),
            "older_figures": [figure for figures in by_kind.values() for figure in figures[1:]],
            "sources": sources,
        }
