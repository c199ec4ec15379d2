"""``Pipeline``: nodes wired by parameter name, compiled once, run and mapped many times."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, Self, TypeVar

from .._view import PipelineViews
from ..callbacks._dispatch import callback_context, report_error
from ..engine._context import RunContext
from ..engine._items import MapItems
from ..errors import NotANodeError, UnknownInputsError, suggest
from . import bindings, compat
from .config import UNSET, Config, Configurable, default_config
from .failures import MapResult, check_on_error
from .graph import Graph
from .node import Node
from .pipeline_node import PipelineNode
from .plan import Plan, compile_plan, normalize_output_name, raise_unknown_inputs

if TYPE_CHECKING:
    from ..executor import ExecutorStrategy
    from .config import BackendLike, CacheLike, CallbacksLike, ExecutorLike
    from .retries import RetriesLike, TimeoutLike

__all__ = ["Pipeline"]

T = TypeVar("T")


class Pipeline(Configurable, PipelineViews):
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
        retries: RetriesLike = UNSET,
        timeout: TimeoutLike = UNSET,
        name: str | None = None,
        engine: object = UNSET,
    ) -> None:
        if isinstance(nodes, Node | Pipeline | PipelineNode) or not isinstance(nodes, Iterable):
            msg = f"Pipeline(nodes) takes a list of nodes, got {type(nodes).__name__} {nodes!r}."
            raise TypeError(msg)
        self.name: str = name or "pipeline"
        #: Whether the name was given (an unnamed pipeline used as a node is named by its outputs).
        self.named = name is not None
        self.nodes: tuple[Node | PipelineNode, ...] = tuple(_as_node(n) for n in nodes)
        self.graph = Graph(self.nodes)
        self._plans: dict[tuple[str, ...] | None, Plan] = {}
        self._plans_epoch = bindings.epoch
        self._bound: dict[str, Any] = {}
        self._init_settings(backend, executor, cache, callbacks, retries, timeout)
        if engine is not UNSET:  # HyperNodes 0.4: warns, then sets executor, cache, callbacks
            compat.use_engine(self, engine, "Pipeline(engine=...)", executor, cache, callbacks)

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
        if self._plans_epoch != bindings.epoch:  # some pipeline's bindings changed
            self._plans.clear()
            self._plans_epoch = bindings.epoch
        found = self._plans.get(key)
        if found is None:
            found = self._plans[key] = compile_plan(self.graph, key, self.name)
        return found

    # -- bound inputs ----------------------------------------------------------

    def bind(self, **values: Any) -> Self:
        """Keep values for inputs on the pipeline; ``run``/``map`` inputs override them.

        Bound values count in cache keys exactly like inputs. In ``map`` they are
        shared by every item unless named in ``map_over``. A nested pipeline keeps
        its bindings inside a parent unless the parent supplies that input::

            pipeline.bind(model=Model("small"), top_k=5)
            pipeline.map({"query": queries})
        """
        graph = self.graph
        unknown = [k for k in values if k not in graph.known_inputs]
        if unknown:
            raise_unknown_inputs(graph, unknown, self.name, "bind() got")
        self._bound.update(values)
        bindings.changed()
        return self

    def unbind(self, *names: str) -> Self:
        """Forget bound values (all of them when no name is given). Returns the pipeline."""
        if not names:
            self._bound.clear()
        for name in names:
            if name not in self._bound:
                msg = (
                    f"Pipeline {self.name!r} has no bound input {name!r}"
                    f"{suggest(name, self._bound)}. Bound inputs: "
                    f"{', '.join(self._bound) or '(none)'}."
                )
                raise UnknownInputsError(msg, [name])
            del self._bound[name]
        bindings.changed()
        return self

    @property
    def bound_inputs(self) -> dict[str, Any]:
        """The bound values (a copy)."""
        return dict(self._bound)

    @property
    def unfulfilled_args(self) -> tuple[str, ...]:
        """Required inputs that are neither bound nor defaulted, in the order nodes need them."""
        required = self.plan().required
        return tuple(n for n in self.graph.input_names if n in required and n not in self._bound)

    def as_node(
        self,
        name: str | None = None,
        input_mapping: Mapping[str, str] | None = None,
        output_mapping: Mapping[str, str] | None = None,
        map_over: str | Iterable[str] | None = None,
        map_mode: str = "zip",
        *,
        on_error: str = "raise",
        backend: BackendLike = UNSET,
        executor: ExecutorLike = UNSET,
        cache: CacheLike = UNSET,
        callbacks: CallbacksLike = UNSET,
        retries: RetriesLike = UNSET,
        timeout: TimeoutLike = UNSET,
    ) -> PipelineNode:
        """Wrap this pipeline as a node of another pipeline.

        ``input_mapping`` is outer name -> inner name, ``output_mapping`` inner
        name -> outer name. ``map_over`` (outer names) runs this pipeline once per
        item of those lists; ``on_error="continue"`` then runs every item even
        when some fail, handing :class:`~hypernodes.ItemError` values to the
        next nodes as data. Settings given here override this pipeline's own
        for this use only::

            per_doc = Pipeline([clean, embed], name="per_doc")
            corpus = Pipeline([
                per_doc.as_node(input_mapping={"docs": "doc"},
                                output_mapping={"embedding": "embeddings"},
                                map_over="docs"),
                build_index,
            ])
        """
        cache = compat.check_as_node(name, cache)  # HyperNodes 0.4 spellings
        return PipelineNode(
            self,
            name,
            input_mapping,
            output_mapping,
            map_over,
            map_mode,
            on_error=on_error,
            backend=backend,
            executor=executor,
            cache=cache,
            callbacks=callbacks,
            retries=retries,
            timeout=timeout,
        )

    # -- configuration -----------------------------------------------------------

    def _effective(self) -> Config:
        return self._layer_on(default_config())

    # -- HyperNodes 0.4 spellings (docs/migration.md) ---------------------------------

    def with_engine(self, engine: object) -> Self:
        """Deprecated (HyperNodes 0.4): ``with_executor``, ``with_cache``, ``with_callbacks``."""
        compat.use_engine(self, engine, "with_engine(...)")
        return self

    def with_name(self, name: str) -> Self:
        """Deprecated (HyperNodes 0.4): name the pipeline with ``Pipeline(nodes, name=...)``."""
        self.name, self.named = compat.check_with_name(name), True
        self._plans.clear()  # plans name their pipeline in error messages
        return self

    @property
    def engine(self) -> NoReturn:
        """Gone with HyperNodes 0.4: see ``effective_executor`` and the other ``effective_*``."""
        raise compat.pipeline_engine_error()

    @engine.setter
    def engine(self, engine: object) -> None:
        compat.use_engine(self, engine, "pipeline.engine = ...")

    # -- running -----------------------------------------------------------------

    def run(
        self, inputs: Mapping[str, Any], output_name: str | Iterable[str] | None = None
    ) -> dict[str, Any]:
        """Run once; return every output (or only ``output_name``, str or list).

        Inputs are never returned. With ``output_name`` only the nodes those
        outputs need are run.
        """
        plan = self.plan(output_name)
        if self._bound:
            inputs = self._with_bound(inputs)
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
        *,
        on_error: str = "raise",
    ) -> MapResult:
        """Run once per item; return one list per output, in input order.

        ``map_over`` names the inputs holding the items (left out: every input
        whose value is a list). ``"zip"`` pairs the i-th items (lists of
        different lengths are an error); ``"product"`` runs every combination
        in ``itertools.product`` order. Other inputs are the same for every item.

        ``on_error="continue"`` runs every item even when some fail: each output
        a failure prevents holds an :class:`~hypernodes.ItemError` for that item,
        and the result's ``errors`` and ``failed`` say which items failed.
        """
        check_on_error(on_error, f"Pipeline {self.name!r}.map()")
        plan = self.plan(output_name)
        if not isinstance(inputs, Mapping):
            plan.check_inputs(inputs, self.name)  # explains what to pass
        if self._bound and map_over is not None:  # a bound value is mapped when named
            inputs = self._with_bound(inputs)
        items = MapItems(inputs, map_over, map_mode, where=f"Pipeline {self.name!r}.map()")
        if self._bound and map_over is None:  # left out: only the lists passed here are mapped
            inputs = self._with_bound(inputs)
        plan.check_inputs(inputs, self.name)
        names = items.names
        config = self._effective()
        ctx = RunContext.root(config, self.name)
        ctx.continuing = on_error == "continue"

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
            return MapResult(call())
        return MapResult(observed(self, plan, ctx, call))

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_plans"] = {}  # compiled again where it lands, on first use
        return state

    def _copy_with_executor(self, executor: ExecutorStrategy) -> Pipeline:
        """A shallow copy of this pipeline with its own executor set to ``executor``."""
        clone = copy.copy(self)
        clone._executor = executor
        return clone

    def _with_bound(self, inputs: Mapping[str, Any]) -> Mapping[str, Any]:
        if not isinstance(inputs, Mapping):
            return inputs  # check_inputs explains what is wrong
        return {**self._bound, **inputs}

    def __repr__(self) -> str:
        needs = self.unfulfilled_args
        bound = f", bound={list(self._bound)!r}" if self._bound else ""
        return (
            f"Pipeline({self.name!r}, nodes={[n.name for n in self.nodes]!r}, "
            f"needs={list(needs)!r}{bound})"
        )


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
