from django.conf import settings
from django.db.models import Count
from django.http import HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from core.cache import per_version
from core.throttling import download_throttled
from core.translation import content_language
from core.views import active_chips
from core.visibility import viewer
from organisations.models import Organisation
from partnerships import facets
from partnerships.models import Partnership
from places.models import Place

from . import explore


class HomeView(TemplateView):
    """The front page: what the registry holds, and what changed lately.

    It lives in atlas, the one app above all three kinds of record.
    """

    template_name = "home.html"
    recent_count = 6

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        places, organisations, partnerships = (
            model.objects.visible_to(viewer(self.request))
            for model in (Place, Organisation, Partnership)
        )
        recent = [
            *places.order_by("-updated_at")[: self.recent_count],
            *organisations.order_by("-updated_at")[: self.recent_count],
            *partnerships.order_by("-updated_at")[: self.recent_count],
        ]
        recent.sort(key=lambda record: record.updated_at, reverse=True)
        # Counted once per registry version, whichever language asks first.
        records = [places, organisations, partnerships]
        counts, by_kind = per_version("home", records, lambda: self.count(*records))
        context.update(
            counts=counts,
            recent=recent[: self.recent_count],
            by_kind=self.partnerships_by_kind_and_status(by_kind),
            statuses=Partnership.Status.choices,
        )
        return context

    @staticmethod
    def count(places, organisations, partnerships):
        """The number of each type, and of partnerships by (kind, status)."""
        # Partnerships by kind and status are counted as they are written, for everyone
        # and for the public (partnerships.facets); any other set is counted here.
        scope = facets.scope_of(partnerships)
        if scope is not None:
            kept = facets.counts(scope, ["kind_status"], using=partnerships.db)["kind_status"]
            by_kind = {tuple(value.split("|", 1)): count for value, count in kept.items()}
        else:
            by_kind = {
                (row["kind"], row["status"]): row["count"]
                for row in partnerships.order_by()
                .values("kind", "status")
                .annotate(count=Count("*"))
            }
        counts = {
            "places": places.count(),
            "organisations": organisations.count(),
            "partnerships": sum(by_kind.values()),
        }
        return counts, by_kind

    def partnerships_by_kind_and_status(self, counts):
        rows = []
        for kind, label in Partnership.Kind.choices:
            cells = [
                (status, counts.get((kind, status), 0)) for status in Partnership.Status.values
            ]
            total = sum(count for _status, count in cells)
            if total:
                rows.append({"kind": kind, "label": label, "cells": cells, "total": total})
        return rows


class ExploreView(TemplateView):
    """A page on the partnership list's filters, which keeps working without JavaScript."""

    search_label = _("Search partnerships or their participants")

    def get_filterset(self):
        filterset = explore.filter_partnerships(self.request.GET or None, request=self.request)
        valid = filterset.is_bound and filterset.is_valid()
        self.partnerships = (
            filterset.qs if valid or not filterset.is_bound else Partnership.objects.none()
        )
        # What narrowed the partnerships, when something did.
        self.valid_filters = filterset if valid else None
        return filterset

    def query_string(self, **extra):
        params = self.request.GET.copy()
        # The network table's page: the graph, the downloads and the map are of them all.
        params.pop("page", None)
        for key, value in extra.items():
            params[key] = value
        return f"?{params.urlencode()}" if params else ""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        filterset = self.get_filterset()
        facets = filterset.facet_list()
        context.update(
            filter=filterset,
            facets=facets,
            chips=active_chips(self.request, filterset, facets),
            filters_active=any(
                any(values)
                for key, values in self.request.GET.lists()
                if key not in {"steps", "page"}
            ),
            search_label=self.search_label,
        )
        return context


class MapView(ExploreView):
    template_name = "atlas/map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # The page lists the places and lines with the most partnerships; the rest are on
        # the map and in the downloads.
        drawing = explore.map_drawing(
            self.partnerships, user=viewer(self.request), filters=self.valid_filters
        )
        context.update(
            meta=drawing["meta"],
            max_points=explore.MAX_POINTS,
            places=drawing["places"],
            lines=drawing["lines"],
            data_url=reverse("api:map-list") + self.query_string(lang=content_language()),
            tile_url=settings.ATLAS_MAP_TILE_URL,
            tile_attribution=settings.ATLAS_MAP_TILE_ATTRIBUTION,
            network_url=reverse("atlas:network") + self.query_string(),
        )
        return context


class NetworkView(ExploreView):
    """The registry's network, or the network around one record (``/network/place/wuxi/``)."""

    template_name = "atlas/network.html"

    def get(self, request, *args, **kwargs):
        self.around = None
        if "slug" in kwargs:
            model = AROUND_MODELS[kwargs["kind"]]
            self.around = get_object_or_404(
                model.objects.visible_to(viewer(request)), slug=kwargs["slug"]
            )
        return super().get(request, *args, **kwargs)

    def steps(self):
        value = self.request.GET.get("steps", "1")
        valid = value in {str(n) for n in range(1, explore.MAX_STEPS + 1)}
        return (int(value) if valid else 1), valid

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        steps, steps_valid = self.steps()
        table = explore.network_table(
            self.partnerships,
            self.around,
            steps,
            limit=explore.NETWORK_LIMIT,
            page=self.request.GET.get("page"),
            user=viewer(self.request),
        )
        api_params = {"steps": str(steps)}
        if self.around is not None:
            api_params["around"] = table.around
        context.update(
            around=self.around,
            network=table,
            page_obj=table.page,
            page_range=table.page.paginator.get_elided_page_range(
                table.page.number, on_each_side=1, on_ends=1
            ),
            rows=table.rows,
            steps=steps,
            steps_valid=steps_valid,
            max_steps=explore.MAX_STEPS,
            more_url=self.query_string(steps=str(steps + 1))
            if self.around is not None and steps < explore.MAX_STEPS
            else "",
            data_url=reverse("api:network-list")
            + self.query_string(**api_params, lang=content_language()),
            downloads=[
                (label, reverse(f"atlas:network-{name}") + self.query_string(**api_params))
                for name, label in DOWNLOADS
            ],
        )
        return context


AROUND_MODELS = {"place": Place, "organisation": Organisation, "partnership": Partnership}
DOWNLOADS = [
    ("gexf", _("GEXF (Gephi)")),
    ("graphml", _("GraphML")),
    ("nodes", _("Nodes (CSV)")),
    ("edges", _("Edges (CSV)")),
]
# (writer, content type, extension, streamed). The XML is sent as it is written, a piece at
# a time: the GEXF of 100,000 partnerships is 187 MB. Streamed, it is not kept in the page
# cache; the CSVs (50 MB at 100,000) are.
DOWNLOAD_FORMATS = {
    "gexf": (explore.gexf, "application/gexf+xml; charset=utf-8", "gexf", True),
    "graphml": (explore.graphml, "application/graphml+xml; charset=utf-8", "graphml", True),
    "nodes": (explore.nodes_csv, "text/csv; charset=utf-8", "csv", False),
    "edges": (explore.edges_csv, "text/csv; charset=utf-8", "csv", False),
}


@download_throttled
def network_download(request, fmt):
    """The whole filtered network, with no limit, in a file researchers' tools open."""
    filterset = explore.filter_partnerships(request.GET or None, request=request)
    if filterset.is_bound and not filterset.is_valid():
        return HttpResponseBadRequest(
            "\n".join(f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()),
            content_type="text/plain; charset=utf-8",
        )
    around = None
    if request.GET.get("around"):
        around = explore.find_around(request.GET["around"], viewer(request))
        if around is None:
            return HttpResponseBadRequest(
                _("No such record: write place:SLUG, organisation:SLUG or partnership:SLUG."),
                content_type="text/plain; charset=utf-8",
            )
    steps = request.GET.get("steps", "1")
    if steps not in {str(n) for n in range(1, explore.MAX_STEPS + 1)}:
        return HttpResponseBadRequest(
            _("steps must be a whole number from 1 to %(max)d.") % {"max": explore.MAX_STEPS},
            content_type="text/plain; charset=utf-8",
        )
    graph = explore.network(filterset.qs, around, int(steps), user=viewer(request))
    write, content_type, extension, streamed = DOWNLOAD_FORMATS[fmt]
    kind = StreamingHttpResponse if streamed else HttpResponse
    response = kind(write(graph), content_type=content_type)
    name = "edges" if fmt == "edges" else "nodes" if fmt == "nodes" else "network"
    filename = f"partnership-{name}-{timezone.localdate():%Y-%m-%d}.{extension}"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
