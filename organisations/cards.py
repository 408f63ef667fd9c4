"""An organisation's card, as the lists, the search and a place's page show it
(``core.cards``)."""

from html import escape

from django.utils.safestring import mark_safe

from core import cards


def organisation_card(organisation):
    reader = cards.Reader()
    html = (
        f'<li class="card">\n  <h3><a href="{escape(organisation.get_absolute_url())}">'
        f"{reader.content(organisation, 'name')}</a>"
    )
    if organisation.short_name:
        html += f' <span class="native">({escape(organisation.short_name)})</span>'
    html += f'</h3>\n  <p class="meta">\n    {reader.kind(organisation)}'
    place = organisation.place
    if place:
        html += f", {reader.content(place, 'name')}"
    if place is None or place.kind != "country":
        html += f", {reader.country(organisation)}"
    return mark_safe(f"{html}\n  </p>\n</li>\n")
