"""The partnerships and themes spreadsheets: their columns, declared once."""

import re
from collections import defaultdict
from functools import partial

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import ParentsInDatabase, contains_itself
from core.text import unique_slug
from core.translation import DEFAULT_LANGUAGE, LANGUAGES, Localized, localized_field, translated
from importing.columns import (
    LIST_SEPARATOR,
    Column,
    ListColumn,
    ManyReference,
    Reference,
    RemoveSources,
    Slug,
    SourceReference,
    Sources,
    comma_separated,
    in_languages,
    listed_once,
    split_at_commas,
)
from importing.names import CANDIDATES, Names, identity
from importing.readers import CellError, ChoiceReader
from importing.rows import UPDATED
from importing.types import RecordType, drop_known_names, row_translations, stored_translations
from organisations.models import Organisation
from places.models import Place

from .models import Event, Participant, Partnership, Theme

# Other words Danish and English sheets use for a kind: a twinning directory's "twin
# town", the agreement a tie is named after ("søsterbyaftale"), an MoU.
KIND_WORDS = {
    Partnership.Kind.SISTER_CITY: [
        "søsterbyaftale",
        "søsterbysamarbejde",
        "twin town",
        "twin towns",
        "twin city",
        "twinning",
        "sister cities",
    ],
    Partnership.Kind.FRIENDSHIP_CITY: [
        "venskabsbyaftale",
        "venskabsbysamarbejde",
        "friendship cities",
    ],
    Partnership.Kind.COOPERATION_AGREEMENT: [
        "memorandum of understanding",
        "mou",
        "hensigtserklæring",
    ],
    Partnership.Kind.EXCHANGE_AGREEMENT: ["studenterudveksling", "student exchange"],
    Partnership.Kind.RESEARCH_COLLABORATION: ["forskningsprojekt", "research project"],
}

# Other words Danish and English sheets use for a status. "Under negotiation" is planned,
# as the registry counts it (DOMAIN: "planned or under negotiation").
STATUS_WORDS = {
    Partnership.Status.PLANNED: [
        "under forhandling",
        "forhandles",
        "i forhandling",
        "under negotiation",
        "negotiating",
        "proposed",
        "foreslået",
    ],
    Partnership.Status.ACTIVE: ["igangværende", "i gang", "løbende", "ongoing", "current"],
    Partnership.Status.ENDED: [
        "ophørt",
        "udløbet",
        "stoppet",
        "nedlagt",
        "lukket",
        "expired",
        "terminated",
        "closed",
        "former",
        "tidligere",
    ],
}

_ROLE_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\((?P<role>[^()]*)\)$")
PARTIES = {"place": "places.place", "organisation": "organisations.organisation"}
PREFIXES = {"place": "place", "sted": "place", "organisation": "organisation"}
PREFIXES["organization"] = "organisation"


def parties(job):
    """``{partnership pk: {(kind, place or organisation pk, role): participant pk}}``."""

    def load():
        found = defaultdict(dict)
        participants = Participant.objects.all()
        if job.exported is not None:
            participants = participants.filter(partnership__in=job.exported.values("pk"))
        for party in participants.values(
            "pk", "partnership_id", "place_id", "organisation_id", "role"
        ):
            kind = "place" if party["place_id"] else "organisation"
            key = (kind, party["place_id"] or party["organisation_id"], party["role"])
            found[party["partnership_id"]][key] = party["pk"]
        return found

    return job.cached("parties", load)


class Participants(ListColumn):
    """The places and organisations taking part, each maybe with its role in brackets:
    'Bycirklen (coordinator)'. Where a name fits both a place and an organisation, or
    several of either, 'place:' or 'organisation:' and the slug choose."""

    def __init__(self, name="participants", **kwargs):
        super().__init__(name, field="", **kwargs)
        self.roles = ChoiceReader(Participant.Role.choices)

    @property
    def label(self):
        return str(self._label or Participant._meta.verbose_name_plural)

    def split_role(self, text):
        match = _ROLE_SUFFIX.match(text)
        if match:
            try:
                return match["name"], self.roles(match["role"])
            except CellError:
                pass  # a name that itself ends in brackets
        return text, Participant.Role.PARTNER

    def resolve(self, value, row, job):
        parties, seen = [], set()
        split = partial(self.split_commas, job=job)
        for text in split_at_commas(value, split, row, self.name, job):
            name, role = self.split_role(text)
            try:
                kind, target = self.party(name, row, job)
            except CellError as error:
                row.error(self.name, text, listed_once(error, text))
                continue
            if (kind, target) in seen:
                row.error(self.name, text, _("'%(value)s' is named twice") % {"value": name})
            seen.add((kind, target))
            parties.append((kind, target, role))
        if not row.problems:
            try:
                Partnership.check_participant_count(len(seen))
            except ValidationError as error:
                row.error(self.name, row.cells.get(self.name, ""), " ".join(error.messages))
        return frozenset(parties)

    def split_commas(self, text, job):
        """The names between the commas of ``text`` when it names no party and each of
        them names one (``importing.columns.comma_separated``), none lying in another;
        else None."""
        if self.matches(self.split_role(text)[0], job) is not None:
            return None
        parts = comma_separated(text, lambda part: self.names_one(part, job))
        return None if parts is None or self.one_within_another(parts, job) else parts

    def one_within_another(self, names, job):
        """Whether a party ``names`` names lies in, or is based in, a place another names:
        "Wuxi, Jiangsu" or "Aarhus Universitet, Aarhus" says where one party is, and is
        not read as two. What it reads, it reads once an import, and only for a cell with
        commas."""
        parties = [self.matches(self.split_role(name)[0], job)[0][:2] for name in names]
        parent_of = job.cached("place parents", lambda: ParentsInDatabase(Place))
        based_in = job.cached(
            "organisations' places",
            lambda: dict(Organisation.objects.values_list("pk", "place_id")),
        )
        place_of = {(kind, pk): pk if kind == "place" else based_in.get(pk) for kind, pk in parties}
        return any(
            contains_itself(place_of[other], place_of[party], parent_of)
            for party in parties
            for other in parties
            if other != party and other[0] == "place"
        )

    def names_one(self, text, job):
        """Whether ``text`` (a role in brackets aside) names one place or organisation by
        its slug, name or other name."""
        found = self.matches(self.split_role(text)[0], job)
        return found is not None and len(found) == 1 and found[0][2] != "spelling"

    def matches(self, name, job):
        """[(kind, target, how)] of the parties ``name`` names best, None for none."""
        prefix, colon, rest = name.partition(":")
        kind = PREFIXES.get(prefix.strip().lower()) if colon else None
        if kind:
            targets, how = job.names(PARTIES[kind]).find(rest.strip())
            return [(kind, target, how) for target in targets] or None
        found = []
        for kind, label in PARTIES.items():
            targets, how = job.names(label).find(name)
            found.append((kind, targets, how))
        # A slug or a name beats another name or a loose spelling of the other kind.
        rank = {"slug": 0, "name": 1, "other name": 2, "spelling": 3}
        best = min((rank[how] for _kind, targets, how in found if targets), default=None)
        matches = [
            (kind, target, how)
            for kind, targets, how in found
            if targets and rank[how] == best
            for target in targets
        ]
        return matches or None

    def party(self, name, row, job):
        prefix, colon, rest = name.partition(":")
        kind = PREFIXES.get(prefix.strip().lower()) if colon else None
        if kind:
            return kind, job.resolve(PARTIES[kind], rest.strip(), row, self.name)
        matches = self.matches(name, job) or []
        if len(matches) == 1:
            kind, target, how = matches[0]
            if how == "spelling":
                job.resolve(PARTIES[kind], name, row, self.name)  # warns of the reading
            return kind, target
        if not matches:
            closest = sorted(
                {*job.names(PARTIES["place"]).closest(name)}
                | {*job.names(PARTIES["organisation"]).closest(name)}
            )[:CANDIDATES]
            message = _("unknown place or organisation '%(value)s'") % {"value": name}
            if closest:
                message += " (" + _("closest: %(names)s") % {"names": ", ".join(closest)} + ")"
            raise CellError(message)
        raise CellError(
            _(
                "'%(value)s' names more than one place or organisation: %(candidates)s; "
                "write place: or organisation: and the slug of the one you mean"
            )
            % {
                "value": name,
                "candidates": "; ".join(
                    sorted(
                        f"{kind}: {job.names(PARTIES[kind]).describe(target)}"
                        for kind, target, _how in matches
                    )
                ),
            }
        )

    def current(self, record, job):
        return frozenset(parties(job).get(record.pk, {}))

    def wanted(self, value, current, row, job):
        return frozenset(value or ())

    def show_item(self, item, job):
        kind, target, role = item
        name = job.names(PARTIES[kind]).name_of(target)
        if role == Participant.Role.PARTNER:
            return name
        return f"{name} ({Participant.Role(role).label})"

    def cell_item(self, item, job):
        kind, target, role = item
        names = job.names(PARTIES[kind])
        text = names.slug_reference(target) if job.slug_references else names.reference(target)
        other = job.names(PARTIES["organisation" if kind == "place" else "place"])
        if job.slug_references or other.find(text)[0] or text != names.name_of(target):
            text = f"{kind}:{names.slug_of(target)}"
        return text if role == Participant.Role.PARTNER else f"{text} ({role})"

    def show(self, value, job):
        return LIST_SEPARATOR.join(self.show_item(item, job) for item in self.ordered(value, job))

    def cell(self, value, job):
        return LIST_SEPARATOR.join(self.cell_item(item, job) for item in self.ordered(value, job))

    def ordered(self, value, job):
        return sorted(
            value or (),
            key=lambda item: (
                job.names(PARTIES[item[0]]).name_of(item[1]),
                job.names(PARTIES[item[0]]).slug_of(item[1]),
                item[0],
                item[2],
            ),
        )

    def write(self, rows, job):
        stale, new = [], []
        for row in job.changed_rows(rows, self.name):
            have = parties(job).get(row.instance.pk, {}) if row.action == UPDATED else {}
            wanted = {
                (kind, job.pk_of(target), role) for kind, target, role in row.wanted[self.name]
            }
            stale += [pk for key, pk in have.items() if key not in wanted]
            for kind, pk, role in sorted(wanted):
                if (kind, pk, role) not in have:
                    new.append(
                        Participant(partnership_id=row.instance.pk, role=role, **{f"{kind}_id": pk})
                    )
        for participant in Participant.objects.filter(pk__in=stale):
            participant._change_reason = job.change_reason
            participant._history_user = job.user
            participant.delete()
        job.bulk_create(Participant, new)
        return []


class ThemeType(RecordType):
    model = Theme
    noun = gettext_lazy("theme")
    columns = [
        Slug(),
        *in_languages("name", aliases=["navn"], required=True),
        *in_languages("description", aliases=["beskrivelse"]),
    ]

    def load(self):
        super().load()
        self.by_slug = {theme.slug: theme for theme in self.records.values()}
        self.by_identity = defaultdict(list)
        for theme in self.records.values():
            for name in {identity(name) for name in stored_translations(theme, "name").values()}:
                self.by_identity[name].append(theme)

    @classmethod
    def build_names(cls, job):
        names = Names(Theme._meta.verbose_name)
        fields = [localized_field("name", code) for code in LANGUAGES]
        for pk, slug, *translations in Theme.objects.values_list("pk", "slug", *fields):
            names.add(pk, dict(zip(LANGUAGES, translations, strict=True)), [], slug)
        return names

    def identify(self, row):
        slug, given = row.values.get("slug"), row_translations(row.values, "name")
        if slug:
            row.existing = self.by_slug.get(slug)
        elif given:
            found = {
                theme.pk: theme
                for name in given.values()
                for theme in self.by_identity.get(identity(name), [])
            }
            if len(found) == 1:
                row.existing = next(iter(found.values()))
                drop_known_names(row.values, "name", row.existing)
        if row.existing:
            row.key = ("pk", row.existing.pk)
        else:
            row.key = ("name", tuple(sorted(identity(n) for n in given.values())) or slug)

    def index(self, row):
        given = row_translations(row.values, "name")
        if row.existing is None and given:
            self.job.names(self.label).add(row, given, [], row.values.get("slug", ""))

    @classmethod
    def export_queryset(cls, queryset):
        return queryset.order_by(Localized("name").asc(), "slug")

    def derive(self, row, instance):
        if not instance.slug:
            name = translated(instance, "name", DEFAULT_LANGUAGE)[0]
            instance.slug = unique_slug(None, name, "theme", taken=self.job.slugs)
            self.job.slugs.add(instance.slug)


class PartnershipType(RecordType):
    model = Partnership
    identity_column = "participants"
    noun = gettext_lazy("partnership")
    columns = [
        Slug(),
        *in_languages("title", aliases=["titel", "navn"]),
        Column(
            "kind",
            required=True,
            aliases=["type", "art"],
            reader=ChoiceReader(Partnership.Kind.choices, synonyms=KIND_WORDS),
        ),
        Column(
            "status",
            empty=Partnership.Status.UNKNOWN,
            reader=ChoiceReader(Partnership.Status.choices, synonyms=STATUS_WORDS),
        ),
        Column("status_as_of", aliases=["status pr.", "status per", "status bekræftet"]),
        Participants(required=True, aliases=["deltagere", "parter"]),
        Column("start", aliases=["begyndt"]),
        Column("end", aliases=["slut", "ophørt"]),
        ManyReference("themes", target="partnerships.theme", aliases=["temaer", "tema"]),
        *in_languages("description", aliases=["beskrivelse"]),
        Sources(aliases=["kilde", "kilder", "sources"]),
        RemoveSources(aliases=["fjern kilde", "fjern kilder"]),
    ]
    covered_fields = ["sources", "themes"]
    excluded_fields = {
        # A review is a person confirming the record in the admin, not a fact a file holds.
        "last_reviewed_on": "review",
    }
    # Participants' notes are edited in the admin; the cell holds each party and role.

    def load(self):
        super().load()
        self.by_slug = {record.slug: record for record in self.records.values()}
        self.by_parties = defaultdict(list)
        stored = parties(self.job)
        for record in self.records.values():
            key = frozenset((kind, pk) for kind, pk, _role in stored.get(record.pk, {}))
            self.by_parties[key].append(record)

    def identify_late(self, row):
        values, job = row.values, self.job
        slug = values.get("slug")
        parties = frozenset(
            (kind, job.pk_or_row(target)) for kind, target, _role in values.get("participants", ())
        )
        same_parties = [
            record for record in self.by_parties.get(parties, ()) if not slug or record.slug == slug
        ]
        if slug:
            row.existing = self.by_slug.get(slug)
            row.key = ("pk", row.existing.pk) if row.existing else ("slug", slug)
        else:
            kind = values.get("kind")
            candidates = [record for record in same_parties if record.kind == kind]
            if len(candidates) > 1:
                row.error(
                    "participants",
                    row.cells.get("participants", ""),
                    _(
                        "%(count)d partnerships of this kind tie these participants: "
                        "%(candidates)s; add a slug column and write the slug of the one "
                        "you mean"
                    )
                    % {
                        "count": len(candidates),
                        "candidates": "; ".join(
                            sorted(f"{record.title} (slug {record.slug})" for record in candidates)
                        ),
                    },
                )
                return
            if candidates:
                row.existing = candidates[0]
                row.notes.append(
                    _("matched %(record)s (slug %(slug)s) by its participants and kind")
                    % {"record": row.existing.title, "slug": row.existing.slug}
                )
            row.key = ("pk", row.existing.pk) if row.existing else ("parties", kind, parties)
        if not row_translations(values, "title"):
            # No title in any language: a new partnership is named after its participants.
            for code in LANGUAGES:
                values.pop(localized_field("title", code), None)
                if row.existing is None:
                    title = self.made_title(values.get("participants", ()), code)
                    values[localized_field("title", code)] = title
        row.same_parties = [record for record in same_parties if record is not row.existing]

    def made_title(self, parties, language):
        """'Aarhus – Harbin': the participants' names in ``language``."""
        column = self.by_name["participants"]
        names = [
            self.job.names(PARTIES[kind]).name_of(target, language)
            for kind, target, _role in column.ordered(parties, self.job)
        ]
        return " – ".join(names)[:255]

    def warn(self, row):
        for record in getattr(row, "same_parties", []):
            row.warn(
                _(
                    "possible duplicate: %(record)s (slug %(slug)s, %(kind)s) ties the same "
                    "participants; if it is the same partnership, write its slug"
                )
                % {"record": record.title, "slug": record.slug, "kind": record.get_kind_display()}
            )

    def names_for_search(self, row, instance):
        return None

    @classmethod
    def export_queryset(cls, queryset):
        return queryset.order_by(Localized("title").asc(), "slug")

    @classmethod
    def build_names(cls, job):
        names = Names(Partnership._meta.verbose_name)
        kinds = dict(Partnership.Kind.choices)
        fields = [localized_field("title", code) for code in LANGUAGES]
        for pk, slug, kind, *titles in Partnership.objects.values_list(
            "pk", "slug", "kind", *fields
        ):
            names.add(
                pk, dict(zip(LANGUAGES, titles, strict=True)), [], slug, str(kinds.get(kind, kind))
            )
        return names


class EventType(RecordType):
    """What happened in each partnership, on its timeline."""

    model = Event
    noun = gettext_lazy("event")
    identity_column = "partnership"
    columns = [
        Reference(
            "partnership",
            target="partnerships.partnership",
            required=True,
            aliases=["partnerskab", "samarbejde"],
        ),
        Column("date", aliases=["dato"]),
        Column("kind", required=True, aliases=["type", "art"]),
        *in_languages("text", aliases=["what happened", "hvad skete", "tekst"], required=True),
        Reference("place", target="places.place", aliases=["where", "sted", "hvor"]),
        SourceReference(cites_import=False, aliases=["kilde"]),
    ]

    def load(self):
        super().load()
        self.by_key = {
            self.key_of(event.partnership_id, event.kind, event.date, text): event
            for event in self.records.values()
            for text in stored_translations(event, "text").values()
        }

    @staticmethod
    def key_of(partnership, kind, date, text):
        return (partnership, kind, str(date or ""), identity(text))

    def identify_late(self, row):
        values = row.values
        keys = [
            self.key_of(
                self.job.pk_or_row(values.get("partnership")),
                values.get("kind"),
                values.get("date"),
                text,
            )
            for text in row_translations(values, "text").values() or [""]
        ]
        row.existing = next((self.by_key[key] for key in keys if key in self.by_key), None)
        row.key = ("pk", row.existing.pk) if row.existing else keys[0]
        if row.existing is not None:
            # The text finds the event; a new spelling of it does not rewrite it.
            drop_known_names(values, "text", row.existing)

    def derive(self, row, instance):
        instance.derive()

    @classmethod
    def export_queryset(cls, queryset):
        return queryset.order_by(
            Localized("partnership__title").asc(),
            "partnership__slug",
            "date_on",
            "date",
            "kind",
            Localized("text").asc(),
        )


# The django-import-export resources, for the public CSV download.
PartnershipResource = PartnershipType.resource()
ThemeResource = ThemeType.resource()
EventResource = EventType.resource()
