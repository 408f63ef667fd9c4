"""A record's text in the reader's language, or openly in the other one.

``{{ place|content:"name" }}`` shows the Danish name on a Danish page; a place with only an
English name shows it inside ``lang="en"`` (so screen readers pronounce it as English) and
with a small "only in English" note, never a blank. ``{{ place|paragraphs:"description" }}``
does the same for text shown as paragraphs. ``{{ place|mention }}`` names a record the
page has already marked (its own name in a section heading) with ``lang`` alone.
``{{ place.name|in_language:place.name_language }}`` marks text read without its record
(the map's and network's rows).
Titles, meta descriptions and attributes take the plain ``{{ place.name }}``, which
modeltranslation already falls back for.
"""

from django import template
from django.template.defaultfilters import linebreaks_filter
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe

from core.cards import in_other_language
from core.translation import content_language, only_in, translated
from core.visibility import linkable, viewer

register = template.Library()


def _foreign(language):
    return language is not None and language != content_language()


def _field(record, field):
    # A partnership is named by its title; the record lists of the home page mix them.
    return field or ("title" if hasattr(record, "title_en") else "name")


@register.filter
def content(record, field=None):
    return in_language(*translated(record, _field(record, field)))


@register.filter
def in_language(value, language):
    """Text known to be in ``language`` (map and network data say), marked as above."""
    if not _foreign(language):
        return conditional_escape(value)
    return mark_safe(in_other_language(conditional_escape(value), language))


@register.simple_tag(takes_context=True)
def record_link(context, record, field=None):
    """The record's name linked to its page; the bare name when the reader cannot open
    that page (a draft participant of a published partnership, for the public)."""
    name = content(record, field)
    if not linkable(record, viewer(context.get("request"))):
        return name
    return format_html('<a href="{}">{}</a>', record.get_absolute_url(), name)


@register.filter
def mention(record, field=None):
    value, language = translated(record, _field(record, field))
    if not _foreign(language):
        return conditional_escape(value)
    return format_html('<span lang="{}">{}</span>', language, value)


@register.filter
def paragraphs(record, field="description"):
    value, language = translated(record, field)
    text = linebreaks_filter(value, autoescape=True)
    if not _foreign(language):
        return text
    return format_html(
        '<div lang="{}">{}</div><p class="lang-note">{}</p>', language, text, only_in(language)
    )
