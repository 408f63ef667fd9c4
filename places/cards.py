"""A place's card, as the lists, the search and a place's page show it (``core.cards``)."""

from html import escape

from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from core import cards, numbers


def place_card(place):
    reader = cards.Reader()
    html = (
        f'<li class="card">\n  <h3><a href="{escape(place.get_absolute_url())}">'
        f"{reader.content(place, 'name')}</a>"
    )
    if place.native_name and place.native_name != place.name:
        html += (
            f' <span class="native" lang="{escape(place.native_language or "und")}">'
            f"{escape(place.native_name)}</span>"
        )
    html += '</h3>\n  <p class="meta">\n    '
    parent = place.parent
    if parent:
        html += gettext("%(kind)s in %(parent)s") % {
            "kind": reader.kind(place),
            "parent": reader.content(parent, "name"),
        }
    else:
        html += reader.kind(place)
    if place.kind != "country" and (parent is None or parent.kind != "country"):
        html += f", {reader.country(place)}"
    html += "\n  </p>"
    if population := getattr(place, "current_population", None):
        figure = gettext("%(number)s inhabitants (%(year)s)") % {
            "number": escape(numbers.large_number(population)),
            "year": escape(str(place.current_population_year)),
        }
        html += f'\n  <p class="figure">{figure}</p>'
    return mark_safe(f"{html}\n</li>\n")
