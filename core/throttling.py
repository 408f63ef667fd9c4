"""Who is asking: the client address behind our proxies, and limits kept per address.

The throttle, the token lockout and django-axes all name the client with ``client_ip``,
so a client that writes its own X-Forwarded-For header escapes none of them.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _
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


class AnonRateThrottle(throttling.AnonRateThrottle):
    def get_ident(self, request):
        return client_ip(request)


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
            timeout = int(settings.AXES_COOLOFF_TIME * 3600)
            if cache.add(key, 1, timeout) is False:
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, timeout)
            raise
