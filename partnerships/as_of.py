"""What the registry says about a partnership at a date, using vague dates honestly.

The rules are in the README ("Time: as of"). A date ``as_of`` is a ``PartialDate`` and
means its whole span: ``2010`` is any day of 2010, ``1980s`` any day of the decade.
``queryset_as_of`` picks the partnerships the registry says anything about then (in SQL,
from the stored first and last days); ``state_as_of`` names what it says (in Python, from
the partial dates of one partnership already loaded).
"""

import datetime

from django.db.models import Q
from django.utils import timezone

from .models import Partnership

# A status nobody has confirmed for this long is no longer taken at its word.
CONFIRMATION_LIFETIME_YEARS = 5

ACTIVE = "active"
POSSIBLY_ACTIVE = "possibly_active"
ENDED = "ended"
PLANNED = "planned"
UNCONFIRMED = "unconfirmed"


def years_later(day, years):
    """``day`` moved by whole ``years``; 29 February becomes the 28th in a common year.

    The calendar ends at 9999 and starts at year 1: a day past either end is the end.
    Staff may write any year from 1000 to 9999 (a typo such as "9998" for "1998"), and
    every page that reads "c. 9999", or a status confirmed in 9998 five years on, must
    still answer; no day of the calendar lies beyond the end, so nothing is lost."""
    year = day.year + years
    if year > datetime.MAXYEAR:
        return datetime.date.max
    if year < datetime.MINYEAR:
        return datetime.date.min
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def span(date):
    """The first and last day a partial date may mean; 'c.' widens it by a year each way."""
    if date.circa:
        return years_later(date.earliest, -1), years_later(date.latest, 1)
    return date.earliest, date.latest


def confirmation_expired(partnership, day):
    """True when the status was last confirmed more than five years before ``day``."""
    confirmed = partnership.status_as_of
    return confirmed is not None and day > years_later(
        confirmed.latest, CONFIRMATION_LIFETIME_YEARS
    )


def queryset_as_of(queryset, as_of, today=None):
    """The partnerships the registry says were planned, active or ended during ``as_of``."""
    last = as_of.latest
    today = today or timezone.localdate()
    planned = Q(status=Partnership.Status.PLANNED)
    # A plan is known from the day a source confirmed it, or from today without one.
    plan_known = Q(status_as_of_on__lte=last)
    if today <= last:
        plan_known |= Q(status_as_of_on__isnull=True)
    # A tie without a start is known to exist from its confirmation, or before its end.
    begun = (
        Q(start_on__lte=last)
        | Q(start__startswith="c. ", start_on__lte=years_later(last, 1))
        | Q(start_on__isnull=True) & (Q(status_as_of_on__lte=last) | Q(end_on__isnull=False))
    )
    return queryset.filter((planned & plan_known) | (~planned & begun))


# ``first_year_as_of`` of a partnership that every year keeps, and of a plan nobody has
# confirmed, which a year keeps from the current one on.
EVERY_YEAR = 0
UNCONFIRMED_PLAN = "plan"


def kept_year(as_of):
    """The year whose last day ``as_of`` ends on (``2010``, ``2000s``: whole years), for
    which the writes keep the counts of what ``queryset_as_of`` keeps; else None (a
    month)."""
    last = as_of.latest
    return last.year if (last.month, last.day) == (12, 31) else None


def first_year_as_of(status, circa, start_on, status_as_of_on, end_on):
    """The first year Y whose ``queryset_as_of`` (its last day 31 December Y) keeps a
    partnership of these values, and every year after: ``queryset_as_of``'s test read
    for whole years. EVERY_YEAR, UNCONFIRMED_PLAN, or None when no year keeps it.
    ``circa``: whether its start is written "c. …"."""
    if status == Partnership.Status.PLANNED:
        return UNCONFIRMED_PLAN if status_as_of_on is None else status_as_of_on.year
    if start_on is not None:
        # Within a year after 31 December Y: started by the end of Y + 1.
        return start_on.year - 1 if circa else start_on.year
    if end_on is not None:
        return EVERY_YEAR
    return None if status_as_of_on is None else status_as_of_on.year


def state_as_of(partnership, as_of):
    """What the registry says of one partnership during ``as_of``: ACTIVE, POSSIBLY_ACTIVE,
    ENDED, PLANNED or UNCONFIRMED (for one that ``queryset_as_of`` keeps)."""
    first, last = as_of.earliest, as_of.latest
    status, Status = partnership.status, Partnership.Status
    start, end, confirmed = partnership.start, partnership.end, partnership.status_as_of
    if status == Status.PLANNED:
        return UNCONFIRMED if confirmation_expired(partnership, first) else PLANNED
    if end and span(end)[1] < first:
        return ENDED
    if status == Status.ENDED and not end and confirmed and confirmed.latest < first:
        return ENDED
    began = (start is not None and span(start)[1] <= last) or (
        status == Status.ACTIVE and confirmed is not None and confirmed.latest <= last
    )
    if end:
        running = span(end)[0] >= first
    elif status == Status.ACTIVE:
        # Active today, or when last confirmed: it had not ended before a date up to
        # five years after that confirmation.
        running = not confirmation_expired(partnership, first)
    else:
        running = False  # ended at an unknown time, or status unknown
    return ACTIVE if began and running else POSSIBLY_ACTIVE


def current_state(partnership, today=None):
    """The status as a reader should take it today: 'unconfirmed' once it is too old."""
    today = today or timezone.localdate()
    if partnership.status in (
        Partnership.Status.ACTIVE,
        Partnership.Status.PLANNED,
    ) and confirmation_expired(partnership, today):
        return UNCONFIRMED
    return partnership.status
