"""Why a record changed: history reasons are stored in English and shown in the reader's language.

A stored reason is plain text that reads well in a shell or a database dump; the admin's
history page passes it through ``describe_reason`` so that staff read it in their language.
"""

import datetime
import re
from contextvars import ContextVar

from django.utils import formats, timezone
from django.utils.translation import gettext, gettext_noop

LOADED_FROM_SEED = gettext_noop("Loaded from the seed")
LOADED_FROM_FIXTURE = gettext_noop("Loaded from a fixture")
MARKED_REVIEWED = gettext_noop("Marked as reviewed")
PUBLISHED = gettext_noop("Published")
UNPUBLISHED = gettext_noop("Unpublished")
MARKED_READY = gettext_noop("Ready for review")

_REVERTED = re.compile(r"^Reverted to the version of (?P<date>\S+) by (?P<user>.*)$")


def revert_reason(version, user):
    """The reason stored when ``user`` brings a record back to the history row ``version``."""
    return (
        f"Reverted to the version of {version.history_date.isoformat(timespec='seconds')} "
        f"by {user.get_username()}"
    )


def is_revert(reason):
    return bool(reason and _REVERTED.match(reason))


def describe_reason(reason):
    """``reason`` as the reader should see it, translated where the text is known."""
    if not reason:
        return ""
    match = _REVERTED.match(reason)
    if match:
        when = datetime.datetime.fromisoformat(match["date"])
        return gettext("Reverted to the version of %(date)s by %(user)s") % {
            "date": formats.date_format(timezone.localtime(when), "DATETIME_FORMAT"),
            "user": match["user"],
        }
    return gettext(reason)


def history_manager(model):
    """The model's simple-history manager, or None for a model without history."""
    name = getattr(model._meta, "simple_history_manager_attribute", None)
    return getattr(model, name) if name else None


# The reason written for rows that ``loaddata`` saves; load_seed names the seed.
loading_reason = ContextVar("loading_reason", default=LOADED_FROM_FIXTURE)


def record_raw_save(sender, instance, raw, **kwargs):
    """Give a row that ``loaddata`` saved the history row simple-history skips for raw saves.

    A row loaded again unchanged gets no new history row; a row the fixture changed gets one.
    Connected in ``CoreConfig.ready``: loaddata offers no other hook.
    """
    if not raw:
        return
    manager = history_manager(sender)
    if manager is None:
        return
    latest = (
        manager.filter(**{sender._meta.pk.attname: instance.pk})
        .order_by("-history_date", "-history_id")
        .first()
    )
    # A field that names a state for the caches (``cache_fields``) is no one's change: a
    # fixture without it gives it a new value at each load.
    cached = set(getattr(sender, "cache_fields", ()))
    fields = [field.attname for field in manager.model.tracked_fields if field.name not in cached]
    if latest is not None and latest.history_type != "-":
        if all(getattr(latest, name) == getattr(instance, name) for name in fields):
            return
    manager.bulk_history_create(
        [instance], update=latest is not None, default_change_reason=loading_reason.get()
    )
