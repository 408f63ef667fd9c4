"""Which record a name in a spreadsheet means.

A ``Names`` index holds one model's records (by primary key) and the new rows of the file
being imported (as ``Row`` objects), under three keys: the slug, the identity of each name
(``core.text.identity``: case, accents and punctuation do not count, letters do) and the
loose search form (``core.text.fold``). A name finds a record by slug, else by identity
(its name before its other names), else by the loose form, which the importer reports as
a reading to check. More than one candidate is an error that lists each of them.
"""

import difflib
import functools
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from core.text import identity as identity_uncached
from core.text import without_kind_word
from core.translation import fallback_order

from .readers import CellError, fold

CANDIDATES = 3


def bare(text, words):
    """The loose form (``fold``) of ``text`` without a word of ``words`` (a pair: those
    that go before a name, and those after; ``core.text.PLACE_WORDS``) at its start or
    end, or without a Chinese suffix; "" if it has none."""
    shorter = without_kind_word(text, words)
    return fold(shorter) if shorter else ""


identity = functools.lru_cache(maxsize=65_536)(identity_uncached)


@dataclass
class Entry:
    name: str
    slug: str = ""
    # What tells this record from others of the same name: kind, parent or country.
    detail: str = ""
    # Other texts an export may write when the name is shared (a source's web address).
    forms: tuple = ()
    # The name in each language ({"da": …, "en": …}) of a record named in several.
    names: dict = field(default_factory=dict)


class Names:
    def __init__(self, noun, generic_words=()):
        self.noun = noun
        # The reader's languages in order, asked once: asked for each of the 30,000
        # names of a registry's 10,000 places, they took a third of the time to index.
        self.order = fallback_order()
        # Words a name is written with or without (``bare``), read as a looser spelling.
        self.generic_words = generic_words
        self.slugs = {}
        self.primary = defaultdict(list)
        self.other = defaultdict(list)
        self.loose = defaultdict(list)
        self.entries = {}
        # reference() of each target, until a name is added or forgotten: an export of
        # 10,000 partnerships names the parties of its 27,000 ties, each party many times.
        self.references = {}

    def add(self, target, name, others=(), slug="", detail="", forms=()):
        """``name`` is one name, or ``{"da": …, "en": …}``: a name in any language is a
        name, shown in the reader's language (else the other)."""
        self.references.clear()
        if slug:
            self.slugs[slug] = target
        translations = {}
        if isinstance(name, dict):
            translations = {code: text for code, text in name.items() if text}
            name = first_text(translations, self.order)
        self.entries[target] = Entry(str(name), slug, detail, tuple(forms), translations)
        keys = set()
        for text in dict.fromkeys([name, *translations.values()]):
            key = identity(text)
            if key and key not in keys:
                keys.add(key)
                self.primary[key].append(target)
                self.add_loose(text, target)
        for other in others:
            other_key = identity(other)
            if other_key and other_key not in keys:
                self.other[other_key].append(target)
                self.add_loose(other, target)

    def add_loose(self, text, target):
        self.loose[fold(text)].append(target)
        if self.generic_words:
            key = bare(text, self.generic_words)
            if key and target not in self.loose[key]:
                self.loose[key].append(target)

    def discard(self, target):
        """Forget a row that turned out to be a stored record (its pk is indexed already)."""
        entry = self.entries.pop(target, None)
        if entry is None:
            return
        self.references.clear()
        for mapping in (self.primary, self.other, self.loose):
            for targets in mapping.values():
                if target in targets:
                    targets.remove(target)
        if self.slugs.get(entry.slug) is target:
            del self.slugs[entry.slug]

    def name_of(self, target, language=None):
        """The name shown, or the name in ``language`` (else in the other)."""
        entry = self.entries.get(target)
        if entry is None:
            return ""
        if language and entry.names:
            return pick(entry.names, language)
        return entry.name

    def slug_of(self, target):
        entry = self.entries.get(target)
        return entry.slug if entry else ""

    def describe(self, target):
        """'Suzhou (city, Jiangsu, slug suzhou-jiangsu)': enough to tell records apart."""
        entry = self.entries.get(target)
        if entry is None:
            return "?"
        # Details are made only when a message needs them: most imports need none.
        detail = entry.detail() if callable(entry.detail) else entry.detail
        parts = [part for part in (detail,) if part]
        if entry.slug:
            parts.append(_("slug %(slug)s") % {"slug": entry.slug})
        return f"{entry.name} ({', '.join(parts)})" if parts else entry.name

    def find(self, text, exclude=None):
        """``(targets, how)``; how is 'slug', 'name', 'other name' or 'spelling'."""
        text = str(text).strip()
        if text in self.slugs and self.slugs[text] is not exclude:
            return [self.slugs[text]], "slug"
        key = identity(text)
        if not key:
            return [], ""
        for mapping, how in ((self.primary, "name"), (self.other, "other name")):
            found = _distinct(mapping.get(key, ()), exclude)
            if found:
                return found, how
        found = _distinct(self.loose.get(fold(text), ()), exclude)
        if not found and self.generic_words:
            # "Ballerup Kommune" for a place the registry calls Ballerup.
            key = bare(text, self.generic_words)
            found = _distinct(self.loose.get(key, ()), exclude) if key else []
        return found, "spelling"

    def resolve(self, text, exclude=None):
        """``(target, how)`` for the one record ``text`` names; ``CellError`` otherwise."""
        targets, how = self.find(text, exclude)
        if len(targets) == 1:
            return targets[0], how
        if not targets:
            raise CellError(self.unknown(text))
        raise CellError(self.ambiguous(text, targets))

    def unknown(self, text):
        message = _("unknown %(noun)s '%(value)s'") % {"noun": self.noun, "value": text}
        closest = self.closest(text)
        if closest:
            message += " (" + _("closest: %(names)s") % {"names": ", ".join(closest)} + ")"
        return message

    def ambiguous(self, text, targets):
        return _(
            "'%(value)s' names more than one %(noun)s: %(candidates)s; write the slug of "
            "the one you mean"
        ) % {
            "value": text,
            "noun": self.noun,
            "candidates": "; ".join(sorted(self.describe(target) for target in targets)),
        }

    def closest(self, text):
        names = {}
        for entry in self.entries.values():
            names.setdefault(fold(entry.name), entry.name)
        found = difflib.get_close_matches(fold(text), list(names), n=CANDIDATES, cutoff=0.6)
        return sorted({names[name] for name in found})

    def reference(self, target):
        """The text an export writes for ``target``: its name if that names it alone, else
        its slug, so that the file imports back to the same record."""
        if target in self.references:
            return self.references[target]
        entry = self.entries.get(target)
        if entry is None:
            return ""
        found = next(
            (
                text
                for text in (entry.name, *entry.forms, entry.slug)
                if text and self.find(text)[0] == [target]
            ),
            entry.slug or entry.name,
        )
        self.references[target] = found
        return found

    def slug_reference(self, target):
        """The slug where there is one: what an undo snapshot writes."""
        return self.slug_of(target) or self.reference(target)


def pick(translations, language=None):
    """The text in ``language`` (the reader's by default), else in the other."""
    return first_text(translations, fallback_order(language))


def first_text(translations, order):
    """The text in the first language of ``order`` that has one."""
    return next((translations[code] for code in order if translations.get(code)), "")


def _distinct(targets, exclude):
    found = []
    for target in targets:
        if target is not exclude and target != exclude and target not in found:
            found.append(target)
    return found
