"""Organisation pieces for the place page, which places itself cannot import."""

from django import template

from ..models import Organisation

register = template.Library()


@register.inclusion_tag("includes/_organisations_section.html")
def place_organisations(place, place_ids):
    """Organisations based in the place or in a place inside it."""
    organisations = Organisation.objects.filter(place_id__in=place_ids).select_related("place")
    return {"organisations": list(organisations), "place": place}
