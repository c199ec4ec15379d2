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

from typing import Any

__all__ = ["HOOKS", "CallbackContext", "PipelineCallback"]

HOOKS = (
    "on_pipeline_start",
    "on_pipeline_end",
    "on_node_start",
    "on_node_end",
    "on_node_cached",
    "on_node_retry",
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
      callbacks to keep state in;
    - ``on_error``: ``"continue"`` inside an item of a map that goes on past
      failed items (an ``on_error`` event there is not the end of the run),
      else ``"raise"``.

    Read-only: every callback of an event sees the same context, so none can
    change what the next one sees (keep state in ``shared`` or on the callback).
    """

    __slots__ = ("depth", "item_index", "item_path", "on_error", "pipelines", "shared")

    depth: int
    on_error: str
    item_index: int | None
    item_path: tuple[int, ...]
    pipelines: tuple[str, ...]
    shared: dict[str, Any]

    def __init__(
        self,
        pipelines: tuple[str, ...],
        item_path: tuple[int, ...],
        shared: dict[str, Any],
        on_error: str = "raise",
    ) -> None:
        _set_pipelines(self, pipelines)
        _set_depth(self, len(pipelines) - 1)
        _set_item_path(self, item_path)
        _set_item_index(self, item_path[-1] if item_path else None)
        _set_shared(self, shared)
        _set_on_error(self, on_error)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = (
            f"CallbackContext is read-only (every callback of an event sees the same one); "
            f"keep state in ctx.shared or on the callback instead of setting {name!r}."
        )
        raise AttributeError(msg)

    def __repr__(self) -> str:
        return (
            f"CallbackContext(depth={self.depth}, pipelines={self.pipelines!r}, "
            f"item_path={self.item_path!r})"
        )


# The slots' own setters: CallbackContext.__setattr__ refuses every assignment.
_slot = CallbackContext.__dict__
_set_pipelines = _slot["pipelines"].__set__
_set_depth = _slot["depth"].__set__
_set_item_path = _slot["item_path"].__set__
_set_item_index = _slot["item_index"].__set__
_set_shared = _slot["shared"].__set__
_set_on_error = _slot["on_error"].__set__


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

    def on_node_retry(
        self, node: str, attempt: int, error: BaseException, delay: float, ctx: CallbackContext
    ) -> None:
        """Call ``attempt`` (1 for the first) of ``node`` raised ``error``; it is tried
        again after ``delay`` seconds (the node or pipeline has ``retries``)."""

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
