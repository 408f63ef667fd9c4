"""Name folding: one function decides when two spellings name the same thing.

The admin, the public search, the API and the importer all match names through
``fold`` so that a record is found by any spelling a person is likely to type:
'Ostergotland' finds Östergötland, 'arhus' and 'Aarhus' find Århus, 'schleswig holstein'
finds Schleswig-Holstein, and 南京 matches as written.
"""

import functools
import re
import unicodedata

# Letters that Unicode does not decompose into a base letter plus an accent.
_LETTERS = str.maketrans(
    {
        "æ": "ae",
        "ø": "oe",
        "œ": "oe",
        "ß": "ss",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "ı": "i",
    }
)
# Danish and German write å/ä/ö/ü/æ/ø as aa/ae/oe/ue when the letter is missing from
# the keyboard; collapsing the digraph makes 'Aarhus' = 'Århus', 'Koebenhavn' =
# 'København' and 'Sjaelland' = 'Sjælland' = 'Sjalland'. Both sides of a comparison are
# folded the same way, so the collapse never makes a match impossible.
_DIGRAPHS = re.compile(r"aa|ae|oe|ue")
_NOT_WORD = re.compile(r"[\W_]+")

# Separates the folded names inside a stored search key; never produced by ``fold``.
KEY_SEPARATOR = "|"


def fold(text):
    """Return the matching form of ``text``: lower case, no accents, no punctuation."""
    if not text:
        return ""
    text = str(text)
    if text.isascii():
        # Nothing to normalise, no accent to drop: the same result at a quarter of the cost.
        return _NOT_WORD.sub("", _DIGRAPHS.sub(_first_letter, text.lower()))
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTERS)
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    text = _DIGRAPHS.sub(_first_letter, text)
    return _NOT_WORD.sub("", text)


# What copying from a web page, a PDF or a Mac puts in text that no one sees: spaces that
# do not break (U+00A0, U+2007, U+202F) and the other widths of space, and characters of
# no width (a soft hyphen, a zero-width space, a word joiner, a byte order mark).
# A name that has them looks like the stored one and compared as a change; a Mac's
# decomposed å (a + ring, NFD) is two characters where Windows has one.
_TIDY = str.maketrans(
    {
        **dict.fromkeys("\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008", " "),
        **dict.fromkeys("\u2009\u200a\u202f\u205f", " "),
        **dict.fromkeys("\u00ad\u200b\u2060\ufeff"),
    }
)


def tidy(text):
    """``text`` composed (NFC), its other spaces plain spaces and its characters of no
    width removed; CJK's full-width space and joiners that shape a script stay."""
    if not isinstance(text, str) or text.isascii():
        return text
    # In this order tidying twice changes nothing: a zero-width space between a letter
    # and its accent would keep NFC from composing them, if it went after.
    return unicodedata.normalize("NFC", text.translate(_TIDY))


@functools.cache
def _text_fields(model):
    from django.db import models

    from .translation import LANGUAGES, localized_field

    fields = [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField) and field.editable
    ]
    # A translated field's own name ('name') reads and writes the active language's
    # column through modeltranslation: tidying it would copy a fallback into that column.
    return tuple(
        name
        for name in fields
        if not all(localized_field(name, code) in fields for code in LANGUAGES)
    )


def tidy_fields(instance):
    """``tidy`` every text field a person writes of a model instance: ``save()`` and the
    bulk writers (``core.versioning.VersionedQuerySet``) call it."""
    for name in _text_fields(type(instance)):
        value = getattr(instance, name)
        if isinstance(value, str) and not value.isascii():
            setattr(instance, name, tidy(value))


def _first_letter(match):
    return match.group(0)[0]


# Identity keeps every letter a person wrote: only Danish letters are spelled out the way
# Danes write them without the key ('Århus' = 'Aarhus', 'Sjælland' = 'Sjaelland').
_IDENTITY_LETTERS = str.maketrans({"å": "aa", "æ": "ae", "ø": "oe", "œ": "oe", "ß": "ss"})


def identity(text):
    """Return the form under which two names are the same record's name.

    Stricter than ``fold``: no digraph collapse, so 'Shanxi' and 'Shaanxi', 'Haarlem' and
    'Harlem' stay different, while case, accents, punctuation and spaces do not count and
    'Århus', 'Aarhus' and 'AARHUS' are one name. ``fold`` stays for finding; this decides
    that a spreadsheet row is an existing record.
    """
    if not text:
        return ""
    text = str(text)
    if text.isascii():
        return _NOT_WORD.sub("", text.lower())
    text = unicodedata.normalize("NFKC", text).casefold().translate(_IDENTITY_LETTERS)
    text = text.translate(_LETTERS)
    text = "".join(
        char for char in unicodedata.normalize("NFKD", text) if not unicodedata.combining(char)
    )
    return _NOT_WORD.sub("", text)


# Runs of Chinese and Japanese characters, which write a name without spaces, two of
# them often a whole name. Korean needs none: ``fold`` writes a syllable as its two or
# three letters (jamo), and two syllables are a trigram at least.
_CJK_RUN = re.compile(
    "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f]{2,}"
)


def cjk_pairs(text):
    """Each two characters side by side in a run of Chinese or Japanese."""
    return [run[at : at + 2] for run in _CJK_RUN.findall(text) for at in range(len(run) - 1)]


def is_cjk_pair(term):
    """Whether ``term`` is two Chinese or Japanese characters (南京)."""
    return len(term) == 2 and _CJK_RUN.fullmatch(term) is not None


def search_key(names):
    """The stored key that finds a record by any of ``names``."""
    folded = []
    for name in names:
        value = fold(name)
        if value and value not in folded:
            folded.append(value)
    return _key(folded)


def _key(folded):
    # Each two Chinese or Japanese characters of a name are kept as a name of
    # their own: a term of two (南京, 苏州), shorter than a trigram, is then looked up on
    # the index as that whole name (``core.search.SearchKeyContains``), not scanned for.
    # What a term finds stays what a plain scan of the names finds: a pair is part of a
    # name, and a term never holds the separator.
    pairs = [pair for value in folded for pair in cjk_pairs(value) if pair not in folded]
    names = [*folded, *dict.fromkeys(pairs)]
    return KEY_SEPARATOR + KEY_SEPARATOR.join(names) + KEY_SEPARATOR if names else ""


def rekeyed(key):
    """``key``, a stored search key, as ``search_key`` writes it now: for the migration
    that added the pairs of characters to the keys written before."""
    return _key(list(dict.fromkeys(name for name in key.split(KEY_SEPARATOR) if name)))


# Every term adds a scan of the search keys: a bounded query keeps a search's cost bounded.
SEARCH_MAX_CHARACTERS = 200
SEARCH_MAX_TERMS = 12


def search_query_error(query):
    """Why ``query`` is too long to search, or None. Forms and the API show this message."""
    from django.utils.translation import gettext

    query = str(query or "")
    if len(query) > SEARCH_MAX_CHARACTERS:
        return gettext("Search for at most %(limit)d characters (this search has %(count)d).") % {
            "limit": SEARCH_MAX_CHARACTERS,
            "count": len(query),
        }
    if len(query.split(None, SEARCH_MAX_TERMS)) > SEARCH_MAX_TERMS:
        return gettext("Search for at most %(limit)d words.") % {"limit": SEARCH_MAX_TERMS}
    return None


def validate_search_query(query):
    from django.core.exceptions import ValidationError

    if message := search_query_error(query):
        raise ValidationError(message, code="search_too_long")


def query_terms(query):
    """Split a search box entry into folded terms; every term must match.

    A query over the limits is cut to them, so that no caller can run an unbounded search;
    callers that show a form validate first with ``validate_search_query``.
    """
    parts = str(query or "")[:SEARCH_MAX_CHARACTERS].split(None, SEARCH_MAX_TERMS)
    return [term for term in (fold(part) for part in parts[:SEARCH_MAX_TERMS]) if term]


# Words a place's name is written with or without: "Ballerup" for Ballerup Kommune, "Jiangsu
# Province" or "Jiangsu Sheng" for Jiangsu, "Region Hovedstaden" for Hovedstaden. Staff
# and readers write the names they use; the registry holds each name once. The import
# reads a reference so (``importing.names.bare``), and a search that finds nothing tries
# again so (``looser_query``).
PLACE_WORDS = (
    # before the name
    ("region", "regionen", "provins", "provinsen", "province"),
    # after it
    (
        "kommune",
        "municipality",
        "region",
        "regionen",
        "provins",
        "provinsen",
        "province",
        "city",
        "by",
        "amt",
        "county",
        "state",
        "delstat",
        "district",
        "distrikt",
        "prefecture",
        "shi",
        "sheng",
    ),
)
# The same in Chinese, written without spaces: 苏州市 for 苏州, 江苏省 for 江苏.
PLACE_SUFFIXES = ("市", "省", "县", "縣", "区", "區")


@functools.cache
def _kind_word(words):
    """A pattern of ``words`` at the start or the end of a name, after a space or a
    hyphen ("Jiangsu provinsen", "Jiangsu-provinsen"), or of a suffix of PLACE_SUFFIXES.
    One search a name: split into words and folded one by one, the 10,000 places of a
    registry took a fifth longer to index than without."""
    before, after = ("|".join(map(re.escape, group)) for group in words)
    suffixes = "".join(PLACE_SUFFIXES)
    return re.compile(
        rf"^(?:{before})[\s\-‐–]+(?=\S)|(?<=\S)[\s\-‐–]+(?:{after})$"
        # At least two characters before the suffix: 省会 is no place.
        rf"|(?<=\S\S)[{suffixes}]$",
        re.IGNORECASE,
    )


def without_kind_word(text, words=PLACE_WORDS):
    """``text`` without a word of ``words`` (a pair: those that go before a name, and
    those after) at its start or end, or without a Chinese suffix; "" if it has none."""
    text = str(text).strip()
    match = _kind_word(words).search(text)
    if match is None:
        return ""
    return (text[: match.start()] + text[match.end() :]).strip()


def looser_query(query):
    """A search box entry without the words for a place's kind, standing alone or joined
    to a name ("Jiangsu provinsen", "Jiangsu-provinsen", 江苏省 for Jiangsu), or "" when
    it has none or is nothing else: what to search for when the entry found nothing."""
    alone = {fold(word) for group in PLACE_WORDS for word in group}
    kept = [
        without_kind_word(word) or word
        for word in str(query or "").split()
        if fold(word) not in alone
    ]
    looser = " ".join(kept)
    return looser if looser and looser != " ".join(str(query).split()) else ""


# En and em dashes join names in titles ('Aarhus–Harbin'); slugify would drop them.
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_SLUG_LETTERS = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", "ß": "ss", "œ": "oe"})


def slug_base(text):
    """A readable ASCII slug: 'Region Sjælland' -> 'region-sjaelland' (not 'region-sjlland')."""
    from django.utils.text import slugify

    text = _DASHES.sub(" ", str(text or "").casefold().translate(_SLUG_LETTERS))
    return slugify(text)[:80].strip("-")


def unique_slug(queryset, text, fallback="record", taken=None):
    """``slug_base(text)``, numbered when ``queryset`` (or the set ``taken``) already uses it."""
    base = slug_base(text) or fallback
    if taken is None:
        taken = set(queryset.filter(slug__startswith=base).values_list("slug", flat=True))
    slug, number = base, 2
    while slug in taken:
        slug = f"{base}-{number}"
        number += 1
    return slug
