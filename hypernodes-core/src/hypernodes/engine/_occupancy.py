"""Which pools the calling thread is a worker of.

A map (or an eager run) started from a thread that is itself a worker of the
pool it would use must not wait on that pool: every worker might be waiting
the same way, and none would be left to run the work. Such work runs inline
instead. Threads hypernodes starts on a worker's behalf (a node call under a
timeout) inherit what the worker occupies.
"""

from __future__ import annotations

import threading
from typing import Any

__all__ = ["inherit", "occupied", "occupies", "occupying"]

_occupied = threading.local()


def occupies(pool: Any) -> bool:
    """Whether the calling thread is a worker of ``pool``, running a map item or a node.

    A map (or node) started from such a thread must not wait on ``pool``:
    every worker might be waiting the same way, and none would be left to run
    the work. It runs inline instead.
    """
    return id(pool) in getattr(_occupied, "pools", ())


class occupying:
    """Mark the calling thread as a worker of ``pool`` while the block runs."""

    __slots__ = ("key",)

    def __init__(self, pool: Any) -> None:
        self.key = id(pool)

    def __enter__(self) -> None:
        pools = getattr(_occupied, "pools", None)
        if pools is None:
            pools = _occupied.pools = set()
        pools.add(self.key)

    def __exit__(self, *exc_info: object) -> None:
        _occupied.pools.discard(self.key)


def occupied() -> set[int]:
    """What the calling thread occupies, to hand to a thread started on its behalf."""
    return set(getattr(_occupied, "pools", ()))


def inherit(pools: set[int]) -> None:
    """Make the calling thread occupy ``pools`` too (see :func:`occupied`)."""
    if pools:
        _occupied.pools = set(pools)
