from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Window
from django.http import HttpResponse, HttpResponseRedirect, QueryDict
from django.template.response import TemplateResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.http import require_GET
from django.views.generic import TemplateView
from django_filters.views import FilterView

from .exports import csv_response
from .filters import Facet, FacetOption
from .pagination import EitherEndPaginator
from .search import indexed
from .text import looser_query, query_terms
from .throttling import download_refused
from .visibility import viewer


@dataclass(frozen=True)
class Chip:
    """One active filter value, with the address of the same list without it."""

    label: str
    remove_url: str


def active_chips(request, filterset, facets, skip=()):
    """Every value the reader chose, each removable on its own (page and sort stay out)."""
    labels = {
        (facet.name, option.value): option.label for facet in facets for option in facet.options
    }
    params = request.GET.copy()
    params.pop("page", None)
    chips = []
    for name, values in params.lists():
        if name == "sort" or name in skip or name not in filterset.filters:
            continue
        for value in values:
            if not value.strip():
                continue
            rest = params.copy()
            rest.setlist(name, [other for other in values if other != value])
            label = f"{filterset.filters[name].label}: {labels.get((name, value), value)}"
            chips.append(Chip(label, f"?{rest.urlencode()}"))
    return chips


# A section of a record's page shows this many cards and links to the list with the rest,
# so that a country's page costs the same with ten places in it or ten thousand.
SECTION_SIZE = 20


def first_page(queryset, size=SECTION_SIZE, rows=None):
    """The first ``size`` records and how many there are, counted in the same query
    (``COUNT(*) OVER ()``): the database reads every match to sort them anyway. A
    country's 10,000 organisations took 13.0 ms so on PostgreSQL at 100,000
    partnerships, against 19.7 for the page and a COUNT after it; on SQLite 13.7
    against 14.1.

    With ``rows`` (a queryset of the same model, with what the page shows joined in), the
    ids of the first page are read first, in ``queryset``'s order, and then their rows
    from ``rows`` by id. For a section of thousands, such as a country's organisations,
    the databases then sort ids, not whole rows with their joins: at 100,000 partnerships
    the first twenty of a country's 10,000 organisations took 10.6 ms instead of 25.5 on
    PostgreSQL, and 9.9 instead of 14.6 on SQLite.
    """
    if queryset.query.distinct:
        # The window counts the rows before DISTINCT drops the repeats.
        raise ValueError("first_page() cannot count a DISTINCT queryset in its window.")
    counted = queryset.annotate(section_total=Window(Count("pk")))
    if rows is None:
        page = list(counted[:size])
        return page, page[0].section_total if page else 0
    read = list(counted.values_list("pk", "section_total")[:size])
    found = rows.in_bulk([pk for pk, _total in read])
    # Less any deleted meanwhile.
    return [found[pk] for pk, _total in read if pk in found], read[0][1] if read else 0


class RecordListView(FilterView):
    """A public list: a FilterSet narrows it, facets count it, ``?sort=`` orders it."""

    paginate_by = 20
    # Any page of 100,000 partnerships from the nearer end, by ids read from an index.
    paginator_class = EitherEndPaginator
    template_name_suffix = "_list"
    # The CSV download of the same list, a URL name such as 'places:place-export'.
    export_url_name = None

    def records(self):
        """The model's records with what the page shows of them, for anyone."""
        raise NotImplementedError

    def get_queryset(self):
        # The one gate for lists, their facets and counts, CSV downloads and search.
        return self.records().visible_to(viewer(self.request))

    def paginate_queryset(self, queryset, page_size):
        return super().paginate_queryset(self.filterset.in_pages(queryset), page_size)

    def get_paginator(self, queryset, *args, **kwargs):
        paginator = super().get_paginator(queryset, *args, **kwargs)
        # Known without a COUNT: from the counts kept or the facets (``known_count``).
        if (count := self.filterset.known_count()) is not None:
            paginator.count = count
        return paginator

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        params = self.request.GET.copy()
        params.pop("page", None)
        context["filters_active"] = any(
            value for key, value in params.lists() if key != "sort" and any(value)
        )
        context["query"] = self.request.GET.get("q", "").strip()
        facets = self.filterset.facet_list()
        context["facets"] = facets
        context["chips"] = active_chips(self.request, self.filterset, facets)
        context["as_of"] = (
            self.filterset.form.cleaned_data.get("as_of")
            if self.filterset.is_bound and self.filterset.is_valid()
            else None
        )
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
        if refused := download_refused(request):
            return refused
        self.filterset = self.get_filterset(self.get_filterset_class())
        if not self.filterset.is_bound or self.filterset.is_valid():
            # The list's records, without what their cards show: the spreadsheet reads
            # its own columns.
            queryset = self.filterset.qs.with_card_parts(False)
        else:
            queryset = self.filterset.queryset.none()
        dataset = self.resource_class().export(queryset=queryset)
        filename = f"{self.filename_prefix}-{timezone.localdate():%Y-%m-%d}.csv"
        return csv_response(dataset, filename)


def shown_count(results):
    """How many records the search page's shown sections found."""
    return sum(result["count"] for result in results if not result["hidden"])


@dataclass(frozen=True)
class SearchSection:
    """One kind of record on the search page, found through its list view's FilterSet."""

    title: str
    list_view: type
    # card(record, as_of) -> a record's card as HTML; ``as_of``, the date the faceted
    # section reads its records as of, else None.
    card: Callable
    list_url_name: str
    # The value of ``?type=`` that shows only this section.
    key: str = ""
    # Whether the section's facets (and their ``?name=value`` filters) show on the page.
    faceted: bool = False
    # cards(records, as_of) -> the cards of all of them, where the type keeps them
    # (``partnerships.cards.kept_cards``); else each card is ``card``'s.
    cards: Callable | None = None


class SearchView(TemplateView):
    """Places, organisations and partnerships matching ``?q=`` on one page.

    core knows no record apps; config/urls.py hands the view its sections, each backed
    by that app's list view, so a search finds exactly what the lists find. The faceted
    section takes its FilterSet's filters from the address, as its list does; ``?type=``
    shows only some sections.
    """

    template_name = "search.html"
    sections = ()
    per_section = 10

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        asked = query = self.request.GET.get("q", "").strip()
        shown = set(self.request.GET.getlist("type"))
        results, facets, chips, as_of = self.found(query, shown)
        if query and not shown_count(results):
            # "Jiangsu provinsen", 江苏省: a place's kind word the registry's name lacks
            # found nothing, where the name alone finds it. Said on the page.
            looser = looser_query(query)
            if looser:
                found = self.found(looser, shown)
                if shown_count(found[0]):
                    query, (results, facets, chips, as_of) = looser, found
        labels = {section.key: section.title for section in self.sections}
        type_facet = Facet(
            "type",
            _("Show"),
            [
                FacetOption(
                    result["section"].key,
                    result["section"].title,
                    result["count"],
                    result["section"].key in shown,
                )
                for result in results
            ],
        )
        for key in shown & labels.keys():
            rest = self.request.GET.copy()
            rest.setlist("type", [value for value in rest.getlist("type") if value != key])
            chips.insert(0, Chip(f"{_('Show')}: {labels[key]}", f"?{rest.urlencode()}"))
        context.update(
            query=query,
            asked=asked,
            results=results,
            total=shown_count(results),
            facets=[type_facet, *facets] if results else [],
            chips=chips,
            filters_active=bool(chips),
            as_of=as_of,
        )
        return context

    def found(self, query, shown):
        """(results, facets, chips, as_of) of each section for ``query``."""
        results, facets, chips, as_of = [], [], [], None
        if query:
            for section in self.sections:
                result = self.section_result(
                    section, query, hidden=bool(shown) and section.key not in shown
                )
                results.append(result)
                facets += result.pop("facets")
                chips += result.pop("chips")
                section_as_of = result.pop("as_of")
                as_of = as_of or section_as_of
        return results, facets, chips, as_of

    def section_result(self, section, query, hidden):
        view = section.list_view()
        view.setup(self.request)
        data = QueryDict(mutable=True)
        if section.faceted:
            data.update(self.request.GET)
            for name in ("type", "page"):
                data.pop(name, None)
        data["q"] = query
        filterset = view.filterset_class(data, queryset=view.get_queryset(), request=self.request)
        matches = filterset.qs if filterset.is_valid() else filterset.queryset.none()
        if hidden:
            records, count = [], None
        elif section.faceted:
            records = list(filterset.in_pages(matches)[: self.per_section])
            # A section not full holds every match: no need to count them again.
            count = len(records) if len(records) < self.per_section else None
        else:
            # Counted by the query that reads them, as a record's sections are. A word
            # shorter than a trigram is scanned for and may find thousands: their ids are
            # sorted, then the page's rows read ("a" finds 20,000 organisations at 100,000
            # partnerships, whose first ten took 62 ms on PostgreSQL with every row and its
            # joins sorted). Other words find few, and one query does.
            short = not all(indexed(term) for term in query_terms(query))
            records, count = first_page(matches, self.per_section, rows=matches if short else None)
        if count is None and section.faceted:
            # Its facets are counted anyway: the count may come from them.
            count = filterset.known_count()
        if count is None:
            count = matches.count()
        explain = getattr(filterset, "search_groups", None)
        facets = filterset.facet_list() if section.faceted and not hidden else []
        chips = []
        if section.faceted:
            chips = active_chips(self.request, filterset, facets, skip=("q",))
        return {
            "section": section,
            "count": count,
            "records": records,
            "hidden": hidden,
            "groups": explain(query, records) if explain and not hidden and count else [],
            "list_url": f"{reverse(section.list_url_name)}?{data.urlencode()}",
            "facets": facets,
            "chips": chips,
            "as_of": filterset.form.cleaned_data.get("as_of") if filterset.is_valid() else None,
            # A bad filter value says what is wrong instead of silently finding nothing.
            "errors": [error for errors in filterset.form.errors.values() for error in errors],
        }


class AboutView(TemplateView):
    """What the registry is; renders the base template without touching the database."""

    template_name = "about.html"


@require_GET
def robots_txt(request):
    sitemap = request.build_absolute_uri(reverse("sitemap"))
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        # Downloads repeat the lists; crawlers need the pages, not the files.
        "Disallow: /*.csv",
        f"Sitemap: {sitemap}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def favicon(request):
    """The site's icon where browsers look for it unasked: on pages that name no icon (the
    admin's, the API's in a browser), each visit asked for /favicon.ico and got a 404.

    Not a permanent redirect: browsers would keep it, and the icon's address (its content
    hash) changes with the icon."""
    return HttpResponseRedirect(static("img/favicon.svg"))


def server_error(request, template_name="500.html"):
    # The site's own error page needs the request (language, links); should rendering
    # it fail as well, Django's bare page is still better than none.
    try:
        return TemplateResponse(request, template_name, status=500).render()
    except Exception:
        return defaults.server_error(request)
