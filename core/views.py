from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.views import defaults
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from django_filters.views import FilterView

from .exports import csv_response


class RecordListView(FilterView):
    """A public list: a FilterSet narrows it, ``?sort=`` orders it, pages keep the query."""

    paginate_by = 20
    template_name_suffix = "_list"
    # The CSV download of the same list, a URL name such as 'places:place-export'.
    export_url_name = None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        context["filters_active"] = any(
            value for key, value in params.lists() if key != "sort" and any(value)
        )
        context["query"] = self.request.GET.get("q", "").strip()
        page = context.get("page_obj")
        if page is not None:
            context["page_range"] = page.paginator.get_elided_page_range(
                page.number, on_each_side=1, on_ends=1
            )
        if self.export_url_name:
            context["export_url"] = reverse(self.export_url_name) + (
                f"?{params.urlencode()}" if params else ""
            )
        return context


class CSVExportMixin:
    """Download a list view's filtered records as CSV through a ``ModelResource``."""

    resource_class = None
    filename_prefix = "records"

    def get(self, request, *args, **kwargs):
        self.filterset = self.get_filterset(self.get_filterset_class())
        if not self.filterset.is_bound or self.filterset.is_valid():
            queryset = self.filterset.qs
        else:
            queryset = self.filterset.queryset.none()
        dataset = self.resource_class().export(queryset=queryset)
        filename = f"{self.filename_prefix}-{timezone.localdate():%Y-%m-%d}.csv"
        return csv_response(dataset, filename)


@dataclass(frozen=True)
class SearchSection:
    """One kind of record on the search page, found through its list view's FilterSet."""

    title: str
    list_view: type
    card_template: str
    list_url_name: str


class SearchView(TemplateView):
    """Places, organisations and partnerships matching ``?q=`` on one page.

    core knows no record apps; config/urls.py hands the view its sections, each backed
    by that app's list view, so a search finds exactly what the lists find.
    """

    template_name = "search.html"
    sections = ()
    per_section = 10

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "").strip()
        results = []
        if query:
            for section in self.sections:
                view = section.list_view()
                view.setup(self.request)
                filterset = view.filterset_class(
                    {"q": query}, queryset=view.get_queryset(), request=self.request
                )
                matches = filterset.qs
                results.append(
                    {
                        "section": section,
                        "count": matches.count(),
                        "records": list(matches[: self.per_section]),
                        "list_url": f"{reverse(section.list_url_name)}?{urlencode({'q': query})}",
                    }
                )
        context["query"] = query
        context["results"] = results
        context["total"] = sum(result["count"] for result in results)
        return context


class AboutView(TemplateView):
    """What the registry is; renders the base template without touching the database."""

    template_name = "about.html"


@require_GET
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Disallow: /i18n/",
        # Downloads repeat the lists; crawlers need the pages, not the files.
        "Disallow: /*.csv",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def server_error(request, template_name="500.html"):
    # The site's own error page needs the request (language, links); should rendering
    # it fail as well, Django's bare page is still better than none.
    try:
        return TemplateResponse(request, template_name, status=500).render()
    except Exception:
        return defaults.server_error(request)
