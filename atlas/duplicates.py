"""Possible duplicates: records that look like one thing entered twice.

Places and organisations pair up when they are in the same country, of kinds that could
be the same thing (``PLACE_FAMILIES``, ``ORGANISATION_FAMILIES``), and one of their names
(Danish, English, own-language or other name) is

- the same as one of the other's once case, accents, punctuation and generic words
  (``GENERIC_WORDS``: Kommune, Municipality, Region, University...) are left out, or
- close to it: one letter apart in names of four to eleven letters, two in longer ones.

Not paired: a record and its own parent (Odense in Odense Municipality), names whose
numbers differ (District 1, District 2), close names of two records whose own-language
names in another script differ (Suzhou 苏州 and Xuzhou 徐州; the same name still pairs two
Suzhous), and pairs staff marked as not duplicates. Partnerships pair up when they tie the
same participants.

Every record is read once (a fixed number of queries); names are compared through an
index per country of each name's one-letter deletions and of the first and last letters of
long names, never all pairs. Two long names with a typo both near their start and near
their end are missed.
"""

import re
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from operator import itemgetter

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext, ngettext
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from core.models import NotDuplicate
from core.text import identity
from organisations.models import Organisation, OrganisationName
from partnerships.models import Participant, Partnership
from places.models import Place, PlaceName

GENERIC_WORDS = {
    identity(word)
    for word in (
        "Kommune Kommunes Municipality Municipal Region Regional Regionen Regions "
        "University Universitet Universitetet City By Byen Province Provins Provinsen "
        "County Amt Län Prefecture District Shi Sheng of the and i og"
    ).split()
}
# Chinese names end in the kind of place: 苏州市 is 苏州 (city), 江苏省 is 江苏 (province).
GENERIC_ENDINGS = ("市", "省", "县", "区")
# (shortest length, letters that may differ), longest first; shorter names must match exactly.
EDIT_DISTANCES = [(12, 2), (4, 1)]
# Long names two letters apart are compared when their first or last letters agree.
AFFIX = 4

_WORDS = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\D+")

# Kinds that can name the same thing; a kind missing here pairs with any kind.
PLACE_FAMILIES = {
    Place.Kind.COUNTRY: "country",
    Place.Kind.STATE: "region",
    Place.Kind.PROVINCE: "region",
    Place.Kind.REGION: "region",
    Place.Kind.COUNTY: "region",
    Place.Kind.PROVINCE_LEVEL_CITY: "local",
    Place.Kind.CITY: "local",
    Place.Kind.MUNICIPALITY: "local",
    Place.Kind.DISTRICT: "local",
}
ORGANISATION_FAMILIES = {
    Organisation.Kind.UNIVERSITY: "research",
    Organisation.Kind.RESEARCH_INSTITUTE: "research",
    Organisation.Kind.HOSPITAL: "research",
    Organisation.Kind.COMPANY: "business",
    Organisation.Kind.BUSINESS_ASSOCIATION: "business",
    Organisation.Kind.NETWORK: "business",
    Organisation.Kind.GOVERNMENT_BODY: "public",
    Organisation.Kind.DIPLOMATIC_MISSION: "public",
}

SAME_NAME, SAME_WITHOUT_GENERIC_WORDS, CLOSE_NAMES, SAME_PARTICIPANTS = range(4)


def name_key(name):
    """What a name is compared by: its identity without generic words ('Ballerup')."""
    name = str(name or "")
    if name.isascii():  # what identity() leaves of an ASCII word, at a fraction of its cost
        words = _WORDS.split(name.lower())
    else:
        words = [identity(word) for word in _WORDS.split(name)]
    kept = "".join(word for word in words if word and word not in GENERIC_WORDS)
    key = kept or "".join(words)
    if key.isascii():
        return key
    for ending in GENERIC_ENDINGS:
        if key.endswith(ending) and len(key) > len(ending) + 1:
            return key[: -len(ending)]
    return key


def allowed_distance(length):
    for shortest, letters in EDIT_DISTANCES:
        if length >= shortest:
            return letters
    return 0


def deletions(key):
    """``key`` and every string made from it by deleting one letter."""
    return {key, *(key[:i] + key[i + 1 :] for i in range(len(key)))}


@dataclass
class Pair:
    model: type
    first_id: int
    second_id: int
    likeness: int
    names: tuple = ()
    letters: int = 0

    def reason(self):
        """Why the two look alike, in the active language."""
        first, second = (self.names + ("", ""))[:2]
        if self.likeness == SAME_NAME:
            return gettext("Same name: %(name)s") % {"name": first}
        if self.likeness == SAME_WITHOUT_GENERIC_WORDS:
            return gettext("Same name once words such as Municipality are left out: %(names)s") % {
                "names": f"{first} / {second}"
            }
        if self.likeness == CLOSE_NAMES:
            return ngettext(
                "Names %(count)d letter apart: %(names)s",
                "Names %(count)d letters apart: %(names)s",
                self.letters,
            ) % {"count": self.letters, "names": f"{first} / {second}"}
        return gettext("Same participants")


@dataclass
class Candidate:
    pk: int
    country: str
    family: str
    parent_id: int
    # {key: a name with that key}
    keys: dict
    native: str = ""


def decided_pairs(model):
    """Pairs staff marked as not duplicates, as (smaller id, larger id)."""
    return set(
        NotDuplicate.objects.filter(content_type=ContentType.objects.get_for_model(model))
        .values_list("first_id", "second_id")
        .order_by()
    )


def candidates(model, names_model, families):
    """Every place or organisation with its compared names: two queries."""
    other_names = defaultdict(list)
    field = f"{names_model.record_field}_id"
    for record_id, name in names_model.objects.order_by().values_list(field, "name"):
        other_names[record_id].append(name)
    records = []
    rows = model.objects.order_by().values_list(
        "pk", "country", "kind", "parent_id", "name_da", "name_en", "native_name"
    )
    for pk, country, kind, parent_id, name_da, name_en, native_name in rows:
        keys = {}
        named = {}
        for name in dict.fromkeys((name_en, name_da, native_name, *other_names.get(pk, ()))):
            key = named[name] = name_key(name)
            if key:
                keys.setdefault(key, name)
        native = named[native_name]
        # Only another script is independent of the Latin names: 苏州 tells Suzhou from
        # Xuzhou, 'Vejle Kommune' does not tell Vejle from Vejen.
        records.append(
            Candidate(
                pk,
                country,
                families.get(kind, ""),
                parent_id,
                keys,
                native if not native.isascii() else "",
            )
        )
    return records


def may_pair(first, second, decided):
    return (
        first.pk != second.pk
        and (not first.family or not second.family or first.family == second.family)
        and first.parent_id != second.pk
        and second.parent_id != first.pk
        and (min(first.pk, second.pk), max(first.pk, second.pk)) not in decided
    )


def close_in(group, decided, keep, model):
    """Keep the pairs of ``group``'s (record, key) whose keys are close enough."""
    keys = [key for _record, key in group]
    widest = EDIT_DISTANCES[0][1]
    for i, (first, first_key) in enumerate(group[:-1]):
        # rapidfuzz compares one key with the rest in C++: a group of long names that
        # begin alike ('shan…') can hold hundreds. Matches come in the group's order, so
        # the first pair found for two records is the same as with every pair compared.
        matches = process.extract(
            first_key,
            keys[i + 1 :],
            scorer=Levenshtein.distance,
            score_cutoff=widest,
            limit=None,
        )
        for _key, letters, j in sorted(matches, key=itemgetter(2)):
            second, second_key = group[i + 1 + j]
            if first_key == second_key or first.pk == second.pk:
                continue
            if first.native and second.native and first.native != second.native:
                continue
            if letters > allowed_distance(min(len(first_key), len(second_key))):
                continue
            if may_pair(first, second, decided):
                names = (first.keys[first_key], second.keys[second_key])
                keep(first, second, Pair(model, 0, 0, CLOSE_NAMES, names, letters))


def similar_records(model, names_model, families):
    """Pairs of places or organisations that may be one thing, strongest likeness first."""
    return pairs_among(model, candidates(model, names_model, families), decided_pairs(model))


def pairs_among(model, records, decided):
    """The pairs of ``records`` (``Candidate``s) that may be one thing, but for ``decided``."""
    found = {}

    def keep(first, second, pair):
        ids = (min(first.pk, second.pk), max(first.pk, second.pk))
        if ids not in found or (pair.likeness, pair.letters) < (
            found[ids].likeness,
            found[ids].letters,
        ):
            pair.first_id, pair.second_id = ids
            found[ids] = pair

    # Equal keys: an index of (country, key).
    same = defaultdict(list)
    for record in records:
        for key in record.keys:
            same[record.country, key].append(record)
    for (_country, key), group in same.items():
        for first, second in combinations(group, 2):
            if may_pair(first, second, decided):
                a, b = first.keys[key], second.keys[key]
                likeness = SAME_NAME if identity(a) == identity(b) else SAME_WITHOUT_GENERIC_WORDS
                keep(first, second, Pair(model, 0, 0, likeness, (a, b)))

    # Keys one letter apart share a one-letter deletion ('wuxi', 'wuxy': 'wux'); long keys
    # two letters apart almost always share their first or last letters as well. Keys with
    # other numbers never pair, so they are never compared ('Haidian 12', 'Haidian 13'):
    # names are indexed a block of (country, numbers) at a time, and a block of one
    # record's names needs no index at all (most of them, where names carry numbers).
    blocks = defaultdict(list)
    for record in records:
        for key in record.keys:
            if allowed_distance(len(key)):
                blocks[record.country, _DIGITS.sub("", key)].append((record, key))
    for entries in blocks.values():
        if len({record.pk for record, _key in entries}) < 2:
            continue
        # Each variant maps to the first entry that has it, and only a variant two entries
        # share gets a list: a list per variant made the garbage collector 40% of the time.
        first_with = {}
        shared = {}
        for index, (_record, key) in enumerate(entries):
            variants = deletions(key)
            if allowed_distance(len(key)) > 1:
                # Keys hold only letters and digits: '^' and '$' never clash with one.
                variants |= {"^" + key[:AFFIX], "$" + key[-AFFIX:]}
            for variant in variants:
                first = first_with.setdefault(variant, index)
                if first != index:
                    shared.setdefault(variant, [first]).append(index)
        for indexes in shared.values():
            close_in([entries[index] for index in indexes], decided, keep, model)
    return sorted(found.values(), key=lambda pair: (pair.likeness, pair.first_id, pair.second_id))


def similar_places():
    return similar_records(Place, PlaceName, PLACE_FAMILIES)


def similar_organisations():
    return similar_records(Organisation, OrganisationName, ORGANISATION_FAMILIES)


def same_participants():
    """Pairs of partnerships that tie exactly the same places and organisations."""
    decided = decided_pairs(Partnership)
    # A party is a number (a place's id doubled, an organisation's doubled plus one) and a
    # partnership's parties a sorted tuple of them: no object the garbage collector must
    # walk per row, 830 -> 650 ms for 275,000 participants. A party is in a partnership
    # at most once (the participant constraints).
    parties = defaultdict(list)
    rows = Participant.objects.order_by().values_list(
        "partnership_id", "place_id", "organisation_id"
    )
    for partnership_id, place_id, organisation_id in rows:
        parties[partnership_id].append(place_id * 2 if place_id else organisation_id * 2 + 1)
    groups = defaultdict(list)
    for partnership_id, party_list in parties.items():
        party_list.sort()
        groups[tuple(party_list)].append(partnership_id)
    pairs = [
        Pair(Partnership, first, second, SAME_PARTICIPANTS)
        for group in groups.values()
        for first, second in combinations(sorted(group), 2)
        if (first, second) not in decided
    ]
    return sorted(pairs, key=lambda pair: (pair.first_id, pair.second_id))


FINDERS = {
    Place: similar_places,
    Organisation: similar_organisations,
    Partnership: same_participants,
}
