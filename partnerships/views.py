from django.db.models import Count, Prefetch
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, TemplateView

from core.views import CSVExportMixin, RecordListView
from organisations.models import Organisation
from places.models import Place

from .filters import PartnershipFilter
from .models import Event, Participant, Partnership
from .resources import PartnershipResource


def participants_with_parties():
    return Prefetch(
        "participants",
        queryset=Participant.objects.select_related("place", "organisation__place"),
    )


class PartnershipListView(RecordListView):
    search_label = _("Search partnerships or their participants")
    filterset_class = PartnershipFilter
    export_url_name = "partnerships:partnership-export"

    def get_queryset(self):
        return Partnership.objects.prefetch_related(participants_with_parties(), "themes")


class PartnershipExportView(CSVExportMixin, PartnershipListView):
    resource_class = PartnershipResource
    filename_prefix = "partnerships"


class PartnershipDetailView(DetailView):
    def get_queryset(self):
        return Partnership.objects.prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("place__parent", "organisation__place"),
            ),
            "themes",
            "sources",
            Prefetch("events", queryset=Event.objects.select_related("place", "source")),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        # Events cite sources too; the page lists each source once.
        sources = list(self.object.sources.all())
        for event in self.object.events.all():
            if event.source and event.source not in sources:
                sources.append(event.source)
        context["sources"] = sources
        return context


class HomeView(TemplateView):
    """The front page: what the registry holds, and what changed lately.

    It lives here because partnerships is the one app that may know all three kinds
    of record.
    """

    template_name = "home.html"
    recent_count = 6

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        recent = [
            *Place.objects.order_by("-updated_at")[: self.recent_count],
            *Organisation.objects.order_by("-updated_at")[: self.recent_count],
            *Partnership.objects.order_by("-updated_at")[: self.recent_count],
        ]
        recent.sort(key=lambda record: record.updated_at, reverse=True)
        context.update(
            counts={
                "places": Place.objects.count(),
                "organisations": Organisation.objects.count(),
                "partnerships": Partnership.objects.count(),
            },
            recent=recent[: self.recent_count],
            by_kind=self.partnerships_by_kind_and_status(),
            statuses=Partnership.Status.choices,
        )
        return context

    def partnerships_by_kind_and_status(self):
        counts = {
            (row["kind"], row["status"]): row["count"]
            for row in Partnership.objects.order_by()
            .values("kind", "status")
            .annotate(count=Count("pk"))
        }
        rows = []
        for kind, label in Partnership.Kind.choices:
            cells = [
                (status, counts.get((kind, status), 0)) for status in Partnership.Status.values
            ]
            total = sum(count for _status, count in cells)
            if total:
                rows.append({"kind": kind, "label": label, "cells": cells, "total": total})
        return rows
