"""``PipelineNode``: a pipeline used as one node of another pipeline."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..callbacks._dispatch import callback_context
from ..engine._items import MAP_MODES, MapItems
from ..errors import MapInputError, PipelineDefinitionError, suggest
from . import bindings
from .config import UNSET, Config, Configurable, default_config
from .failures import check_on_error

if TYPE_CHECKING:
    from ..engine._context import RunContext
    from .config import BackendLike, CacheLike, CallbacksLike, ExecutorLike
    from .pipeline import Pipeline
    from .retries import RetriesLike, TimeoutLike

__all__ = ["PipelineNode"]


class PipelineNode(Configurable):
    """A pipeline wrapped as a node, made by :meth:`Pipeline.as_node`.

    ``input_mapping`` renames outer names to inner input names,
    ``output_mapping`` renames inner outputs to outer names; every inner output
    is exposed (under its new name if renamed). With ``map_over`` (outer
    names) the node takes lists, runs the inner pipeline once per item
    (``map_mode`` ``"zip"`` or ``"product"``) and gives back lists.

    Its ``with_backend / with_executor / with_cache / with_callbacks``
    override the inner pipeline's own settings for this use only.

    Its ``effective_backend / effective_executor / effective_cache /
    effective_callbacks`` report what the inner pipeline would use if this
    node ran it at top level: the node's overrides, then the inner pipeline's
    own settings, then :func:`set_default_config`, then the library default.
    Inside a parent pipeline, the parent's effective settings come in before
    the defaults for whatever neither the node nor the inner pipeline sets.
    """

    def __init__(
        self,
        pipeline: Pipeline,
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
    ) -> None:
        self.pipeline = pipeline
        self.name: str = name or pipeline.name  # an unnamed pipeline: named by outputs below
        self.input_mapping: dict[str, str] = dict(input_mapping or {})
        self.output_mapping: dict[str, str] = dict(output_mapping or {})
        graph = pipeline.graph
        self._outer_of_input = _invert(self.input_mapping, "input_mapping", self.name)
        _check_mapping_targets(
            self._outer_of_input, graph.input_names, "input_mapping", "input", self.name
        )
        _check_mapping_targets(
            self.output_mapping, graph.output_names, "output_mapping", "output", self.name
        )
        self._inner_of_output = _invert(self.output_mapping, "output_mapping", self.name)
        self.parameters: tuple[str, ...] = tuple(
            self._outer_of_input.get(n, n) for n in graph.input_names
        )
        self.output_names: tuple[str, ...] = tuple(
            self.output_mapping.get(n, n) for n in graph.output_names
        )
        if len(set(self.parameters)) != len(self.parameters):
            msg = f"Node {self.name!r}: input_mapping gives two inner inputs one outer name."
            raise PipelineDefinitionError(msg)
        if len(set(self.output_names)) != len(self.output_names):
            msg = f"Node {self.name!r}: output_mapping gives two inner outputs one outer name."
            raise PipelineDefinitionError(msg)
        if name is None and not pipeline.named:
            self.name = _default_name(self.output_names)
        self.map_over = self._check_map_over(map_over)
        if map_mode not in MAP_MODES:
            msg = f"Node {self.name!r}: map_mode must be 'zip' or 'product', got {map_mode!r}."
            raise MapInputError(msg)
        self.map_mode = map_mode
        check_on_error(on_error, f"Node {self.name!r}")
        if on_error == "continue" and not self.map_over:
            msg = (
                f"Node {self.name!r}: on_error='continue' applies to the items of a map; "
                "give map_over=... too, or leave on_error out."
            )
            raise MapInputError(msg)
        self.on_error = on_error
        self._interfaces: dict[tuple[str, ...] | None, tuple[tuple[str, ...], frozenset[str]]] = {}
        self._interfaces_epoch = bindings.epoch
        self._init_settings(backend, executor, cache, callbacks, retries, timeout)

    def _check_map_over(self, map_over: str | Iterable[str] | None) -> tuple[str, ...]:
        if map_over is None:
            return ()
        names = (map_over,) if isinstance(map_over, str) else tuple(map_over)
        for name in names:
            if name in self.parameters:
                continue
            hint = suggest(name, self.parameters)
            if name in self.input_mapping.values():
                outer = self._outer_of_input[name]
                hint = f" ({name!r} is renamed by input_mapping: map over {outer!r})"
            msg = (
                f"Node {self.name!r}: map_over names {name!r}, which is not one of its "
                f"inputs{hint}. Its inputs are: {', '.join(self.parameters)}."
            )
            raise MapInputError(msg)
        return names

    def interface(
        self, inner_outputs: tuple[str, ...] | None
    ) -> tuple[tuple[str, ...], frozenset[str]]:
        """Outer parameters needed to compute ``inner_outputs``, and which are optional."""
        if self._interfaces_epoch != bindings.epoch:  # the inner bindings may have changed
            self._interfaces.clear()
            self._interfaces_epoch = bindings.epoch
        found = self._interfaces.get(inner_outputs)
        if found is None:
            plan = self.pipeline.plan(inner_outputs)
            used = plan.required | plan.optional
            params = tuple(
                self._outer_of_input.get(n, n) for n in self.pipeline.graph.input_names if n in used
            )
            # A bound inner input is optional outside: the parent may still supply it.
            optional_inner = plan.optional | (used & self.pipeline._bound.keys())
            optional = frozenset(self._outer_of_input.get(n, n) for n in optional_inner)
            found = self._interfaces[inner_outputs] = (params, optional)
        return found

    def inner_names_of(self, outer_outputs: Iterable[str]) -> tuple[str, ...]:
        """Inner output names of the given outer output names."""
        return tuple(self._inner_of_output.get(n, n) for n in outer_outputs)

    def execute(
        self, values: Mapping[str, Any], ctx: RunContext, inner_outputs: tuple[str, ...] | None
    ) -> dict[str, Any]:
        """Run the inner pipeline on the outer ``values``; return outer-named outputs."""
        to_inner = self.input_mapping
        given = {p: values[p] for p in self.parameters if p in values}
        bound = self.pipeline._bound
        if self.map_over:  # a list to map over may be bound on the inner pipeline
            for outer in self.map_over:
                inner = to_inner.get(outer, outer)
                if outer not in given and inner in bound:
                    given[outer] = bound[inner]
            MapItems(given, self.map_over, self.map_mode, where=f"Node {self.name!r}")
        inner_inputs = {to_inner.get(p, p): v for p, v in given.items()}
        if bound:  # the parent's values win over the inner pipeline's bindings
            inner_inputs = {**bound, **inner_inputs}
        config = self._layer_on(self.pipeline._layer_on(ctx.config))
        child = ctx.nested(config, self.pipeline.name)
        # The items of this node's map go on past failures if it says so; a run nested in
        # an item of a map that goes on is part of that item: it goes on too.
        child.continuing = self.on_error == "continue" if self.map_over else ctx.continuing
        backend = config.run_backend
        dispatch = child.dispatch
        if dispatch is not None:
            start = time.perf_counter()
            cb = callback_context(child)
            nodes = self.pipeline.plan(inner_outputs).node_names
            dispatch.emit("on_nested_pipeline_start", self.name, self.pipeline.name, nodes, cb)
        if self.map_over:
            result: dict[str, Any] = backend.map(
                self.pipeline,
                inner_inputs,
                config.executor,
                child,
                map_over=tuple(to_inner.get(n, n) for n in self.map_over),
                map_mode=self.map_mode,
                output_name=inner_outputs,
            )
        else:
            result = backend.run(self.pipeline, inner_inputs, config.executor, child, inner_outputs)
        if dispatch is not None:
            duration = time.perf_counter() - start
            dispatch.emit("on_nested_pipeline_end", self.name, self.pipeline.name, duration, cb)
        rename = self.output_mapping
        if not rename:
            return result
        return {rename.get(k, k): v for k, v in result.items()}

    # -- configuration -----------------------------------------------------------

    def _effective(self) -> Config:
        return self._layer_on(self.pipeline._layer_on(default_config()))

    def __repr__(self) -> str:
        extra = f", map_over={self.map_over!r}" if self.map_over else ""
        return f"PipelineNode({self.name!r}{extra})"


def _default_name(outputs: tuple[str, ...]) -> str:
    """A readable name for an unnamed pipeline used as a node: its outputs."""
    shown = ", ".join(outputs[:3])
    if len(outputs) > 3:
        shown += f", +{len(outputs) - 3}"
    return f"pipeline[{shown}]"


def _invert(mapping: dict[str, str], label: str, node_name: str) -> dict[str, str]:
    inverted: dict[str, str] = {}
    for key, value in mapping.items():
        if not isinstance(key, str) or not isinstance(value, str):
            msg = f"Node {node_name!r}: {label} must map strings to strings, got {mapping!r}."
            raise TypeError(msg)
        if value in inverted:
            msg = (
                f"Node {node_name!r}: {label} maps both {inverted[value]!r} and {key!r} "
                f"to {value!r}."
            )
            raise PipelineDefinitionError(msg)
        inverted[value] = key
    return inverted


def _check_mapping_targets(
    inner_to_outer: Mapping[str, str],
    inner_names: tuple[str, ...],
    label: str,
    kind: str,
    node_name: str,
) -> None:
    known = set(inner_names)
    for inner in inner_to_outer:
        if inner not in known:
            msg = (
                f"Node {node_name!r}: {label} names {inner!r}, which is not an {kind} of the "
                f"inner pipeline{suggest(inner, inner_names)}. Its {kind}s are: "
                f"{', '.join(inner_names) or '(none)'}."
            )
            raise PipelineDefinitionError(msg)
