"""Writes that span more than one model, so that every way in applies the same rules."""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.models import Publication

from .models import Participant, Partnership


def partnership_create(*, participants, themes=(), sources=(), user=None, **fields):
    """Create a partnership with its participants in one transaction.

    ``participants`` is a list of dicts with ``place`` or ``organisation`` and an
    optional ``role``. Fewer than two participants is refused, as in the admin, and so is
    a published partnership without a source.
    """
    Partnership.check_participant_count(len(participants))
    if fields.get("publication") == Publication.PUBLISHED:
        problems = Partnership(**fields).publish_problems(user=user, sources=list(sources))
        if problems:
            raise ValidationError({"publication": problems})
    with transaction.atomic():
        partnership = Partnership(created_by=user, updated_by=user, **fields)
        partnership.full_clean()
        partnership.save()
        for data in participants:
            participant = Participant(partnership=partnership, **data)
            participant.full_clean()
            participant.save()
        partnership.themes.set(themes)
        partnership.sources.set(sources)
    return partnership
