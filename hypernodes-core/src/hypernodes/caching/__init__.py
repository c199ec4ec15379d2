"""Caching: the cache interface, the built-in caches, and what a cache key covers.

- :class:`Cache` (``_base``): the interface a cache plugin implements;
  :class:`MemoryCache` beside it.
- :class:`DiskCache` (``_disk``): on the ``diskcache`` library, shared by
  processes and runs; ``_disk_directory`` keeps its directory private and
  deals with a corrupt or read-only one.
- ``_keys``: what the cache key of a node call covers, exactly, built by a walk
  over values (``_walk``), objects (``_objects``) and code (``_reach``, with a
  digest per code object in ``_code``); :func:`explain_key` (``_explain``)
  shows a key part by part.
- ``_run``: lookups and stores during one run, where every cache fault becomes
  a warning and never a lost result.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._base import Cache, MemoryCache
from ._disk import DiskCache

if TYPE_CHECKING:
    from ._explain import KeyReport, explain_key
    from ._keys import KeyPart

__all__ = ["Cache", "DiskCache", "KeyPart", "KeyReport", "MemoryCache", "explain_key"]


def __getattr__(name: str) -> Any:
    # Keys import pickle, marshal and dis: only when asked for, not with hypernodes.
    if name in ("explain_key", "KeyReport"):
        from . import _explain

        return getattr(_explain, name)
    if name == "KeyPart":
        from ._keys import KeyPart

        return KeyPart
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)
