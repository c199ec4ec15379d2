"""What each input of a pipeline is: required, optional (with its default) or bound.

One answer shared by the drawing and the summary, so they never disagree:

- **bound**: the pipeline holds a value for it (``pipeline.bind(...)``), or a
  nested pipeline binds it and no node of this level needs it otherwise;
- **required**: some node needs it and has no default for it, or a nested
  pipeline maps over it (``map_over``; the inner default is not a list to map);
- **optional**: every node taking it has a default (each keeps its own).

A name bound on the pipeline itself wins; then "required" wins over a binding
inside a nested pipeline, which wins over defaults.
"""

from __future__ import annotations

import reprlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from .._model.pipeline import Pipeline

__all__ = ["InputInfo", "bound_inputs", "classify_inputs", "short_repr"]

Status = Literal["required", "optional", "bound"]


@dataclass(frozen=True)
class InputInfo:
    """One input of a pipeline, as a reader should see it.

    ``values`` are ``(where, value)`` pairs: the bound value, or each node's
    default. ``where`` is the path of the node (``"score_each/overlap"``), or
    ``""`` for a value bound on the pipeline itself.
    """

    name: str
    status: Status
    values: tuple[tuple[str, Any], ...] = ()

    @property
    def shown_value(self) -> str:
        """``"3"`` for one value (or several equal ones), ``"3 (rank), 5 (top)"`` otherwise."""
        shown = [(where, short_repr(value)) for where, value in self.values]
        if len({text for _, text in shown}) == 1:
            return shown[0][1]
        return ", ".join(f"{text} ({where})" for where, text in shown)

    @property
    def bound_in(self) -> str:
        """For a binding inside a nested pipeline: the path of that node, else ``""``."""
        if self.status != "bound" or not self.values:
            return ""
        return self.values[0][0]


def bound_inputs(pipeline: Pipeline) -> dict[str, Any]:
    """The pipeline's bound values."""
    return pipeline.bound_inputs


def classify_inputs(pipeline: Pipeline) -> dict[str, InputInfo]:
    """Every input of ``pipeline``, in the order nodes need them, classified."""
    own = bound_inputs(pipeline)
    found: dict[str, InputInfo] = {}
    for name in pipeline.graph.input_names:
        if name in own:
            found[name] = InputInfo(name, "bound", (("", own[name]),))
            continue
        uses = _uses(pipeline, name, "")
        for status in ("required", "bound", "optional"):
            matching = tuple((where, value) for kind, where, value in uses if kind == status)
            if matching:
                found[name] = InputInfo(name, status, () if status == "required" else matching)
                break
    return found


def _uses(pipeline: Pipeline, name: str, prefix: str) -> list[tuple[Status, str, Any]]:
    """How each node of ``pipeline`` taking ``name`` treats it: (status, node path, value)."""
    from .._model.node import Node

    uses: list[tuple[Status, str, Any]] = []
    for node in pipeline.graph.order:
        if name not in node.parameters:
            continue
        where = prefix + node.name
        if isinstance(node, Node):
            if name in node.defaults:
                uses.append(("optional", where, node.defaults[name]))
            else:
                uses.append(("required", where, None))
            continue
        if name in node.map_over:  # a map needs the list: an inner default never applies
            uses.append(("required", where, None))
            continue
        inner_name = node.input_mapping.get(name, name)
        inner_bound = bound_inputs(node.pipeline)
        if inner_name in inner_bound:
            uses.append(("bound", where, inner_bound[inner_name]))
        else:
            uses.extend(_uses(node.pipeline, inner_name, where + "/"))
    return uses


_repr = reprlib.Repr()
_repr.maxstring = 24
_repr.maxother = 24
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 4


def short_repr(value: Any, width: int = 30) -> str:
    """A repr that fits a label: containers and long strings are abbreviated."""
    try:
        text = _repr.repr(value)
    except Exception:  # a broken __repr__ must not break a drawing
        text = f"<{type(value).__name__}>"
    return text if len(text) <= width else text[: width - 1] + "…"
