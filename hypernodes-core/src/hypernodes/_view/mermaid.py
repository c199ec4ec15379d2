"""A scene as a Mermaid flowchart: no dependency; GitHub, GitLab and mkdocs render it.

The same picture as the DOT drawing, in Mermaid's vocabulary: inputs are
stadiums, nodes rounded boxes, an expanded nested pipeline a ``subgraph``,
an edge into a ``map_over`` input a thick arrow (``==>``), and what a
selective run skips takes the ``skipped`` class. Ids are ``n0, n1, ...`` for
boxes and ``c0, c1, ...`` for clusters, in the order of the scene.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .dot import COLOURS, DIRECTIONS, GREY, GREY_FILL, GREY_INK, INK, MAP_COLOUR

if TYPE_CHECKING:
    from .scene import Box, Scene

__all__ = ["to_mermaid"]


def to_mermaid(scene: Scene, direction: str = "LR") -> str:
    """The Mermaid source of ``scene`` (``flowchart LR`` or ``flowchart TB``)."""
    if direction not in DIRECTIONS:
        msg = f"direction must be 'TB' (top-down) or 'LR' (left to right), got {direction!r}."
        raise ValueError(msg)
    ids = {box.id: f"n{i}" for i, box in enumerate(scene.boxes)}
    cluster_ids = {cluster.id: f"c{i}" for i, cluster in enumerate(scene.clusters)}
    lines = [f"flowchart {direction}"]
    for kind, (fill, border) in COLOURS.items():
        if kind == "cluster":
            continue
        dashed = ",stroke-dasharray:4 3" if kind == "optional" else ""
        lines.append(f"  classDef {kind} fill:{fill},stroke:{border},color:{INK}{dashed}")
    lines.append(f"  classDef skipped fill:{GREY_FILL},stroke:{GREY},color:{GREY_INK}")
    children, boxes = scene.nesting()

    def emit(cluster: str | None, indent: str) -> None:
        for box in boxes.get(cluster, []):
            lines.append(f"{indent}{ids[box.id]}{_shape(box)}:::{_kind(box)}")
        for child in children.get(cluster, []):
            notes = [_escape(part) for part in (child.note, child.mapping) if part]
            title = "<br/>".join([f"<b>{_escape(child.name)}</b>", *notes])
            lines.append(f'{indent}subgraph {cluster_ids[child.id]}["{title}"]')
            emit(child.id, indent + "  ")
            lines.append(f"{indent}end")

    emit(None, "  ")
    styles: list[str] = []
    for index, edge in enumerate(scene.edges):
        labels = (["map"] if edge.mapped else []) + edge.labels
        arrow = "==>" if edge.mapped else "-->"
        text = f'|"{"<br/>".join(_escape(label) for label in labels)}"|' if labels else ""
        lines.append(f"  {ids[edge.source]} {arrow}{text} {ids[edge.target]}")
        if scene.highlighting and not edge.selected:
            styles.append(f"  linkStyle {index} stroke:{GREY},color:{GREY_INK}")
        elif edge.mapped:
            styles.append(f"  linkStyle {index} stroke:{MAP_COLOUR},color:{MAP_COLOUR}")
    lines.extend(styles)
    if scene.highlighting:
        for box in scene.boxes:
            if not box.selected:
                lines.append(f"  class {ids[box.id]} skipped")
        for cluster in scene.clusters:
            if not cluster.selected:
                lines.append(f"  style {cluster_ids[cluster.id]} fill:{GREY_FILL},stroke:{GREY}")
    return "\n".join(lines) + "\n"


def _kind(box: Box) -> str:
    return box.status if box.kind == "input" and box.status is not None else box.kind


def _escape(text: str) -> str:
    """Mermaid entity codes for what would end a label or read as markup.

    ``#`` goes first: Mermaid reads ``#word;`` and ``#35;`` as entity codes.
    """
    text = text.replace("#", "#35;").replace("&", "#amp;").replace('"', "#quot;")
    return text.replace("<", "#lt;").replace(">", "#gt;")


def _shape(box: Box) -> str:
    parts = [f"<b>{_escape(box.name)}</b>"]
    if box.kind == "input":
        if box.status == "optional":
            parts.append(_escape(f"= {box.value}"))
        elif box.status == "bound":
            where = f" in {box.note}" if box.note else ""
            parts.append(_escape(f"bound{where} = {box.value}"))
        return '(["' + "<br/>".join(parts) + '"])'
    parts.extend(_escape(note) for note in (box.note, box.mapping) if note)
    outputs = (f"<u>{_escape(o)}</u>" if o in box.requested else _escape(o) for o in box.outputs)
    parts.append("→ " + ", ".join(outputs))
    return '("' + "<br/>".join(parts) + '")'
