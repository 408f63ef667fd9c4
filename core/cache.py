"""The site's caches: a file cache that counts in place, and values computed once per
registry version."""

import functools
import hashlib
import pickle
import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends import filebased
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.exceptions import EmptyResultSet
from django.core.files import locks
from django.db import DEFAULT_DB_ALIAS
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.utils import timezone
from zlib_ng import zlib_ng

_MISSING = object()
# Sets made by this process, per cache folder (FileBasedCache._cull).
_SETS = {}


# Values of ``per_version(..., local=True)`` this process has read or computed, the
# latest LOCAL_VALUES of them: {key: value}, the oldest first.
_LOCAL = {}
LOCAL_VALUES = 8


def per_version(name, parts, compute, of=(), local=False):
    """``compute()``, computed once per registry version and shared by every worker, page
    and language that asks for the same ``name`` and ``parts``.

    For what counts or draws the whole registry (facet counts, the home page's chart, the
    map): after a write, the first page that needs it pays for it, not every page, in
    each language, again. ``parts`` must name everything the value depends on besides the
    registry: the records (a QuerySet, whose SQL also says what the reader may see; its
    order is left out), the language. The key holds the version, the moment it moved
    and today's date, as the page cache's does (``core.middleware``), so a value is never
    older than the data; it is on and off with the page cache. With ``of``, the names
    of parts of the registry ("places", "organisations", "map"), the key holds their
    versions instead: for what is worked out from those records alone
    (``core.versioning.PART_MODELS``), kept across writes to anything else.

    With ``local``, the process also keeps the value as it read it, for its next asks of
    the same key (the last LOCAL_VALUES keys it read or computed): for a large value that
    outlives many writes and that no caller changes. A network's places and organisations
    took 1.3 ms to unpickle at 10,000 partnerships, at every answer. The key holds the
    versions, so a value kept here is never read after a write that moves them.
    """
    if not settings.ATLAS_CACHE_PAGES:
        return compute()
    # Imported here: this module is also the cache backend, loaded before the models.
    from . import versioning

    if of:
        versions = versioning.part_versions(of)
    else:
        versions = [versioning.request_version.get() or versioning.current()]
    version = ".".join(f"{value}.{changed_at.timestamp()}" for value, changed_at in versions)
    digest = hashlib.sha256(repr(_described(parts)).encode()).hexdigest()[:40]
    key = (
        f"{settings.CACHE_MIDDLEWARE_KEY_PREFIX}atlas.shared.{'.'.join(of) or 'all'}."
        f"{version}.{timezone.localdate()}.{name}.{digest}"
    )
    if local and (found := _LOCAL.get(key, _MISSING)) is not _MISSING:
        return found
    cache = caches[settings.CACHE_MIDDLEWARE_ALIAS]
    found = cache.get(key, _MISSING)
    if found is _MISSING:
        found = compute()
        cache.set(key, found, settings.CACHE_MIDDLEWARE_SECONDS)
    if local:
        _LOCAL[key] = found
        while len(_LOCAL) > LOCAL_VALUES:
            del _LOCAL[next(iter(_LOCAL))]
    return found


# What this process has read under the version of a part of the registry, while public
# pages are served (``read_once``): {part: (version, {key: value})}.
_READS = {}
# At most this many reads are kept per part; then they are dropped together.
READS_KEPT = 256


def read_once(part, key, read, using=DEFAULT_DB_ALIAS):
    """``read()``, read once by this process per version of ``part`` of the registry
    (``core.versioning.PART_MODELS``) while a public page is served, and each time
    otherwise (staff, writes, a shell, another database than the request's versions');
    ``key`` names what it reads, among the rest.

    For small reads from what that part's writes keep, which many pages make with every
    request: no cache to ask, nothing to unpickle. The page reads the versions before
    anything else and a write moves them in its own transaction, so what is kept here is
    never older than the page's version. The caller must not change what it gets.
    """
    from . import versioning

    versions = versioning.request_part_versions.get()
    if versions is None or using != DEFAULT_DB_ALIAS:
        return read()
    version = versions[part]
    kept_version, reads = _READS.get(part, (None, None))
    if kept_version != version:
        reads = {}
        _READS[part] = (version, reads)
    if key not in reads:
        if len(reads) >= READS_KEPT:
            reads.clear()
        reads[key] = read()
    return reads[key]


# What this process has read of single records under their revisions (``by_revision``):
# {name: {(id, key): value}}, at most BY_REVISION_KEPT per name, then dropped together.
_BY_REVISION = {}
BY_REVISION_KEPT = 4096


def by_revision(name, keys, read):
    """{id: value} for each id of ``keys`` ({id: key}): what this process read of that
    record under ``key`` (its revision, with whatever else the value depends on) while a
    public page was served, and ``read(ids)`` ({id: value}) of the others. Each time
    otherwise (staff, writes, a shell).

    For what a page shows of each of many records, after a write to one of them: what it
    shows of the others is read once. The key holds a revision the page read itself, and
    a write moves it in its own transaction: what is kept under it is never older than
    the revision. The caller must not change what it gets.
    """
    from . import versioning

    if versioning.request_part_versions.get() is None:
        return read(list(keys))
    kept = _BY_REVISION.setdefault(name, {})
    found, missing = {}, []
    for pk, key in keys.items():
        if (value := kept.get((pk, key), _MISSING)) is _MISSING:
            missing.append(pk)
        else:
            found[pk] = value
    if missing:
        read_now = read(missing)
        if len(kept) + len(read_now) > BY_REVISION_KEPT:
            kept.clear()
        # A read larger than the bound (the whole network's download at 100,000
        # partnerships) is not kept at all.
        if len(read_now) <= BY_REVISION_KEPT:
            for pk, value in read_now.items():
                kept[pk, keys[pk]] = value
        found.update(read_now)
    return found


def forget_local():
    """Drop the values this process keeps for itself (``per_version(local=True)``,
    ``read_once``, ``by_revision``)."""
    _LOCAL.clear()
    _READS.clear()
    _BY_REVISION.clear()


def _described(parts):
    """``parts`` with each QuerySet as the SQL of the records it holds (``records_sql``)."""
    described = []
    for part in parts:
        if isinstance(part, QuerySet):
            part = records_sql(part) or f"{part.model._meta.label}.none()"
        described.append(part)
    return described


def records_sql(queryset):
    """The SQL of the records ``queryset`` holds, in any order and whatever it selects
    (the default order is by name in the reader's language); None when it holds none.

    Written once per queryset, for every part of a page that tells records by it (the
    facet counts' key, the kept counts' scope): a partnership list's queryset took
    0.5 ms each time. Filtering or slicing clones a queryset, so what is kept here
    stays true of it.
    """
    try:
        return queryset.__dict__["_records_sql"]
    except KeyError:
        pass
    try:
        sql = str(queryset.order_by().values("pk").query)
    except EmptyResultSet:
        sql = None
    queryset.__dict__["_records_sql"] = sql
    return sql


@functools.cache
def whole_sql(model, using=DEFAULT_DB_ALIAS):
    """``records_sql`` of every record of ``model``, and of every published one where it
    has a publication: ``{"all": …, "published": …}``, written once per database. A
    queryset that holds no more than one of those gives the same SQL: the partnership
    facets' counts are kept for both (``partnerships.facets.scope_of``), and a download of
    either reads its lookups for every record (``importing.engine``)."""
    records = model._default_manager.using(using)
    wholes = {"all": records_sql(records.all())}
    if any(field.name == "publication" for field in model._meta.concrete_fields):
        wholes["published"] = records_sql(records.published())
    return wholes


class FileBasedCache(filebased.FileBasedCache):
    """Django's file cache, with an ``incr`` that counts in place under a file lock.

    The API throttle counts every anonymous API request with ``incr``. Django's file
    cache increments with a ``get`` and a ``set``: not atomic between workers, it moves
    the key's expiry to the default timeout, and its ``set`` lists the whole cache folder
    (to cull) and renames a new file over the old one, which ext4 flushes to disk: 2–10 ms
    a request. Here the count is rewritten in its own file, holding an exclusive lock
    (``flock``, released on close) that readers wait for with a shared one.

    Django's ``set`` also lists the whole folder to see whether it is full: 16 ms at
    10,000 entries (MAX_ENTRIES), and a page miss sets three entries (the page, its
    headers, the facet counts). Here a worker counts the folder once every
    ``CULL_EVERY`` sets, so it may pass MAX_ENTRIES by that many sets per worker before
    Django's cull removes a third of it.
    """

    CULL_EVERY = 100

    # zlib-ng's second level (``core.middleware.GZipMiddleware`` gzips with it too).
    # Django's zlib at its default level (6) took 12 ms to compress the map's 0.5 MB of
    # points and lines, at level 1 4 ms, for a file 9% larger. The map's 285 KB at 10,000
    # partnerships took 1.37 ms at zlib's level 1 and 0.77 at zlib-ng's 2, 4% smaller.
    COMPRESSION = 2
    # Most pages stored are gzipped already, and compress no further at any level: such a
    # response is stored as it is pickled, and so is any other value that zlib shrinks by
    # less than this. Decompressing the filtered map's 130 KB of GeoJSON took 0.57 ms of
    # a 2.1 ms cache hit.
    WORTH_COMPRESSING = 0.9

    def _write_content(self, file, timeout, value):
        file.write(pickle.dumps(self.get_backend_timeout(timeout), self.pickle_protocol))
        file.write(self._dumps(value))

    def _dumps(self, value):
        pickled = pickle.dumps(value, self.pickle_protocol)
        if getattr(value, "gzipped", None) is not None or (
            isinstance(value, HttpResponseBase) and value.has_header("Content-Encoding")
        ):
            # Compressed already (a response, or a ``core.rest.Written`` pickled as its
            # gzipped form): zlib takes longest to find that data shrinks no further.
            # Trying took 1.9 ms for the map's 110 KB of gzipped GeoJSON at 100,000
            # partnerships, and 0.17 ms for a list page's 13 KB.
            return pickled
        compressed = zlib_ng.compress(pickled, self.COMPRESSION)
        return compressed if len(compressed) < self.WORTH_COMPRESSING * len(pickled) else pickled

    @staticmethod
    def _loads(data):
        # A pickle starts with its protocol (0x80), zlib's output with 0x78. Files written
        # by zlib itself (Django's cache, or this one before zlib-ng) read the same.
        return pickle.loads(data if data[:1] == b"\x80" else zlib_ng.decompress(data))

    def _cull(self):
        sets = _SETS.get(self._dir, 0)
        _SETS[self._dir] = sets + 1
        # The first set of each worker counts: one started on a full folder culls it.
        if sets % self.CULL_EVERY == 0:
            super()._cull()

    def get(self, key, default=None, version=None):
        try:
            with open(self._key_to_file(key, version), "rb") as f:
                locks.lock(f, locks.LOCK_SH)
                if not self._is_expired(f):
                    return self._loads(f.read())
        except FileNotFoundError:
            pass
        return default

    def incr(self, key, delta=1, version=None):
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                locks.lock(f, locks.LOCK_EX)
                try:
                    expiry = pickle.load(f)
                except EOFError:
                    expiry = 0  # an empty file is expired, as Django's own reads have it
                if expiry is not None and expiry < time.time():
                    raise ValueError(f"Key {key!r} not found.")
                value = self._loads(f.read()) + delta
                f.seek(0)
                f.write(pickle.dumps(expiry, self.pickle_protocol) + self._dumps(value))
                f.truncate()
                return value
        except FileNotFoundError:
            raise ValueError(f"Key {key!r} not found.") from None

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        # Django's, reading the value as ``get`` does.
        try:
            with open(self._key_to_file(key, version), "r+b") as f:
                locks.lock(f, locks.LOCK_EX)
                if self._is_expired(f):
                    return False
                value = self._loads(f.read())
                f.seek(0)
                self._write_content(f, timeout, value)
                f.truncate()
                return True
        except FileNotFoundError:
            return False
