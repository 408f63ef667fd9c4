import pickle
import time
import zlib

from django.core.cache.backends import filebased
from django.core.files import locks


class FileBasedCache(filebased.FileBasedCache):
    """Django's file cache, with an ``incr`` that counts in place under a file lock.

    The API throttle counts every anonymous API request with ``incr``. Django's file
    cache increments with a ``get`` and a ``set``: not atomic between workers, it moves
    the key's expiry to the default timeout, and its ``set`` lists the whole cache folder
    (to cull) and renames a new file over the old one, which ext4 flushes to disk: 2–10 ms
    a request. Here the count is rewritten in its own file, holding an exclusive lock
    (``flock``, released on close) that readers wait for with a shared one.
    """

    def get(self, key, default=None, version=None):
        try:
            with open(self._key_to_file(key, version), "rb") as f:
                locks.lock(f, locks.LOCK_SH)
                if not self._is_expired(f):
                    return pickle.loads(zlib.decompress(f.read()))
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
                value = pickle.loads(zlib.decompress(f.read())) + delta
                f.seek(0)
                f.write(
                    pickle.dumps(expiry, self.pickle_protocol)
                    + zlib.compress(pickle.dumps(value, self.pickle_protocol))
                )
                f.truncate()
                return value
        except FileNotFoundError:
            raise ValueError(f"Key {key!r} not found.") from None
