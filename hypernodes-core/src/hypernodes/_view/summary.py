"""``pipeline.describe()``: a summary a person reads, as text and as HTML (Jupyter).

It lists the inputs (required, optional with the default, bound with the
value), the outputs, and the nodes in the order a run executes them, each as
``name(params) -> outputs``. A nested pipeline shows the pipeline it wraps,
``map_over``, its input and output mappings, its own bindings and, while
``depth`` allows, its own nodes, indented.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from .inputs import InputInfo, bound_inputs, classify_inputs, short_repr
from .scene import check_depth, map_note, signature

if TYPE_CHECKING:
    from .._model.pipeline import Pipeline
    from .._model.pipeline_node import PipelineNode

__all__ = ["Summary", "summarize"]


class Summary(str):
    """The summary text; it is a ``str``, shows as itself in a REPL and as HTML in Jupyter."""

    html: str

    def __new__(cls, text: str, html_text: str) -> Summary:
        summary = super().__new__(cls, text)
        summary.html = html_text
        return summary

    def __getnewargs__(self) -> tuple[str, str]:  # type: ignore[override]  # pickle: keep .html
        return str(self), self.html

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return self.html


def summarize(pipeline: Pipeline, depth: int | None = None) -> Summary:
    """The summary of ``pipeline``, nested pipelines opened ``depth`` levels (``None``: all)."""
    check_depth(depth)
    inputs = classify_inputs(pipeline)
    title = f"Pipeline {pipeline.name!r}: {_count(pipeline)}"
    lines = [title, "Inputs:"]
    width = max((len(name) for name in inputs), default=0)
    lines += [f"  {info.name:<{width}}  {_status(info)}" for info in inputs.values()]
    if not inputs:
        lines.append("  (none)")
    lines.append(f"Outputs: {', '.join(pipeline.graph.output_names) or '(none)'}")
    lines.append("Nodes, in run order:")
    lines += _node_lines(pipeline, depth, 1, "  ") or ["  (none)"]
    return Summary("\n".join(lines), _html(pipeline, inputs, depth))


def _count(pipeline: Pipeline) -> str:
    count = len(pipeline.nodes)
    return f"{count} node{'' if count == 1 else 's'}"


def _value(info: InputInfo) -> str:
    """The default or bound value (with where it is bound), for the HTML table."""
    if info.status == "required":
        return ""
    where = f"  (in {info.bound_in})" if info.bound_in else ""
    return info.shown_value + where


def _status(info: InputInfo) -> str:
    if info.status == "required":
        return "required"
    if info.status == "optional":
        return f"optional, default {info.shown_value}"
    where = f" in {info.bound_in}" if info.bound_in else ""
    return f"bound{where} = {info.shown_value}"


def _nested_notes(node: PipelineNode) -> list[str]:
    """The lines describing how a nested pipeline is wired into its parent."""
    notes = [f"pipeline {node.pipeline.name!r}"]
    if node.map_over:
        notes[0] += ", " + map_note(node)
    if node.input_mapping:
        notes.append("inputs: " + ", ".join(f"{o} -> {i}" for o, i in node.input_mapping.items()))
    if node.output_mapping:
        notes.append("outputs: " + ", ".join(f"{i} -> {o}" for i, o in node.output_mapping.items()))
    bound = bound_inputs(node.pipeline)
    if bound:
        notes.append("bound: " + ", ".join(f"{k}={short_repr(v)}" for k, v in bound.items()))
    return notes


def _node_lines(pipeline: Pipeline, depth: int | None, level: int, indent: str) -> list[str]:
    from .._model.node import Node

    lines: list[str] = []
    for node in pipeline.graph.order:
        lines.append(indent + signature(node))
        if isinstance(node, Node):
            continue
        lines += [f"{indent}    {note}" for note in _nested_notes(node)]
        if depth is None or level < depth:
            lines += _node_lines(node.pipeline, depth, level + 1, indent + "    ")
    return lines


# -- HTML --------------------------------------------------------------------------

_CODE = 'style="font-family: monospace"'
_HEAD = "".join(f'<th style="text-align: left">{h}</th>' for h in ("input", "kind", "value"))
_MUTED = 'style="opacity: 0.7"'


def _html(pipeline: Pipeline, inputs: dict[str, InputInfo], depth: int | None) -> str:
    esc = html.escape
    rows = "".join(
        f"<tr><td {_CODE}>{esc(info.name)}</td><td>{info.status}</td>"
        f"<td {_CODE}>{esc(_value(info))}</td></tr>"
        for info in inputs.values()
    )
    outputs = ", ".join(f"<code>{esc(o)}</code>" for o in pipeline.graph.output_names)
    return (
        '<div class="hypernodes-pipeline">'
        f"<div><b>Pipeline</b> <code>{esc(pipeline.name)}</code> "
        f"<span {_MUTED}>({_count(pipeline)})</span></div>"
        f'<table style="margin: 0.3em 0">{_HEAD}{rows or "<tr><td>(none)</td></tr>"}</table>'
        f"<div><b>Outputs:</b> {outputs or '(none)'}</div>"
        f"<div><b>Nodes, in run order:</b></div>{_html_nodes(pipeline, depth, 1)}</div>"
    )


def _html_nodes(pipeline: Pipeline, depth: int | None, level: int) -> str:
    from .._model.node import Node

    items = []
    for node in pipeline.graph.order:
        code = f"<code>{html.escape(signature(node))}</code>"
        if isinstance(node, Node):
            items.append(f"<li>{code}</li>")
            continue
        first, *rest = (html.escape(note) for note in _nested_notes(node))
        inner = "".join(f"<div {_MUTED}>{note}</div>" for note in rest)
        if depth is None or level < depth:
            inner += _html_nodes(node.pipeline, depth, level + 1)
        items.append(
            f"<li>{code}<details open><summary {_MUTED}>{first}</summary>{inner}</details></li>"
        )
    return f'<ol style="margin: 0.2em 0">{"".join(items)}</ol>'
