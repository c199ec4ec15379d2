"""Execution plans: a pipeline's graph compiled once into a flat list of steps.

A plan answers, for one choice of ``output_name``, which nodes run in which
order, which inputs are required (and by whom), which are optional, and what
is returned. ``Pipeline`` keeps one plan per ``output_name`` it has seen, so
``run`` and ``map`` only walk a tuple of steps.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import MissingInputsError, UnknownInputsError, UnknownOutputError, suggest
from .config import UNSET
from .node import Node

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .graph import Graph
    from .pipeline import Pipeline
    from .pipeline_node import PipelineNode

__all__ = ["Plan", "Step", "compile_plan"]


class Step:
    """One node of a compiled plan, read-only, with what the hot path reads precomputed.

    - ``name``: the node's name; ``node``: the :class:`Node` or ``PipelineNode``;
    - ``params``: the input names it takes, in call order; ``defaults``: the
      defaults of the optional ones;
    - ``outputs``: the names it produces; ``output``: the single name, or
      ``None`` when it produces several (the function then returns a tuple);
    - ``func``: the function, callable with ``params`` positionally
      (keyword-only parameters are taken care of); ``is_async``: an
      ``async def`` function; ``cache``: whether its calls may be cached;
      ``retries`` / ``timeout``: the node's own (``UNSET``: the pipeline's apply);
      ``batch`` / ``batch_size``: its batch implementation (``@node.batch``), if any;
    - ``simple``: a synchronous function node with one output (the case the
      built-in executors run inline);
    - ``nested``: a pipeline used as a node; then ``pipeline`` is the inner
      pipeline, ``inner_plan`` its plan for ``inner_outputs`` (the inner
      outputs needed, ``None`` for all), ``input_mapping`` (outer -> inner),
      ``output_mapping`` (inner -> outer), ``map_over`` (outer names; empty
      when it runs once), ``map_mode``, and ``bound`` its bound inputs.
    """

    __slots__ = (
        "cache",
        "defaults",
        "func",
        "inner_outputs",
        "is_async",
        "name",
        "nested",
        "node",
        "output",
        "outputs",
        "params",
        "retries",
        "simple",
        "timeout",
    )

    cache: bool
    defaults: dict[str, Any]
    func: Callable[..., Any]
    inner_outputs: tuple[str, ...] | None
    is_async: bool
    name: str
    nested: bool
    node: Node | PipelineNode
    output: str | None
    outputs: tuple[str, ...]
    params: tuple[str, ...]
    retries: Any
    simple: bool
    timeout: Any

    def __init__(self, node: Node | PipelineNode, inner_outputs: tuple[str, ...] | None) -> None:
        init = object.__setattr__
        outputs = node.output_names
        init(self, "node", node)
        init(self, "name", node.name)
        init(self, "outputs", outputs)
        init(self, "output", outputs[0] if len(outputs) == 1 else None)
        init(self, "inner_outputs", inner_outputs)
        if isinstance(node, Node):
            init(self, "nested", False)
            init(self, "params", node.parameters)
            init(self, "defaults", node.defaults)
            init(self, "func", _positional(node))
            init(self, "is_async", node.is_async)
            init(self, "cache", node.cache)
            init(self, "retries", node.retries)
            init(self, "timeout", node.timeout)
        else:
            params, optional = node.interface(inner_outputs)
            init(self, "nested", True)
            init(self, "params", params)
            init(self, "defaults", dict.fromkeys(optional))
            init(self, "func", _not_callable)
            init(self, "is_async", False)
            init(self, "cache", False)
            init(self, "retries", UNSET)
            init(self, "timeout", UNSET)
        init(self, "simple", not self.nested and not self.is_async and self.output is not None)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"Step is read-only (it is part of a compiled plan); cannot set {name!r}."
        raise AttributeError(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Step, (self.node, self.inner_outputs))

    @property
    def batch(self) -> Callable[..., Any] | None:
        """The node's batch implementation (``@node.batch``), or ``None``."""
        return getattr(self.node, "batch_func", None)

    @property
    def batch_size(self) -> int | None:
        """How many items one call of the batch implementation takes (``None``: all)."""
        return getattr(self.node, "batch_size", None)

    # -- nested pipelines ------------------------------------------------------------

    @property
    def pipeline(self) -> Pipeline | None:
        """The inner pipeline of a nested step (``None`` for a function node)."""
        return self.node.pipeline if self.nested else None  # type: ignore[union-attr]

    @property
    def inner_plan(self) -> Plan | None:
        """The plan the inner pipeline runs for this step (``None`` for a function node)."""
        pipeline = self.pipeline
        return pipeline.plan(self.inner_outputs) if pipeline is not None else None

    @property
    def map_over(self) -> tuple[str, ...]:
        """The outer names a nested step maps over (empty: it runs once)."""
        return self.node.map_over if self.nested else ()  # type: ignore[union-attr]

    @property
    def on_error(self) -> str:
        """``"raise"`` or ``"continue"``: what a nested step's map does with failed items."""
        return getattr(self.node, "on_error", "raise")

    @property
    def map_mode(self) -> str:
        """``"zip"`` or ``"product"`` for a nested step that maps."""
        return self.node.map_mode if self.nested else "zip"  # type: ignore[union-attr]

    @property
    def input_mapping(self) -> dict[str, str]:
        """Outer name -> inner name, for the inputs a nested step renames (a copy)."""
        return dict(self.node.input_mapping) if self.nested else {}  # type: ignore[union-attr]

    @property
    def output_mapping(self) -> dict[str, str]:
        """Inner name -> outer name, for the outputs a nested step renames (a copy)."""
        return dict(self.node.output_mapping) if self.nested else {}  # type: ignore[union-attr]

    @property
    def bound(self) -> dict[str, Any]:
        """The inner pipeline's bound inputs (a copy; the parent's values win)."""
        pipeline = self.pipeline
        return pipeline.bound_inputs if pipeline is not None else {}

    def __repr__(self) -> str:
        return f"Step({self.name!r})"


def _not_callable(*args: Any) -> Any:  # pragma: no cover - guarded by Step.nested
    raise AssertionError("a nested step is run by the executor, not called")


def _positional(node: Node) -> Callable[..., Any]:
    """The node's function, callable with its parameters in order, positionally."""
    func = node.func
    if not node.keyword_only:
        return func
    keywords = tuple(p for p in node.parameters if p in node.keyword_only)
    split = len(node.parameters) - len(keywords)

    def call(*args: Any) -> Any:
        return func(*args[:split], **dict(zip(keywords, args[split:], strict=True)))

    return call


class Plan:
    """The compiled steps of one pipeline for one ``output_name``; read-only.

    - ``steps``: the :class:`Step` objects to run, in an order where every
      step comes after the steps producing its inputs;
    - ``outputs``: the names a run returns, in order;
    - ``required`` / ``optional``: the input names that must be given / may be
      left out (a node default is used); ``required_by`` maps each required
      input to the names of the nodes needing it; ``inputs``: both, in the
      pipeline's input order;
    - ``dependencies``: for each step, the indices of the steps producing its
      inputs; ``is_chain``: no two steps can ever run at once;
    - ``node_names``: the step names, in order; ``has_nested``: a step holds a
      nested pipeline; ``guarded``: a node sets its own retries or timeout;
      ``batched``: a node has a batch implementation.
    """

    __slots__ = (
        "dependencies",
        "graph",
        "guarded",
        "has_nested",
        "inputs",
        "is_chain",
        "node_names",
        "optional",
        "outputs",
        "required",
        "required_by",
        "steps",
    )

    dependencies: tuple[tuple[int, ...], ...]
    graph: Graph
    guarded: bool
    has_nested: bool
    inputs: tuple[str, ...]
    is_chain: bool
    node_names: tuple[str, ...]
    optional: frozenset[str]
    outputs: tuple[str, ...]
    required: frozenset[str]
    required_by: dict[str, list[str]]
    steps: tuple[Step, ...]

    def __init__(
        self,
        graph: Graph,
        steps: tuple[Step, ...],
        outputs: tuple[str, ...],
        required_by: dict[str, list[str]],
        optional: frozenset[str],
    ) -> None:
        init = object.__setattr__
        init(self, "graph", graph)
        init(self, "steps", steps)
        init(self, "outputs", outputs)
        init(self, "required_by", required_by)
        init(self, "required", frozenset(required_by))
        init(self, "optional", optional)
        used = self.required | optional
        init(self, "inputs", tuple(n for n in graph.input_names if n in used))
        init(self, "has_nested", any(s.nested for s in steps))
        init(
            self,
            "guarded",
            any(s.retries not in (UNSET, None) or s.timeout not in (UNSET, None) for s in steps),
        )
        init(self, "node_names", tuple(s.name for s in steps))
        producer = {out: i for i, step in enumerate(steps) for out in step.outputs}
        dependencies = tuple(
            tuple(sorted({producer[p] for p in step.params if p in producer})) for step in steps
        )
        init(self, "dependencies", dependencies)
        init(self, "is_chain", all(i - 1 in deps for i, deps in enumerate(dependencies) if i))

    @property
    def batched(self) -> bool:
        """Whether a step has a batch implementation (then ``map`` runs node by node)."""
        return any(step.batch is not None for step in self.steps)

    def __setattr__(self, name: str, value: Any) -> None:
        msg = f"Plan is read-only (compiled once, shared by every run); cannot set {name!r}."
        raise AttributeError(msg)

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.graph, self.steps, self.outputs, self.required_by, self.optional)
        return (Plan, args)

    def __repr__(self) -> str:
        return f"Plan(steps={list(self.node_names)!r}, outputs={list(self.outputs)!r})"

    def check_inputs(self, inputs: Mapping[str, Any], pipeline_name: str) -> None:
        """Raise a helpful error for unknown or missing inputs."""
        try:
            keys = inputs.keys()
        except AttributeError:
            msg = (
                f"Pipeline {pipeline_name!r} takes its inputs as a dict of name -> value, "
                f"got {type(inputs).__name__} {inputs!r:.80}."
            )
            raise TypeError(msg) from None
        if not keys <= self.graph.known_inputs:
            unknown = [k for k in keys if k not in self.graph.known_inputs]
            raise_unknown_inputs(self.graph, unknown, pipeline_name, "got")
        if not self.required <= keys:
            self._raise_missing(keys, pipeline_name)

    def _raise_missing(self, keys: Iterable[str], pipeline_name: str) -> None:
        given = set(keys)
        missing = {k: v for k, v in self.required_by.items() if k not in given}
        detail = "; ".join(
            f"{name!r} (needed by {', '.join(repr(n) for n in needers)})"
            for name, needers in missing.items()
        )
        msg = f"Pipeline {pipeline_name!r} is missing required inputs: {detail}."
        raise MissingInputsError(msg, missing)


def raise_unknown_inputs(
    graph: Graph, unknown: list[Any], pipeline_name: str, verb: str = "got"
) -> None:
    """Raise an UnknownInputsError explaining each unknown name (or a TypeError for a
    name that is not a string)."""
    for name in unknown:
        if not isinstance(name, str):
            msg = (
                f"Pipeline {pipeline_name!r} takes inputs by name, but got the key {name!r} "
                f"({type(name).__name__}). Use the input names as strings: "
                f"{', '.join(repr(n) for n in graph.input_names) or '(none)'}."
            )
            raise TypeError(msg)
    parts = []
    for name in unknown:
        if name in graph.producer:
            parts.append(
                f"{name!r} is an output of node {graph.producer[name].name!r}, so it "
                "cannot also be given as an input"
            )
        else:
            parts.append(f"{name!r}{suggest(name, graph.input_names)}")
    msg = (
        f"Pipeline {pipeline_name!r} {verb} unknown inputs: {'; '.join(parts)}. "
        f"Its inputs are: {', '.join(sorted(graph.input_names)) or '(none)'}."
    )
    raise UnknownInputsError(msg, unknown)


def normalize_output_name(output_name: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """``None`` for every output, else a tuple of names (a string is one name)."""
    if output_name is None:
        return None
    if isinstance(output_name, str):
        return (output_name,)
    names = tuple(output_name)
    if not all(isinstance(n, str) for n in names):
        msg = f"output_name must be a string or a list of strings, got {output_name!r}."
        raise TypeError(msg)
    return names


def compile_plan(graph: Graph, requested: tuple[str, ...] | None, pipeline_name: str) -> Plan:
    """Compile the steps needed for ``requested`` outputs (``None``: all)."""
    if requested is not None:
        _check_outputs(graph, requested, pipeline_name)
        needed = set(requested)
    steps: list[Step] = []
    required_by: dict[str, list[str]] = {}
    optional: set[str] = set()
    for node in reversed(graph.order):
        inner_outputs: tuple[str, ...] | None = None
        if requested is not None:
            wanted = tuple(o for o in node.output_names if o in needed)
            if not wanted:
                continue
            if not isinstance(node, Node) and len(wanted) < len(node.output_names):
                inner_outputs = node.inner_names_of(wanted)
        step = Step(node, inner_outputs)
        steps.append(step)
        if requested is not None:
            needed.update(step.params)
        for p in step.params:
            if p in graph.producer:
                continue
            if p in step.defaults:
                optional.add(p)
            else:
                required_by.setdefault(p, []).append(step.name)
    steps.reverse()
    for needers in required_by.values():
        needers.reverse()
    outputs = requested if requested is not None else graph.output_names
    return Plan(graph, tuple(steps), outputs, required_by, frozenset(optional - required_by.keys()))


def _check_outputs(graph: Graph, requested: tuple[str, ...], pipeline_name: str) -> None:
    for name in requested:
        if name in graph.producer:
            continue
        if name in graph.input_names:
            msg = (
                f"output_name {name!r} is an input of pipeline {pipeline_name!r}, not an "
                "output; inputs are never returned."
            )
        else:
            msg = (
                f"Pipeline {pipeline_name!r} has no output {name!r}"
                f"{suggest(name, graph.output_names)}. Its outputs are: "
                f"{', '.join(graph.output_names)}."
            )
        raise UnknownOutputError(msg)
