from datetime import MINYEAR, UTC, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from core.visibility import viewer

from .changes import recent_changes


class ChangesView(TemplateView):
    """Recent changes to the registry, newest first, a page at a time back in time."""

    template_name = "atlas/changes.html"
    page_size = 50

    def get(self, request, *args, **kwargs):
        text = request.GET.get("before", "").strip()
        try:
            before = parse_moment(text)
        except ValueError:
            error = _("“%(value)s” is not a date and time such as 2026-11-28T12:00:00+00:00.")
            context = self.get_context_data(error=error % {"value": text[:40]}, changes=[])
            return self.render_to_response(context, status=400)
        changes = recent_changes(limit=self.page_size + 1, before=before, user=viewer(request))
        older = changes[self.page_size - 1].when if len(changes) > self.page_size else None
        context = self.get_context_data(
            changes=changes[: self.page_size],
            before=before,
            older=older.isoformat() if older else None,
        )
        return self.render_to_response(context)


# The first and last moments the page reads back from: a day inside the calendar's ends,
# so that the moment has a time in UTC, where the database compares it, and in the
# reader's time zone, where the page shows it. No record changes that close to either end.
EARLIEST = datetime.min.replace(tzinfo=UTC) + timedelta(days=1)
LATEST = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)


def parse_moment(text):
    """None for no text; a ValueError for text that is no ISO date and time; else the
    moment in UTC, kept from EARLIEST to LATEST (0001-01-01 in Copenhagen is still year
    0 in UTC)."""
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    moment = timezone.make_aware(moment) if timezone.is_naive(moment) else moment
    try:
        moment = moment.astimezone(UTC)
    except OverflowError:
        return EARLIEST if moment.year == MINYEAR else LATEST
    return min(max(moment, EARLIEST), LATEST)
