"""Which input, bound input, default value, global or closure variable cannot be pickled.

The engine's packing error names the first part of the job that does not pickle;
for a value held by the pipeline (a bound input, a node's default value, a global
a node reads) that part is the whole pipeline. :func:`unpicklable_named` looks
one level further, cheaply (each candidate pickled on its own), and rewrites the
error to name the value where it finds it.
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from hypernodes.engine import pack

if TYPE_CHECKING:
    from hypernodes import Pipeline

__all__ = ["find", "unpicklable_named"]

_PREFIX = "Cannot send the work to "


@contextlib.contextmanager
def unpicklable_named(pipeline: Pipeline, inputs: Any, where: str) -> Iterator[None]:
    """Around packing a job: a packing TypeError names the value that does not pickle."""
    try:
        yield
    except TypeError as exc:
        cause = exc.__cause__
        if cause is None or not str(exc).startswith(_PREFIX):
            raise
        culprit = find(pipeline, inputs if isinstance(inputs, Mapping) else {})
        if not culprit:
            raise
        msg = (
            f"Cannot send the work to {where}: {culprit} cannot be pickled "
            f"({type(cause).__name__}: {cause}). Make that value picklable (drop live "
            "resources in __getstate__), or create it inside a node, where it runs."
        )
        raise TypeError(msg) from cause


def _pickles(value: Any) -> bool:
    """Whether ``value`` pickles as the job does (the user's own modules by value)."""
    try:
        pack(value, by_value=True)
    except Exception:
        return False
    return True


def _shown(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.60}"


def find(pipeline: Pipeline, inputs: Mapping[str, Any]) -> str:
    """A readable name for the first value of the job that does not pickle ('' if none)."""
    bound = pipeline.bound_inputs
    for name, value in inputs.items():
        if not _pickles(value):
            kind = "bound input" if name in bound and bound[name] is value else "input"
            return f"{kind} {name!r} of pipeline {pipeline.name!r} ({_shown(value)})"
    return _in_pipeline(pipeline, set())


def _in_pipeline(pipeline: Pipeline, seen: set[int]) -> str:
    if id(pipeline) in seen:
        return ""
    seen.add(id(pipeline))
    for name, value in pipeline.bound_inputs.items():
        if not _pickles(value):
            return f"bound input {name!r} of pipeline {pipeline.name!r} ({_shown(value)})"
    for node in pipeline.nodes:
        inner = getattr(node, "pipeline", None)
        if inner is not None:
            found = _in_pipeline(inner, seen)
            if found:
                return found
            continue
        where = f"node {node.name!r} of pipeline {pipeline.name!r}"
        for name, value in getattr(node, "defaults", {}).items():
            if not _pickles(value):
                return f"the default value of parameter {name!r} of {where} ({_shown(value)})"
        func = getattr(node, "func", None)
        if isinstance(func, types.FunctionType):
            found = _in_function(func, where, seen)
            if found:
                return found
    return ""


def _in_function(func: types.FunctionType, where: str, seen: set[int]) -> str:
    """A global or closure variable ``func`` uses that does not pickle ('' if none)."""
    if id(func) in seen:
        return ""
    seen.add(id(func))
    candidates: list[tuple[str, Any]] = []
    for name in sorted(_global_names(func.__code__)):
        if name in func.__globals__:
            candidates.append((f"global {name!r}", func.__globals__[name]))
    for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
        with contextlib.suppress(ValueError):  # an empty cell
            candidates.append((f"closure variable {name!r}", cell.cell_contents))
    for label, value in candidates:
        if isinstance(value, types.ModuleType) or _pickles(value):
            continue
        if isinstance(value, types.FunctionType):  # a helper: name what it uses
            found = _in_function(value, f"function {value.__qualname__!r} used by {where}", seen)
            if found:
                return found
        return f"{label} used by {where} ({_shown(value)})"
    return ""


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
