"""A scene as Graphviz DOT text: no dependency, one statement per line.

The style is small and fixed: rounded boxes, Helvetica, one colour per kind of
box (function nodes blue, nested pipelines violet, inputs amber when required,
dashed when optional, green when bound), violet bold edges into a
``map_over`` input, and everything a selective run skips drawn in light grey.
Boxes, clusters and edges carry ``class`` names (kept in SVG output) saying what they are:
``input required``, ``function``, ``pipeline``, ``mapped``, ``selected``, ``skipped``, ...
Ids are ``n0, n1, ...`` for boxes and ``cluster_c0, ...`` for clusters, in the order
of the scene; names appear only in labels.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .scene import Box, Cluster, Edge, Scene

__all__ = ["DIRECTIONS", "to_dot"]

DIRECTIONS = ("TB", "LR")
FONT = "Helvetica,Arial,sans-serif"
INK = "#1E293B"  # text
MUTED = "#64748B"  # secondary text, edges
GREY = "#CBD5E1"  # skipped by a selective run: borders and edges
GREY_INK = "#94A3B8"
GREY_FILL = "#F8FAFC"
# kind -> (fill, border)
COLOURS = {
    "function": ("#EFF6FF", "#3B82F6"),
    "pipeline": ("#F5F3FF", "#8B5CF6"),
    "required": ("#FFFBEB", "#F59E0B"),
    "optional": ("#FFFFFF", "#F59E0B"),
    "bound": ("#ECFDF5", "#10B981"),
    "cluster": ("#FAF8FF", "#C4B5FD"),
}
MAP_COLOUR = "#7C3AED"


def to_dot(scene: Scene, direction: str = "LR") -> str:
    """The DOT source of ``scene``, laid out left to right (``"LR"``) or top-down (``"TB"``)."""
    if direction not in DIRECTIONS:
        msg = f"direction must be 'TB' (top-down) or 'LR' (left to right), got {direction!r}."
        raise ValueError(msg)
    lines = [
        f"digraph {_quote(scene.name)} {{",
        f'  graph [rankdir={direction}, fontname="{FONT}", fontsize=11, nodesep=0.3, '
        'ranksep=0.4, pad=0.25, bgcolor="white", newrank=true];',
        f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=11, '
        f'fontcolor="{INK}", penwidth=1.2, margin="0.16,0.07"];',
        f'  edge [fontname="{FONT}", fontsize=9, color="{MUTED}", fontcolor="{MUTED}", '
        "arrowsize=0.7, penwidth=1.1];",
    ]
    # Generated ids: names only go into labels, so a node named "input:x" or "grp/f"
    # cannot merge with the box of an input or of a node inside a cluster.
    ids = {box.id: f"n{i}" for i, box in enumerate(scene.boxes)}
    cluster_ids = {cluster.id: f"cluster_c{i}" for i, cluster in enumerate(scene.clusters)}
    children, boxes = scene.nesting()

    def emit(cluster: str | None, indent: str) -> None:
        for box in boxes.get(cluster, []):
            lines.append(f"{indent}{ids[box.id]} [{_box_attributes(box, scene.highlighting)}];")
        for child in children.get(cluster, []):
            lines.append(f"{indent}subgraph {cluster_ids[child.id]} {{")
            lines.append(f"{indent}  {_cluster_attributes(child, scene.highlighting)};")
            emit(child.id, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    for edge in scene.edges:
        lines.append(
            f"  {ids[edge.source]} -> {ids[edge.target]} "
            f"[{_edge_attributes(edge, scene.highlighting)}];"
        )
    lines.append("}")
    return "\n".join(lines) + "\n"


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def _attributes(pairs: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in pairs.items())


def _small(text: str, colour: str) -> str:
    return f'<FONT POINT-SIZE="9" COLOR="{colour}">{html.escape(text)}</FONT>'


def _rows(*cells: str, align: str = "CENTER") -> str:
    inner = "".join(f'<TR><TD ALIGN="{align}">{cell}</TD></TR>' for cell in cells if cell)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{inner}</TABLE>>'


def _outputs(box: Box, colour: str) -> str:
    parts = []
    for out in box.outputs:
        name = html.escape(out)
        parts.append(f"<B><U>{name}</U></B>" if out in box.requested else name)
    # three outputs a line keeps wide nodes from dominating the layout
    lines = [", ".join(parts[i : i + 3]) for i in range(0, len(parts), 3)]
    text = "<BR/>".join(lines)
    return f'<FONT POINT-SIZE="10" COLOR="{colour}">→ {text}</FONT>'


def _box_attributes(box: Box, highlighting: bool) -> str:
    dim = highlighting and not box.selected
    kind = box.status if box.kind == "input" and box.status is not None else box.kind
    fill, border = (GREY_FILL, GREY) if dim else COLOURS[kind]
    ink, note_ink = (GREY_INK, GREY_INK) if dim else (INK, MUTED)
    name = f'<FONT COLOR="{ink}"><B>{html.escape(box.name)}</B></FONT>'
    classes: list[str] = [box.kind]
    style = "rounded,filled"
    if box.kind == "input":
        assert box.status is not None
        classes.append(box.status)
        if box.status == "optional":
            style += ",dashed"
            label = _rows(name, _small(f"= {box.value}", note_ink))
        elif box.status == "bound":
            where = f" in {box.note}" if box.note else ""
            label = _rows(name, _small(f"bound{where} = {box.value}", note_ink))
        else:
            label = _rows(name)
    elif box.kind == "pipeline":
        mapping = _small(box.mapping, GREY_INK if dim else MAP_COLOUR) if box.mapping else ""
        label = _rows(name, _small(box.note, note_ink), mapping, _outputs(box, note_ink))
    else:
        label = _rows(name, _outputs(box, note_ink))
    if highlighting:
        classes.append("selected" if box.selected else "skipped")
    if box.requested:
        classes.append("requested")
    pairs = {
        "label": label,
        "style": f'"{style}"',
        "fillcolor": f'"{fill}"',
        "color": f'"{border}"',
        "class": _quote(" ".join(classes)),
        "tooltip": _quote(box.tooltip),
    }
    if box.kind == "input":
        pairs["fontsize"] = "10"
    if box.kind == "pipeline":
        pairs["penwidth"] = "1.8"
    if box.requested:
        pairs["penwidth"] = "2.2"
    return _attributes(pairs)


def _cluster_attributes(cluster: Cluster, highlighting: bool) -> str:
    dim = highlighting and not cluster.selected
    fill, border = (GREY_FILL, GREY) if dim else COLOURS["cluster"]
    ink = GREY_INK if dim else INK
    name = f'<FONT COLOR="{ink}"><B>{html.escape(cluster.name)}</B></FONT>'
    note = _small(cluster.note, GREY_INK if dim else MUTED) if cluster.note else ""
    mapping = _small(cluster.mapping, GREY_INK if dim else MAP_COLOUR) if cluster.mapping else ""
    classes = []  # Graphviz adds "cluster" itself
    if highlighting:
        classes.append("selected" if cluster.selected else "skipped")
    pairs = {
        "label": _rows(name, note, mapping, align="LEFT"),
        "labeljust": "l",
        "style": '"rounded,filled"',
        "fillcolor": f'"{fill}"',
        "color": f'"{border}"',
        "penwidth": "1.2",
        "margin": "10",
    }
    if classes:
        pairs["class"] = _quote(" ".join(classes))
    return "; ".join(f"{k}={v}" for k, v in pairs.items())


def _edge_attributes(edge: Edge, highlighting: bool) -> str:
    dim = highlighting and not edge.selected
    labels = list(edge.labels)
    classes = []  # Graphviz adds "edge" itself
    pairs: dict[str, str] = {}
    if edge.mapped:
        classes.append("mapped")
        labels.insert(0, "map")
        if not dim:
            pairs.update(color=f'"{MAP_COLOUR}"', fontcolor=f'"{MAP_COLOUR}"', penwidth="2")
    if dim:
        pairs.update(color=f'"{GREY}"', fontcolor=f'"{GREY_INK}"')
    if highlighting:
        classes.append("selected" if edge.selected else "skipped")
    if labels:
        pairs["label"] = _quote("\n".join(f" {label} " for label in labels))
    if classes:
        pairs["class"] = _quote(" ".join(classes))
    return _attributes(pairs)
