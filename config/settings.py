"""Settings for Partnership Atlas, read from the environment.

DJANGO_DEBUG, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and DATABASE_URL are the knobs;
everything else is fixed here so that every machine runs the same configuration.
"""

import os
import re
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# Under pytest, development settings unless the environment says otherwise: a bare
# `pytest` runs as `make test` does, instead of stopping for want of a secret key.
# Production processes never import pytest.
DEBUG = env_bool("DJANGO_DEBUG", default="pytest" in sys.modules)

# A throw-away key is only acceptable while developing; production must bring its own.
_DEV_SECRET_KEY = "django-insecure-development-only-never-use-in-production"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Set it to a long random string, made with "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(50))', "
            "or set DJANGO_DEBUG=1 for local development."
        )
    SECRET_KEY = _DEV_SECRET_KEY
elif not DEBUG and (
    SECRET_KEY.startswith("django-insecure") or len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5
):
    # The same bar as Django's deploy check (security.W009).
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is too weak for DJANGO_DEBUG=0: use at least 50 random "
        "characters that do not start with 'django-insecure'."
    )

ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    # Before the admin: it registers the translated fields the admin then shows.
    "modeltranslation",
    # django.contrib.admin with the Atlas admin site (registry apps first, a dashboard).
    "atlas.admin_site.AtlasAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",
    "django.contrib.staticfiles",
    "django_countries",
    "django_filters",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "import_export",
    "simple_history",
    "axes",
    "csp",
    "core",
    "importing",
    "places",
    "organisations",
    "partnerships",
    "atlas",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "core.middleware.SecurityHeadersMiddleware",
    "core.middleware.RejectControlCharactersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session: a cached page is answered without reading it.
    "core.middleware.PublicCacheMiddleware",
    # Inside the page cache, so that a page is compressed once, when it is stored, and a
    # hit sends the stored bytes. Django's gzip pads against BREACH; public pages carry
    # no token to guess anyway. Django's, compressing through zlib-ng.
    "core.middleware.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# Empty counts as unset, as a shell's `export DATABASE_URL=` leaves it.
_DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
try:
    DATABASES = {
        "default": dj_database_url.parse(_DATABASE_URL, conn_max_age=60, conn_health_checks=True)
    }
except ValueError:  # dj-database-url's unknown scheme, or an address it cannot split
    raise ImproperlyConfigured(
        f"DATABASE_URL {_DATABASE_URL!r} is not understood: use "
        "sqlite:////absolute/path.sqlite3 or postgres://user:password@host:5432/name."
    ) from None
# SQLite reads the database file through the operating system's page cache, mapped into
# each worker, instead of copying every page it reads into a private cache of 2 MB: a search
# that scans every partnership's names (a term shorter than a trigram, 南宁) took 25% less
# CPU at 100,000 partnerships. The mapping shares the pages the system caches anyway.
SQLITE_MMAP_BYTES = int(os.environ.get("ATLAS_SQLITE_MMAP_MB", "1024")) * 1024 * 1024
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes a writer wait for the lock (up to the timeout) instead of failing
    # with "database is locked" when two staff save at once; WAL lets readers carry on.
    # Connections are kept between requests, as on PostgreSQL: opening one and running
    # these PRAGMAs cost a cached page about 1.3 ms, more than serving it.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
        f"PRAGMA foreign_keys=ON; PRAGMA mmap_size={SQLITE_MMAP_BYTES};",
    }
# PostgreSQL compiles a query to machine code (JIT) once the planner's estimate of its cost
# passes jit_above_cost. The estimate of a search's walk down from what its words name grows
# with every level it may descend: "hai university" at 100,000 partnerships was estimated
# far above that bar, and its place walk spent 520 ms of 565 compiling, for a query that
# runs in 15. No query here runs long enough to win back a compilation. Behind a PgBouncer
# that refuses startup options, set ATLAS_POSTGRES_JIT=server and turn it off there
# (ALTER ROLE … SET jit = off).
POSTGRES_JIT = os.environ.get("ATLAS_POSTGRES_JIT", "off").strip().lower()
if POSTGRES_JIT not in {"off", "server"}:
    raise ImproperlyConfigured(
        f"ATLAS_POSTGRES_JIT is {POSTGRES_JIT!r}: use 'off' (the default) or 'server' "
        "(leave it to the database server's configuration)."
    )
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and POSTGRES_JIT == "off":
    _options = DATABASES["default"].setdefault("OPTIONS", {})
    # Kept after any options the DATABASE_URL brings (?options=-c%20…).
    _options["options"] = f"{_options.get('options', '')} -c jit=off".strip()
# The partnership title indexes hold both titles for PostgreSQL's index-only reads
# (Index.include); SQLite leaves them out, as the warning says, and needs none.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# `manage.py loaddata seed` finds fixtures/seed.json (built by fixtures/build_seed.py).
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# Axes first: it refuses a locked-out account and address before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# Each language is named in itself, as language switchers do.
LANGUAGES = [("da", "Dansk"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
MODELTRANSLATION_DEFAULT_LANGUAGE = "en"
MODELTRANSLATION_FALLBACK_LANGUAGES = {"default": ("en", "da"), "da": ("en",), "en": ("da",)}


def _localized_verbose_name(verbose_name, language):
    # "name (Danish)" rather than "name [da]"; imported when a label is shown, after setup.
    from core.translation import localized_verbose_name

    return localized_verbose_name(verbose_name, language)


MODELTRANSLATION_BUILD_LOCALIZED_VERBOSE_NAME = _localized_verbose_name
TIME_ZONE = "Europe/Copenhagen"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
if DEBUG:
    # runserver serves from the finders; the manifest would demand collectstatic first.
    STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"

LOGIN_URL = "admin:login"

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if not DEBUG:
    # Production serves HTTPS only. Behind a proxy that terminates TLS, set
    # DJANGO_BEHIND_PROXY=1 so that Django trusts its X-Forwarded-Proto header.
    SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = int(os.environ.get("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", True)
    # Joining the browsers' preload list is hard to undo: the operator opts in.
    SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD")
    if not SECURE_HSTS_PRELOAD:
        SILENCED_SYSTEM_CHECKS.append("security.W021")
    if env_bool("DJANGO_BEHIND_PROXY"):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

# What browsers may do with our pages. Scripts only from our own files (data for them comes
# in <script type="application/json">); the one inline style allowed is the rule Cytoscape
# inserts for its container. The API docs (Swagger UI) get their own policy: core.middleware.
_MAP_TILE_ORIGIN = "/".join(os.environ.get("ATLAS_MAP_TILE_URL", "").split("/")[:3])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"],
        # Leaflet swaps a data: GIF into tiles it unloads.
        "img-src": ["'self'", "data:"] + ([_MAP_TILE_ORIGIN] if _MAP_TILE_ORIGIN else []),
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
ATLAS_API_DOCS_CSP = {
    **CONTENT_SECURITY_POLICY["DIRECTIVES"],
    # Swagger UI styles its widgets inline and draws its icons as data: SVGs.
    "style-src": ["'self'", "'unsafe-inline'"],
}
# DRF's browsable API (the API's addresses opened in a browser) places two of its
# buttons with style attributes; its scripts are files, so scripts stay 'self' only.
ATLAS_BROWSABLE_API_CSP = {"style-src": ["'self'", "'unsafe-inline'"]}
# No page uses these browser features; a page that is ever compromised cannot either.
ATLAS_PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone=(), midi=(), payment=(), usb=()"
)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# How many proxies (load balancer, CDN) stand in front of the app and append to
# X-Forwarded-For. 0: the client address is REMOTE_ADDR and X-Forwarded-For is ignored,
# since any client can write it. N: the N-th address from the right, the one our own
# outermost proxy saw (core.throttling.client_ip).
ATLAS_TRUSTED_PROXIES = int(os.environ.get("DJANGO_TRUSTED_PROXIES", "0"))

# One cache that every worker on the machine shares (throttle counts, lockouts of tokens),
# with no server to run. CACHE_URL (or REDIS_URL) = redis://host:6379/0 shares it between
# machines; locmem:// keeps it in each process (tests).
_CACHE_URL = os.environ.get("CACHE_URL") or os.environ.get("REDIS_URL", "")
if _CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    _CACHE = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _CACHE_URL}
elif _CACHE_URL.startswith("locmem://"):
    _CACHE = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
elif _CACHE_URL:
    raise ImproperlyConfigured(
        f"CACHE_URL {_CACHE_URL!r} is not understood: use redis://host:port/db or locmem://."
    )
else:
    _CACHE = {
        "BACKEND": "core.cache.FileBasedCache",
        "LOCATION": os.environ.get("ATLAS_CACHE_DIR", str(BASE_DIR / "var" / "cache")),
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
CACHES = {"default": _CACHE}

# Anonymous GETs of public pages, CSV downloads and the API are answered from that cache,
# kept per registry version (core.middleware.PublicCacheMiddleware): on by default when
# DEBUG is off, so that template edits show at once while developing.
ATLAS_CACHE_PAGES = env_bool("ATLAS_CACHE_PAGES", not DEBUG)
# When on, an editor only marks a record "ready for review" and another person publishes
# it (core.models.Publishable.publish_problems); off, an editor publishes directly.
ATLAS_PUBLISH_NEEDS_REVIEW = env_bool("ATLAS_PUBLISH_NEEDS_REVIEW", False)
# How long a shared cache in front (CDN, Varnish) may serve a public page without asking
# again: `Cache-Control: public, max-age=0, s-maxage=N`. Browsers always revalidate (a
# cheap 304 while the registry is unchanged); a CDN may serve a page up to N seconds older
# than the registry. 0 keeps every reader current.
ATLAS_CACHE_SECONDS = int(os.environ.get("ATLAS_CACHE_SECONDS", "60"))
# How long the app's own cache keeps a page; a write makes it unreachable long before.
CACHE_MIDDLEWARE_SECONDS = 60 * 60 * 24

# Password guessing: after AXES_FAILURE_LIMIT failed admin logins, that account is locked
# from that address for AXES_COOLOFF_HOURS (`manage.py axes_reset` unlocks everyone,
# `axes_reset_username NAME` one account). API tokens: core.throttling.LockingTokenAuthentication.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("AXES_COOLOFF_HOURS", "1"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "lockout.html"
AXES_CLIENT_IP_CALLABLE = "core.throttling.client_ip"
AXES_RESET_ON_SUCCESS = True
# Failed attempts with a made-up token, per client address, before the API refuses tokens
# from that address for AXES_COOLOFF_HOURS.
ATLAS_TOKEN_FAILURE_LIMIT = int(os.environ.get("ATLAS_TOKEN_FAILURE_LIMIT", "20"))


# The API: anyone reads, staff write with the same model permissions as in the admin.
REST_FRAMEWORK = {
    # Token first, so that an anonymous write gets 401 with a WWW-Authenticate header.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.throttling.LockingTokenAuthentication",
        "core.rest.SessionCookieAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["core.rest.ModelPermissionsOrAnonReadOnly"],
    "DEFAULT_FILTER_BACKENDS": [
        "core.rest.RecordFilterBackend",
        "core.rest.RecordSearch",
        "core.rest.LocalizedOrdering",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.rest.PageNumberPagination",
    "DEFAULT_RENDERER_CLASSES": [
        "core.rest.JSONRenderer",
        "core.rest.BrowsableAPIRenderer",
    ],
    # Counted in the shared cache, per client address and hour (core.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["core.throttling.AnonRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"anon": os.environ.get("ATLAS_API_ANON_RATE", "1000/hour")},
    "NUM_PROXIES": ATLAS_TRUSTED_PROXIES,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
}

# Anonymous downloads (CSV lists, network files) written per client address and period:
# the CSV of 100,000 partnerships takes seconds to write, and each new address (a query
# string of its own) is written anew. Cached downloads are served without counting.
ATLAS_DOWNLOAD_ANON_RATE = os.environ.get("ATLAS_DOWNLOAD_ANON_RATE", "60/hour").strip()
if not re.fullmatch(r"(0|off|[1-9][0-9]*/(second|minute|hour|day))", ATLAS_DOWNLOAD_ANON_RATE):
    raise ImproperlyConfigured(
        f"ATLAS_DOWNLOAD_ANON_RATE is {ATLAS_DOWNLOAD_ANON_RATE!r}: write a number of "
        "downloads per second, minute, hour or day (60/hour), or off."
    )

SPECTACULAR_SETTINGS = {
    "TITLE": "Partnership Atlas API",
    "DESCRIPTION": (
        "Places, organisations and the partnerships between them. Anyone may read; staff "
        "write with a token (`Authorization: Token ...`) or an admin session."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Request and response shapes differ (slugs in, nested records out).
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "LanguageEnum": "core.models.Language",
        # The content languages of translated fields (`name_language`, core.serializers).
        "ContentLanguageEnum": "core.translation.LANGUAGES",
        "AlternativeNameKindEnum": "core.models.AlternativeName.Kind",
        "PlaceKindEnum": "places.models.Place.Kind",
        "PlaceFigureKindEnum": "places.models.PlaceFigure.Kind",
        "OrganisationKindEnum": "organisations.models.Organisation.Kind",
        "PartnershipKindEnum": "partnerships.models.Partnership.Kind",
        "EventKindEnum": "partnerships.models.Event.Kind",
    },
}

# Records created or changed through the admin keep the author in their history.
SIMPLE_HISTORY_REVERT_DISABLED = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Spreadsheet import (importing.engine): limits on what an admin upload may be, and where an
# upload waits between the preview and the confirmation. Use a shared directory when more
# than one web process serves the admin.
ATLAS_IMPORT_MAX_BYTES = 5 * 1024 * 1024
ATLAS_IMPORT_MAX_ROWS = 20_000
ATLAS_IMPORT_UPLOAD_DIR = os.environ.get("ATLAS_IMPORT_UPLOAD_DIR", "")
# An upload never confirmed is deleted after this many hours (importing.uploads).
ATLAS_IMPORT_UPLOAD_MAX_AGE_HOURS = float(os.environ.get("ATLAS_IMPORT_UPLOAD_MAX_AGE_HOURS", "24"))
# Who an import from the command line is recorded under when --user is not given (an
# inactive account, created on first use), and how long a second import waits for the first.
ATLAS_IMPORT_USER = os.environ.get("ATLAS_IMPORT_USER", "import")
ATLAS_IMPORT_WAIT_SECONDS = 20

# The map draws a vendored world basemap and needs no tile server. A deployment that wants
# street detail may name a tile server ({z}/{x}/{y} template) and its attribution; the
# browser then fetches tiles from there.
ATLAS_MAP_TILE_URL = os.environ.get("ATLAS_MAP_TILE_URL", "")
ATLAS_MAP_TILE_ATTRIBUTION = os.environ.get("ATLAS_MAP_TILE_ATTRIBUTION", "")
