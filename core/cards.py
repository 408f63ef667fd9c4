"""What the cards of every kind of record are made of (``places.cards``,
``organisations.cards``, ``partnerships.cards``).

Cards are written in Python rather than as included templates: a page shows twenty,
and with the template engine's include, context and filter lookups, and Django's lazy
checks in ``format_html`` and ``escape`` on every value, a card cost several times what
its own work does. The HTML is the templates' was, text escaped as ``escape()`` does
(``html.escape``, which is what it calls).
"""

import functools
from html import escape

from django.utils.text import capfirst
from django.utils.translation import get_language, gettext

from . import labels
from .translation import fallback_order, localized_field, only_in


class Reader:
    """The reader's languages, looked up once per card rather than once per text, and
    what a card names in them: the active language was looked up eight times a card,
    through Django's thread-local, and the card's own words translated each time."""

    __slots__ = ("order", "language", "interface", "words")

    def __init__(self, words=()):
        """``words``: texts the card shows (marked with ``gettext_noop``), translated once
        per language: ``self.words``, escaped, in the same order."""
        self.interface = get_language()
        self.order = fallback_order(self.interface)
        self.language = self.order[0]
        self.words = _translated(tuple(words), self.interface) if words else ()

    def kind(self, record):
        """The record's kind, as ``{{ record|label:"kind"|capfirst }}`` writes it."""
        return escape(capfirst(labels.choice_label(record, "kind", self.interface)))

    def country(self, record):
        """The record's country, as ``{{ record|country }}`` writes it."""
        return escape(labels.record_country(record, self.interface))

    def content(self, record, field):
        """``{{ record|content:field }}``: escaped, and marked when it is in another
        language than the reader's (``core.templatetags.content``)."""
        for code in self.order:
            if value := getattr(record, localized_field(field, code), None):
                break
        else:
            return ""
        return escape(value) if code == self.language else in_other_language(escape(value), code)


@functools.cache
def _translated(words, language):
    return tuple(escape(gettext(word)) for word in words)


def in_other_language(html, language):
    """``html`` (escaped) marked as in ``language``, which is not the reader's."""
    return (
        f'<span lang="{language}">{html}</span> '
        f'<small class="lang-note">{escape(only_in(language))}</small>'
    )
