from django.db.models import Count
from django.views.generic import TemplateView

from organisations.models import Organisation
from partnerships.models import Partnership
from places.models import Place


class HomeView(TemplateView):
    """The front page: what the registry holds, and what changed lately.

    It lives in atlas, the one app above all three kinds of record.
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
