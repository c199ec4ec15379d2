"""``DiskCache``: node results on disk, shared by threads, processes and runs.

What it does to its directory, and what it does when the directory is not
what it expects (each case is one ``CacheWarning``, never a failed run):

- **Private.** A directory it creates is ``0700`` and every file in it
  (index, value files, their subfolders) is readable by its owner only,
  whatever the umask: entries are pickles, and a cache someone else can
  write runs their code. An existing directory keeps its permissions (a
  team may share one on purpose), but one that every user may write is
  warned about.
- **Corrupt index.** When SQLite says the index (``cache.db``) is not a
  database or is malformed, the index and the value files it pointed at are
  moved once into ``corrupt-<time>-<pid>/`` inside the directory, kept for
  inspection, and an empty cache is started in their place.
- **Read-only.** A directory this process cannot write still serves the
  entries it holds; new results are not stored.
- **Unusable** (the path is a file, nothing readable is there): every lookup
  is a miss and nothing is stored.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from .._warnings import warn_at_user
from ..errors import CacheWarning
from ._base import Cache
from ._disk_directory import (
    INDEX,
    SQLITE_CORRUPT,
    SQLITE_NOT_WRITABLE,
    ReadOnlyIndex,
    file_id,
    move_aside,
    not_writable,
    private_disk,
    sqlite_code,
)

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DiskCache", "default_cache_dir"]

#: Written entries wait at most this long (seconds) for their batch to fill.
WRITE_DELAY = 0.5
#: The size limit given to diskcache for an unbounded cache (it needs a number).
UNBOUNDED = 2**62


def default_cache_dir() -> Path:
    """``$HYPERNODES_CACHE_DIR``, else ``$XDG_CACHE_HOME/hypernodes``, else ``~/.cache/...``."""
    from pathlib import Path  # deferred: pathlib is a noticeable part of import time

    explicit = os.environ.get("HYPERNODES_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "hypernodes"


class DiskCache(Cache):
    """A cache in a directory, on the ``diskcache`` library (SQLite index + files).

    Safe for concurrent threads and processes. Opened on first use; pickling
    keeps only ``path``, ``size_limit`` and ``write_batch``, so it travels to
    process pools and remote backends (where the path must exist or be
    creatable). A directory deleted while in use is recreated at the next write.

    Writes are batched: values are pickled at once (so a value that cannot be
    stored is reported at the node that produced it) and written in one
    transaction per ``write_batch`` entries or half a second, at the end of
    every run and map, and at exit. Until then they are visible to this
    process only.

    ``size_limit`` (bytes) evicts least recently stored entries beyond it;
    ``None`` keeps everything.

    **Security**: entries are pickles, and loading a pickle can run code. A
    cache directory is trusted input: never point a DiskCache at a directory
    someone you do not trust can write. A directory DiskCache creates is
    private to its user (``0700``).
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        size_limit: int | None = None,
        write_batch: int = 256,
    ) -> None:
        from pathlib import Path

        _check_arguments(path, size_limit, write_batch)
        self.path = Path(path) if path is not None else default_cache_dir()
        self.size_limit = size_limit
        self.write_batch = write_batch
        self._store: Any = None  # the diskcache.Cache, once open for reading and writing
        self._reader: ReadOnlyIndex | None = None  # when the directory cannot be written
        self._no_writes: str | None = None  # why results are not stored (warned once)
        self._no_reads: str | None = None  # why nothing can be read either
        self._index_id: tuple[int, int] | None = None  # the index file the store opened
        self._lock = threading.RLock()
        self._pending: dict[str, bytes] = {}
        self._pending_since = 0.0

    # -- opening -------------------------------------------------------------------

    def _open(self) -> Any:
        """The diskcache store, or ``None`` when this process only reads (or cannot)."""
        store = self._store
        if store is not None or self._no_writes is not None:
            return store
        with self._lock:
            if self._store is None and self._no_writes is None:
                self._store = self._connect()
            return self._store

    def _connect(self) -> Any:
        import sqlite3

        found = file_id(self.path / INDEX)
        try:
            return self._connect_once()
        except NotADirectoryError as exc:
            return self._unusable(f"{exc.strerror}")
        except sqlite3.DatabaseError as exc:
            code = sqlite_code(exc)
            if code in SQLITE_CORRUPT:
                return self._rebuild(exc, found)
            if code in SQLITE_NOT_WRITABLE:
                return self._read_only(f"{exc}")
            raise
        except OSError as exc:  # the directory or the index file cannot be created
            return self._read_only(f"{exc.strerror or exc}")

    def _connect_once(self) -> Any:
        import diskcache

        options: dict[str, Any] = {"eviction_policy": "least-recently-stored"}
        if self.size_limit is not None:
            options["size_limit"] = self.size_limit
        else:  # unbounded: no culling queries on every write
            options["size_limit"] = UNBOUNDED
            options["cull_limit"] = 0
        self._prepare_directory()
        store = diskcache.Cache(str(self.path), disk=private_disk(), **options)
        self._index_id = file_id(self.path / INDEX)
        return store

    def _prepare_directory(self) -> None:
        """Create the directory and the index private to this user, whatever the umask."""
        path = self.path
        if path.exists() and not path.is_dir():
            msg = f"{path} is a file, not a directory"
            raise NotADirectoryError(20, msg)
        if not path.is_dir():
            path.parent.mkdir(parents=True, exist_ok=True)
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:  # another process made it first
                pass
        else:
            self._warn_if_shared()
        try:  # SQLite gives the -wal and -shm files the index file's permissions
            os.close(os.open(path / INDEX, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass

    def _warn_if_shared(self) -> None:
        import stat

        if os.name == "posix" and os.stat(self.path).st_mode & stat.S_IWOTH:
            warn_at_user(
                f"hypernodes: the DiskCache directory {self.path} can be written by every "
                "user of this machine, and loading an entry can run code someone put there. "
                f"Use a private directory, or remove the others' write permission "
                f"(chmod o-w {self.path}).",
                CacheWarning,
            )

    def _read_only(self, reason: str) -> None:
        """This process cannot write the directory: serve what it holds, store nothing."""
        try:
            self._reader = ReadOnlyIndex(self.path)
        except Exception as exc:
            self._unusable(f"{reason}, and it cannot be read either ({exc})")
            return
        self._stop_writing(reason)

    def _unusable(self, reason: str) -> None:
        self._no_reads = self._no_writes = reason
        self._pending.clear()
        warn_at_user(
            f"hypernodes: the DiskCache at {self.path} cannot be used: {reason}. This process "
            "runs without it: nothing is read from it or stored in it.",
            CacheWarning,
        )

    def _stop_writing(self, reason: str) -> None:
        if self._no_writes is not None:
            return
        self._no_writes = reason
        self._pending.clear()
        warn_at_user(
            f"hypernodes: the DiskCache at {self.path} cannot be written ({reason}). It still "
            "serves the entries it holds; new results are computed but not stored.",
            CacheWarning,
        )

    def _rebuild(self, exc: BaseException, corrupt: tuple[int, int] | None) -> Any:
        """The index file ``corrupt`` is corrupt: move it and its value files aside (unless
        another process or thread already did) and start an empty cache in their place."""
        import sqlite3

        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None
            aside = None
            if file_id(self.path / INDEX) == corrupt:
                try:
                    aside, files = move_aside(self.path)
                except OSError as move_error:  # a read-only directory, say
                    return self._unusable(
                        f"its index is corrupt ({exc}) and cannot be moved aside ({move_error})"
                    )
            try:
                self._store = self._connect_once()
            except (OSError, sqlite3.DatabaseError) as again:
                return self._unusable(f"its index was corrupt and cannot be rebuilt ({again})")
            if aside is not None:
                what = "It was moved"
                if files:
                    what += f", with the {files} value files it indexed,"
                warn_at_user(
                    f"hypernodes: the DiskCache index {self.path / INDEX} was corrupt ({exc}). "
                    f"{what} to {aside} (kept for inspection; delete that folder to free the "
                    "space), and an empty cache was started in its place: results are "
                    "computed and stored again.",
                    CacheWarning,
                )
            return self._store

    def _corrupt(self, exc: BaseException, store: Any) -> bool:
        """Whether ``exc``, raised by ``store``, says the index is corrupt; if so, rebuild it."""
        import sqlite3

        if not (isinstance(exc, sqlite3.DatabaseError) and sqlite_code(exc) in SQLITE_CORRUPT):
            return False
        with self._lock:
            if store is self._store:  # not yet rebuilt by another thread
                self._rebuild(exc, self._index_id)
        return True

    # -- the Cache interface -------------------------------------------------------

    def get(self, key: str) -> tuple[bool, Any]:
        data = self._pending.get(key)
        if data is None:
            store = self._open()
            if store is not None:
                try:
                    data = store.get(key, default=None, retry=True)
                except Exception as exc:
                    if self._corrupt(exc, store):
                        return False, None
                    raise
            elif self._reader is not None:
                data = self._reader.get(key)
            if data is None:
                return False, None
        import pickle  # deferred, like the diskcache import: not paid by `import hypernodes`

        return True, pickle.loads(data)

    def put(self, key: str, value: Any) -> None:
        if self._no_writes is not None:
            return
        import pickle

        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
                _with_pending.add(self)
            self._pending[key] = data
            if len(self._pending) >= self.write_batch or (
                time.monotonic() - self._pending_since > WRITE_DELAY
            ):
                self.flush()

    def flush(self) -> None:
        """Write the batched entries (recreating the directory if it was deleted)."""
        with self._lock:
            if not self._pending:
                return
            store = self._open()
            if store is None:
                self._pending.clear()
                return
            if not os.path.exists(os.path.join(self.path, INDEX)):
                store.close()
                self._store = None
                store = self._open()
            pending, self._pending = self._pending, {}
            try:
                self._write(store, pending)
            except Exception as exc:
                if self._corrupt(exc, store) and self._store is not None:
                    self._write(self._store, pending)
                elif not_writable(exc):
                    self._stop_writing(f"{exc}")
                else:
                    raise

    @staticmethod
    def _write(store: Any, entries: dict[str, bytes]) -> None:
        with store.transact(retry=True):
            for key, data in entries.items():
                store.set(key, data)

    def contains(self, key: str) -> bool:
        if key in self._pending:
            return True
        store = self._open()
        if store is not None:
            return key in store
        return self._reader is not None and self._reader.get(key) is not None

    def discard(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)
        store = self._open()
        if store is None:
            return
        try:
            store.delete(key, retry=True)
        except Exception:
            pass

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        store = self._open()
        if store is None:
            msg = f"DiskCache at {self.path} cannot be cleared: {self._no_writes}."
            raise PermissionError(msg)
        store.clear(retry=True)

    def close(self) -> None:
        """Write what is batched and close the files (reopened on next use)."""
        with self._lock:
            self.flush()
            if self._store is not None:
                self._store.close()
                self._store = None
            if self._reader is not None:
                self._reader.close()
                self._reader = None
            self._no_writes = self._no_reads = None

    def __len__(self) -> int:
        self.flush()
        store = self._open()
        if store is not None:
            return len(store)
        return len(self._reader) if self._reader is not None else 0

    def __reduce__(self) -> tuple[Any, ...]:
        # It travels as its configuration (what is batched is written first), and arrives
        # as the one DiskCache of that configuration in the receiving process.
        self.flush()
        return (_arrived, (type(self), str(self.path), self.size_limit, self.write_batch))

    def __repr__(self) -> str:
        return f"DiskCache({str(self.path)!r}, size_limit={self.size_limit!r})"


def _check_arguments(path: object, size_limit: object, write_batch: object) -> None:
    if path is not None and not isinstance(path, str | os.PathLike):
        msg = f"DiskCache(path=...) must be a directory path (str or Path) or None, got {path!r}."
        raise TypeError(msg)
    if size_limit is not None and (
        isinstance(size_limit, bool) or not isinstance(size_limit, int) or size_limit < 1
    ):
        msg = (
            f"DiskCache(size_limit={size_limit!r}): size_limit is the most bytes the cache "
            "may hold before it evicts the oldest entries. Give a positive whole number of "
            "bytes (for example 2**30 for 1 GiB), or None for no limit."
        )
        raise ValueError(msg)
    if isinstance(write_batch, bool) or not isinstance(write_batch, int) or write_batch < 1:
        msg = (
            f"DiskCache(write_batch={write_batch!r}): write_batch is how many entries are "
            "written in one transaction. Give a positive whole number (1 writes each at once)."
        )
        raise ValueError(msg)


_with_pending: weakref.WeakSet[DiskCache] = weakref.WeakSet()

#: The DiskCaches that arrived in this process, one per configuration: every payload a
#: long-lived worker unpacks (a map, a chunk, a Daft batch) brings a copy, and unpacked
#: payloads are cyclic garbage that only a full collection frees, so one store (and one
#: set of open files) per configuration instead of one per payload served.
_arrivals: weakref.WeakValueDictionary[tuple[Any, ...], DiskCache] = weakref.WeakValueDictionary()
_arrivals_lock = threading.Lock()


def _arrived(kind: type[DiskCache], path: str, size_limit: int | None, batch: int) -> DiskCache:
    """A DiskCache unpickled here: the one of that configuration this process has."""
    key = (kind, path, size_limit, batch)
    with _arrivals_lock:
        found = _arrivals.get(key)
        if found is None:
            found = _arrivals[key] = kind(path, size_limit, batch)
        return found


@atexit.register
def _flush_at_exit() -> None:
    for cache in list(_with_pending):
        try:
            cache.flush()
        except Exception:
            pass
