"""A pipeline as a picture, before any drawing syntax: boxes, clusters and edges.

``build_scene`` walks a pipeline once and decides everything a drawing shows;
the DOT and Mermaid writers only translate it, so both show the same graph.

- An **input** box for every input of the pipeline (required, optional with its
  default, or bound with its value).
- A **function** box per node, listing its outputs.
- A nested pipeline is one **pipeline** box listing its outputs, or, while
  ``depth`` allows, a **cluster** holding its own nodes. Edges then go straight
  from the outer value to the inner node that takes it, labelled with the
  inner name where ``input_mapping`` renames it.
- Edges carry the name of the value when the name at the source is not obvious:
  the source has several outputs, or the value is renamed on the way. Edges
  that feed a ``map_over`` input are marked ``mapped``.
- With ``output_name``, boxes and edges a selective run executes are
  ``selected`` (exactly the steps of ``pipeline.plan(output_name)``, and of the
  inner plans of the nested steps), and the requested outputs are marked.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from .inputs import Status, classify_inputs, short_repr

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .._model.node import Node
    from .._model.pipeline import Pipeline
    from .._model.pipeline_node import PipelineNode
    from .._model.plan import Plan

__all__ = ["Box", "Cluster", "Edge", "Scene", "build_scene", "check_depth", "map_note", "signature"]


@dataclass
class Box:
    """One box of the drawing: an input, a function node or a collapsed pipeline."""

    id: str  # unique: "input:<name>" or the node path "<nested>/<name>", names escaped
    kind: Literal["input", "function", "pipeline"]
    name: str
    outputs: tuple[str, ...] = ()
    status: Status | None = None  # inputs only
    value: str = ""  # inputs: the default or bound value, as text
    note: str = ""  # pipelines: "pipeline inner"; inputs: the nested node binding it
    mapping: str = ""  # pipelines: "map over x"
    cluster: str | None = None
    selected: bool = True
    requested: frozenset[str] = frozenset()
    tooltip: str = ""


@dataclass
class Cluster:
    """An expanded nested pipeline: its boxes name it as their ``cluster``."""

    id: str
    name: str
    note: str  # "pipeline inner" when the node is named otherwise
    mapping: str  # "map over x"
    parent: str | None
    selected: bool = True


@dataclass
class Edge:
    """A value flowing from ``source`` to ``target`` (several values share one edge)."""

    source: str
    target: str
    labels: list[str] = field(default_factory=list)
    mapped: bool = False
    selected: bool = True


@dataclass
class Scene:
    """Everything a drawing shows; ``highlighting`` is true when ``output_name`` was given."""

    name: str
    boxes: list[Box]
    clusters: list[Cluster]
    edges: list[Edge]
    highlighting: bool

    def nesting(self) -> tuple[dict[str | None, list[Cluster]], dict[str | None, list[Box]]]:
        """Clusters by their parent, and boxes by their cluster (``None``: the top level)."""
        clusters: dict[str | None, list[Cluster]] = {}
        for cluster in self.clusters:
            clusters.setdefault(cluster.parent, []).append(cluster)
        boxes: dict[str | None, list[Box]] = {}
        for box in self.boxes:
            boxes.setdefault(box.cluster, []).append(box)
        return clusters, boxes


@dataclass(frozen=True)
class _Source:
    """Where a name of the current level comes from: a box, and the name it has there."""

    box: str
    name: str
    mapped: bool = False


def build_scene(
    pipeline: Pipeline,
    depth: int | None = 1,
    output_name: str | Iterable[str] | None = None,
) -> Scene:
    """The picture of ``pipeline``: nested pipelines opened ``depth`` levels deep.

    ``depth=1`` draws the pipeline's own nodes (nested pipelines as one box
    each), ``2`` opens them one level, ``None`` opens every level.
    """
    check_depth(depth)
    builder = _Builder(depth)
    env: dict[str, _Source] = {}
    plan = None if output_name is None else pipeline.plan(output_name)
    used = None if plan is None else plan.required | plan.optional
    for info in classify_inputs(pipeline).values():
        box = Box(
            id=f"input:{_escape_id(info.name)}",
            kind="input",
            name=info.name,
            status=info.status,
            value="" if info.status == "required" else info.shown_value,
            note=info.bound_in,
            selected=used is None or info.name in used,
            tooltip=_input_tooltip(info.status, info.bound_in),
        )
        builder.boxes.append(box)
        env[info.name] = _Source(box.id, info.name)
    requested = frozenset(() if plan is None else plan.outputs)
    builder.walk(pipeline, env, "", None, 1, _selection(plan), requested)
    return Scene(pipeline.name, builder.boxes, builder.clusters, builder.edges, plan is not None)


def check_depth(depth: object) -> None:
    """Refuse a ``depth`` that is not a whole number >= 1 or ``None``."""
    if depth is None or (isinstance(depth, int) and not isinstance(depth, bool) and depth >= 1):
        return
    msg = (
        "depth must be a whole number of levels >= 1 (1 shows nested pipelines closed, "
        f"2 opens them one level) or None to open every level; got {depth!r}."
    )
    raise ValueError(msg)


def _selection(plan: Plan | None) -> dict[str, tuple[str, ...] | None] | None:
    """Node name -> inner outputs needed, for the steps of ``plan`` (``None``: no selection)."""
    if plan is None:
        return None
    return {step.name: step.inner_outputs for step in plan.steps}


def map_note(node: PipelineNode) -> str:
    """``"map over docs"``, with the mode when it matters (``"map over a, b (product)"``)."""
    if not node.map_over:
        return ""
    if len(node.map_over) == 1:
        return f"map over {node.map_over[0]}"
    return f"map over {', '.join(node.map_over)} ({node.map_mode})"


def signature(node: Node | PipelineNode) -> str:
    """``name(a, b=1) -> out``: how a node is wired, defaults shown."""
    defaults: dict[str, object] = getattr(node, "defaults", {})
    params = ", ".join(
        f"{p}={short_repr(defaults[p])}" if p in defaults else p for p in node.parameters
    )
    return f"{node.name}({params}) -> {', '.join(node.output_names)}"


class _Builder:
    def __init__(self, depth: int | None) -> None:
        self.depth = depth
        self.boxes: list[Box] = []
        self.clusters: list[Cluster] = []
        self.edges: list[Edge] = []
        self._edge_index: dict[tuple[str, str], Edge] = {}
        self._outputs_of: dict[str, int] = {}

    def walk(
        self,
        pipeline: Pipeline,
        env: dict[str, _Source],
        prefix: str,
        cluster: str | None,
        level: int,
        selection: dict[str, tuple[str, ...] | None] | None,
        requested: frozenset[str],
    ) -> None:
        """Add the nodes of ``pipeline`` (one level); ``env`` maps its names to sources."""
        from .._model.node import Node

        for node in pipeline.graph.order:
            selected = selection is None or node.name in selection
            box_id = prefix + _escape_id(node.name)
            if isinstance(node, Node):
                box = _function_box(node, box_id)
                self._add_box(box, node.parameters, cluster, selected, requested, env)
                continue
            if self.depth is not None and level >= self.depth:
                box = Box(
                    id=box_id,
                    kind="pipeline",
                    name=node.name,
                    outputs=node.output_names,
                    note=f"pipeline {node.pipeline.name}",
                    mapping=map_note(node),
                    tooltip=f"nested pipeline {node.pipeline.name!r}",
                )
                params = node.parameters
                self._add_box(box, params, cluster, selected, requested, env, node.map_over)
                continue
            self._open(node, env, box_id, cluster, level, selection, selected, requested)

    def _open(
        self,
        node: PipelineNode,
        env: dict[str, _Source],
        cluster_id: str,
        parent: str | None,
        level: int,
        selection: dict[str, tuple[str, ...] | None] | None,
        selected: bool,
        requested: frozenset[str],
    ) -> None:
        """Draw a nested pipeline as a cluster of its own nodes."""
        inner = node.pipeline
        note = "" if node.name == inner.name else f"pipeline {inner.name}"
        self.clusters.append(Cluster(cluster_id, node.name, note, map_note(node), parent, selected))
        outer_of = {inner_name: outer for outer, inner_name in node.input_mapping.items()}
        inner_env: dict[str, _Source] = {}
        for name in inner.graph.input_names:
            outer = outer_of.get(name, name)
            source = env[outer]
            inner_env[name] = _Source(
                source.box, source.name, source.mapped or outer in node.map_over
            )
        inner_selection: dict[str, tuple[str, ...] | None] | None = None
        if selection is not None:
            inner_selection = (
                {s.name: s.inner_outputs for s in inner.plan(selection[node.name]).steps}
                if selected
                else {}
            )
        inner_of = {outer: name for name, outer in node.output_mapping.items()}
        inner_requested = frozenset(inner_of.get(n, n) for n in requested if n in node.output_names)
        prefix = cluster_id + "/"
        self.walk(inner, inner_env, prefix, cluster_id, level + 1, inner_selection, inner_requested)
        for name in inner.graph.output_names:
            outer = node.output_mapping.get(name, name)
            env[outer] = inner_env[name]

    def _add_box(
        self,
        box: Box,
        params: tuple[str, ...],
        cluster: str | None,
        selected: bool,
        requested: frozenset[str],
        env: dict[str, _Source],
        map_over: tuple[str, ...] = (),
    ) -> None:
        box.cluster = cluster
        box.selected = selected
        box.requested = requested & frozenset(box.outputs)
        self.boxes.append(box)
        self._outputs_of[box.id] = len(box.outputs)
        for name in params:
            self._connect(env[name], box.id, name, name in map_over, selected)
        for out in box.outputs:
            env[out] = _Source(box.id, out)

    def _connect(
        self, source: _Source, target: str, name: str, mapped: bool, selected: bool
    ) -> None:
        edge = self._edge_index.get((source.box, target))
        if edge is None:
            edge = self._edge_index[(source.box, target)] = Edge(source.box, target)
            self.edges.append(edge)
        edge.mapped = edge.mapped or mapped or source.mapped
        edge.selected = selected
        renamed = source.name != name
        if renamed:
            edge.labels.append(f"{source.name} → {name}")
        elif self._outputs_of.get(source.box, 0) > 1:
            edge.labels.append(name)


def _escape_id(name: str) -> str:
    """``name`` without ``/`` and ``:``, so that ids never collide.

    Ids are ``input:<name>`` and ``<nested>/<inner>`` paths; a node named
    ``"input:x"`` or ``"grp/f"`` must not get the id of another box.
    """
    return name.replace("%", "%25").replace("/", "%2F").replace(":", "%3A")


def _function_box(node: Node, box_id: str) -> Box:
    doc = (node.func.__doc__ or "").strip().split("\n")[0]
    return Box(
        id=box_id,
        kind="function",
        name=node.name,
        outputs=node.output_names,
        tooltip=f"{signature(node)}\n{doc}" if doc else signature(node),
    )


def _input_tooltip(status: Status, bound_in: str) -> str:
    if status == "bound":
        return f"bound in {bound_in}" if bound_in else "bound input"
    return f"{status} input"
