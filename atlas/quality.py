"""Data-quality checks: what staff should look at to keep the registry true.

Each check narrows a queryset of one record type in SQL, so the admin page counts it, the
changelist filters by it (``QualityFilter``, ``?quality=<slug>``) and both take a fixed
number of queries however large the registry. Possible duplicates are found in Python
(``atlas.duplicates``) and have a page of their own.
"""

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Publication
from organisations.models import Organisation
from partnerships.as_of import CONFIRMATION_LIFETIME_YEARS, years_later
from partnerships.models import MIN_PARTICIPANTS, Participant, Partnership
from places.models import Place, PlaceFigure

# A draft nobody has published in this long is forgotten or should be deleted.
DRAFT_LIFETIME = datetime.timedelta(days=30)

# A population or area counted this many years ago no longer describes the place.
FIGURE_LIFETIME_YEARS = 10

# Where a record's kind expects a parent: (kind, country or "" for every country) -> the
# kinds that parent may have, or () for any. A rule for a country replaces the general one
# there. Kinds not listed (countries, "other" places, most organisations) need no parent.
PLACE_PARENTS = {
    (Place.Kind.STATE, ""): (),
    (Place.Kind.PROVINCE, ""): (),
    (Place.Kind.PROVINCE_LEVEL_CITY, ""): (),
    (Place.Kind.REGION, ""): (),
    (Place.Kind.COUNTY, ""): (),
    (Place.Kind.CITY, ""): (),
    (Place.Kind.MUNICIPALITY, ""): (),
    (Place.Kind.DISTRICT, ""): (),
    # Each of the 98 Danish municipalities lies in one of the five regions.
    (Place.Kind.MUNICIPALITY, "DK"): (Place.Kind.REGION,),
}
ORGANISATION_PARENTS = {
    # An embassy or consulate, or an Innovation Centre Denmark, belongs to a ministry.
    (Organisation.Kind.DIPLOMATIC_MISSION, ""): (),
    (Organisation.Kind.INNOVATION_CENTRE, ""): (),
}
EXPECTED_PARENTS = {Place: PLACE_PARENTS, Organisation: ORGANISATION_PARENTS}


def without_source(queryset):
    return queryset.filter(sources__isnull=True)


def not_reviewed(queryset):
    return queryset.stale()


def status_unconfirmed(queryset, today=None):
    """Active partnerships whose status no source has confirmed in the last five years."""
    cutoff = years_later(today or timezone.localdate(), -CONFIRMATION_LIFETIME_YEARS)
    return queryset.filter(status=Partnership.Status.ACTIVE).filter(
        Q(status_as_of_on__isnull=True) | Q(status_as_of_on__lt=cutoff)
    )


def without_coordinates(queryset):
    return queryset.filter(Q(latitude__isnull=True) | Q(longitude__isnull=True))


def without_expected_parent(queryset):
    """Records whose kind expects a parent (``EXPECTED_PARENTS``) that lack one that fits."""
    rules = EXPECTED_PARENTS[queryset.model]
    special = {(kind, country) for kind, country in rules if country}
    wrong = Q(pk__in=[])
    for (kind, country), parent_kinds in rules.items():
        applies = Q(kind=kind)
        if country:
            applies &= Q(country=country)
        else:
            applies &= ~Q(country__in=[c for k, c in special if k == kind])
        missing = Q(parent__isnull=True)
        if parent_kinds:
            missing |= ~Q(parent__kind__in=parent_kinds)
        wrong |= applies & missing
    return queryset.filter(wrong)


def old_figures(queryset, today=None):
    """Places whose newest population or area is older than ten years."""
    cutoff = (today or timezone.localdate()).year - FIGURE_LIFETIME_YEARS
    outdated = (
        PlaceFigure.objects.order_by()
        .values("place_id", "kind")
        .annotate(newest=Max("year"))
        .filter(newest__lt=cutoff)
        .values("place_id")
    )
    return queryset.filter(pk__in=outdated)


def few_participants(queryset):
    """Partnerships with fewer than two published participants: the public sees the others
    without a link, and the partnership reads as one-sided."""
    # Counting every participant's published party joined all 275,000 participants to
    # their places and organisations at 100,000 partnerships (1.1 s on SQLite). Only a
    # partnership with fewer than two participants, or with a party not published, can
    # fall short, and such parties are few: their participants come from the places' and
    # organisations' own indexes (0.24 s; 0.44 s with a tenth of them drafts).
    published = Q(place__publication=Publication.PUBLISHED) | Q(
        organisation__publication=Publication.PUBLISHED
    )
    doubtful = Participant.objects.filter(
        Q(place__in=Place.objects.unpublished().values("pk"))
        | Q(organisation__in=Organisation.objects.unpublished().values("pk"))
    ).values("partnership_id")
    enough = (
        Participant.objects.order_by()
        .values("partnership_id")
        .annotate(count=Count("pk"))
        .filter(count__gte=MIN_PARTICIPANTS)
        .values("partnership_id")
    )
    enough_published = (
        Participant.objects.order_by()
        .filter(published, partnership__in=doubtful)
        .values("partnership_id")
        .annotate(count=Count("pk"))
        .filter(count__gte=MIN_PARTICIPANTS)
        .values("partnership_id")
    )
    return queryset.filter(~Q(pk__in=enough) | (Q(pk__in=doubtful) & ~Q(pk__in=enough_published)))


def old_drafts(queryset, now=None):
    """Drafts (or records waiting for review) created more than 30 days ago."""
    cutoff = (now or timezone.now()) - DRAFT_LIFETIME
    return queryset.exclude(publication=Publication.PUBLISHED).filter(created_at__lt=cutoff)


@dataclass(frozen=True)
class Check:
    slug: str
    title: Any
    model: type
    narrow: Any
    # The changelist query that shows the same records; the quality filter by default.
    changelist_query: str = ""

    @property
    def query(self):
        return self.changelist_query or f"quality={self.slug}"

    def records(self):
        return self.narrow(self.model.objects.all())


CHECKS = [
    Check("places-without-source", _("Places without a source"), Place, without_source),
    Check(
        "organisations-without-source",
        _("Organisations without a source"),
        Organisation,
        without_source,
    ),
    Check(
        "partnerships-without-source",
        _("Partnerships without a source"),
        Partnership,
        without_source,
    ),
    Check(
        "places-not-reviewed",
        _("Places not reviewed in 12 months"),
        Place,
        not_reviewed,
        "review=stale",
    ),
    Check(
        "organisations-not-reviewed",
        _("Organisations not reviewed in 12 months"),
        Organisation,
        not_reviewed,
        "review=stale",
    ),
    Check(
        "partnerships-not-reviewed",
        _("Partnerships not reviewed in 12 months"),
        Partnership,
        not_reviewed,
        "review=stale",
    ),
    Check(
        "status-unconfirmed",
        _("Active partnerships whose status was last confirmed more than five years ago"),
        Partnership,
        status_unconfirmed,
    ),
    Check(
        "few-participants",
        _("Partnerships with fewer than two published participants"),
        Partnership,
        few_participants,
    ),
    Check("without-coordinates", _("Places without coordinates"), Place, without_coordinates),
    Check(
        "places-without-parent",
        _("Places without the parent their kind expects"),
        Place,
        without_expected_parent,
    ),
    Check(
        "organisations-without-parent",
        _("Organisations without the parent their kind expects"),
        Organisation,
        without_expected_parent,
    ),
    Check("old-figures", _("Places whose newest figure is over ten years old"), Place, old_figures),
    Check("places-old-drafts", _("Place drafts older than 30 days"), Place, old_drafts),
    Check(
        "organisations-old-drafts",
        _("Organisation drafts older than 30 days"),
        Organisation,
        old_drafts,
    ),
    Check(
        "partnerships-old-drafts",
        _("Partnership drafts older than 30 days"),
        Partnership,
        old_drafts,
    ),
]
CHECKS_BY_SLUG = {check.slug: check for check in CHECKS}


def checks_for(model):
    return [check for check in CHECKS if check.model is model]


class QualityFilter(admin.SimpleListFilter):
    """``?quality=<slug>``: the records a data-quality check lists, in the changelist."""

    title = _("data quality")
    parameter_name = "quality"

    def lookups(self, request, model_admin):
        return [
            (check.slug, check.title)
            for check in checks_for(model_admin.model)
            # The review filter already lists these.
            if not check.changelist_query
        ]

    def queryset(self, request, queryset):
        check = CHECKS_BY_SLUG.get(self.value())
        if check is None or check.model is not queryset.model:
            return queryset
        return check.narrow(queryset)
