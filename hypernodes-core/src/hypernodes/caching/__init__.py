"""Caching: the cache interface, the built-in caches, and what a cache key covers.

- :class:`Cache` (``_base``): the interface a cache plugin implements;
  :class:`MemoryCache` beside it.
- :class:`DiskCache` (``_disk``): on the ``diskcache`` library, shared by
  processes and runs; ``_disk_directory`` keeps its directory private and
  deals with a corrupt or read-only one.
- ``_keys``: the cache key of a node call (its exact coverage is documented there).
- ``_run``: lookups and stores during one run, where every cache fault becomes
  a warning and never a lost result.
"""

from __future__ import annotations

from ._base import Cache, MemoryCache
from ._disk import DiskCache

__all__ = ["Cache", "DiskCache", "MemoryCache"]
