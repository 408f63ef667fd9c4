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
    # The worker has loaded the app: modules, URL patterns, templates, translations, a few
    # hundred thousand objects that live as long as it does. Frozen, they are left out of
    # the collector's full passes, which a request that builds a large answer (the map
    # at 100,000 partnerships) sets off, and which walked all of them every time.
    gc.freeze()
