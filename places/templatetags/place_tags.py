"""A place's card for the templates (``places.cards``)."""

from django import template

from ..cards import place_card

register = template.Library()

register.simple_tag(place_card)
