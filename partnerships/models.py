import random
from types import SimpleNamespace

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Value
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.cache import per_version, read_once
from core.dates import parse_or_none
from core.fields import PartialDateField, RowIdField
from core.links import slug_url
from core.models import (
    DerivedQuerySet,
    Publishable,
    RecordQuerySet,
    Source,
    StampedQuerySet,
    Tidied,
)
from core.search import RowsById, any_of, id_list
from core.translation import Localized, localized_indexes
from core.versioning import VersionedQuerySet
from organisations.models import Organisation
from places.models import Place

# A partnership ties at least this many participants together.
MIN_PARTICIPANTS = 2
# The facet (``partnerships.facets``) of every place a partnership's parties are in, at
# any depth: a place itself, where an organisation is based, and each place those lie in.
# A place's page counts its ties from it and the list's place filter reads them by it
# (``within()``): collecting them through the participants of every place below took
# 0.1-0.2 s for a country at 100,000 partnerships.
WITHIN = "within"
# Places with at most this many ties, kept counted, have their ids read first
# (``ties_within``).
READ_FIRST = 5000


class Theme(Tidied):
    """The managed list of subjects a partnership can be about."""

    name = models.CharField(_("name"), max_length=100)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    # Its version, as a record's (``core.models.stored_version``): an editor's save over a
    # colleague's made since the page was opened is stopped (``core.admin``).
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("last changed by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = StampedQuerySet.as_manager()

    class Meta:
        verbose_name = _("theme")
        verbose_name_plural = _("themes")
        ordering = [Localized("name").asc()]

    def __str__(self):
        return self.name

    def all_names(self):
        return [self.name_da, self.name_en, self.slug]


def _within(place_ids):
    """The ``WITHIN`` values of the places of ``place_ids``."""
    return FacetValue.objects.filter(facet=WITHIN, value__in=[str(pk) for pk in place_ids])


def ties_within(place_ids, held=None):
    """For ``pk__in=``: the partnerships ``within()`` the places, drafts too, of which the
    kept counts say ``held`` (None: not known).

    With at most ``READ_FIRST``, their ids are read at once and handed on as one
    parameter; otherwise a subquery. As a subquery, PostgreSQL guessed 6,044 rows where a
    province had 548, and read every partnership to join them: a province's list took
    187 ms instead of 82.
    """
    rows = _within(place_ids)
    if held is not None and held <= READ_FIRST:
        return id_list(list(rows.values_list("partnership_id", flat=True)))
    return rows.values("partnership_id")


def ties_within_kept(place_ids, held=None):
    """``ties_within(place_ids, held)``: their ids, when read at once, kept by each worker
    under the counts version (``core.cache.read_once``), which any change to the places a
    partnership lies in moves. A place's page, its network and the list of its ties read
    them after every write."""
    if held is None or held > READ_FIRST:
        return ties_within(place_ids, held)  # a subquery
    key = ("ties-within", tuple(sorted(place_ids)))
    return read_once("counts", key, lambda: ties_within(place_ids, held))


# What a card names of a participant's place or organisation, and of a theme; each is
# read into a SimpleNamespace.
SHOWN_PARTY = ("slug", "country", "name_da", "name_en")
SHOWN_THEME = ("name_da", "name_en")


def _card_ties(ids):
    return (
        Participant.objects.filter(partnership_id__in=ids)
        .order_by(*Participant._meta.ordering)
        .values_list("partnership_id", "place_id", "organisation_id")
    )


def _card_parties(place_ids, organisation_ids, using):
    """{("place", id): (None, *SHOWN_PARTY), ("organisation", id): (the id of the place it
    is based in, *SHOWN_PARTY)} of the places and organisations of ``place_ids`` and
    ``organisation_ids``.

    Kept for each set of them until places or organisations change (``per_version``): a
    write to a partnership leaves its parties as they were. Read with the participants,
    each party's columns looked up by its key, the participants of twenty cards took
    PostgreSQL 1 ms at 10,000 partnerships; joined, it hashed every place and
    organisation."""

    def read():
        # One query for both: on a page that keeps nothing (the page cache off), the
        # cards then cost one more query than when their parties were read with the
        # participants, not two.
        places = (
            Place.objects.using(using)
            .filter(pk__in=id_list(place_ids))
            .annotate(party=Value("place"), based_in=Value(None, models.BigIntegerField()))
            .order_by()
            .values_list("party", "pk", "based_in", *SHOWN_PARTY)
        )
        organisations = (
            Organisation.objects.using(using)
            .filter(pk__in=id_list(organisation_ids))
            .annotate(party=Value("organisation"))
            .order_by()
            .values_list("party", "pk", "place_id", *SHOWN_PARTY)
        )
        return {(party, pk): shown for party, pk, *shown in places.union(organisations, all=True)}

    return per_version(
        "card-parties",
        [sorted(place_ids), sorted(organisation_ids)],
        read,
        of=("places", "organisations"),
    )


# The participants and themes of the cards' partnerships, in the order the models give.
_CARD_PARTICIPANTS = RowsById(_card_ties)
_CARD_THEMES = RowsById(
    lambda ids: (
        Partnership.themes.through.objects.filter(partnership_id__in=ids)
        .order_by(Localized("theme__name").asc(), "theme_id")
        .values_list("partnership_id", *(f"theme__{name}" for name in SHOWN_THEME))
    )
)


def attach_card_parts(partnerships):
    """Set each partnership's ``participants_shown`` (each with its ``party``, the
    place's or organisation's ``SHOWN_PARTY``, and the ``organisation_place_id`` it is
    based in) and ``themes_shown``, in the order the models give them.

    Read as plain rows: as model instances, through ``prefetch_related``, the 55
    participants of twenty cards with their parties took 4.0 ms of CPU to load at 10,000
    partnerships, against 0.7 ms so, and their themes 1.1 ms. Their SQL is compiled once
    (``RowsById``): 1.2 ms on PostgreSQL and 0.7 ms on SQLite instead of 2.4 and 1.2. The
    parties themselves are kept until they change (``_card_parties``).
    """
    if not partnerships:
        return
    ids = [partnership.pk for partnership in partnerships]
    using = partnerships[0]._state.db
    participants, themes = {}, {}
    ties = _CARD_PARTICIPANTS.rows(ids, using)
    parties = _card_parties(
        {place_id for _p, place_id, _o in ties if place_id},
        {organisation_id for _p, _pl, organisation_id in ties if organisation_id},
        using,
    )
    for partnership_id, place_id, organisation_id in ties:
        shown = parties.get(("place", place_id) if place_id else ("organisation", organisation_id))
        if shown is None:
            continue  # deleted since its participant was read, as a join would leave it out
        organisation_place_id, *party = shown
        participants.setdefault(partnership_id, []).append(
            SimpleNamespace(
                place_id=place_id,
                organisation_id=organisation_id,
                organisation_place_id=organisation_place_id,
                party=SimpleNamespace(**dict(zip(SHOWN_PARTY, party, strict=True))),
            )
        )
    for partnership_id, *names in _CARD_THEMES.rows(ids, using):
        themes.setdefault(partnership_id, []).append(
            SimpleNamespace(**dict(zip(SHOWN_THEME, names, strict=True)))
        )
    for partnership in partnerships:
        partnership.participants_shown = participants.get(partnership.pk, [])
        partnership.themes_shown = themes.get(partnership.pk, [])


def new_revision():
    """A partnership's revision after a write: random, so that a value names one state of
    one row, where a counter would give the same values again after a restore of an older
    backup."""
    return random.getrandbits(62)


class PartnershipQuerySet(RecordQuerySet):
    def update(self, **kwargs):
        # Any column may be one a card or the API shows (``Partnership.revision``).
        kwargs.setdefault("revision", new_revision())
        return super().update(**kwargs)

    def attach_card_parts(self, records):
        # A card lists the participants and themes.
        attach_card_parts(records)

    def for_place(self, place, include_sub_places=True):
        """Partnerships of a place and, by default, of the places and organisations in it."""
        if include_sub_places:
            return self.within([place.pk])
        return self.for_places([place.pk])

    def within(self, place_ids, among=None):
        """Partnerships with a participant that is one of the places, lies in one at any
        depth, or is based in one: the same as ``for_places`` given the places and every
        place below them, read from the values the facet keeper keeps (``facets.WITHIN``).

        ``among`` (ids, or a subquery of them) limits the search to those partnerships,
        tested by their own values rather than by collecting every tie of a country.
        """
        if among is None:
            return self.filter(pk__in=ties_within(place_ids))
        rows = _within(place_ids).filter(partnership_id__in=among)
        return self.filter(pk__in=among).filter(pk__in=rows.values("partnership_id"))

    def for_places(self, place_ids, among=None):
        """Partnerships with a participant that is one of the places or is based in one.

        ``among`` (ids, or a subquery of them) limits the search to those partnerships: the
        few read from the front of a country's list are tested through their own
        participants, where the whole set of the country's ties took 0.1–0.2 s to collect.
        """
        # Subqueries rather than a join, so that no partnership comes back twice and the
        # result still combines with other filters on participants. Organisations first,
        # by their own index, rather than joining every participant to its organisation.
        # Two subqueries, each read from its own index of participants: one with an OR
        # scans every participant (three times slower for a country). Their union, not
        # an OR of the two: PostgreSQL guessed that an OR of two IN matched three
        # quarters of the registry and read every partnership and event to find a
        # province's 548 (a province's page at 100,000 partnerships: 395 → 97 ms).
        queryset, participants = self._among(among)
        if isinstance(place_ids, list | tuple | set):
            place_ids = id_list(place_ids)  # a country's thousands as one parameter
        based_there = Organisation.objects.filter(place_id__in=place_ids).values("pk")
        return queryset.filter(
            pk__in=any_of(
                participants.filter(place_id__in=place_ids).values("partnership_id"),
                participants.filter(organisation_id__in=based_there).values("partnership_id"),
            )
        )

    def _among(self, among):
        """This queryset and the participants to search, both limited to ``among``."""
        if among is None:
            return self, Participant.objects.all()
        return self.filter(pk__in=among), Participant.objects.filter(partnership_id__in=among)

    def matching(self, terms):
        """Partnerships whose title, or a name of one of their participants, holds each term.

        Every term must match, but not necessarily the same name: 'aarhus harbin' finds the
        partnership between Aarhus and Harbin whatever its title says.
        """
        each = []
        for term in terms:
            # Find the few places and organisations named first, then their ties: far
            # cheaper than testing every participant of every partnership for the term.
            places = Place.objects.matching([term]).values("pk")
            organisations = Organisation.objects.matching([term]).values("pk")
            each.append(
                any_of(
                    Partnership.objects.filter(search_key__contains=term).values("pk"),
                    Participant.objects.filter(place__in=places).values("partnership_id"),
                    Participant.objects.filter(organisation__in=organisations).values(
                        "partnership_id"
                    ),
                )
            )
        if not each:
            return self
        # Several words: the ids every word's UNION holds, joined to the table once.
        return self.filter(pk__in=each[0].intersection(*each[1:]) if each[1:] else each[0])

    def for_organisations(self, organisations, among=None):
        """Partnerships in which one of ``organisations`` (records or a queryset) takes
        part; ``among`` as for ``for_places``."""
        queryset, participants = self._among(among)
        return queryset.filter(
            pk__in=participants.filter(organisation__in=organisations).values("partnership_id")
        )


class Partnership(Publishable):
    class Kind(models.TextChoices):
        SISTER_CITY = "sister_city", _("sister city")
        FRIENDSHIP_CITY = "friendship_city", _("friendship city")
        COOPERATION = "cooperation", _("cooperation")
        COOPERATION_AGREEMENT = "cooperation_agreement", _("cooperation agreement")
        EXCHANGE_AGREEMENT = "exchange_agreement", _("exchange agreement")
        RESEARCH_COLLABORATION = "research_collaboration", _("research collaboration")
        JOINT_CENTRE = "joint_centre", _("joint centre")
        OFFICE = "office", _("office")
        PROGRAMME = "programme", _("programme")
        OTHER = "other", _("other")

    class Status(models.TextChoices):
        PLANNED = "planned", _("planned")
        ACTIVE = "active", _("active")
        ENDED = "ended", _("ended")
        UNKNOWN = "unknown", _("unknown")

    title = models.CharField(
        _("title"),
        max_length=255,
        help_text=_("A short name people would recognise, e.g. 'Aarhus–Harbin friendship city'."),
    )
    slug = models.SlugField(
        _("slug"),
        max_length=100,
        unique=True,
        blank=True,
        help_text=_("The record's web address. Filled in from the title if left empty."),
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.UNKNOWN
    )
    status_as_of = PartialDateField(
        _("status as of"),
        null=True,
        blank=True,
        help_text=_(
            "When a source last confirmed the status, as precise as the source is: 2012, "
            "2012-05. An active or planned status not confirmed for five years shows as "
            "unconfirmed."
        ),
    )
    start = PartialDateField(_("start"), null=True, blank=True)
    end = PartialDateField(_("end"), null=True, blank=True)
    # The first day the start may mean and the last day the end may mean, so that
    # vague dates sort, filter and compare without pretending to be precise.
    start_on = models.DateField(null=True, blank=True, editable=False)
    end_on = models.DateField(null=True, blank=True, editable=False)
    # The first day the status confirmation may mean, for "as of" views in SQL.
    status_as_of_on = models.DateField(null=True, blank=True, editable=False)
    themes = models.ManyToManyField(
        Theme, verbose_name=_("themes"), blank=True, related_name="partnerships"
    )
    description = models.TextField(_("description"), blank=True)
    sources = models.ManyToManyField(
        Source, verbose_name=_("sources"), blank=True, related_name="partnerships"
    )
    # Moved by every write to what its card and its API representation show besides the
    # places' and organisations' own fields: its own columns, its participants, themes,
    # sources and events (``partnerships.revisions``). Those are kept under it, and
    # outlive the writes to every other partnership (``partnerships.cards.kept_cards``).
    # None until its first write after the column was added: a NOT NULL column made
    # SQLite copy the table, which drops its search index.
    revision = models.BigIntegerField(null=True, default=new_revision, editable=False)
    # Fields that name a state for the caches, no one's change: a fixture loaded again
    # changes nothing (``core.history``); not editable, no history's changes list them.
    cache_fields = ("revision",)

    slug_from = "title"
    search_indexed = True
    # Why a search found it ("in Jiangsu: Wuxi"), set on the search's results
    # (PartnershipFilter.search_groups) and shown on their cards. Empty on any other: a
    # card asking for a missing attribute made the template engine list every attribute
    # of the record (dir()) to tell it from a broken property.
    found_via = ""
    objects = PartnershipQuerySet.as_manager()

    class Meta:
        verbose_name = _("partnership")
        verbose_name_plural = _("partnerships")
        ordering = [Localized("title").asc()]
        # What the lists and the home page sort and count by: a page of them is read
        # from an index instead of sorting or grouping every row.
        indexes = [
            *localized_indexes("title", "partnership", covering=True),
            # A list of one kind and one status (?kind=sister_city&status=active), in
            # order: at 100,000 partnerships its first page read and sorted the 2,519 it
            # keeps, 3.4 ms on SQLite, where this index hands over the first twenty.
            *localized_indexes(
                "title", "partnership_ks", covering=True, leading=["publication", "kind", "status"]
            ),
            models.Index(fields=["-updated_at"], name="partnership_updated_idx"),
            models.Index(fields=["-last_reviewed_on"], name="partnership_reviewed_idx"),
            models.Index(fields=["start_on"], name="partnership_start_idx"),
            # Also covers the chart of starts per year and kind: one pass over the index.
            # Publication first: the public counts only published partnerships, and an
            # index without it no longer covers their query. The days a status was
            # confirmed and a tie ended are the rest of what "as of" reads
            # (partnerships.as_of): with them every count of such a list reads the index
            # alone, 117 ms of CPU a list at 100,000 partnerships before, 73 after.
            models.Index(
                fields=["publication", "kind", "status", "start_on", "start"]
                + ["status_as_of_on", "end_on"],
                name="partnership_counts_idx",
            ),
            # On PostgreSQL also (status, id): partnerships_0015 says why.
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_on__isnull=True)
                | models.Q(end_on__isnull=True)
                | models.Q(end_on__gte=models.F("start_on")),
                name="partnership_end_not_before_start",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        # Reversed once per language, not once per card (core.links).
        return slug_url("partnerships:partnership-detail", self.slug)

    derived_fields = ("search_key", "start_on", "end_on", "status_as_of_on", "revision")
    derived_from = frozenset({"title", "start", "end", "status_as_of"})

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            # derive() moves the revision: it is written with whatever else is.
            kwargs["update_fields"] = {*update_fields, "revision"}
        super().save(*args, **kwargs)

    def all_names(self):
        return [self.title_da, self.title_en]

    def clean(self):
        super().clean()
        if self.start and self.end and self.end.latest < self.start.earliest:
            raise ValidationError(
                {
                    "end": _("The end (%(end)s) lies before the start (%(start)s).")
                    % {"end": self.end, "start": self.start}
                }
            )
        if self.status == self.Status.PLANNED and self.end:
            raise ValidationError(
                {
                    "end": _(
                        "A planned partnership has not ended; clear the end or change the status."
                    )
                }
            )

    def derive(self, names=None, taken_slugs=None):
        super().derive(names=names, taken_slugs=taken_slugs)
        # parse_or_none raises a ValidationError for text that is no date at all.
        start, end = parse_or_none(self.start), parse_or_none(self.end)
        self.start_on = start.earliest if start else None
        self.end_on = end.latest if end else None
        status_as_of = parse_or_none(self.status_as_of)
        self.status_as_of_on = status_as_of.earliest if status_as_of else None
        self.revision = new_revision()

    @staticmethod
    def check_participant_count(count):
        """The one rule on how many parties a partnership ties; every write path calls it."""
        if count < MIN_PARTICIPANTS:
            raise ValidationError(
                _("A partnership needs at least %(count)d participants.")
                % {"count": MIN_PARTICIPANTS},
                code="too_few_participants",
            )


class Participant(Tidied):
    """One party to a partnership: exactly one place or one organisation."""

    class Role(models.TextChoices):
        PARTNER = "partner", _("partner")
        HOST = "host", _("host")
        COORDINATOR = "coordinator", _("coordinator")
        FUNDER = "funder", _("funder")
        MEMBER = "member", _("member")

    partnership = models.ForeignKey(
        Partnership,
        verbose_name=_("partnership"),
        on_delete=models.CASCADE,
        related_name="participants",
    )
    place = models.ForeignKey(
        Place,
        verbose_name=_("place"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="participations",
    )
    role = models.CharField(_("role"), max_length=12, choices=Role.choices, default=Role.PARTNER)
    note = models.CharField(_("note"), max_length=255, blank=True)

    objects = VersionedQuerySet.as_manager()
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        ordering = ["pk"]
        # The ties of places and organisations come from these alone, without the rows.
        indexes = [
            models.Index(fields=["place", "partnership"], name="participant_place_tie_idx"),
            models.Index(fields=["organisation", "partnership"], name="participant_org_tie_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(place__isnull=False, organisation__isnull=True)
                | models.Q(place__isnull=True, organisation__isnull=False),
                name="participant_place_xor_organisation",
            ),
            models.UniqueConstraint(
                fields=["partnership", "place"],
                condition=models.Q(place__isnull=False),
                name="participant_unique_place",
            ),
            models.UniqueConstraint(
                fields=["partnership", "organisation"],
                condition=models.Q(organisation__isnull=False),
                name="participant_unique_organisation",
            ),
        ]

    def __str__(self):
        return str(self.party)

    @property
    def party(self):
        return self.place or self.organisation

    def clean(self):
        super().clean()
        if (self.place_id is None) == (self.organisation_id is None):
            raise ValidationError(
                _("Choose either a place or an organisation for each participant, not both."),
                code="place_xor_organisation",
            )


class Event(Tidied):
    """Something that happened in a partnership, on the timeline."""

    class Kind(models.TextChoices):
        SIGNING = "signing", _("signing")
        DELEGATION_VISIT = "delegation_visit", _("delegation visit")
        CONFERENCE = "conference", _("conference")
        MEETING = "meeting", _("meeting")
        OFFICE_OPENED = "office_opened", _("office opened")
        OFFICE_CLOSED = "office_closed", _("office closed")
        PROJECT = "project", _("project")
        OTHER = "other", _("other")

    partnership = models.ForeignKey(
        Partnership, verbose_name=_("partnership"), on_delete=models.CASCADE, related_name="events"
    )
    date = PartialDateField(_("date"), null=True, blank=True)
    date_on = models.DateField(null=True, blank=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    text = models.TextField(_("what happened"))
    place = models.ForeignKey(
        Place,
        verbose_name=_("where"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="events",
    )
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="events",
    )

    objects = DerivedQuerySet.as_manager()
    derived_fields = ("date_on",)
    derived_from = frozenset({"date"})

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["date_on", "pk"]
        indexes = [
            # The events at a place, for its page. Most events name no place, and SQLite's
            # statistics of the whole column count those as one value of thousands of
            # rows: it scanned every event instead of reading this index.
            models.Index(
                fields=["place"], condition=models.Q(place__isnull=False), name="event_place_idx"
            ),
            # The latest events of the registry, read from the front for a country's page.
            models.Index(fields=["date_on"], name="event_date_idx"),
        ]

    def __str__(self):
        when = self.date.display() if self.date else _("undated")
        return f"{when}: {self.get_kind_display()}"

    def derive(self):
        """Fill ``date_on`` from the partial date; ``save()`` and bulk writers both call it."""
        date = parse_or_none(self.date)
        self.date_on = date.earliest if date else None


# What a timeline of several partnerships shows of an event (``cards.timeline``).
_TIMELINE_COLUMNS = (
    "pk",
    "date",
    "kind",
    "text_da",
    "text_en",
    "partnership__slug",
    "partnership__title_da",
    "partnership__title_en",
    "place_id",
    "place__name_da",
    "place__name_en",
)


_TIMELINE_ROWS = RowsById(
    lambda ids: Event.objects.filter(pk__in=ids).values_list(*_TIMELINE_COLUMNS)
)


def timeline_events(events):
    """``events`` (a queryset in its order, or ids in any order), as a place's or an
    organisation's timeline shows them (``cards.timeline``): each with its
    ``partnership`` and ``place``.

    Read as plain rows: as model instances, with their partnerships and places, twenty
    took 2.5 ms of CPU to read at 10,000 partnerships on PostgreSQL, against 1.3 ms so.
    By ids, the query is compiled once (``RowsById``).
    """
    rows = (
        events.values_list(*_TIMELINE_COLUMNS)
        if isinstance(events, models.QuerySet)
        else _TIMELINE_ROWS.rows(events)
    )
    return [
        SimpleNamespace(
            _meta=Event._meta,  # for the kind's label (core.labels)
            pk=pk,
            date=date,
            kind=kind,
            text_da=text_da,
            text_en=text_en,
            partnership=SimpleNamespace(slug=slug, title_da=title_da, title_en=title_en),
            place=SimpleNamespace(name_da=name_da, name_en=name_en) if place_id else None,
        )
        for (
            pk,
            date,
            kind,
            text_da,
            text_en,
            slug,
            title_da,
            title_en,
            place_id,
            name_da,
            name_en,
        ) in rows
    ]


class FacetValue(models.Model):
    """One facet value of a partnership, as last counted (``partnerships.facets``): a
    participant's country or kind, a theme, the status, the publication…

    Kept by the writes, like the counts. A write takes the partnership's old values off
    the counts before it adds the new ones, and the participant filters test a
    partnership's values here by this index, instead of joining every participant to its
    place or organisation.
    """

    # No foreign key: the rows outlive their partnership's deletion until the facet
    # keeper has taken them off the counts, in the same transaction.
    partnership_id = models.BigIntegerField()
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=100)

    derived = True  # written with the records it follows; moves no version itself

    class Meta:
        verbose_name = _("facet value")
        # The partnerships with a rare value, read by value (``PartnershipFilter``).
        indexes = [
            models.Index(fields=["facet", "value", "partnership_id"], name="facet_value_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["partnership_id", "facet", "value"], name="facet_value_unique"
            ),
        ]

    def __str__(self):
        return f"{self.partnership_id}: {self.facet}={self.value}"


class FacetLine(models.Model):
    """A partnership's values of the list's facets and its start (``facets.LINED``) in one
    row, one ``facet=value`` a line, as last counted: kept with ``FacetValue``.

    A filtered list or a search counts its facets by reading one row per partnership it
    keeps and adding the values up in Python. Grouping their ``FacetValue`` rows in SQL,
    about nine a partnership, sorted them all first: 9.8 ms against 3.7 for the 887
    matches of a search at 100,000 partnerships, 198 ms against 58 for 25,000.
    """

    partnership_id = RowIdField(primary_key=True)
    text = models.TextField()

    derived = True

    class Meta:
        verbose_name = _("facet line")

    def __str__(self):
        return f"{self.partnership_id}: {self.text}"


class FacetCount(models.Model):
    """How many partnerships have a facet value, for everyone (``all``) and for the public
    (``published``): the partnership list's facets and the charts without a filter, read
    from here instead of counting the registry. Kept by ``partnerships.facets``."""

    # ALL or PUBLISHED, or either narrowed to one kind and status (partnerships.facets).
    scope = models.CharField(max_length=60)
    facet = models.CharField(max_length=20)
    value = models.CharField(max_length=100)
    count = models.IntegerField(default=0)

    derived = True

    class Meta:
        verbose_name = _("facet count")
        # The map's ties, most partnerships first, read in this order until it has the
        # lines it can draw, and counted from the index alone (``facets.ranked``).
        indexes = [
            models.Index(fields=["scope", "facet", "-count", "value"], name="facet_count_rank_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["scope", "facet", "value"], name="facet_count_unique_value"
            ),
        ]

    def __str__(self):
        return f"{self.scope} {self.facet}={self.value}: {self.count}"
