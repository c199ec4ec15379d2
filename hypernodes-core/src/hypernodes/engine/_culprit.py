"""Which part of some work cannot be pickled, named as a user would look for it.

Packing a job (or any payload a plugin ships) fails on the first value that
does not pickle; the pickler's own error names its type, not where it is.
:func:`find_unpicklable` looks again, part by part (each candidate pickled on
its own, only after a packing failed): the inputs of a run, the bound inputs
of a pipeline and of the pipelines nested in it, a node's default values, and
the globals and closure variables its function (and the plain functions it
calls) reads.
"""

from __future__ import annotations

import contextlib
import types
from typing import Any

__all__ = ["find_unpicklable"]


def find_unpicklable(value: Any, *, by_value: bool = False) -> tuple[str, Any] | None:
    """``(where, the value)`` for the first part of ``value`` that cannot be packed the
    way :func:`~hypernodes.engine.pack` packs it with ``by_value``, or ``None``.

    ``where`` reads like ``input 'db'``, ``bound input 'db' of pipeline 'p'``, ``the
    default value of parameter 'conn' of node 'f' of pipeline 'p'``, ``global 'LOCK'
    used by node 'f' of pipeline 'p'``; it is ``''`` when only ``value`` as a whole is
    known not to pack. Dicts, lists and tuples are searched too: inputs given in a
    dict inside a tuple with a pipeline are named as that pipeline's bound inputs
    when they are.
    """
    return _Search(by_value).walk(value, "", None)


class _Search:
    def __init__(self, by_value: bool) -> None:
        self.by_value = by_value
        self.seen: set[int] = set()

    def packs(self, value: Any) -> bool:
        from ._pack import pack

        try:
            pack(value, by_value=self.by_value)
        except Exception:
            return False
        return True

    def walk(self, value: Any, label: str, owner: Any) -> tuple[str, Any] | None:
        """The deepest part of ``value`` (known not to pack, or not yet checked) that
        does not pack; ``owner``: the pipeline whose inputs a dict holds."""
        from .._model.node import Node
        from .._model.pipeline import Pipeline

        if id(value) in self.seen:
            return None
        self.seen.add(id(value))
        parts: list[tuple[str, Any]] = []
        if isinstance(value, Pipeline):
            return self.pipeline(value)
        if isinstance(value, Node):
            inner = getattr(value, "pipeline", None)  # a nested pipeline's node
            return self.walk(inner, "", None) if inner is not None else self.node(value, "")
        if isinstance(value, dict):
            parts = [(self.key(label, k, v, owner), v) for k, v in value.items()]
        elif isinstance(value, list | tuple):
            owner = next((v for v in value if isinstance(v, Pipeline)), owner)
            parts = [(f"{label}[{i}]" if label else "", v) for i, v in enumerate(value)]
        for part_label, part in parts:
            if not self.packs(part):
                return self.walk(part, part_label, owner) or (part_label, part)
        return None

    @staticmethod
    def key(label: str, key: Any, value: Any, owner: Any) -> str:
        if label:
            return f"{label}[{key!r}]"
        bound = owner.bound_inputs if owner is not None else {}
        if key in bound and bound[key] is value:
            return f"bound input {key!r} of pipeline {owner.name!r}"
        return f"input {key!r}"

    def pipeline(self, pipeline: Any) -> tuple[str, Any] | None:
        for name, value in pipeline.bound_inputs.items():
            if not self.packs(value):
                return f"bound input {name!r} of pipeline {pipeline.name!r}", value
        for node in pipeline.nodes:
            inner = getattr(node, "pipeline", None)
            if inner is not None:
                found = self.walk(inner, "", None)
            else:
                found = self.node(node, f"node {node.name!r} of pipeline {pipeline.name!r}")
            if found:
                return found
        return None

    def node(self, node: Any, where: str) -> tuple[str, Any] | None:
        where = where or f"node {node.name!r}"
        for name, value in getattr(node, "defaults", {}).items():
            if not self.packs(value):
                return f"the default value of parameter {name!r} of {where}", value
        func = getattr(node, "func", None)
        return self.function(func, where) if isinstance(func, types.FunctionType) else None

    def function(self, func: types.FunctionType, where: str) -> tuple[str, Any] | None:
        """A global or closure variable ``func`` reads that does not pack."""
        if id(func) in self.seen:
            return None
        self.seen.add(id(func))
        candidates: list[tuple[str, Any]] = [
            (f"global {name!r}", func.__globals__[name])
            for name in sorted(_global_names(func.__code__))
            if name in func.__globals__
        ]
        for name, cell in zip(func.__code__.co_freevars, func.__closure__ or (), strict=False):
            with contextlib.suppress(ValueError):  # an empty cell
                candidates.append((f"closure variable {name!r}", cell.cell_contents))
        for label, value in candidates:
            if isinstance(value, types.ModuleType) or self.packs(value):
                continue
            if isinstance(value, types.FunctionType):  # a helper: name what it reads
                helper = f"function {value.__qualname__!r} used by {where}"
                found = self.function(value, helper)
                if found:
                    return found
            return f"{label} used by {where}", value
        return None


def _global_names(code: types.CodeType) -> set[str]:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names
