"""``DiskCache``: node results on disk, shared by threads, processes and runs."""

from __future__ import annotations

import atexit
import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from ._base import Cache

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["DiskCache", "default_cache_dir"]


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
    keeps only ``path`` and ``size_limit``, so it travels to process pools and
    remote backends (where the path must exist or be creatable). A directory
    deleted while in use is recreated at the next write.

    Writes are batched: values are pickled at once (so a value that cannot be
    stored is reported at the node that produced it) and written in one
    transaction per ``write_batch`` entries or half a second, at the end of
    every run and map, and at exit. Until then they are visible to this
    process only.

    ``size_limit`` (bytes) evicts least recently stored entries beyond it;
    ``None`` keeps everything.

    **Security**: entries are pickles, and loading a pickle can run code. A
    cache directory is trusted input: never point a DiskCache at a directory
    written by someone you do not trust.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        size_limit: int | None = None,
        write_batch: int = 256,
    ) -> None:
        from pathlib import Path

        self.path = Path(path) if path is not None else default_cache_dir()
        self.size_limit = size_limit
        self.write_batch = write_batch
        self._store: Any = None
        self._lock = threading.RLock()
        self._pending: dict[str, bytes] = {}
        self._pending_since = 0.0

    def _open(self) -> Any:
        store = self._store
        if store is not None:
            return store
        with self._lock:
            if self._store is None:
                import diskcache

                options: dict[str, Any] = {"eviction_policy": "least-recently-stored"}
                if self.size_limit is not None:
                    options["size_limit"] = self.size_limit
                else:  # unbounded: no culling queries on every write
                    options["size_limit"] = 2**62
                    options["cull_limit"] = 0
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = diskcache.Cache(str(self.path), **options)
            return self._store

    def get(self, key: str) -> tuple[bool, Any]:
        data = self._pending.get(key)
        if data is None:
            data = self._open().get(key, default=None, retry=True)
            if data is None:
                return False, None
        import pickle  # deferred, like the diskcache import: not paid by `import hypernodes`

        return True, pickle.loads(data)

    def put(self, key: str, value: Any) -> None:
        import pickle

        data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        with self._lock:
            if not self._pending:
                self._pending_since = time.monotonic()
                _with_pending.add(self)
            self._pending[key] = data
            if len(self._pending) >= self.write_batch or (
                time.monotonic() - self._pending_since > 0.5
            ):
                self.flush()

    def flush(self) -> None:
        """Write the batched entries (recreating the directory if it was deleted)."""
        with self._lock:
            if not self._pending:
                return
            store = self._open()
            if not os.path.exists(os.path.join(self.path, "cache.db")):
                store.close()
                self._store = None
                store = self._open()
            pending, self._pending = self._pending, {}
            with store.transact(retry=True):
                for key, data in pending.items():
                    store.set(key, data)

    def contains(self, key: str) -> bool:
        return key in self._pending or key in self._open()

    def discard(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)
        try:
            self._open().delete(key, retry=True)
        except Exception:
            pass

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
        self._open().clear(retry=True)

    def close(self) -> None:
        """Write what is batched and close the files (reopened on next use)."""
        with self._lock:
            self.flush()
            if self._store is not None:
                self._store.close()
                self._store = None

    def __len__(self) -> int:
        self.flush()
        return len(self._open())

    def __getstate__(self) -> dict[str, Any]:
        self.flush()
        return {"path": str(self.path), "size_limit": self.size_limit, "batch": self.write_batch}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], state["size_limit"], state["batch"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"DiskCache({str(self.path)!r}, size_limit={self.size_limit!r})"


_with_pending: weakref.WeakSet[DiskCache] = weakref.WeakSet()


@atexit.register
def _flush_at_exit() -> None:
    for cache in list(_with_pending):
        try:
            cache.flush()
        except Exception:
            pass
