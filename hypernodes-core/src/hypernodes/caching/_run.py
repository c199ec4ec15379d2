"""Caching during a run: keys, lookups and stores that never cost a user their results.

One :class:`CacheRun` exists per ``run`` or ``map`` (shared by the map's
items and by nested runs on the same cache): it reads each node's fingerprint
(code plus current globals) once, and turns every cache problem — a value
that cannot be keyed, a key that raises, an entry that cannot be read or
written — into at most one warning per node and kind of problem, never into
a failed run. Parts of a fingerprint keyed by type only are logged at DEBUG
on the ``hypernodes.cache`` logger.

Values are hashed for every call, except the inputs a map shares with all its
items (:meth:`CacheRun.sharing`): those are the same object, unchanged, for
the whole map, so each is hashed at most once per map. Nothing else is
remembered by identity, so a producer that returns a reused, mutated buffer
is hashed afresh each time, and no per-item value is kept alive.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import CacheWarning
from ._keys import UnhashableInput, Walk, value_token
from ._walk import scalar_token

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from .._model.plan import Step
    from ._base import Cache

__all__ = ["CacheRun"]

logger = logging.getLogger("hypernodes.cache")

_SCALARS = frozenset({int, str, float, bool, type(None)})  # never shared by identity


class CacheRun:
    """The caching state of one run or map."""

    __slots__ = (
        "_bases",
        "_classes",
        "_fingerprints",
        "_lock",
        "_shared",
        "_used",
        "_warned",
        "cache",
    )

    def __init__(self, cache: Cache, used: list[Cache] | None = None) -> None:
        self.cache = cache
        self._used = used if used is not None else []
        self._used.append(cache)
        self._fingerprints: dict[Step, str | None] = {}
        self._bases: dict[Step, Any] = {}
        self._classes: dict[type, bytes] = {}  # class digests, read once per run
        # id -> [value, token or None, maps sharing it]; the entry holds the value, so
        # its id cannot be reused while the entry exists
        self._shared: dict[int, list[Any]] = {}
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
            walk = Walk(self._classes)
            try:
                found = walk.fingerprint(step.node.func)  # type: ignore[union-attr]
                batch = step.batch
                if batch is not None:  # map runs it: its code counts too
                    found += ":batch:" + walk.fingerprint(batch)
            except Exception as exc:  # never fail the run for a key
                self._warn(
                    step, "code", f"is not cached: its code cannot be fingerprinted ({exc!r})."
                )
            if walk.notes and logger.isEnabledFor(logging.DEBUG):
                logger.debug(
                    "node %r: parts of its key count by type only (give them a "
                    "__cache_key__() to count them by value): %s",
                    step.name,
                    "; ".join(str(note) for note in walk.notes),
                )
        self._fingerprints[step] = found
        return found

    @contextlib.contextmanager
    def sharing(self, values: Mapping[str, Any]) -> Iterator[None]:
        """While a map runs: ``values`` (its inputs shared by every item) are hashed once.

        They are the same objects, unchanged, for every item of the map; the
        entries end with the map, so nothing outlives it.
        """
        held = [v for v in values.values() if type(v) not in _SCALARS]
        with self._lock:
            for value in held:
                entry = self._shared.get(id(value))
                if entry is None:
                    self._shared[id(value)] = [value, None, 1]
                else:
                    entry[2] += 1
        try:
            yield
        finally:
            with self._lock:
                for value in held:
                    entry = self._shared[id(value)]
                    entry[2] -= 1
                    if not entry[2]:
                        del self._shared[id(value)]

    def _token(self, value: Any) -> str:
        """The value's token: hashed now, unless it is an input shared by the map's items."""
        token = scalar_token(value)  # the common case, without a walk
        if token is not None:
            return token
        if not self._shared:
            return value_token(value, self._classes)
        entry = self._shared.get(id(value))
        if entry is None or entry[0] is not value:
            return value_token(value, self._classes)
        token = entry[1]
        if token is None:
            token = entry[1] = value_token(value, self._classes)
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
                        "Give the type a working __cache_key__() method, or use "
                        "@node(cache=False).",
                    )
                    return None
            tokens.append(token)
        h = base.copy()
        # As call_key(): tokens never hold a NUL (strings are repr()-escaped).
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
