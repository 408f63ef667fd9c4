"""A partnership's status with its "as of", and the chart of partnerships started per year."""

from django import template
from django.db.models import BooleanField, Case, CharField, Count, Value, When
from django.db.models.functions import Cast, Substr
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


@register.inclusion_tag("includes/_status.html")
def partnership_status(partnership, as_of=None):
    """'Active (as of 2012, per source)', 'Unconfirmed', or 'Possibly active in 1985'."""
    if as_of:
        state = state_as_of(partnership, as_of)
        return {"state": state, "as_of": as_of, "partnership": partnership, "then": True}
    return {
        "state": current_state(partnership, timezone.localdate()),
        "partnership": partnership,
        "confirmed": partnership.status_as_of,
        "then": False,
    }


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
    rows = (
        queryset.order_by()
        .filter(start_on__isnull=False)
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
        .annotate(count=Count("pk"))
    )
    per_year, decade_only = {}, 0
    for row in rows:
        if row["decade_only"]:
            decade_only += row["count"]
            continue
        year = per_year.setdefault(int(row["year"]), {})
        year[row["kind"]] = year.get(row["kind"], 0) + row["count"]
    return per_year, decade_only


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
    escaped = {kind: escape(label) for kind, label, _colour in kinds}
    bars, rows = [], []
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
            rows.append(
                {
                    "year": str(year),
                    "total": sum(counts.values()),
                    "kinds": [
                        (label, str(counts[kind]))
                        for kind, label, _colour in kinds
                        if kind in counts
                    ],
                }
            )
    bars = mark_safe("".join(bars))  # numbers, our own colours and escaped labels
    label_every = max(1, round(len(years) / 8))
    return {
        "years": years,
        "first": first,
        "last": last,
        "top": top,
        "total": sum(row["total"] for row in rows),
        "bars": bars,
        "rows": rows,
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


@register.inclusion_tag("includes/_chart.html")
def started_chart(queryset=None, heading_id="chart-heading"):
    """The chart of ``queryset`` (every partnership by default) started per year and kind."""
    if queryset is None:
        queryset = Partnership.objects.all()
    return {"chart": chart(*started_per_year(queryset)), "heading_id": heading_id}
