"""The cache interface and the in-memory cache. ``DiskCache`` lives in ``_disk``."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

__all__ = ["Cache", "MemoryCache"]


class Cache:
    """Where node results are kept between runs, keyed by a string.

    Configuration is taken at construction only; resources (files,
    connections) open on first use, and pickling keeps the configuration and
    drops the resources, so a cache travels to process pools and remote
    backends. Subclasses implement :meth:`get`, :meth:`put`,
    :meth:`contains` and :meth:`clear`::

        class DictCache(Cache):
            def __init__(self):
                self.data = {}

            def get(self, key):
                return (key in self.data), self.data.get(key)

            def put(self, key, value):
                self.data[key] = value

            def contains(self, key):
                return key in self.data

            def clear(self):
                self.data.clear()

    ``get`` may raise for an entry it cannot read: hypernodes counts that as a
    miss and stores the value again.
    """

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` on a hit, ``(False, None)`` on a miss."""
        raise NotImplementedError

    def put(self, key: str, value: Any) -> None:
        """Store ``value`` under ``key``."""
        raise NotImplementedError

    def contains(self, key: str) -> bool:
        """Whether ``key`` is stored."""
        raise NotImplementedError

    def clear(self) -> None:
        """Remove every entry."""
        raise NotImplementedError

    def discard(self, key: str) -> None:
        """Remove ``key`` if present (used to drop an entry that cannot be read)."""

    def flush(self) -> None:
        """Write anything buffered; called at the end of every run and map."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class MemoryCache(Cache):
    """An in-process cache, least recently used first out when ``max_size`` is reached.

    Thread-safe. It lives in one process: a copy sent to a process pool or a
    remote backend starts empty there, and what it stores there stays there.
    Use :class:`DiskCache` to share results between processes and runs.
    """

    def __init__(self, max_size: int | None = None) -> None:
        if max_size is not None and max_size < 1:
            msg = f"MemoryCache(max_size=...) must be a positive number or None, got {max_size!r}."
            raise ValueError(msg)
        self.max_size = max_size
        self._data: OrderedDict[str, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> tuple[bool, Any]:
        with self._lock:
            try:
                value = self._data[key]
            except KeyError:
                return False, None
            if self.max_size is not None:
                self._data.move_to_end(key)
            return True, value

    def put(self, key: str, value: Any) -> None:
        with self._lock:
            self._data[key] = value
            if self.max_size is not None:
                self._data.move_to_end(key)
                while len(self._data) > self.max_size:
                    self._data.popitem(last=False)

    def contains(self, key: str) -> bool:
        return key in self._data

    def clear(self) -> None:
        with self._lock:
            self._data.clear()

    def discard(self, key: str) -> None:
        with self._lock:
            self._data.pop(key, None)

    def __len__(self) -> int:
        return len(self._data)

    def __getstate__(self) -> dict[str, Any]:
        return {"max_size": self.max_size}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["max_size"])  # type: ignore[misc]

    def __repr__(self) -> str:
        return f"MemoryCache(max_size={self.max_size!r})"
