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
from .node import Node

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from .graph import Graph
    from .pipeline_node import PipelineNode

__all__ = ["Plan", "Step", "compile_plan"]


class Step:
    """One node of a plan, with everything the hot path reads precomputed.

    ``simple`` marks the common case the executors run inline: a synchronous
    function node with one output. ``nested`` steps hold a ``PipelineNode``
    and ``inner_outputs``: the inner outputs needed (``None`` for all).
    """

    __slots__ = (
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
        "simple",
    )

    def __init__(self, node: Node | PipelineNode, inner_outputs: tuple[str, ...] | None) -> None:
        self.node = node
        self.name = node.name
        self.outputs: tuple[str, ...] = node.output_names
        self.output: str | None = self.outputs[0] if len(self.outputs) == 1 else None
        self.inner_outputs = inner_outputs
        if isinstance(node, Node):
            self.nested = False
            self.params: tuple[str, ...] = node.parameters
            self.defaults: dict[str, Any] = node.defaults
            self.func: Callable[..., Any] = _positional(node)
            self.is_async = node.is_async
        else:
            self.nested = True
            self.params, optional = node.interface(inner_outputs)
            self.defaults = dict.fromkeys(optional)
            self.func = _not_callable
            self.is_async = False
        self.simple = not self.nested and not self.is_async and self.output is not None

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
    """The compiled steps of one pipeline for one ``output_name``."""

    __slots__ = (
        "_dependencies",
        "graph",
        "has_nested",
        "node_names",
        "optional",
        "outputs",
        "required",
        "required_by",
        "steps",
    )

    def __init__(
        self,
        graph: Graph,
        steps: tuple[Step, ...],
        outputs: tuple[str, ...],
        required_by: dict[str, list[str]],
        optional: frozenset[str],
    ) -> None:
        self.graph = graph
        self.steps = steps
        self.outputs = outputs
        self.required_by = required_by
        self.required = frozenset(required_by)
        self.optional = optional
        self.has_nested = any(s.nested for s in steps)
        self.node_names = tuple(s.name for s in steps)
        self._dependencies: tuple[tuple[int, ...], ...] | None = None

    @property
    def dependencies(self) -> tuple[tuple[int, ...], ...]:
        """For each step, the indices of the steps producing its inputs."""
        if self._dependencies is None:
            producer = {out: i for i, step in enumerate(self.steps) for out in step.outputs}
            self._dependencies = tuple(
                tuple(sorted({producer[p] for p in step.params if p in producer}))
                for step in self.steps
            )
        return self._dependencies

    @property
    def is_chain(self) -> bool:
        """True when no two steps can ever run at once (each needs the one before)."""
        return all(i - 1 in deps for i, deps in enumerate(self.dependencies) if i)

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
