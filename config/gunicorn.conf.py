"""gunicorn settings for `make serve`: PORT and WEB_CONCURRENCY choose address and workers."""

import gc
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
wsgi_app = "config.wsgi:application"
# An import of a full spreadsheet is the slowest request; a worker stuck longer is killed.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak never grows without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s"'


def post_worker_init(worker):
    # Before its first request, the worker loads what Django would load at that request
    # (config/warmup.py): every URL module, the translations, the database connection.
    from config.warmup import warm_up

    warm_up()
    # The worker has loaded the app: modules, URL patterns, templates, translations, a few
    # hundred thousand objects that live as long as it does. Frozen, they are left out of
    # the collector's full passes, which a request that builds a large answer (the map
    # at 100,000 partnerships) sets off, and which walked all of them every time.
    gc.freeze()


# After these requests of a worker, what they left alive is frozen too (see post_request).
FREEZE_AFTER = frozenset({1, 10, 100, 1000})


def post_request(worker, req, environ, resp):
    # What the first requests load lives as long as the worker, as the app does: URL
    # resolvers, compiled templates, translation catalogues, per-process caches, some
    # 50,000 objects at 100,000 partnerships. Unfrozen, every full pass of the collector
    # walked them: a miss of the map there spent 45 ms of ~250 collecting, 18 ms once
    # they were frozen, and under gunicorn the map page went from 57–70× /about/ to 50×.
    # Run after the response is sent, so no reader waits for the collection; the objects
    # frozen live until the worker is recycled (max_requests) at the latest.
    if worker.nr in FREEZE_AFTER:
        gc.collect()
        gc.freeze()
