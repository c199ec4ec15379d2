"""Caching during a run: keys, lookups and stores that never cost a user their results.

One :class:`CacheRun` exists per ``run`` or ``map`` (shared by the map's
items): it reads each node's fingerprint (code plus current globals) once,
hashes inputs shared by every item once, and turns every cache problem into
at most one warning per node and kind of problem, never into a failed run.
"""

from __future__ import annotations

import hashlib
import threading
import warnings
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ..errors import CacheWarning
from ._keys import UnhashableInput, function_fingerprint, value_token

if TYPE_CHECKING:
    from .._model.plan import Step
    from ._base import Cache

__all__ = ["CacheRun"]

_SCALARS = (int, str, float, bool, type(None))
_MEMO_SIZE = 64


class CacheRun:
    """The caching state of one run or map."""

    __slots__ = ("_bases", "_fingerprints", "_lock", "_memo", "_used", "_warned", "cache")

    def __init__(self, cache: Cache, used: list[Cache] | None = None) -> None:
        self.cache = cache
        self._used = used if used is not None else []
        self._used.append(cache)
        self._fingerprints: dict[Step, str | None] = {}
        self._bases: dict[Step, Any] = {}
        self._memo: OrderedDict[int, tuple[Any, str]] = OrderedDict()
        self._warned: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def _warn(self, step: Step, kind: str, message: str) -> None:
        with self._lock:
            if (step.name, kind) in self._warned:
                return
            self._warned.add((step.name, kind))
        warnings.warn(f"hypernodes: node {step.name!r}: {message}", CacheWarning, stacklevel=5)

    def fingerprint(self, step: Step) -> str | None:
        """The node's code-and-globals digest for this run (``None``: not cached)."""
        try:
            return self._fingerprints[step]
        except KeyError:
            pass
        found: str | None = None
        if getattr(step.node, "cache", False):
            try:
                found = function_fingerprint(step.node.func)  # type: ignore[union-attr]
            except Exception as exc:  # an exotic global; never fail the run for it
                self._warn(
                    step, "code", f"is not cached: its code cannot be fingerprinted ({exc})."
                )
        self._fingerprints[step] = found
        return found

    def _token(self, value: Any) -> str:
        """The value's token; large values met again (inputs shared by every item) once."""
        if isinstance(value, _SCALARS):
            return value_token(value)
        with self._lock:
            memo = self._memo.get(id(value))
            if memo is not None and memo[0] is value:
                self._memo.move_to_end(id(value))
                return memo[1]
        token = value_token(value)
        with self._lock:
            # The entry keeps the value alive, so its id cannot be reused while remembered;
            # the bound keeps per-item values from piling up over a long map.
            self._memo[id(value)] = (value, token)
            if len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return token

    def key(self, step: Step, values: dict[str, Any], hashes: dict[str, str]) -> str | None:
        """The cache key of this call, or ``None`` when it is not to be cached."""
        base = self._bases.get(step)
        if base is None:
            fingerprint = self.fingerprint(step)
            if fingerprint is None:
                return None
            base = self._bases[step] = hashlib.blake2b(fingerprint.encode(), digest_size=16)
        tokens = []
        for name in step.params:
            token = hashes.get(name)
            if token is None:
                try:
                    if name in values:
                        token = hashes[name] = self._token(values[name])
                    else:  # the node's default: the same key as passing that value
                        token = self._token(step.defaults[name])
                except UnhashableInput as exc:
                    self._warn(
                        step,
                        f"input:{exc.value_type}",
                        f"is not cached for inputs of type {exc.value_type} ({exc.reason}). "
                        "Give the type a __cache_key__() method, or use @node(cache=False).",
                    )
                    return None
            tokens.append(token)
        h = base.copy()
        # Tokens never hold a NUL (strings are repr()-escaped), so joining on it is unambiguous.
        h.update("\0".join(tokens).encode("utf-8", "surrogatepass"))
        return h.hexdigest()

    def unreadable(self, step: Step, key: str, exc: Exception) -> tuple[bool, None]:
        """An entry that cannot be read: a miss; it is dropped and stored again."""
        self._warn(step, "read", f"a cache entry could not be read ({exc!r}); recomputing it.")
        try:
            self.cache.discard(key)
        except Exception:
            pass
        return False, None

    def store(self, step: Step, key: str, value: Any) -> None:
        """Write ``value``; a value that cannot be stored is one warning, never an error."""
        try:
            self.cache.put(key, value)
        except Exception as exc:
            self._warn(
                step,
                f"write:{type(value).__name__}",
                f"its result (a {type(value).__name__}) could not be stored in the cache "
                f"({type(exc).__name__}: {exc}); the run goes on without caching it.",
            )

    def child(self, cache: Cache | None) -> CacheRun | None:
        """The caching state of a nested run: shared when the cache is the same."""
        if cache is None:
            return None
        if cache is self.cache:
            return self
        return CacheRun(cache, self._used)

    def flush(self) -> None:
        """Flush every cache this run (and its nested runs) used; never raises."""
        for cache in self._used:
            try:
                cache.flush()
            except Exception as exc:
                warnings.warn(
                    f"hypernodes: {cache!r} could not write its entries: {exc!r}",
                    CacheWarning,
                    stacklevel=2,
                )
