"""The cache interface. Implementations: ``MemoryCache`` and ``DiskCache``."""

from __future__ import annotations

from typing import Any

__all__ = ["Cache"]


class Cache:
    """Where node results are kept between runs, keyed by a string.

    Configuration is taken at construction only; resources (files,
    connections) open on first use, and pickling drops them, so a cache
    travels to process pools and remote backends. Subclasses implement
    :meth:`get`, :meth:`put`, :meth:`contains` and :meth:`clear`::

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
