"""Who is asking: the client address behind our proxies, and limits kept per address.

The throttle, the token lockout and django-axes all name the client with ``client_ip``,
so a client that writes its own X-Forwarded-For header escapes none of them.
"""

import functools
import math
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework import authentication, exceptions, throttling


def client_ip(request):
    """REMOTE_ADDR, or the address our outermost trusted proxy saw (settings.ATLAS_TRUSTED_PROXIES).

    Each proxy appends the address it received from, so the right-most entries are the
    ones our own proxies wrote; anything further left came from the client.
    """
    request = getattr(request, "_request", request)
    remote_addr = request.META.get("REMOTE_ADDR", "")
    proxies = settings.ATLAS_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote_addr
    return addresses[-min(proxies, len(addresses))]


def count(key, timeout, cache=cache):
    """Count one more under ``key`` in the shared cache and return the count: one ``incr``
    (atomic in Redis, locmem and ``core.cache.FileBasedCache``), and an ``add`` for the
    first of a period, which ends ``timeout`` seconds on."""
    try:
        return cache.incr(key)
    except ValueError:
        if cache.add(key, 1, timeout):
            return 1
        return cache.incr(key)  # another worker or server counted the first one


def count_in_window(key, duration, now, cache=cache):
    """Count one more under ``key`` in the fixed window of ``duration`` seconds that ``now``
    falls in: (the count, when the window ends).

    The window is in the key: an entry whose expiry is lost (Redis' INCR re-creates a key
    that expired a moment before without one) only counts a window that is over.
    """
    window = int(now // duration)
    ends = (window + 1) * duration
    return count(f"{key}_{window}", math.ceil(ends - now), cache), ends


class AnonRateThrottle(throttling.AnonRateThrottle):
    """The anonymous rate per client address, counted in fixed windows (an hour for "N/hour").

    DRF's own throttle keeps every request's time of the last hour in one cache entry
    (up to 1,000 floats at the default rate), which it reads and writes whole on every
    request, cache hits included. Here each address and window has one integer, counted
    with ``count``. The price: a client may send up to twice the rate around the turn of
    a window (the end of one and the start of the next), never more.
    """

    def get_ident(self, request):
        return client_ip(request)

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        self.now = self.timer()
        counted, self.window_ends = count_in_window(key, self.duration, self.now, self.cache)
        return counted <= self.num_requests

    def wait(self):
        return self.window_ends - self.now


class TokensLockedOut(exceptions.Throttled):
    default_detail = _(
        "Too many failed attempts with an invalid token from this address. "
        "Try again later, or ask an administrator to unlock it."
    )


class LockingTokenAuthentication(authentication.TokenAuthentication):
    """Token authentication that refuses an address after too many unknown tokens.

    Guessing tokens is guessing passwords: the failures count in the shared cache for
    AXES_COOLOFF_TIME hours, like failed admin logins count in django-axes.
    """

    def authenticate(self, request):
        key = f"token-failures:{client_ip(request)}"
        if (
            authentication.get_authorization_header(request)
            and cache.get(key, 0) >= settings.ATLAS_TOKEN_FAILURE_LIMIT
        ):
            raise TokensLockedOut(wait=int(settings.AXES_COOLOFF_TIME * 3600))
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            count(key, int(settings.AXES_COOLOFF_TIME * 3600))
            raise


DOWNLOAD_PERIODS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


def download_refused(request):
    """A 429 answer when this client has had its anonymous downloads of the period
    written (``settings.ATLAS_DOWNLOAD_ANON_RATE``), else None, counting this one.

    Called by a download's view, so only downloads the page cache did not hold count: a
    file served from the cache costs nothing to write. Staff are never counted.
    """
    rate = settings.ATLAS_DOWNLOAD_ANON_RATE
    if rate in {"0", "off"}:
        return None
    # Only a request with a session cookie may be staff's; asking any other for its user
    # would read the session, and the answer would vary on Cookie and go uncached.
    if settings.SESSION_COOKIE_NAME in request.COOKIES and request.user.is_authenticated:
        return None
    number, period = rate.split("/")
    duration = DOWNLOAD_PERIODS[period]
    now = time.time()
    # In the cache the API throttle counts in: one count for every worker and server.
    counted, ends = count_in_window(
        f"atlas.downloads.{client_ip(request)}.{duration}", duration, now
    )
    if counted <= int(number):
        return None
    wait = math.ceil(ends - now)
    minutes = math.ceil(wait / 60)
    response = HttpResponse(
        ngettext(
            "Too many downloads from this address. Try again in %(minutes)d minute.",
            "Too many downloads from this address. Try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        status=429,
        content_type="text/plain; charset=utf-8",
    )
    response["Retry-After"] = str(wait)
    return response


def download_throttled(view):
    """``download_refused`` before a function view."""

    @functools.wraps(view)
    def throttled(request, *args, **kwargs):
        return download_refused(request) or view(request, *args, **kwargs)

    return throttled
