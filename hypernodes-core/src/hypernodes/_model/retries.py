"""Retries and timeouts: how often a failed node call is tried again, and how long one may take.

Both are settings like the executor or the cache (``Pipeline(retries=...,
timeout=...)``, ``with_retries`` / ``with_timeout``, ``as_node(...)``,
``set_default_config(...)``) and are also set per node (``@node(retries=...,
timeout=...)``), which wins over every other level.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any, TypeAlias

__all__ = ["Retries", "RetriesLike", "TimeoutLike", "to_retries", "to_timeout"]


class Retries:
    """How a failed node call is tried again.

    - ``max``: how many times it is tried again after the first failure
      (``Retries(max=3)``: up to four calls in all);
    - ``on``: the exception types that are worth another try (default: any
      ``Exception``; ``KeyboardInterrupt`` never is);
    - ``backoff``: the delay before the first retry in seconds, doubled for each
      next one up to ``max_delay``, with ``jitter`` (a random factor between
      0.5 and 1.5 so that many items do not retry in lockstep); or a function
      ``attempt -> seconds`` (``attempt`` counts the failed calls so far).

    Only the failed call is tried again: not the item, not the run. The error
    that finally propagates is the last one, with a note saying how many calls
    were made. ``retries=3`` is ``Retries(max=3)``::

        @node(output_name="page", retries=Retries(max=5, on=(IOError, TimeoutError)))
        def fetch(url: str) -> str: ...
    """

    __slots__ = ("backoff", "jitter", "max", "max_delay", "on")

    def __init__(
        self,
        max: int = 3,
        on: type[BaseException] | tuple[type[BaseException], ...] = Exception,
        backoff: float | Callable[[int], float] = 0.1,
        max_delay: float = 30.0,
        jitter: bool = True,
    ) -> None:
        if isinstance(max, bool) or not isinstance(max, int) or max < 0:
            msg = f"Retries(max=...) must be a whole number of retries, 0 or more; got {max!r}."
            raise ValueError(msg)
        kinds = on if isinstance(on, tuple) else (on,)
        if not kinds or not all(
            isinstance(k, type) and issubclass(k, BaseException) for k in kinds
        ):
            msg = (
                f"Retries(on=...) takes an exception class or a tuple of them, got {on!r}: "
                "e.g. on=(IOError, TimeoutError)."
            )
            raise TypeError(msg)
        if not callable(backoff) and (
            isinstance(backoff, bool) or not isinstance(backoff, int | float) or backoff < 0
        ):
            msg = (
                f"Retries(backoff=...) is the first delay in seconds (0 or more) or a function "
                f"attempt -> seconds, got {backoff!r}."
            )
            raise ValueError(msg)
        if (
            isinstance(max_delay, bool)
            or not isinstance(max_delay, int | float)
            or not (0 <= max_delay < float("inf"))
        ):
            msg = (
                f"Retries(max_delay=...) must be a number of seconds, 0 or more; got {max_delay!r}."
            )
            raise ValueError(msg)
        if not callable(backoff) and backoff == float("inf"):
            msg = "Retries(backoff=...) must be a finite number of seconds."
            raise ValueError(msg)
        self.max = max
        self.on = kinds
        self.backoff: Any = backoff
        self.max_delay = float(max_delay)
        self.jitter = bool(jitter)

    def retries(self, error: BaseException) -> bool:
        """Whether ``error`` is worth another try."""
        return isinstance(error, self.on) and not isinstance(error, KeyboardInterrupt)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failed call (1 for the first)."""
        if callable(self.backoff):
            return max(0.0, float(self.backoff(attempt)))
        first: float = self.backoff
        seconds: float = min(self.max_delay, first * 2.0 ** min(attempt - 1, 60))
        return seconds * random.uniform(0.5, 1.5) if self.jitter else seconds

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Retries):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def _key(self) -> tuple[Any, ...]:
        return (self.max, self.on, self.backoff, self.max_delay, self.jitter)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Retries, self._key())

    def __repr__(self) -> str:
        on = self.on[0].__name__ if len(self.on) == 1 else tuple(k.__name__ for k in self.on)
        return f"Retries(max={self.max}, on={on}, backoff={self.backoff!r})"


#: What ``retries=`` accepts: a number of retries, a :class:`Retries`, or ``None`` (none).
RetriesLike: TypeAlias = "int | Retries | None"
#: What ``timeout=`` accepts: seconds one node call may take, or ``None`` (no limit).
TimeoutLike: TypeAlias = "float | int | None"


def to_retries(value: Any, where: str = "retries") -> Retries | None:
    """A :class:`Retries` (or ``None``) from what a user wrote."""
    if value is None or isinstance(value, Retries):
        return value if value is None or value.max else None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return Retries(max=value) if value else None
    msg = (
        f"{where} takes a number of retries (0 or more), a Retries(...) or None, got "
        f"{type(value).__name__} {value!r}."
    )
    raise TypeError(msg)


def to_timeout(value: Any, where: str = "timeout") -> float | None:
    """Seconds (or ``None``) from what a user wrote."""
    import threading

    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if number and 0 < value <= threading.TIMEOUT_MAX:
        return float(value)
    msg = (
        f"{where} takes the seconds one node call may take (more than 0, at most "
        f"{threading.TIMEOUT_MAX:.0f}) or None for no limit, got {value!r}."
    )
    raise ValueError(msg)
