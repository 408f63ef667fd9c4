"""The map and network pieces that the record pages and the explore pages share.

The record pages load nothing for them: the browser fetches the data from the API, so a
detail page costs the same queries with or without its map and network.
"""

from django import template
from django.conf import settings
from django.urls import reverse
from django.utils.html import json_script
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django_countries import countries

from core.translation import content_language

from .. import explore

register = template.Library()


@register.filter
def country_name(code):
    return countries.name(code) or code


@register.filter
def with_slug(pattern, slug):
    """A record's address from the ``place_url`` pattern the map data carries."""
    return pattern.replace("{slug}", slug)


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
