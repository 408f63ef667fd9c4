import functools
from decimal import Decimal

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, translate_url
from django.utils.html import conditional_escape, escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.text import capfirst, slugify
from django.utils.translation import get_language, ngettext, pgettext
from django.utils.translation import gettext as _

from core import labels, numbers
from core.text import looser_query

register = template.Library()


@functools.lru_cache(maxsize=4096)
def _facet_option_id(name, value):
    return f"facet-{name}-{slugify(value)}"


def _facet_option(facet, option, form_id):
    """One check box of a facet, for the form ``form_id``."""
    field_id = _facet_option_id(facet.name, option.value)
    checked = " checked" if option.selected else ""
    return (
        f'<li><input type="checkbox" form="{escape(form_id)}" name="{escape(facet.name)}" '
        f'value="{escape(option.value)}" id="{escape(field_id)}"{checked}>'
        f'<label for="{escape(field_id)}">{conditional_escape(capfirst(option.label))} '
        '<span class="facet-count"><span class="visually-hidden">(</span>'
        f'{escape(numbers.grouped(option.count))}<span class="visually-hidden">)</span>'
        "</span></label></li>"
    )


# The filter forms this process wrote (``filter_form``): {key: HTML}, at most FORMS_KEPT,
# then dropped together.
_FORMS = {}
FORMS_KEPT = 256


@register.simple_tag(takes_context=True)
def filter_form(context, search_label):
    """The list's filter form (``includes/_filter_form.html``), labelled ``search_label``,
    written once by each process for each list, language and query.

    Its HTML is of the query alone: the values the reader gave, the errors they make,
    the fields the reader's filters have, the list's address, in the reader's language.
    No choice in it is read from the registry (the facets, whose counts are, are written
    apart), so no write makes it stale. Written anew, it took 1.0-1.9 ms of each list's
    miss at 10,000 partnerships, the widgets rendered in Python (``core.forms``). The key
    holds the template as loaded: edited while the development server runs, it is loaded
    anew, and so written anew.
    """
    template = context.template.engine.get_template("includes/_filter_form.html")
    request, filterset = context["request"], context["filter"]
    form = filterset.form
    data = form.data.lists() if hasattr(form.data, "lists") else form.data.items()
    key = (
        template,
        type(filterset),
        request.path,
        get_language(),
        str(search_label),
        tuple(form.fields),
        form.is_bound,
        tuple(sorted((name, tuple(values)) for name, values in data if name != "page")),
        bool(context.get("filters_active")),
    )
    if (html := _FORMS.get(key)) is None:
        with context.push(search_label=search_label):
            html = template.render(context)
        if len(_FORMS) >= FORMS_KEPT:
            _FORMS.clear()
        _FORMS[key] = html
    return html


@register.simple_tag
def facet_panel(facets, form_id):
    """The facets with their counts: check boxes of the form ``form_id`` (outside it,
    joined by the form attribute), so that they work without JavaScript;
    static/js/facets.js applies a change at once where it runs. Facets with many values
    show the largest few, the rest on demand.

    Written here rather than in a template: an include per option cost more than the rest
    of the list, and the panel of a list's 34 options took 1.0 ms as a template.
    """
    if not facets:
        return ""
    # Outside the f-strings, where makemessages would not find them.
    heading, apply = _("Narrow down"), _("Apply filters")
    parts = [
        '<details class="facets" id="facets" open data-collapse-narrow>\n'
        f'  <summary><h2 id="facets-heading" class="facets-heading">{escape(heading)}'
        "</h2></summary>\n"
    ]
    for facet in facets:
        label = conditional_escape(facet.label)
        first, rest = facet.first, facet.rest
        parts.append(
            f'    <fieldset class="facet">\n      <legend>{label}</legend>\n'
            '      <ul class="facet-options">\n        '
            + "".join(_facet_option(facet, option, form_id) for option in first)
            + "\n      </ul>\n"
        )
        if rest:
            more = ngettext("%(counter)s more", "%(counter)s more", len(rest)) % {
                "counter": len(rest)
            }
            parts.append(
                '        <details class="facet-more">\n'
                f'          <summary>{escape(more)}<span class="visually-hidden">: {label}'
                "</span></summary>\n"
                '          <ul class="facet-options">\n            '
                + "".join(_facet_option(facet, option, form_id) for option in rest)
                + "\n          </ul>\n        </details>\n"
            )
        parts.append("    </fieldset>\n")
    parts.append(
        f'  <button type="submit" form="{escape(form_id)}" class="facet-apply">'
        f"{escape(apply)}</button>\n</details>\n"
    )
    return mark_safe("".join(parts))  # every value above is escaped


@register.simple_tag
def section_cards(section, records, as_of=None):
    """A search section's cards of ``records`` (``core.views.SearchSection``)."""
    if section.cards is not None:
        return section.cards(records, as_of)
    return mark_safe("".join(conditional_escape(section.card(record, as_of)) for record in records))


@register.filter
def grouped(value, decimal_pos=None):
    """10200 -> '10.200' (Danish) or '10,200' (English)."""
    return numbers.grouped(value, decimal_pos)


@register.filter
def large_number(value):
    """77300000 -> '77,3 mio.' (Danish) or '77.3 million' (English)."""
    return numbers.large_number(value)


@register.simple_tag(takes_context=True)
def absolute_url(context, path=None):
    """The full address of ``path`` (the current page's, without its query, by default)."""
    request = context.get("request")
    if request is None:
        return ""
    return request.build_absolute_uri(path if path is not None else request.path)


@register.simple_tag(takes_context=True)
def looser_search(context):
    """(The search box entry without the words for a place's kind, this list's address
    searched for it), where the entry has such words (``core.text.looser_query``): what a
    list that found nothing offers to search for instead ("Jiangsu provinsen": Jiangsu).
    Else None."""
    request = context.get("request")
    looser = looser_query(request.GET.get("q", "")) if request is not None else ""
    if not looser:
        return None
    params = request.GET.copy()
    params["q"] = looser
    params.pop("page", None)
    return looser, f"{request.path}?{params.urlencode()}"


@register.simple_tag(takes_context=True)
def page_in_languages(context):
    """The current page in every interface language: ``url`` for hreflang links, ``path``
    (with the query) for the language switch. Made once per request: the head and the
    header both ask."""
    request = context.get("request")
    if request is None:
        return []
    made = getattr(request, "_atlas_page_in_languages", None)
    if made is None:
        where = (get_urlconf(), get_script_prefix())
        made = request._atlas_page_in_languages = [
            {
                "code": code,
                "name": name,
                "url": request.build_absolute_uri(_translated(request.path, code, *where)),
                "path": _same_site(_translated(request.get_full_path(), code, *where)),
            }
            for code, name in settings.LANGUAGES
        ]
    return made


@functools.lru_cache(maxsize=2048)
def _translated(address, language, urlconf, script_prefix):
    """``translate_url(address, language)`` under ``urlconf`` and ``script_prefix``, which
    the answer depends on besides. Resolving a record's address and reversing it again took
    160 µs, and a page makes four."""
    return translate_url(address, language)


def _same_site(path):
    # A 404 for an address such as //example.org/ would otherwise link to that site.
    return path if url_has_allowed_host_and_scheme(path, allowed_hosts=None) else "/"


@register.filter
def verbose_name(record):
    """'place', 'organisation' or 'partnership', in the reader's language."""
    return record._meta.verbose_name


@register.simple_tag(takes_context=True)
def current_section(context):
    """The app namespace or URL name of the page, for marking the current menu item."""
    request = context.get("request")
    match = getattr(request, "resolver_match", None)
    if match is None:
        return ""
    if match.view_name == "atlas:changes":
        return "changes"  # a page of the site app that is not the map's menu item
    return match.namespace or match.url_name or ""


@register.filter
def plain_decimal(value):
    """A decimal without trailing zeros, in the reader's notation: 119.7 or 119,7."""
    if value in (None, ""):
        return ""
    return numbers.grouped(Decimal(format(Decimal(value).normalize(), "f")))


@register.filter
def coordinates(place):
    """'33° N, 119,7° E' in the reader's notation; a bare '33, 119,7' is ambiguous in Danish."""
    if place.latitude is None or place.longitude is None:
        return ""
    latitude, longitude = Decimal(place.latitude), Decimal(place.longitude)
    north = pgettext("compass", "N") if latitude >= 0 else pgettext("compass", "S")
    east = pgettext("compass", "E") if longitude >= 0 else pgettext("compass", "W")
    return f"{plain_decimal(abs(latitude))}° {north}, {plain_decimal(abs(longitude))}° {east}"


@register.filter
def label(record, field_name):
    """``record.get_<field_name>_display()``, without rebuilding the choices each time."""
    return labels.choice_label(record, field_name)


@register.filter
def country(record):
    """The name of the record's country, as ``record.country.name`` but looked up once."""
    return labels.record_country(record)
