"""The dependency graph of a pipeline: who produces what, who needs what, in what order.

Built once per pipeline at construction; it validates the nodes (duplicate
producers, cycles) and answers the questions plans are compiled from.
"""

from __future__ import annotations

import graphlib
from typing import TYPE_CHECKING, TypeAlias

from ..errors import CycleError, DuplicateOutputError, PipelineDefinitionError

if TYPE_CHECKING:
    from .node import Node
    from .pipeline_node import PipelineNode

    AnyNode: TypeAlias = Node | PipelineNode

__all__ = ["Graph"]


class Graph:
    """Producers, consumers and a topological order of a list of nodes."""

    __slots__ = ("input_names", "known_inputs", "nodes", "order", "output_names", "producer")

    def __init__(self, nodes: tuple[AnyNode, ...]) -> None:
        self.nodes = nodes
        names: dict[str, AnyNode] = {}
        for n in nodes:
            if n.name in names:
                msg = (
                    f"Two nodes of one pipeline are named {n.name!r} (producing "
                    f"{names[n.name].output_names!r} and {n.output_names!r}). Names identify "
                    "nodes in errors, callbacks and traces: pass name=... to node() or as_node()."
                )
                raise PipelineDefinitionError(msg)
            names[n.name] = n
        self.producer: dict[str, AnyNode] = {}
        for n in nodes:
            for out in n.output_names:
                other = self.producer.get(out)
                if other is not None:
                    msg = (
                        f"Output {out!r} is produced by two nodes: {other.name!r} and "
                        f"{n.name!r}. Rename one output (output_name=..., or "
                        "output_mapping=... for a nested pipeline)."
                    )
                    raise DuplicateOutputError(msg)
                self.producer[out] = n
        self.order = self._topological_order()
        self.output_names: tuple[str, ...] = tuple(
            out for n in self.order for out in n.output_names
        )
        seen: dict[str, None] = {}
        for n in self.order:
            for p in n.parameters:
                if p not in self.producer:
                    seen[p] = None
        self.input_names: tuple[str, ...] = tuple(seen)
        self.known_inputs = frozenset(seen)

    def _topological_order(self) -> tuple[AnyNode, ...]:
        index = {id(n): n for n in self.nodes}
        sorter: graphlib.TopologicalSorter[int] = graphlib.TopologicalSorter()
        for n in self.nodes:
            deps = [id(self.producer[p]) for p in n.parameters if p in self.producer]
            sorter.add(id(n), *deps)
        try:
            return tuple(index[i] for i in sorter.static_order())
        except graphlib.CycleError as exc:
            ids: list[int] = exc.args[1]
            path = [index[i].name for i in ids]
            msg = (
                "The nodes depend on each other in a cycle: "
                + " -> ".join(path)
                + ". Each edge means 'produces an input of'; break the cycle by renaming "
                "an output or a parameter."
            )
            raise CycleError(msg, path) from None
