"""Comparing what callbacks receive across executors and backends.

Every configuration must give each callback exactly the events the
sequential executor gives it: the same events in every scope (a pipeline
level, a map item), each node's start before its end, each scope opened
first and closed last. Only the interleaving of concurrent work may differ:
items of a map, independent nodes of an eager run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from ..callbacks._hooks import CallbackContext, PipelineCallback
from ._cases import Case, configure

__all__ = ["EventLog", "check_events", "compare_events"]

#: ``(hook, pipelines, item_path, details)``: durations and error objects left out.
LoggedEvent = tuple[str, tuple[str, ...], tuple[int, ...], tuple[Any, ...]]

_OPENS = {"on_pipeline_start", "on_map_item_start", "on_nested_pipeline_start"}
_CLOSES = {"on_pipeline_end", "on_map_item_end", "on_nested_pipeline_end"}


class EventLog(PipelineCallback):
    """A callback that records every event it receives (without durations or errors)."""

    def __init__(self) -> None:
        self.events: list[LoggedEvent] = []

    def _log(self, hook: str, ctx: CallbackContext, *details: Any) -> None:
        self.events.append((hook, ctx.pipelines, ctx.item_path, details))

    def on_pipeline_start(self, pipeline: str, nodes: tuple[str, ...], ctx: Any) -> None:
        self._log("on_pipeline_start", ctx, pipeline, tuple(nodes))

    def on_pipeline_end(self, pipeline: str, duration: float, ctx: Any) -> None:
        self._log("on_pipeline_end", ctx, pipeline)

    def on_node_start(self, node: str, ctx: Any) -> None:
        self._log("on_node_start", ctx, node)

    def on_node_end(self, node: str, duration: float, ctx: Any) -> None:
        self._log("on_node_end", ctx, node)

    def on_node_cached(self, node: str, ctx: Any) -> None:
        self._log("on_node_cached", ctx, node)

    def on_node_retry(
        self, node: str, attempt: int, error: BaseException, delay: float, ctx: Any
    ) -> None:
        self._log("on_node_retry", ctx, node, attempt, type(error).__name__)

    def on_error(self, node: str | None, error: BaseException, ctx: Any) -> None:
        self._log("on_error", ctx, node, type(error).__name__)

    def on_nested_pipeline_start(
        self, node: str, pipeline: str, nodes: tuple[str, ...], ctx: Any
    ) -> None:
        self._log("on_nested_pipeline_start", ctx, node, pipeline, tuple(nodes))

    def on_nested_pipeline_end(self, node: str, pipeline: str, duration: float, ctx: Any) -> None:
        self._log("on_nested_pipeline_end", ctx, node, pipeline)

    def on_map_start(self, pipeline: str, items: int, ctx: Any) -> None:
        self._log("on_map_start", ctx, pipeline, items)

    def on_map_item_start(self, index: int, ctx: Any) -> None:
        self._log("on_map_item_start", ctx, index)

    def on_map_item_end(self, index: int, duration: float, ctx: Any) -> None:
        self._log("on_map_item_end", ctx, index)

    def on_map_item_cached(self, index: int, ctx: Any) -> None:
        self._log("on_map_item_cached", ctx, index)

    def on_map_end(self, pipeline: str, duration: float, ctx: Any) -> None:
        self._log("on_map_end", ctx, pipeline)


def _scopes(events: list[LoggedEvent]) -> dict[tuple[Any, ...], list[LoggedEvent]]:
    scopes: dict[tuple[Any, ...], list[LoggedEvent]] = {}
    for event in events:
        scopes.setdefault((event[1], event[2]), []).append(event)
    return scopes


def compare_events(expected: list[LoggedEvent], actual: list[LoggedEvent], label: str) -> None:
    """Assert ``actual`` holds the events of ``expected``, scope by scope (see module doc)."""
    want, got = _scopes(expected), _scopes(actual)
    assert want.keys() == got.keys(), (
        f"{label}: events in scopes {sorted(map(str, got.keys() ^ want.keys()))} differ"
    )
    for scope, events in want.items():
        others = got[scope]
        assert Counter(events) == Counter(others), (
            f"{label}: scope {scope}: expected {events}, got {others}"
        )
        if events[0][0] in _OPENS:
            assert others[0] == events[0], f"{label}: scope {scope} opens with {others[0]}"
        if events[-1][0] in _CLOSES:
            assert others[-1] == events[-1], f"{label}: scope {scope} closes with {others[-1]}"
        started: set[Any] = set()
        for hook, _, _, details in others:
            if hook == "on_node_start":
                started.add(details[0])
            elif hook == "on_node_end":
                assert details[0] in started, f"{label}: {details[0]} ended before it started"


def check_events(
    case: Case,
    executor: Any = None,
    *,
    backend: Any = None,
    cache: Callable[[], Any] | None = None,
) -> None:
    """Assert a callback receives the same events as with the sequential executor.

    ``cache`` is a factory of a cache (cleared before use): each configuration
    then runs the case twice on an empty cache, so the second run's cache hits
    are compared too. Cases that raise are skipped (concurrent items may start
    before the failure stops a map, legitimately).
    """
    if case.raises is not None:
        return
    from ..executor import SequentialNodeExecutor

    def record(executor: Any, backend: Any) -> list[list[LoggedEvent]]:
        fresh = cache() if cache is not None else None
        if fresh is not None:
            fresh.clear()
        runs = []
        for _ in range(2 if cache is not None else 1):
            log = EventLog()
            pipeline = configure(case.build(), executor, backend, None, [log])
            pipeline.with_cache(fresh)  # no cache at all unless asked: not even a default one
            case.call(pipeline)
            runs.append(log.events)
        return runs

    expected = record(SequentialNodeExecutor(), "local")
    actual = record(executor, backend)
    # On a cold cache, items computing the same call race to store it when they run at
    # once: which of them hits is not defined. Warm, every call must hit, as here.
    compare_events(_computed(expected[0]), _computed(actual[0]), case.name)
    if cache is not None:
        compare_events(expected[1], actual[1], f"{case.name} (second run, cache warm)")


def _computed(events: list[LoggedEvent]) -> list[LoggedEvent]:
    """Events with cache hits counted as computed calls (a node's start and end)."""
    out: list[LoggedEvent] = []
    for hook, pipelines, item_path, details in events:
        if hook == "on_node_cached":
            out.append(("on_node_start", pipelines, item_path, details))
            out.append(("on_node_end", pipelines, item_path, details))
        elif hook != "on_map_item_cached":
            out.append((hook, pipelines, item_path, details))
    return out
