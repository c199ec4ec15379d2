"""Lifecycle callbacks: ``PipelineCallback``, the context each hook gets, and dispatch.

Events, in order, for ``pipeline.run``::

    on_pipeline_start
        on_node_start -> on_node_end            (or on_node_cached alone, on a hit)
        on_node_start                           (a node holding a nested pipeline)
            on_nested_pipeline_start
                ... the inner pipeline's events (a map's events if it maps) ...
            on_nested_pipeline_end
        on_node_end
    on_pipeline_end

``pipeline.map`` wraps ``on_map_start ... on_map_end`` in pipeline start/end,
and each item in ``on_map_item_start ... on_map_item_end``; an item served
wholly from the cache also fires ``on_map_item_cached`` before its end.

On an error ``on_error`` fires once, for the node that raised (``node=None``
when the error came from outside any node), and the exception propagates: no
end event fires for the scopes still open, so nothing pretends success. A
callback that keeps a stack of open scopes closes them in ``on_error``.

Callbacks run in the caller's process. Events of map items run in a thread
pool arrive as they happen, from the worker threads (one at a time: dispatch
holds a lock, so a callback need not be thread-safe). Items run in a process
pool or on Dask record their events with real timestamps and durations, and
the caller replays them when the chunk holding the item completes.
"""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

from .errors import CallbackWarning

if TYPE_CHECKING:
    from ._context import RunContext

__all__ = ["RECORDING", "CallbackContext", "Dispatcher", "PipelineCallback", "Recorder", "replay"]

HOOKS = (
    "on_pipeline_start",
    "on_pipeline_end",
    "on_node_start",
    "on_node_end",
    "on_node_cached",
    "on_error",
    "on_nested_pipeline_start",
    "on_nested_pipeline_end",
    "on_map_start",
    "on_map_item_start",
    "on_map_item_end",
    "on_map_item_cached",
    "on_map_end",
)


class CallbackContext:
    """Where an event happened.

    - ``depth``: 0 for the pipeline that was run, +1 per nested pipeline.
    - ``pipelines``: names of the enclosing pipelines, outermost first (the
      last is the pipeline the event belongs to).
    - ``item_index``: the index of the innermost map item enclosing the event,
      or ``None`` outside any map.
    - ``item_path``: the indices of every enclosing map item, outermost first;
      ``(pipelines, item_path)`` identifies one scope of one run.
    - ``shared``: a dict shared by every event of one top-level run, for
      callbacks to keep state in.
    """

    __slots__ = ("depth", "item_index", "item_path", "pipelines", "shared")

    def __init__(
        self,
        pipelines: tuple[str, ...],
        item_path: tuple[int, ...],
        shared: dict[str, Any],
    ) -> None:
        self.pipelines = pipelines
        self.depth = len(pipelines) - 1
        self.item_path = item_path
        self.item_index = item_path[-1] if item_path else None
        self.shared = shared

    def __repr__(self) -> str:
        return (
            f"CallbackContext(depth={self.depth}, pipelines={self.pipelines!r}, "
            f"item_path={self.item_path!r})"
        )


class PipelineCallback:
    """Base class of callbacks: override the hooks you need; the others do nothing.

    Callbacks are configuration: create no UI, file or connection in
    ``__init__`` — do it in the first ``on_pipeline_start`` — and keep them
    picklable (drop live resources in ``__getstate__``) so pipelines holding
    them can travel. Example::

        class Timer(PipelineCallback):
            def on_node_end(self, node, duration, ctx):
                print(f"{'  ' * ctx.depth}{node}: {duration * 1000:.1f} ms")

        pipeline.with_callbacks([Timer()])

    A hook that raises is reported once as a warning and the callback is
    switched off for the rest of that run; results are never lost.
    """

    def on_pipeline_start(
        self, pipeline: str, nodes: tuple[str, ...], ctx: CallbackContext
    ) -> None:
        """A run (or map) of ``pipeline`` starts; ``nodes`` are the nodes it will run."""

    def on_pipeline_end(self, pipeline: str, duration: float, ctx: CallbackContext) -> None:
        """The run (or map) of ``pipeline`` finished after ``duration`` seconds."""

    def on_node_start(self, node: str, ctx: CallbackContext) -> None:
        """Node ``node`` starts (not fired for a cache hit)."""

    def on_node_end(self, node: str, duration: float, ctx: CallbackContext) -> None:
        """Node ``node`` finished after ``duration`` seconds."""

    def on_node_cached(self, node: str, ctx: CallbackContext) -> None:
        """Node ``node`` was served from the cache (instead of start/end)."""

    def on_error(self, node: str | None, error: BaseException, ctx: CallbackContext) -> None:
        """``error`` was raised by ``node`` (``None``: outside any node); it propagates."""

    def on_nested_pipeline_start(
        self, node: str, pipeline: str, nodes: tuple[str, ...], ctx: CallbackContext
    ) -> None:
        """Node ``node`` starts its inner ``pipeline``; ``ctx`` is the inner context."""

    def on_nested_pipeline_end(
        self, node: str, pipeline: str, duration: float, ctx: CallbackContext
    ) -> None:
        """The inner ``pipeline`` of node ``node`` finished after ``duration`` seconds."""

    def on_map_start(self, pipeline: str, items: int, ctx: CallbackContext) -> None:
        """``pipeline`` starts running once per item, ``items`` times."""

    def on_map_item_start(self, index: int, ctx: CallbackContext) -> None:
        """Map item ``index`` starts (``ctx.item_index == index``)."""

    def on_map_item_end(self, index: int, duration: float, ctx: CallbackContext) -> None:
        """Map item ``index`` finished after ``duration`` seconds."""

    def on_map_item_cached(self, index: int, ctx: CallbackContext) -> None:
        """Every node of map item ``index`` was served from the cache."""

    def on_map_end(self, pipeline: str, duration: float, ctx: CallbackContext) -> None:
        """The map of ``pipeline`` finished after ``duration`` seconds."""


class Dispatcher:
    """Calls the callbacks of one run, isolating their faults.

    Only hooks a callback overrides are called; which hooks that is, is worked
    out once per class. Events from several threads (thread-pool maps, the
    eager executor) are delivered one at a time: those executors call
    :meth:`concurrent` first, which puts a lock around delivery. A callback
    that raises is reported once (``CallbackWarning``) and switched off for
    the rest of the run.
    """

    __slots__ = ("_lock", "_targets", "callbacks")

    def __init__(self, callbacks: tuple[PipelineCallback, ...]) -> None:
        self.callbacks = callbacks
        self._lock: threading.Lock | None = None
        targets: dict[str, list[Any]] = {hook: [] for hook in HOOKS}
        for callback in callbacks:
            for hook in _overridden(type(callback)):
                targets[hook].append(getattr(callback, hook))
        self._targets = targets

    def concurrent(self) -> None:
        """Events may now come from several threads: deliver them one at a time."""
        if self._lock is None:
            self._lock = threading.Lock()

    @property
    def is_concurrent(self) -> bool:
        return self._lock is not None

    def targets(self, hook: str) -> list[Any]:
        """The bound hook methods to call for ``hook`` (a live list: faulty ones leave it)."""
        return self._targets[hook]

    def emit(self, hook: str, *args: Any) -> None:
        targets = self._targets[hook]
        if not targets:
            return
        lock = self._lock
        if lock is None:
            for method in targets:
                try:
                    method(*args)
                except Exception as exc:
                    self.switch_off(method, exc)
            return
        with lock:
            for method in targets:
                try:
                    method(*args)
                except Exception as exc:
                    self.switch_off(method, exc)

    def switch_off(self, method: Any, exc: Exception) -> None:
        """Report a hook that raised, once, and stop calling its callback in this run."""
        callback, hook = method.__self__, method.__name__
        for targets in self._targets.values():
            targets[:] = [m for m in targets if m.__self__ is not callback]
        warnings.warn(
            f"hypernodes: callback {type(callback).__name__}.{hook} raised "
            f"{type(exc).__name__}: {exc}; it is switched off for the rest of this "
            "run (the run goes on).",
            CallbackWarning,
            stacklevel=4,
        )

    def child(self, callbacks: tuple[PipelineCallback, ...]) -> Dispatcher | None:
        """The dispatcher of a nested run: this one when the callbacks are the same."""
        if not callbacks:
            return None
        if callbacks == self.callbacks:
            return self
        child = Dispatcher(callbacks)
        child._lock = self._lock
        return child


def _overridden(kind: type) -> tuple[str, ...]:
    """The hooks a callback class overrides (worked out once per class)."""
    found = _overrides.get(kind)
    if found is None:
        found = _overrides[kind] = tuple(
            hook for hook in HOOKS if getattr(kind, hook) is not getattr(PipelineCallback, hook)
        )
    return found


_overrides: dict[type, tuple[str, ...]] = {}


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


def callback_context(ctx: RunContext) -> CallbackContext:
    """The (cached) callback context of a run context."""
    found = ctx.callback_context
    if found is None:
        found = ctx.callback_context = CallbackContext(ctx.path, ctx.item_path, ctx.shared)
    return found


def report_error(ctx: RunContext, node: str | None, error: BaseException) -> None:
    """Fire ``on_error`` once per exception, at the innermost place that sees it."""
    if ctx.dispatch is None or getattr(error, "_hypernodes_reported", False):
        return
    try:
        error._hypernodes_reported = True  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - exotic exception types without a __dict__
        pass
    ctx.dispatch.emit("on_error", node, error, callback_context(ctx))
