import re
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.fields import Field
from import_export.widgets import ManyToManyWidget

from core.exports import ExportResource, join, sources_column
from core.models import Source
from core.text import search_key
from importing.engine import (
    CANDIDATES,
    NEW,
    UNCHANGED,
    UPDATED,
    ImportSpec,
    NamedRecordSpec,
    NameIndex,
)
from importing.readers import CellError, ChoiceReader, fold, parse_date, split_list
from organisations.models import Organisation, OrganisationName
from places.models import Place, PlaceName

from .models import MIN_PARTICIPANTS, Participant, Partnership, Theme


class PartnershipResource(ExportResource):
    """The columns of the partnerships spreadsheet; participants and themes by name."""

    participants = Field(column_name="participants", readonly=True)
    themes = Field(
        attribute="themes",
        column_name="themes",
        widget=ManyToManyWidget(Theme, separator="; ", field="name"),
    )
    source = sources_column()

    class Meta:
        model = Partnership
        import_id_fields = ["slug"]
        fields = [
            "slug",
            "title",
            "kind",
            "status",
            "participants",
            "start",
            "end",
            "themes",
            "description",
            "source",
        ]
        export_order = fields

    def export_queryset(self, queryset):
        return queryset.prefetch_related(
            Prefetch(
                "participants",
                queryset=Participant.objects.select_related("place", "organisation"),
            ),
            "themes",
            "sources",
        )

    def dehydrate_participants(self, partnership):
        # A role other than the usual 'partner' rides along so that it imports back.
        return join(
            participant.party
            if participant.role == Participant.Role.PARTNER
            else f"{participant.party} ({participant.role})"
            for participant in partnership.participants.all()
        )

    # The canonical text of a partial date ('1980s', 'c. 2008'), which the importer reads.
    def dehydrate_start(self, partnership):
        return str(partnership.start) if partnership.start else ""

    def dehydrate_end(self, partnership):
        return str(partnership.end) if partnership.end else ""


_ROLE_SUFFIX = re.compile(r"^(?P<name>.*?)\s*\((?P<role>[^()]*)\)$")


class PartnershipImportSpec(ImportSpec):
    """Reads the partnerships spreadsheet; see IMPORTING.md for the columns."""

    model = Partnership
    resource_class = PartnershipResource
    noun = gettext_lazy("partnership")
    required = ("kind", "participants")
    list_columns = ("participants", "themes", "source")
    plain_fields = ("title", "kind", "status", "start", "end", "description")
    header_aliases = {
        "titel": "title",
        "navn": "title",
        "type": "kind",
        "art": "kind",
        "deltagere": "participants",
        "parter": "participants",
        "start": "start",
        "begyndt": "start",
        "slut": "end",
        "ophørt": "end",
        "temaer": "themes",
        "tema": "themes",
        "beskrivelse": "description",
        "kilde": "source",
        "kilder": "source",
        "sources": "source",
    }

    def load(self):
        self.kinds = ChoiceReader(Partnership.Kind.choices)
        self.statuses = ChoiceReader(Partnership.Status.choices)
        self.roles = ChoiceReader(Participant.Role.choices)
        self.records = {record.pk: record for record in Partnership.objects.all()}
        self.by_slug = {record.slug: record for record in self.records.values()}
        self.taken_slugs = set(self.by_slug)
        self.by_title = defaultdict(list)
        for record in self.records.values():
            self.by_title[fold(record.title)].append(record)
        self.participants = defaultdict(list)
        for values in Participant.objects.values(
            "pk", "partnership_id", "place_id", "organisation_id", "role"
        ):
            self.participants[values["partnership_id"]].append(values)
        self.themes = self._links(Partnership.themes.through, "theme_id")
        self.sources = self._links(Partnership.sources.through, "source_id")

        self.place_index, self.place_slugs = NameIndex(_("place")), {}
        aliases = defaultdict(list)
        for owner, name in PlaceName.objects.values_list("place_id", "name"):
            aliases[owner].append(name)
        for pk, name, native, slug in Place.objects.values_list(
            "pk", "name", "native_name", "slug"
        ):
            self.place_index.add(pk, name, [native, *aliases[pk]], slug)
            self.place_slugs[pk] = slug
        self.organisation_index, self.organisation_slugs = NameIndex(_("organisation")), {}
        aliases = defaultdict(list)
        for owner, name in OrganisationName.objects.values_list("organisation_id", "name"):
            aliases[owner].append(name)
        for pk, name, short, native, slug in Organisation.objects.values_list(
            "pk", "name", "short_name", "native_name", "slug"
        ):
            self.organisation_index.add(pk, name, [short, native, *aliases[pk]], slug)
            self.organisation_slugs[pk] = slug
        self.theme_index, self.theme_names = NameIndex(_("theme")), {}
        for pk, name, name_da, slug in Theme.objects.values_list("pk", "name", "name_da", "slug"):
            self.theme_index.add(pk, name, [name_da], slug)
            self.theme_names[pk] = name
        self.source_index, self.source_titles = NameIndex(_("source")), {}
        for pk, title in Source.objects.values_list("pk", "title"):
            self.source_index.add(pk, title)
            self.source_titles[pk] = title

    def _links(self, through, column):
        links = defaultdict(set)
        for owner, other in through.objects.values_list("partnership_id", column):
            links[owner].add(other)
        return links

    def parse(self, row):
        self.parse_cells(
            row,
            {
                "slug": self.parse_slug,
                "title": None,
                "kind": self.kinds,
                "status": self.statuses,
                "participants": split_list,
                "start": parse_date,
                "end": parse_date,
                "themes": split_list,
                "description": None,
                "source": split_list,
            },
        )
        if "status" in row.values and row.values["status"] is None:
            row.values["status"] = Partnership.Status.UNKNOWN
        row.made_title = self.made_title(row)

    parse_slug = NamedRecordSpec.parse_slug

    def identify(self, row):
        slug = row.values.get("slug")
        if slug:
            row.existing = self.by_slug.get(slug)
            return (("pk", row.existing.pk) if row.existing else ("slug", slug)), "slug"
        title = row.values.get("title") or row.made_title
        if not title:
            return None
        matches = self.by_title.get(fold(title), [])
        if len(matches) > 1:
            row.error(
                "title",
                title,
                _("%(count)d partnerships have the title '%(title)s'; add a slug column")
                % {"count": len(matches), "title": title},
            )
            return None
        if matches:
            row.existing = matches[0]
            return ("pk", row.existing.pk), "title"
        return ("title", fold(title)), "title"

    def made_title(self, row):
        """A title from the participants' names when the row has none: 'Aarhus – Harbin'."""
        names = [self.split_role(text)[0] for text in row.values.get("participants") or []]
        return " – ".join(names)[:255]

    def split_role(self, text):
        match = _ROLE_SUFFIX.match(text)
        if match:
            try:
                return match["name"], self.roles(match["role"])
            except CellError:
                pass  # a name that itself ends in parentheses
        return text, Participant.Role.PARTNER

    def resolve(self, row):
        self.resolve_list(row, "themes", self.theme_index)
        self.resolve_list(row, "source", self.source_index)
        if not row.values.get("participants"):
            return
        parties, seen = [], set()
        for text in row.values["participants"]:
            name, role = self.split_role(text)
            try:
                kind, pk = self.resolve_party(name)
            except CellError as error:
                row.error("participants", text, str(error))
                continue
            if (kind, pk) in seen:
                row.error("participants", text, _("'%(value)s' is named twice") % {"value": name})
            seen.add((kind, pk))
            parties.append((kind, pk, role))
        row.values["participants"] = parties
        if len(seen) < MIN_PARTICIPANTS and not row.problems:
            row.error(
                "participants",
                row.cells["participants"],
                _("a partnership needs at least %(count)d participants")
                % {"count": MIN_PARTICIPANTS},
            )

    def resolve_party(self, name):
        prefix, _colon, rest = name.partition(":")
        if rest and prefix.strip().lower() in ("place", "sted"):
            return "place", self.place_index.resolve(rest.strip())
        if rest and prefix.strip().lower() in ("organisation", "organization"):
            return "organisation", self.organisation_index.resolve(rest.strip())
        places = self.place_index.matches(name)
        organisations = self.organisation_index.matches(name)
        found = [("place", pk) for pk in places] + [("organisation", pk) for pk in organisations]
        if len(found) == 1:
            return found[0]
        if not found:
            closest = sorted(
                {*self.place_index.closest(name), *self.organisation_index.closest(name)}
            )[:CANDIDATES]
            message = _("unknown place or organisation '%(value)s'") % {"value": name}
            if closest:
                message += " (" + _("closest: %(names)s") % {"names": ", ".join(closest)} + ")"
            raise CellError(message)
        names = [self.place_index.name_of(pk) for pk in places] + [
            self.organisation_index.name_of(pk) for pk in organisations
        ]
        raise CellError(
            _("'%(value)s' names more than one place or organisation (%(names)s); write the slug")
            % {"value": name, "names": ", ".join(sorted(names))}
        )

    def index(self, row):
        pass  # partnerships are never referred to by other rows

    def current(self, record):
        return {
            "slug": record.slug,
            "title": record.title,
            "kind": record.kind,
            "status": record.status,
            "start": record.start,
            "end": record.end,
            "description": (record.description or "").strip(),
            "participants": frozenset(
                (
                    "place" if party["place_id"] else "organisation",
                    party["place_id"] or party["organisation_id"],
                    party["role"],
                )
                for party in self.participants.get(record.pk, [])
            ),
            "themes": frozenset(self.themes.get(record.pk, ())),
            "source": frozenset(self.sources.get(record.pk, ())),
        }

    def check(self, rows):
        for row in rows:
            if row.problems:
                continue
            wanted = dict(row.values)
            for column in ("participants", "themes", "source"):
                if column in wanted:
                    wanted[column] = frozenset(wanted[column] or [])
            if not wanted.get("title"):
                wanted.pop("title", None)
            record = row.existing
            if record is None:
                record = Partnership(title=row.made_title)
            else:
                current = self.current(record)
                row.before = self.snapshot(record)
                row.changes = [
                    column
                    for column, value in wanted.items()
                    if column in current and current[column] != value
                ]
            row.instance = record
            for column in self.plain_fields:
                if column in wanted:
                    value = wanted[column]
                    setattr(
                        record,
                        column,
                        "" if value is None and column not in ("start", "end") else value,
                    )
            if wanted.get("slug"):
                record.slug = wanted["slug"]
            if row.existing is None:
                if not record.slug:
                    record.slug = self.new_slug(record.title, self.taken_slugs, "partnership")
                elif record.slug in self.taken_slugs:
                    row.error("slug", record.slug, _("another record uses this slug"))
                else:
                    self.taken_slugs.add(record.slug)
            self.validate_fields(row, record, {"title", "description", "start", "end"})
            if not row.problems:
                try:
                    record.clean()
                except ValidationError as error:
                    self.validation_error(row, error, "end")
            if row.problems:
                continue
            row.action = NEW if row.existing is None else UPDATED if row.changes else UNCHANGED

    def write(self, rows, batch, change_reason):
        from simple_history.utils import bulk_create_with_history, bulk_update_with_history

        # One moment for the whole import, in the records and in their history.
        self.now = now = timezone.now()
        new = [row for row in rows if row.action == NEW]
        updated = [row for row in rows if row.action == UPDATED]
        for row in new + updated:
            record = row.instance
            record.start_on = record.start.earliest if record.start else None
            record.end_on = record.end.latest if record.end else None
            record.search_key = search_key(record.all_names())
            record.updated_by, record.updated_at = self.user, now
            if row.action == NEW:
                record.created_by = self.user
        bulk_create_with_history(
            [row.instance for row in new],
            Partnership,
            batch_size=500,
            default_user=self.user,
            default_change_reason=change_reason,
            default_date=self.now,
        )
        if updated:
            bulk_update_with_history(
                [row.instance for row in updated],
                Partnership,
                fields=[
                    *self.plain_fields,
                    "slug",
                    "start_on",
                    "end_on",
                    "search_key",
                    "updated_by",
                    "updated_at",
                ],
                batch_size=500,
                default_user=self.user,
                default_change_reason=change_reason,
                default_date=self.now,
            )
        changed = new + updated
        self.write_participants(
            [row for row in changed if row.action == NEW or "participants" in row.changes],
            change_reason,
        )
        for column, through, other in (
            ("themes", Partnership.themes.through, "theme_id"),
            ("source", Partnership.sources.through, "source_id"),
        ):
            linked = [
                row
                for row in changed
                if column in row.values and (row.action == NEW or column in row.changes)
            ]
            through.objects.filter(
                partnership_id__in=[row.instance.pk for row in linked if row.action == UPDATED]
            ).delete()
            through.objects.bulk_create(
                [
                    through(partnership_id=row.instance.pk, **{other: pk})
                    for row in linked
                    for pk in row.values[column] or []
                ],
                batch_size=1000,
            )
        return []

    def write_participants(self, rows, change_reason):
        from simple_history.utils import bulk_create_with_history

        stale, new = [], []
        for row in rows:
            have = (
                {
                    (
                        "place" if party["place_id"] else "organisation",
                        party["place_id"] or party["organisation_id"],
                        party["role"],
                    ): party["pk"]
                    for party in self.participants.get(row.instance.pk, [])
                }
                if row.action == UPDATED
                else {}
            )
            wanted = row.values["participants"]
            stale += [pk for key, pk in have.items() if key not in wanted]
            for kind, pk, role in wanted:
                if (kind, pk, role) not in have:
                    new.append(
                        Participant(partnership_id=row.instance.pk, role=role, **{f"{kind}_id": pk})
                    )
        for participant in Participant.objects.filter(pk__in=stale):
            participant._change_reason = change_reason
            participant.delete()
        bulk_create_with_history(
            new,
            Participant,
            batch_size=500,
            default_user=self.user,
            default_change_reason=change_reason,
            default_date=self.now,
        )

    def snapshot(self, record):
        parties = []
        for party in self.participants.get(record.pk, []):
            if party["place_id"]:
                text = "place:" + self.place_slugs[party["place_id"]]
            else:
                text = "organisation:" + self.organisation_slugs[party["organisation_id"]]
            parties.append(f"{text} ({party['role']})")
        return {
            "slug": record.slug,
            "title": record.title,
            "kind": record.kind,
            "status": record.status,
            "participants": "; ".join(parties),
            "start": str(record.start or ""),
            "end": str(record.end or ""),
            "themes": "; ".join(self.theme_names[pk] for pk in self.themes.get(record.pk, ())),
            "description": record.description,
            "source": "; ".join(self.source_titles[pk] for pk in self.sources.get(record.pk, ())),
        }
