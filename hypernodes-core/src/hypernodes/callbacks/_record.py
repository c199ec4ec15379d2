"""Recording events where callbacks are not, and replaying them where they are.

Callbacks always run in the caller's process. When work runs elsewhere (a
process-pool worker, a Dask worker, a Modal container), every callback in
what is shipped travels as a :class:`StandIn` holding only a *token*: a name
for that callback object in the caller (see :func:`token_of`). On the far
side, scopes whose callbacks are stand-ins get a :class:`Recorder` instead of
a dispatcher; it appends each event, tagged with the tokens of the callback
set it belongs to, to one list per shipped run. Back in the caller,
:func:`replay` resolves the tokens to the very callback objects and emits each
event through a dispatcher of exactly that set, so an inner pipeline's own
callbacks get the inner events and the outer callbacks get the outer ones,
exactly as when the items run in a thread pool.

An event is ``(tokens, hook, args, pipelines, item_path, on_error)``: ``args``
are the hook's arguments without its ``CallbackContext``, which the caller
rebuilds from ``pipelines``, ``item_path`` and ``on_error``. An ``on_error``
event that ended the work carries ``None`` for the error (the exception
travels on its own) and :func:`replay` puts the exception that arrived in its
place; one in an item of a map that goes on past failures carries its
exception packed, to be rebuilt here.
"""

from __future__ import annotations

import functools
import itertools
import os
import threading
import weakref
from typing import TYPE_CHECKING, Any, TypeAlias

from ._dispatch import Dispatcher
from ._hooks import CallbackContext, PipelineCallback

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Event", "Recorder", "StandIn", "replay", "resolve", "token_of"]

#: ``(tokens, hook, args, pipelines, item_path, on_error)``; see the module docstring.
Event: TypeAlias = tuple[
    tuple[str, ...], str, tuple[Any, ...], tuple[str, ...], tuple[int, ...], str
]


class StandIn(PipelineCallback):
    """What a callback becomes when shipped: its token, nothing else."""

    __slots__ = ("token",)

    def __init__(self, token: str) -> None:
        self.token = token

    def __reduce__(self) -> tuple[Any, ...]:
        return (StandIn, (self.token,))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StandIn) and other.token == self.token

    def __hash__(self) -> int:
        return hash(self.token)

    def __repr__(self) -> str:
        return f"StandIn({self.token!r})"


# -- tokens: names for callback objects of this process ------------------------------

# Reentrant: a garbage collection while the lock is held can run ``_forget`` (a weakref
# callback of a dead callback object) on this same thread.
_lock = threading.RLock()
_counter = itertools.count()
_by_id: dict[int, tuple[Any, str]] = {}  # id(callback) -> (weak or strong ref, token)
_by_token: dict[str, Any] = {}  # token -> weak or strong ref


def token_of(callback: PipelineCallback) -> str:
    """A token naming ``callback`` in this process (the same one for its whole life)."""
    if isinstance(callback, StandIn):
        return callback.token
    key = id(callback)
    with _lock:
        found = _by_id.get(key)
        if found is not None and _deref(found[0]) is callback:
            return found[1]
        token = f"{os.getpid()}.{next(_counter)}"
        try:
            ref: Any = weakref.ref(callback, functools.partial(_forget, key, token))
        except TypeError:  # not weakly referenceable: kept alive (callbacks are few)
            ref = callback
        _by_id[key] = (ref, token)
        _by_token[token] = ref
        return token


def _forget(key: int, token: str, _ref: Any = None) -> None:
    with _lock:
        _by_token.pop(token, None)
        found = _by_id.get(key)
        if found is not None and found[1] == token:
            del _by_id[key]


def _deref(ref: Any) -> Any:
    return ref() if isinstance(ref, weakref.ref) else ref


def resolve(tokens: Iterable[str]) -> tuple[PipelineCallback, ...]:
    """The callbacks of this process named by ``tokens`` (those still alive)."""
    found = []
    for token in tokens:
        ref = _by_token.get(token)
        callback = _deref(ref) if ref is not None else None
        if callback is not None:
            found.append(callback)
    return tuple(found)


# -- recording ---------------------------------------------------------------------


class Recorder:
    """Stands in for a dispatcher where callbacks are not: records events to replay.

    ``tokens`` name the callback set of the scope; ``events`` is the list
    shared by every scope of one shipped run.
    """

    __slots__ = ("events", "tokens")

    callbacks: tuple[PipelineCallback, ...] = ()
    is_concurrent = True  # executors then go through emit(), which records

    def __init__(self, tokens: tuple[str, ...], events: list[Event]) -> None:
        self.tokens = tokens
        self.events = events

    def emit(self, hook: str, *args: Any) -> None:
        *rest, ctx = args
        if hook == "on_error":
            if ctx.on_error == "continue":  # the map goes on: this error travels with its event
                from ..engine._pack import pack_error

                rest = [rest[0], _Packed(pack_error(rest[1]))]
            else:  # the error ends the work and travels on its own; keep the event small
                rest = [rest[0], None]
        elif hook == "on_node_retry":  # the error of a failed try travels with its event
            from ..engine._pack import pack_error

            rest = [rest[0], rest[1], _Packed(pack_error(rest[2])), rest[3]]
        event = (self.tokens, hook, tuple(rest), ctx.pipelines, ctx.item_path, ctx.on_error)
        self.events.append(event)

    def child(self, callbacks: tuple[PipelineCallback, ...]) -> Recorder | None:
        """The recorder of a nested scope whose effective callbacks are ``callbacks``."""
        if not callbacks:
            return None
        tokens = tuple(token_of(c) for c in callbacks)
        return self if tokens == self.tokens else Recorder(tokens, self.events)

    def concurrent(self) -> None:
        """list.append is atomic; nothing to do."""


class _Packed:
    """An exception packed with its event (see ``pack_error``)."""

    __slots__ = ("data",)

    def __init__(self, data: tuple[bytes | None, str, str, str]) -> None:
        self.data = data

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Packed, (self.data,))

    def unpack(self) -> BaseException:
        from ..engine._pack import unpack_error

        return unpack_error(self.data, "another process")


def replay(
    events: Iterable[Event],
    shared: dict[str, Any],
    dispatchers: dict[tuple[str, ...], Dispatcher],
    error: BaseException | None = None,
) -> None:
    """Emit recorded events to the callbacks their tokens name, in order.

    ``dispatchers`` caches one dispatcher per callback set for the whole run
    (so a callback switched off after a fault stays off); ``error`` is the
    exception that ended the shipped work, given to a recorded ``on_error``.
    """
    for tokens, hook, args, pipelines, item_path, on_error in events:
        dispatch = dispatchers.get(tokens)
        if dispatch is None:
            callbacks = resolve(tokens)
            if not callbacks:
                continue
            dispatch = dispatchers[tokens] = Dispatcher(callbacks)
            dispatch.concurrent()
        if hook == "on_error":
            if isinstance(args[1], _Packed):
                args = (args[0], args[1].unpack(), *args[2:])
            elif error is not None:
                args = (args[0], error, *args[2:])
        elif hook == "on_node_retry" and isinstance(args[2], _Packed):
            args = (args[0], args[1], args[2].unpack(), args[3])
        dispatch.emit(hook, *args, CallbackContext(pipelines, item_path, shared, on_error))
