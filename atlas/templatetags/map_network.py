"""The map and network pieces that the record pages and the explore pages share.

The record pages load nothing for them: the browser fetches the data from the API, so a
detail page costs the same queries with or without its map and network.
"""

import html

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import json_script
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from core import labels, numbers
from core.cards import in_other_language
from core.translation import content_language

from .. import explore

register = template.Library()


@register.filter
def with_slug(pattern, slug):
    """A record's address from the ``place_url`` pattern the map data carries."""
    return pattern.replace("{slug}", slug)


# The tables beside the map and the network are written here rather than in their
# templates: the network's 300 partnerships and their 843 parties took 20 ms as a
# template at 10,000 partnerships, a third of the page, and the map's 200 places and 200
# lines 10 ms. Every value is escaped as the template escaped it, by the standard
# library's escape, which Django's wraps: the wrapper's test for lazy text cost more than
# the escaping, and these values are the plain text of the map and network data.


def _e(value):
    return html.escape(str(value))


def _shown(value, language, reader):
    """``value`` escaped, marked as in ``language`` when that is not ``reader``'s: the
    ``in_language`` filter, with the reader's language looked up once per table."""
    if language is None or language == reader:
        return _e(value)
    return in_other_language(_e(value), language)


@register.simple_tag
def network_table_rows(rows):
    """The rows of the network's table: each partnership and who takes part.

    A party's item and a kind's and status's cells are written once for the table: at
    10,000 partnerships, the network's 300 partnerships have 843 parties in 683 items
    and 40 pairs of kind and status, and the table took 1.7 ms instead of 2.4."""
    reader, based = content_language(), _("based in %(place)s")
    parts, items, cells = [], {}, {}
    for row in rows:
        p = row["partnership"]
        when = f"{_e(p['start'])}{'–' if p['start'] or p['end'] else ''}{_e(p['end'])}"
        parties = []
        for party in row["parties"]:
            node, based_in = party["node"], party["based_in"]
            key = (node["id"], party["role"], based_in and based_in["id"])
            if (item := items.get(key)) is None:
                role = _e(party["role"])
                if based_in:
                    place = _shown(based_in["label"], based_in["label_language"], reader)
                    role += ", " + based % {"place": place}
                item = items[key] = (
                    f'<li><a href="{_e(node["url"])}">'
                    f"{_shown(node['label'], node['label_language'], reader)}</a> "
                    f'<span class="muted">({role})</span></li>'
                )
            parties.append(item)
        key = (p["kind_label"], p["status"], p["status_label"])
        if (kind_and_status := cells.get(key)) is None:
            kind_and_status = cells[key] = (
                f"<td>{_e(capfirst(p['kind_label']))}</td>\n"
                f'<td><span class="status status-{_e(p["status"])}">'
                f"{_e(capfirst(p['status_label']))}</span></td>\n"
            )
        parts.append(
            f'<tr>\n<th scope="row"><a href="{_e(p["url"])}">'
            f"{_shown(p['label'], p['label_language'], reader)}</a></th>\n"
            f"{kind_and_status}"
            f"<td>{when}</td>\n"
            f'<td><ul class="parties">{"".join(parties)}</ul></td>\n</tr>\n'
        )
    return mark_safe("".join(parts))  # every value above is escaped


@register.simple_tag
def map_place_rows(places):
    """The rows of the map's table of places: name, country, partnerships."""
    reader = content_language()
    return mark_safe(  # every value is escaped
        "".join(
            f'<tr><th scope="row"><a href="{_e(place["url"])}">'
            f"{_shown(place['name'], place['name_language'], reader)}</a></th>"
            f"<td>{_e(labels.country_name(place['country']))}</td>"
            f'<td class="number">{_e(numbers.grouped(place["count"]))}</td></tr>\n'
            for place in places
        )
    )


@register.simple_tag
def map_line_rows(lines, place_url):
    """The rows of the map's table of lines: from, to, and the partnership or how many."""
    reader, parts = content_language(), []
    for line in lines:
        if line["count"] == 1:
            partnership = line["partnership"]
            shared = (
                f'<a href="{_e(partnership["url"])}">'
                f"{_shown(partnership['title'], partnership['title_language'], reader)}</a>"
            )
        else:
            shared = _e(numbers.grouped(line["count"]))
        parts.append(
            f'<tr>\n<td><a href="{_e(with_slug(place_url, line["from"]))}">'
            f"{_shown(line['from_name'], line['from_name_language'], reader)}</a></td>\n"
            f'<td><a href="{_e(with_slug(place_url, line["to"]))}">'
            f"{_shown(line['to_name'], line['to_name_language'], reader)}</a></td>\n"
            f'<td class="number">{shared}</td>\n</tr>\n'
        )
    return mark_safe("".join(parts))  # every value above is escaped


@register.simple_tag
def explore_labels():
    """The words the map and network scripts show, in the reader's language."""
    return json_script(
        {
            "partnerships_one": _("1 partnership"),
            "partnerships_many": _("%(count)s partnerships"),
            "between": _("between %(a)s and %(b)s"),
            "zoom_in": _("Zoom in"),
            "zoom_out": _("Zoom out"),
            "basemap": _("Basemap: Natural Earth"),
            "loading": _("Loading…"),
            "failed": _("The map data could not be loaded."),
            "graph_failed": _("The network could not be loaded."),
            "nothing_more": _("Nothing more to show."),
            "based_in": _("based in %(place)s"),
            "only_in": {"da": _("only in Danish"), "en": _("only in English")},
        },
        "explore-labels",
    )


@register.inclusion_tag("includes/_record_explore.html", takes_context=True)
def record_explore(context, record):
    """A small map and the network of a place, organisation or partnership page."""
    record_type = record._meta.model_name
    focus = ""
    if record_type == "place":
        focus = record.slug
    elif record_type == "organisation" and record.place_id:
        focus = record.place.slug
    around = explore.node_id(record_type, record.slug)
    # The data comes in the page's language, whatever the browser's Accept-Language says.
    language = content_language()
    return {
        "data_url": f"{reverse('api:map-list')}?"
        f"{urlencode({record_type: record.slug, 'lang': language})}",
        "tile_url": settings.ATLAS_MAP_TILE_URL,
        "tile_attribution": settings.ATLAS_MAP_TILE_ATTRIBUTION,
        "focus": focus,
        "around": around,
        "network_data_url": f"{reverse('api:network-list')}?"
        f"{urlencode({'around': around, 'lang': language})}",
        "network_page_url": reverse(f"atlas:network-{record_type}", kwargs={"slug": record.slug}),
        "map_page_url": f"{reverse('atlas:map')}?{urlencode({record_type: record.slug})}"
        if record_type != "partnership"
        else "",
        "max_steps": explore.MAX_STEPS,
        "request": context.get("request"),
    }
