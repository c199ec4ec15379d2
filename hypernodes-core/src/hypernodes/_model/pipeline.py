"""``Pipeline``: nodes wired by parameter name, compiled once, run and mapped many times."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from ..callbacks._dispatch import callback_context, report_error
from ..engine._context import RunContext
from ..engine._items import MAP_MODES, check_zip_lengths, normalize_map_over
from ..errors import MapInputError, NotANodeError
from .config import UNSET, Config, Configurable, default_config
from .graph import Graph
from .node import Node
from .pipeline_node import PipelineNode
from .plan import Plan, compile_plan, normalize_output_name

if TYPE_CHECKING:
    from ..caching._base import Cache
    from ..callbacks._hooks import PipelineCallback
    from ..engine._backend import Backend
    from ..executor import ExecutorStrategy
    from .config import BackendLike, CacheLike, CallbacksLike, ExecutorLike

__all__ = ["Pipeline"]

T = TypeVar("T")


class Pipeline(Configurable):
    """A set of nodes wired together by parameter names.

    ``nodes`` may hold :class:`Node` objects, other pipelines (used as nodes
    as they are) and :class:`PipelineNode` objects from :meth:`as_node`.
    Construction checks the graph: two producers of one output, cycles, and
    entries that are not nodes are errors.

    Example::

        @node(output_name="clean")
        def normalize(text: str) -> str:
            return text.strip().lower()

        @node(output_name="n_words")
        def count(clean: str) -> int:
            return len(clean.split())

        pipeline = Pipeline([normalize, count])
        pipeline.run({"text": " Hello World "})       # {'clean': 'hello world', 'n_words': 2}
        pipeline.map({"text": ["a b", "c"]})          # {'clean': [...], 'n_words': [2, 1]}
    """

    def __init__(
        self,
        nodes: Iterable[Node | Pipeline | PipelineNode],
        *,
        backend: BackendLike = UNSET,
        executor: ExecutorLike = UNSET,
        cache: CacheLike = UNSET,
        callbacks: CallbacksLike = UNSET,
        name: str | None = None,
    ) -> None:
        if isinstance(nodes, Node | Pipeline | PipelineNode) or not isinstance(nodes, Iterable):
            msg = f"Pipeline(nodes) takes a list of nodes, got {type(nodes).__name__} {nodes!r}."
            raise TypeError(msg)
        self.name: str = name or "pipeline"
        self.nodes: tuple[Node | PipelineNode, ...] = tuple(_as_node(n) for n in nodes)
        self.graph = Graph(self.nodes)
        self._plans: dict[tuple[str, ...] | None, Plan] = {}
        self._init_settings(backend, executor, cache, callbacks)

    # -- structure -------------------------------------------------------------

    @property
    def input_names(self) -> tuple[str, ...]:
        """Every input some node takes (required or optional)."""
        return self.graph.input_names

    @property
    def output_names(self) -> tuple[str, ...]:
        """Every output, in execution order."""
        return self.graph.output_names

    def plan(self, output_name: str | Iterable[str] | None = None) -> Plan:
        """The compiled execution plan for ``output_name`` (compiled once, then reused)."""
        key = normalize_output_name(output_name)
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = compile_plan(self.graph, key, self.name)
        return found

    def as_node(
        self,
        name: str | None = None,
        input_mapping: Mapping[str, str] | None = None,
        output_mapping: Mapping[str, str] | None = None,
        map_over: str | Iterable[str] | None = None,
        map_mode: str = "zip",
        *,
        backend: BackendLike = UNSET,
        executor: ExecutorLike = UNSET,
        cache: CacheLike = UNSET,
        callbacks: CallbacksLike = UNSET,
    ) -> PipelineNode:
        """Wrap this pipeline as a node of another pipeline.

        ``input_mapping`` is outer name -> inner name, ``output_mapping`` inner
        name -> outer name. ``map_over`` (outer names) runs this pipeline once per
        item of those lists. Settings given here override this pipeline's own
        for this use only::

            per_doc = Pipeline([clean, embed], name="per_doc")
            corpus = Pipeline([
                per_doc.as_node(input_mapping={"docs": "doc"},
                                output_mapping={"embedding": "embeddings"},
                                map_over="docs"),
                build_index,
            ])
        """
        return PipelineNode(
            self,
            name,
            input_mapping,
            output_mapping,
            map_over,
            map_mode,
            backend=backend,
            executor=executor,
            cache=cache,
            callbacks=callbacks,
        )

    # -- configuration -----------------------------------------------------------

    def _effective(self) -> Config:
        return self._layer_on(default_config())

    @property
    def effective_backend(self) -> Backend:
        """The backend a top-level run of this pipeline would use."""
        return self._effective().run_backend

    @property
    def effective_executor(self) -> ExecutorStrategy:
        """The executor a top-level run of this pipeline would use."""
        return self._effective().executor

    @property
    def effective_cache(self) -> Cache | None:
        """The cache a top-level run of this pipeline would use."""
        return self._effective().cache

    @property
    def effective_callbacks(self) -> tuple[PipelineCallback, ...]:
        """The callbacks a top-level run of this pipeline would use."""
        return self._effective().callbacks

    # -- running -----------------------------------------------------------------

    def run(
        self, inputs: Mapping[str, Any], output_name: str | Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Run once; return every output (or only ``output_name``, str or list).

        Inputs are never returned. With ``output_name`` only the nodes those
        outputs need are run.
        """
        plan = self.plan(output_name)
        plan.check_inputs(inputs, self.name)
        config = self._effective()
        ctx = RunContext.root(config, self.name)
        key = None if output_name is None else plan.outputs
        if ctx.dispatch is None and ctx.caching is None:
            return config.run_backend.run(self, inputs, config.executor, ctx, key)
        return observed(
            self, plan, ctx, lambda: config.run_backend.run(self, inputs, config.executor, ctx, key)
        )

    def map(
        self,
        inputs: Mapping[str, Any],
        map_over: str | Iterable[str] | None = None,
        map_mode: str = "zip",
        output_name: str | Iterable[str] | None = None,
    ) -> dict[str, list[Any]]:
        """Run once per item; return one list per output, in input order.

        ``map_over`` names the inputs holding the items (left out: every input
        whose value is a list). ``"zip"`` pairs the i-th items (lists of
        different lengths are an error); ``"product"`` runs every combination
        in ``itertools.product`` order. Other inputs are the same for every item.
        """
        plan = self.plan(output_name)
        plan.check_inputs(inputs, self.name)
        if map_mode not in MAP_MODES:
            msg = f"map_mode must be 'zip' or 'product', got {map_mode!r}."
            raise MapInputError(msg)
        names = normalize_map_over(inputs, map_over, self.name)
        if map_mode == "zip":
            check_zip_lengths(names, [len(inputs[n]) for n in names])
        config = self._effective()
        ctx = RunContext.root(config, self.name)

        def call() -> dict[str, list[Any]]:
            return config.run_backend.map(
                self,
                inputs,
                config.executor,
                ctx,
                map_over=names,
                map_mode=map_mode,
                output_name=None if output_name is None else plan.outputs,
            )

        if ctx.dispatch is None and ctx.caching is None:
            return call()
        return observed(self, plan, ctx, call)

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, nodes={[n.name for n in self.nodes]!r})"


def observed(pipeline: Pipeline, plan: Plan, ctx: RunContext, call: Callable[[], T]) -> T:
    """Run ``call`` between pipeline start/end events, and flush caches afterwards."""
    dispatch = ctx.dispatch
    start = time.perf_counter()
    if dispatch is not None:
        cb = callback_context(ctx)
        dispatch.emit("on_pipeline_start", pipeline.name, plan.node_names, cb)
    try:
        result = call()
    except BaseException as exc:
        report_error(ctx, None, exc)
        raise
    finally:
        if ctx.caching is not None:
            ctx.caching.flush()
    if dispatch is not None:
        dispatch.emit("on_pipeline_end", pipeline.name, time.perf_counter() - start, cb)
    return result


def _as_node(entry: object) -> Node | PipelineNode:
    if isinstance(entry, Node | PipelineNode):
        return entry
    if isinstance(entry, Pipeline):
        return PipelineNode(entry)
    if callable(entry):
        hint = (
            f" {getattr(entry, '__name__', entry)!r} is a plain function: decorate it with "
            "@node(output_name=...) or wrap it as node(func)."
        )
    else:
        hint = " Pass functions decorated with @node, pipelines, or pipeline.as_node(...)."
    msg = f"Pipeline nodes must be nodes; got {type(entry).__name__} {entry!r}.{hint}"
    raise NotANodeError(msg)
