"""``PipelineViews``: the methods a pipeline has for being seen.

``visualize`` draws with Graphviz (``pip install 'hypernodes[viz]'`` and the
``dot`` program); ``to_dot`` and ``to_mermaid`` return text and need nothing;
``describe`` returns a summary; in Jupyter a pipeline shows that summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from .._model.pipeline import Pipeline
    from .render import Drawing
    from .scene import Scene
    from .summary import Summary

__all__ = ["PipelineViews"]


class PipelineViews:
    """Drawing and summarising; mixed into :class:`~hypernodes.Pipeline`.

    The drawing options are shared by ``visualize``, ``to_dot`` and ``to_mermaid``:

    - ``depth``: levels of pipelines drawn open. ``1`` (the default) draws this
      pipeline's nodes with each nested pipeline as one box; ``2`` opens nested
      pipelines one level; ``None`` opens every level.
    - ``output_name``: highlight what ``run(..., output_name=...)`` would
      execute and grey out the rest.
    - ``direction``: ``"LR"`` (left to right, the default) or ``"TB"`` (top-down).
    """

    def _scene(self, depth: int | None, output_name: str | Iterable[str] | None) -> Scene:
        from .scene import build_scene

        return build_scene(cast("Pipeline", self), depth, output_name)

    def visualize(
        self,
        filename: str | Path | None = None,
        *,
        depth: int | None = 1,
        output_name: str | Iterable[str] | None = None,
        direction: str = "LR",
    ) -> Drawing:
        """Draw the pipeline with Graphviz; shown inline in Jupyter.

        ``filename`` also saves it (``.svg``, ``.png``, ``.pdf``; the suffix
        picks the format). Needs the ``graphviz`` package
        (``pip install 'hypernodes[viz]'``) and the Graphviz program ``dot``::

            pipeline.visualize()                        # in a notebook
            pipeline.visualize("pipeline.svg", depth=None)
            pipeline.visualize(output_name="ranking")   # what a selective run executes
        """
        from .dot import to_dot
        from .render import Drawing

        source = to_dot(self._scene(depth, output_name), direction)
        drawing = Drawing(cast("Pipeline", self).name, source)
        if filename is not None:
            drawing.save(filename)
        return drawing

    def to_dot(
        self,
        *,
        depth: int | None = 1,
        output_name: str | Iterable[str] | None = None,
        direction: str = "LR",
    ) -> str:
        """The Graphviz DOT source of the drawing (no dependency needed)."""
        from .dot import to_dot

        return to_dot(self._scene(depth, output_name), direction)

    def to_mermaid(
        self,
        *,
        depth: int | None = 1,
        output_name: str | Iterable[str] | None = None,
        direction: str = "LR",
    ) -> str:
        """A Mermaid flowchart of the drawing, for Markdown that renders Mermaid."""
        from .mermaid import to_mermaid

        return to_mermaid(self._scene(depth, output_name), direction)

    def describe(self, depth: int | None = None) -> Summary:
        """A readable summary: inputs, outputs, and nodes in run order.

        Inputs are marked required, optional (with the default) or bound (with
        the value); nested pipelines show their mappings and ``map_over`` and,
        down to ``depth`` levels (``None``: all), their own nodes. The result is
        a ``str`` that shows as itself in a REPL and as HTML in Jupyter::

            print(pipeline.describe())
        """
        from .summary import summarize

        return summarize(cast("Pipeline", self), depth)

    def _repr_html_(self) -> str:
        from .summary import summarize

        return summarize(cast("Pipeline", self)).html
