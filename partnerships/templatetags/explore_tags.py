"""A partnership's status with its "as of", and the chart of partnerships started per year."""

import functools
import html

from django import template
from django.db.models import BooleanField, Case, CharField, Count, Value, When
from django.db.models.functions import Cast, Substr
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext, gettext_lazy, pgettext_lazy

from core.cache import per_version
from core.dates import DAY
from core.labels import choice_label
from core.numbers import grouped

from .. import facets
from ..as_of import (
    ACTIVE,
    ENDED,
    PLANNED,
    POSSIBLY_ACTIVE,
    UNCONFIRMED,
    current_state,
    state_as_of,
)
from ..models import Partnership

register = template.Library()


# Written here rather than by an included template: a list shows one per card, and an
# inclusion tag's template and context cost more than the rest of the card. Called by
# their name: ``makemessages`` finds ``gettext_lazy`` and ``_``, not another alias (under
# one, these went untranslated, and the Danish list read "Active in 2015").
STATE_THEN = {
    ACTIVE: gettext_lazy("Active in %(date)s"),
    POSSIBLY_ACTIVE: gettext_lazy("Possibly active in %(date)s"),
    ENDED: gettext_lazy("Ended by %(date)s"),
    PLANNED: gettext_lazy("Planned in %(date)s"),
    UNCONFIRMED: gettext_lazy("Unconfirmed in %(date)s"),
}
# A day is "on" it: "Active on 3 May 2011", "Aktiv den 3. maj 2011".
STATE_ON_DAY = {
    ACTIVE: gettext_lazy("Active on %(date)s"),
    POSSIBLY_ACTIVE: gettext_lazy("Possibly active on %(date)s"),
    # The same English, another Danish: "Afsluttet senest den 3. maj 2011".
    ENDED: pgettext_lazy("as of a day", "Ended by %(date)s"),
    PLANNED: gettext_lazy("Planned on %(date)s"),
    UNCONFIRMED: gettext_lazy("Unconfirmed on %(date)s"),
}


@register.simple_tag
def partnership_status(partnership, as_of=None):
    """'Active (as of 2012, per source)', 'Unconfirmed', or 'Possibly active in 1985'."""
    if as_of:
        state = state_as_of(partnership, as_of)
        wording = STATE_ON_DAY if as_of.precision == DAY and not as_of.circa else STATE_THEN
        text, note = wording[state] % {"date": as_of.display()}, ""
    else:
        state = current_state(partnership, timezone.localdate())
        status = choice_label(partnership, "status")
        text = gettext("Unconfirmed") if state == UNCONFIRMED else capfirst(status)
        note = ""
        if confirmed := partnership.status_as_of:
            note = (
                gettext("(%(status)s as of %(date)s, per source)")
                if state == UNCONFIRMED
                else gettext("(as of %(date)s, per source)")
            ) % {"status": status, "date": confirmed.display()}
    # Written with the standard library's escape, which Django's wraps, as the cards are
    # (core.cards): format_html's checks for lazy text took 3.5 µs of each card.
    status_class, text = html.escape(state_class(state)), html.escape(str(text))
    found = f'<span class="status status-{status_class}">{text}</span>'
    if note:
        found += f' <span class="status-as-of">{html.escape(note)}</span>'
    return mark_safe(found)


STATE_CLASSES = {
    ACTIVE: "active",
    POSSIBLY_ACTIVE: "possibly",
    ENDED: "ended",
    PLANNED: "planned",
    UNCONFIRMED: "unconfirmed",
}


@register.filter
def state_class(state):
    return STATE_CLASSES.get(state, state)


# Colours for the kinds of partnership in the chart, told apart also by the legend's order.
PALETTE = [
    "#1f5f8b",
    "#c8553d",
    "#2a9d8f",
    "#8a5a9e",
    "#e9a23b",
    "#5b7d2b",
    "#b03a63",
    "#4f6d7a",
    "#9c6644",
    "#6c757d",
]
WIDTH, HEIGHT = 640, 220
PLOT_LEFT, PLOT_BOTTOM, PLOT_TOP = 36, 190, 12
MIN_YEARS = 10
MAX_BAR = 28


def started_per_year(queryset):
    """Partnerships per year of start and kind, one GROUP BY; decade-only starts apart."""
    # No WHERE on start_on: through its index, reading each row's kind and start costs
    # far more than the one pass over the table; the rows without a start are skipped below.
    rows = (
        queryset.order_by()
        .annotate(
            decade_only=Case(
                When(start__endswith="s", then=Value(True)),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        # The year from the date's text: SQLite's EXTRACT is a Python function per row.
        .annotate(year=Substr(Cast("start_on", CharField()), 1, 4))
        .values("year", "kind", "decade_only")
        .annotate(count=Count("*"))
    )
    per_year, decade_only = {}, 0
    for row in rows:
        if row["year"] is None:
            continue
        if row["decade_only"]:
            decade_only += row["count"]
            continue
        year = per_year.setdefault(int(row["year"]), {})
        year[row["kind"]] = year.get(row["kind"], 0) + row["count"]
    return per_year, decade_only


def _counted_starts(filterset):
    return None if filterset is None else filterset.counted_starts()


def started_less(filterset):
    """The kept starts less those of the few partnerships that one filter leaves out
    (``PartnershipFilter.left_out``): at 100,000 partnerships, ``?country=DK`` or
    ``?q=china`` no longer reads nearly every partnership for its chart."""
    queryset = filterset.queryset
    per_year, decade_only = facets.started(facets.scope_of(queryset), using=queryset.db)
    less, less_decade_only = started_per_year(filterset.the_rest())
    for year, kinds in less.items():
        for kind, count in kinds.items():
            per_year[year][kind] -= count
            if not per_year[year][kind]:
                del per_year[year][kind]
        if not per_year[year]:
            del per_year[year]
    return per_year, decade_only - less_decade_only


def chart(per_year, decade_only):
    if not per_year:
        return {"years": [], "decade_only": decade_only}
    # At least a decade wide, so that one busy year does not fill the whole chart.
    last = max(per_year)
    first = min(min(per_year), last - MIN_YEARS + 1)
    years = list(range(first, last + 1))
    kinds_used = {kind for counts in per_year.values() for kind in counts}
    kinds = [
        (kind, str(label), PALETTE[index % len(PALETTE)])
        for index, (kind, label) in enumerate(Partnership.Kind.choices)
        if kind in kinds_used
    ]
    top = max(sum(counts.values()) for counts in per_year.values())
    step = (WIDTH - PLOT_LEFT) / len(years)
    scale = (PLOT_BOTTOM - PLOT_TOP) / top
    width = min(max(step * 0.8, 1), MAX_BAR)
    # Hundreds of bars: written here as one string, since a template loop over their
    # attributes costs more than the rest of the page. Only the labels need escaping.
    # As plain text, not SafeString: formatting a SafeString into each of the hundreds of
    # strings below calls its __str__ each time.
    escaped = {kind: html.escape(label) for kind, label, _colour in kinds}
    capitals = {kind: html.escape(capfirst(label)) for kind, label, _colour in kinds}
    order = [kind for kind, _label, _colour in kinds]
    bars, rows, started = [], [], 0
    for index, year in enumerate(years):
        counts = per_year.get(year, {})
        y = PLOT_BOTTOM
        x = PLOT_LEFT + index * step + (step - width) / 2
        for kind, _label, colour in kinds:
            count = counts.get(kind, 0)
            if not count:
                continue
            height = count * scale
            y -= height
            bars.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{height:.1f}" '
                f'fill="{colour}"><title>{year}: {escaped[kind]}, {count}</title></rect>'
            )
        if counts:
            # The same numbers as a table, one row a year: written out for the same reason.
            total = sum(counts.values())
            by_kind = ", ".join(
                f"{capitals[kind]} {counts[kind]}" for kind in order if kind in counts
            )
            number = html.escape(grouped(total))
            rows.append(
                f'<tr><th scope="row">{year}</th><td class="number">{number}</td>'
                f"<td>{by_kind}</td></tr>"
            )
            started += total
    bars = mark_safe("".join(bars))  # numbers, our own colours and escaped labels
    label_every = max(1, round(len(years) / 8))
    return {
        "years": years,
        "first": first,
        "last": last,
        "top": top,
        "total": started,
        "bars": bars,
        "rows": mark_safe("".join(rows)),  # as the bars
        "kinds": kinds,
        "ticks": [
            {"x": round(PLOT_LEFT + index * step + step / 2, 1), "year": str(year)}
            for index, year in enumerate(years)
            if (year - first) % label_every == 0
        ],
        "width": WIDTH,
        "height": HEIGHT,
        "left": PLOT_LEFT,
        "bottom": PLOT_BOTTOM,
        "plot_top": PLOT_TOP,
        "decade_only": decade_only,
    }


@register.simple_tag
def started_chart(queryset=None, heading_id="chart-heading", filterset=None):
    """The chart of ``queryset`` (every partnership by default) started per year and kind;
    ``filterset``, the list's, may say that is every partnership less a few."""
    if queryset is None:
        queryset = Partnership.objects.published()
    # Every partnership (the home page, an unfiltered list), those of one theme and those
    # of some kinds and statuses are counted as records are written (partnerships.facets);
    # any other set once per registry version, not once per page and language.
    scope = facets.scope_of(queryset)
    if scope is not None:
        counts = facets.started(scope, using=queryset.db)
    elif filterset is not None and (kept := filterset.kept_starts()) is not None:
        counts = kept  # one theme alone, or kinds and statuses alone
    elif filterset is not None and filterset.left_out() is not None:
        # Under the versions its facets are kept under (``counted_from``).
        of = filterset.counted_from()
        counts = per_version("started", [queryset], lambda: started_less(filterset), of=of)
    else:
        # From the lines its facets read in this request, where they did; under the
        # versions its facets are kept under, the registry's without a filterset.
        counts = per_version(
            "started",
            [queryset],
            lambda: _counted_starts(filterset) or started_per_year(queryset),
            of=filterset.counted_from() if filterset is not None else (),
        )
    per_year, decade_only = counts
    frozen = tuple(sorted((year, tuple(sorted(kinds.items()))) for year, kinds in per_year.items()))
    return drawn_chart(get_language(), heading_id, frozen, decade_only)


@functools.lru_cache(maxsize=64)
def drawn_chart(language, heading_id, per_year, decade_only):
    """The chart's HTML in ``language``, drawn once per process for the same counts
    (``per_year`` as sorted pairs): most writes move no start, and drawing its bars and
    table took 1.5–2 ms of a partnership list's 17 ms of CPU at 10,000 partnerships."""
    per_year = {year: dict(kinds) for year, kinds in per_year}
    context = {"chart": chart(per_year, decade_only), "heading_id": heading_id}
    return render_to_string("includes/_chart.html", context)
