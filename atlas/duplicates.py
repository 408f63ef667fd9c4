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

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext, ngettext

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
    words = [identity(word) for word in _WORDS.split(str(name or ""))]
    kept = "".join(word for word in words if word and word not in GENERIC_WORDS)
    key = kept or "".join(words)
    for ending in GENERIC_ENDINGS:
        if key.endswith(ending) and len(key) > len(ending) + 1:
            return key[: -len(ending)]
    return key


def allowed_distance(length):
    return next((letters for shortest, letters in EDIT_DISTANCES if length >= shortest), 0)


def deletions(key):
    """``key`` and every string made from it by deleting one letter."""
    return {key, *(key[:i] + key[i + 1 :] for i in range(len(key)))}


def distance(first, second, limit):
    """The edit distance of two strings, or ``limit + 1`` once it exceeds ``limit``."""
    if abs(len(first) - len(second)) > limit:
        return limit + 1
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b)))
        if min(current) > limit:
            return limit + 1
        previous = current
    return min(previous[-1], limit + 1)


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
        for name in (name_en, name_da, native_name, *other_names.get(pk, ())):
            key = name_key(name)
            if key:
                keys.setdefault(key, name)
        native = name_key(native_name)
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


def similar_records(model, names_model, families):
    """Pairs of places or organisations that may be one thing, strongest likeness first."""
    decided = decided_pairs(model)
    records = candidates(model, names_model, families)
    found = {}

    def keep(first, second, pair):
        ids = (min(first.pk, second.pk), max(first.pk, second.pk))
        if ids not in found or pair.likeness < found[ids].likeness:
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
    # other numbers never pair, so they are never compared ('Haidian 12', 'Haidian 13').
    near = defaultdict(list)
    for record in records:
        for key in record.keys:
            letters = allowed_distance(len(key))
            if not letters:
                continue
            block = (record.country, _DIGITS.sub("", key))
            for variant in deletions(key):
                near[block, variant].append((record, key))
            if letters > 1:
                near[block, "^", key[:AFFIX]].append((record, key))
                near[block, "$", key[-AFFIX:]].append((record, key))
    compared = set()
    for group in near.values():
        if len(group) < 2:
            continue
        for (first, first_key), (second, second_key) in combinations(group, 2):
            if first_key == second_key or first.pk == second.pk:
                continue
            seen = (first.pk, first_key, second.pk, second_key)
            if seen in compared:
                continue
            compared.add(seen)
            if first.native and second.native and first.native != second.native:
                continue
            if not may_pair(first, second, decided):
                continue
            limit = allowed_distance(min(len(first_key), len(second_key)))
            letters = distance(first_key, second_key, limit)
            if letters <= limit:
                names = (first.keys[first_key], second.keys[second_key])
                keep(first, second, Pair(model, 0, 0, CLOSE_NAMES, names, letters))
    return sorted(found.values(), key=lambda pair: (pair.likeness, pair.first_id, pair.second_id))


def similar_places():
    return similar_records(Place, PlaceName, PLACE_FAMILIES)


def similar_organisations():
    return similar_records(Organisation, OrganisationName, ORGANISATION_FAMILIES)


def same_participants():
    """Pairs of partnerships that tie exactly the same places and organisations."""
    decided = decided_pairs(Partnership)
    parties = defaultdict(set)
    rows = Participant.objects.order_by().values_list(
        "partnership_id", "place_id", "organisation_id"
    )
    for partnership_id, place_id, organisation_id in rows:
        parties[partnership_id].add(("place", place_id) if place_id else ("org", organisation_id))
    groups = defaultdict(list)
    for partnership_id, party_set in parties.items():
        groups[frozenset(party_set)].append(partnership_id)
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
