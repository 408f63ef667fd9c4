"""Organisation pieces for the place page, which places itself cannot import, and an
organisation's card for every page that lists them (``organisations.cards``)."""

from urllib.parse import urlencode

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import get_language

from core.cache import per_version
from core.search import id_list
from core.translation import Localized
from core.views import first_page
from core.visibility import viewer

from ..cards import organisation_card
from ..models import Organisation

register = template.Library()

register.simple_tag(organisation_card)


@register.simple_tag(takes_context=True)
def place_organisations(context, place, place_ids):
    """The first organisations based in the place or in a place inside it, and their number,
    as HTML written once per version of the places and the organisations (a country's
    10,000 organisations took 17 ms to count and sort at 100,000 partnerships), since no
    write to a partnership changes them."""
    request = context.get("request")
    organisations = Organisation.objects.visible_to(viewer(request))

    def section():
        first, total = first_page(
            organisations.filter(place_id__in=id_list(place_ids)).order_by(
                Localized("name").asc(), "pk"
            ),
            rows=Organisation.objects.select_related("place"),
        )
        query = urlencode({"place": place.slug})
        return render_to_string(
            "includes/_organisations_section.html",
            {
                "organisations": first,
                "total": total,
                "more_url": f"{reverse('organisations:organisation-list')}?{query}",
                "place": place,
                "request": request,
            },
        )

    return per_version(
        "place-organisations.html",
        [organisations, place.pk, get_language()],
        section,
        of=("places", "organisations"),
    )
