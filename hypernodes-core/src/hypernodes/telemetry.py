"""Observability: callbacks that report on runs.

- :class:`TelemetryCallback` (here, on the optional ``opentelemetry-api``,
  ``pip install 'hypernodes[otel]'``): OpenTelemetry spans nested like the run.
- ``ProgressCallback`` (a rich progress display) is provided by the
  hypernodes-rich plugin and resolved from here on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .callbacks._hooks import CallbackContext, PipelineCallback

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer, TracerProvider

__all__ = ["TelemetryCallback"]

_Key = tuple[Any, ...]


class TelemetryCallback(PipelineCallback):
    """Record OpenTelemetry spans nested like the run.

    ``pipeline <name>`` → ``node <name>`` → (a nested pipeline's spans) →
    ``map <name>`` → ``item <i>`` → ``node <name>``. Attributes:
    ``hypernodes.pipeline``, ``hypernodes.node``, ``hypernodes.cache_hit``,
    ``hypernodes.item_index``, ``hypernodes.items``, ``hypernodes.attempts``
    (calls made, on a node that was retried; each retry is also a ``retry``
    event on its span) and ``hypernodes.duration_s`` (the measured duration, also for items run in
    another process, whose events — and so spans — reach the caller when their
    chunk completes). A cache hit is a zero-length node span with
    ``hypernodes.cache_hit=True``. An error is recorded on the span of the node
    that raised, and every span still open ends with an error status; in a
    map that goes on past failed items (``on_error="continue"``) only the
    failed node's span and its item's span get the error status.

    ``tracer_provider`` defaults to the global one (``opentelemetry.trace``);
    ``service_name`` names the instrumentation scope and is set as
    ``service.name`` on the top-level span. The tracer is created at the
    first event, and the callback pickles as its configuration::

        from opentelemetry.sdk.trace import TracerProvider
        pipeline.with_callbacks([TelemetryCallback(tracer_provider=TracerProvider())])
    """

    def __init__(
        self, service_name: str = "hypernodes", tracer_provider: TracerProvider | None = None
    ) -> None:
        self.service_name = service_name
        self.tracer_provider = tracer_provider
        self._tracer: Tracer | None = None
        self._spans: dict[_Key, Span] = {}
        self._attempts: dict[_Key, int] = {}  # node span -> failed calls so far

    def __getstate__(self) -> dict[str, Any]:
        return {"service_name": self.service_name, "tracer_provider": None}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def _get_tracer(self) -> Tracer:
        if self._tracer is None:
            try:
                from opentelemetry import trace
            except ImportError as exc:
                msg = (
                    "TelemetryCallback needs opentelemetry-api: "
                    "pip install 'hypernodes[otel]' (and an SDK to export spans)."
                )
                raise ImportError(msg) from exc
            provider = self.tracer_provider or trace.get_tracer_provider()
            self._tracer = provider.get_tracer(self.service_name)
        return self._tracer

    def _open(self, key: _Key, name: str, parent: Span | None, **attributes: Any) -> None:
        from opentelemetry import trace

        context = trace.set_span_in_context(parent) if parent is not None else None
        clean = {f"hypernodes.{k}": v for k, v in attributes.items() if v is not None}
        self._spans[key] = self._get_tracer().start_span(name, context=context, attributes=clean)

    def _close(self, key: _Key, duration: float | None = None) -> None:
        span = self._spans.pop(key, None)
        if span is not None:
            if duration is not None:
                span.set_attribute("hypernodes.duration_s", duration)
            span.end()

    @staticmethod
    def _scope(ctx: CallbackContext) -> tuple[tuple[str, ...], tuple[int, ...]]:
        return ctx.pipelines, ctx.item_path

    def _container(self, ctx: CallbackContext) -> Span | None:
        """The span a node of this context belongs to: its map item, else its pipeline."""
        scope = self._scope(ctx)
        return self._spans.get(("item", *scope)) or self._spans.get(("pipeline", *scope))

    # -- hooks ---------------------------------------------------------------------

    def on_pipeline_start(
        self, pipeline: str, nodes: tuple[str, ...], ctx: CallbackContext
    ) -> None:
        self._spans.clear()
        self._open(("pipeline", *self._scope(ctx)), f"pipeline {pipeline}", None, pipeline=pipeline)
        self._spans[("pipeline", *self._scope(ctx))].set_attribute(
            "service.name", self.service_name
        )

    def on_pipeline_end(self, pipeline: str, duration: float, ctx: CallbackContext) -> None:
        self._close(("pipeline", *self._scope(ctx)), duration)

    def _open_node(self, node: str, ctx: CallbackContext, cache_hit: bool) -> _Key:
        key = ("node", *self._scope(ctx), node)
        self._open(
            key,
            f"node {node}",
            self._container(ctx),
            node=node,
            pipeline=ctx.pipelines[-1],
            cache_hit=cache_hit,
            item_index=ctx.item_index,
        )
        return key

    def on_node_start(self, node: str, ctx: CallbackContext) -> None:
        self._open_node(node, ctx, cache_hit=False)

    def on_node_end(self, node: str, duration: float, ctx: CallbackContext) -> None:
        key = ("node", *self._scope(ctx), node)
        span = self._spans.get(key)
        if span is not None and key in self._attempts:
            span.set_attribute("hypernodes.attempts", self._attempts.pop(key) + 1)
        self._close(key, duration)

    def on_node_retry(
        self, node: str, attempt: int, error: BaseException, delay: float, ctx: CallbackContext
    ) -> None:
        key = ("node", *self._scope(ctx), node)
        self._attempts[key] = attempt
        span = self._spans.get(key)
        if span is not None:
            span.add_event(
                "retry",
                {
                    "hypernodes.attempt": attempt,
                    "hypernodes.delay_s": delay,
                    "exception.type": type(error).__name__,
                    "exception.message": str(error),
                },
            )

    def on_node_cached(self, node: str, ctx: CallbackContext) -> None:
        self._close(self._open_node(node, ctx, cache_hit=True), 0.0)

    def on_nested_pipeline_start(
        self, node: str, pipeline: str, nodes: tuple[str, ...], ctx: CallbackContext
    ) -> None:
        outer = ("node", ctx.pipelines[:-1], ctx.item_path, node)
        self._open(
            ("pipeline", *self._scope(ctx)),
            f"pipeline {pipeline}",
            self._spans.get(outer),
            pipeline=pipeline,
            node=node,
        )

    def on_nested_pipeline_end(
        self, node: str, pipeline: str, duration: float, ctx: CallbackContext
    ) -> None:
        self._close(("pipeline", *self._scope(ctx)), duration)

    def on_map_start(self, pipeline: str, items: int, ctx: CallbackContext) -> None:
        self._open(
            ("map", *self._scope(ctx)),
            f"map {pipeline}",
            self._spans.get(("pipeline", *self._scope(ctx))),
            pipeline=pipeline,
            items=items,
        )

    def on_map_end(self, pipeline: str, duration: float, ctx: CallbackContext) -> None:
        self._close(("map", *self._scope(ctx)), duration)

    def on_map_item_start(self, index: int, ctx: CallbackContext) -> None:
        self._open(
            ("item", *self._scope(ctx)),
            f"item {index}",
            self._spans.get(("map", ctx.pipelines, ctx.item_path[:-1])),
            pipeline=ctx.pipelines[-1],
            item_index=index,
        )

    def on_map_item_end(self, index: int, duration: float, ctx: CallbackContext) -> None:
        self._close(("item", *self._scope(ctx)), duration)

    def on_map_item_cached(self, index: int, ctx: CallbackContext) -> None:
        span = self._spans.get(("item", *self._scope(ctx)))
        if span is not None:
            span.set_attribute("hypernodes.cache_hit", True)

    def on_error(self, node: str | None, error: BaseException, ctx: CallbackContext) -> None:
        from opentelemetry.trace import Status, StatusCode

        key = ("node", *self._scope(ctx), node) if node is not None else None
        failing = self._spans.get(key) if key is not None else self._container(ctx)
        if failing is not None:
            failing.record_exception(error)
        status = Status(StatusCode.ERROR, f"{type(error).__name__}: {error}")
        if ctx.on_error == "continue":  # a failed item of a map that goes on: close its node
            if key is not None and failing is not None:
                failing.set_status(status)
                self._close(key)
            item = self._spans.get(("item", *self._scope(ctx)))
            if item is not None:
                item.set_status(status)
            return
        for span in reversed(list(self._spans.values())):  # innermost first
            span.set_status(status)
            span.end()
        self._spans.clear()


def __getattr__(name: str) -> object:
    from ._plugins.registry import provided_attribute

    return provided_attribute(__name__, name)


def __dir__() -> list[str]:
    from ._plugins.registry import provided_names

    return sorted({*__all__, *provided_names(__name__)})
