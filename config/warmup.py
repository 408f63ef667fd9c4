"""What a gunicorn worker loads before it takes its first request (``post_worker_init`` in
config/gunicorn.conf.py).

Django loads most of a site at its first request: every URL module (and with them the
views, the API and its schema, the admin), each language's translation catalogue and
addresses, every template, the database connection. At 10,000 partnerships a worker's
first answer, a list page, took about 300 ms, and its first page of another kind 27; a
worker recycled after ``max_requests`` started cold again. Loaded here, each worker pays
for it while it boots, before it accepts a connection: the first answer took 40-58 ms,
the next 15-16 (gunicorn, one worker, three boots each way).
"""

import logging
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connections
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils import translation

from core import versioning

logger = logging.getLogger(__name__)


def warm_up():
    """Import every URL module; in each language load the translation catalogue and the
    addresses every name reverses to; compile every template; open the database
    connection and read the registry version, as every request does."""
    resolver = get_resolver()
    len(resolver.url_patterns)  # imports every URL module
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            # Each language has its own addresses, worked out at its first reverse(), the
            # included URL modules' with the root's.
            len(resolver.reverse_dict)
    _compile_templates()
    try:
        versioning.current(parts=True)
    except DatabaseError:
        # Not reachable yet: the first request reports it, as /health/ does, rather than
        # every worker failing to boot. Its connection is closed, not left half open.
        logger.exception("The database did not answer while the worker warmed up.")
        connections.close_all()


def _compile_templates():
    """Every template the site's engine finds, compiled and kept by its cached loader:
    180 in 0.1 s. Compiled at the first page, the templates took a worker's first list page
    from about 45 ms to 95."""
    engine = engines["django"]
    for loader in engine.engine.template_loaders:
        for found_by in getattr(loader, "loaders", [loader]):
            for folder in found_by.get_dirs():
                for path in Path(folder).rglob("*.html"):
                    try:
                        engine.get_template(path.relative_to(folder).as_posix())
                    except TemplateSyntaxError:
                        # A library's template for tags this site does not install
                        # (django-filter's for crispy-forms): never rendered here.
                        continue
