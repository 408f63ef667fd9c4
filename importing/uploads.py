"""Where admin uploads wait between the preview and the confirmation, and for how long.

An upload that is never confirmed would stay on disk for ever; each new upload (and
`manage.py clean_import_uploads`, for a cron job) deletes those older than
ATLAS_IMPORT_UPLOAD_MAX_AGE.
"""

import json
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from django.conf import settings


def upload_dir():
    directory = Path(settings.ATLAS_IMPORT_UPLOAD_DIR or tempfile.gettempdir()) / "atlas-imports"
    directory.mkdir(parents=True, exist_ok=True)
    return directory


def max_age():
    return timedelta(hours=settings.ATLAS_IMPORT_UPLOAD_MAX_AGE_HOURS)


def is_expired(path, now=None):
    return (now or time.time()) - path.stat().st_mtime > max_age().total_seconds()


def claim(path):
    """Take the upload for one import, or raise FileNotFoundError if another has it.

    A rename is atomic, so of two confirmations sent at once (a double click faster
    than the page) only one imports the file; the other would make a second import
    of the same rows, all unchanged. The claimed file keeps its age for the cleaning.
    """
    claimed = path.with_name(f"{path.name}.{uuid.uuid4().hex}.claimed")
    path.rename(claimed)
    return claimed


def _plan_path(path):
    return path.with_name(f"{path.name}.plan")


def write_plan(path, plan):
    """Keep beside the upload what its preview said each row would do."""
    _plan_path(path).write_text(json.dumps(plan))


def read_plan(path):
    """The preview's plan of the upload, or None (an upload previewed before plans)."""
    try:
        return json.loads(_plan_path(path).read_text())
    except (OSError, ValueError):
        return None


def forget_plan(path):
    _plan_path(path).unlink(missing_ok=True)


def clean_uploads():
    """Delete the expired uploads; returns how many were deleted."""
    now = time.time()
    deleted = 0
    for path in upload_dir().iterdir():
        try:
            if path.is_file() and is_expired(path, now):
                path.unlink()
                deleted += 1
        except FileNotFoundError:
            # Confirmed, or cleaned by another worker, between the listing and now.
            continue
    return deleted
