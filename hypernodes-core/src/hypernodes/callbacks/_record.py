"""Recording events where callbacks are not (a pool worker, a remote container) and
replaying them in the caller, so callbacks always run in the caller's process."""

from __future__ import annotations

from typing import Any

from ._dispatch import Dispatcher
from ._hooks import CallbackContext, PipelineCallback

__all__ = ["RECORDING", "Recorder", "replay"]


class Recorder:
    """Stands in for a dispatcher in a pool worker: records events to replay in the caller.

    Each event is ``(hook, args, pipelines, item_path)``; the caller emits
    them in order with its own dispatcher. When a chunk fails, its events
    travel back attached to the exception and are replayed before it is raised.
    """

    __slots__ = ("events",)

    callbacks: tuple[PipelineCallback, ...] = ()
    is_concurrent = True  # executors then go through emit(), which records

    def __init__(self) -> None:
        self.events: list[tuple[str, tuple[Any, ...], tuple[str, ...], tuple[int, ...]]] = []

    def emit(self, hook: str, *args: Any) -> None:
        *rest, ctx = args
        if hook == "on_error":  # the exception is pickled back; keep the event small
            rest = [rest[0], None]
        self.events.append((hook, tuple(rest), ctx.pipelines, ctx.item_path))

    def child(self, callbacks: tuple[PipelineCallback, ...]) -> Recorder | None:
        return self if callbacks else None

    def concurrent(self) -> None:
        """Recording is per worker process; nothing to do."""


class _Recording(PipelineCallback):
    """Stands in, in a worker's configuration, for the caller's callbacks."""

    def __reduce__(self) -> str:
        return "RECORDING"


RECORDING = _Recording()


def replay(
    events: list[tuple[str, tuple[Any, ...], tuple[str, ...], tuple[int, ...]]],
    dispatch: Dispatcher,
    shared: dict[str, Any],
    error: BaseException | None = None,
) -> None:
    """Emit events recorded in a worker through the caller's dispatcher.

    ``error`` is the exception that ended the chunk, given to a recorded ``on_error``.
    """
    for hook, args, pipelines, item_path in events:
        if hook == "on_error":
            args = (args[0], error, *args[2:]) if error is not None else args
        dispatch.emit(hook, *args, CallbackContext(pipelines, item_path, shared))
