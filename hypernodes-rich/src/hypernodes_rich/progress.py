"""``ProgressCallback``: live progress of a run, built only on the public callback API.

One bar per pipeline level (nodes done of nodes to run, each node shown with
its state) and one per map (items done, cache hits counted), each with elapsed
time and an estimate of the time left. Nested pipelines run once per map item
share one bar per level, so 20,000 items mean one bar, not 20,000.

In a terminal the display updates live; in Jupyter rich renders it as a
widget; in a log that is not a terminal (CI) nothing is printed until the run
ends, and then the final state is printed once, as plain text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hypernodes import CallbackContext, PipelineCallback

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = ["ProgressCallback"]

SYMBOLS = {"running": "▶", "done": "✓", "cached": "↺", "failed": "✗"}


@dataclass
class _Bar:
    """One line of the display: a pipeline level or a map."""

    task: TaskID
    label: str
    nodes: dict[str, str] = field(default_factory=dict)  # node -> last state
    done: dict[str, int] = field(default_factory=dict)  # node -> times computed
    hits: dict[str, int] = field(default_factory=dict)  # node -> times served from cache
    per_run: int = 0  # nodes one run of this pipeline runs
    cached: int = 0
    failed: bool = False

    def node_text(self, node: str) -> str:
        state = self.nodes[node]
        done, hits = self.done.get(node, 0), self.hits.get(node, 0)
        if done + hits <= 1:
            return f"{node} {SYMBOLS.get(state, '·')}"
        parts = [node]
        if state in ("running", "failed"):
            parts.append(SYMBOLS[state])
        if done:
            parts.append(f"✓{done}")
        if hits:
            parts.append(f"↺{hits}")
        return " ".join(parts)


class ProgressCallback(PipelineCallback):
    """Show a live progress display while pipelines run.

    ``console`` is the ``rich.console.Console`` to draw on (default: a new one
    on stderr, so results printed to stdout stay clean); ``transient=True``
    removes the display when the run ends. Nothing is created before the
    first run, and the callback pickles as its configuration::

        pipeline.with_callbacks(["progress"])
        pipeline.with_callbacks([ProgressCallback(transient=True)])
    """

    def __init__(
        self,
        console: Console | None = None,
        transient: bool = False,
        refresh_per_second: float = 8,
    ) -> None:
        self.console = console
        self.transient = transient
        self.refresh_per_second = refresh_per_second
        self._progress: Progress | None = None
        self._bars: dict[tuple[str, tuple[str, ...]], _Bar] = {}
        self._log_mode = False

    def __getstate__(self) -> dict[str, Any]:
        return {
            "console": None,
            "transient": self.transient,
            "refresh_per_second": self.refresh_per_second,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    # -- the display ---------------------------------------------------------------

    def _start(self) -> Progress:
        try:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )
            from rich.table import Column
        except ImportError as exc:
            msg = (
                f"hypernodes-rich is installed, but rich failed to import ({exc}). "
                "Reinstall it with: pip install 'hypernodes[rich]'."
            )
            raise ImportError(msg) from exc

        self._stop()
        self._bars = {}
        console = self.console or Console(stderr=True)
        # A log that is not a terminal (CI) gets no live updates, only a summary at the end.
        self._log_mode = not (console.is_terminal or console.is_jupyter)
        # Numbers never shrink; a narrow terminal shortens the node states instead.
        self._progress = Progress(
            TextColumn("{task.fields[label]}", table_column=Column(no_wrap=True)),
            BarColumn(bar_width=20, table_column=Column(no_wrap=True)),
            MofNCompleteColumn(table_column=Column(no_wrap=True)),
            TimeElapsedColumn(table_column=Column(no_wrap=True)),
            TextColumn("eta", table_column=Column(no_wrap=True)),
            TimeRemainingColumn(table_column=Column(no_wrap=True)),
            TextColumn("{task.fields[cached]}", table_column=Column(no_wrap=True)),
            TextColumn(
                "{task.description}",
                table_column=Column(no_wrap=True, overflow="ellipsis", ratio=1),
            ),
            expand=True,
            console=console,
            transient=self.transient,
            refresh_per_second=self.refresh_per_second,
            disable=self._log_mode,
        )
        self._progress.start()
        return self._progress

    def _stop(self) -> None:
        progress = self._progress
        if progress is None:
            return
        progress.stop()
        self._progress = None
        if self._log_mode and not self.transient:
            self._print_summary(progress)

    def _print_summary(self, progress: Progress) -> None:
        """The final state as plain lines that wrap instead of being cut."""
        from rich.text import Text

        for bar in self._bars.values():
            task = next(t for t in progress.tasks if t.id == bar.task)
            line = f"{bar.label}  {int(task.completed)}/{int(task.total or 0)}"
            line += f"  {task.elapsed or 0.0:.2f}s"
            if bar.cached:
                line += f"  ↺ {bar.cached} cached"
            states = "  ".join(bar.node_text(node) for node in bar.nodes)
            if states:
                line += f"  {states}"
            if bar.failed:
                line += "  failed"
            progress.console.print(Text(line), soft_wrap=True)

    def _bar(self, kind: str, ctx: CallbackContext, label: str) -> _Bar:
        key = (kind, ctx.pipelines)
        bar = self._bars.get(key)
        if bar is None:
            from rich.markup import escape

            progress = self._progress or self._start()
            indent = "  " * ctx.depth
            task = progress.add_task("", total=0, cached="", label=escape(f"{indent}{label}"))
            bar = self._bars[key] = _Bar(task, f"{indent}{label}")
        return bar

    def _refresh(self, bar: _Bar, advance: int = 0, total: int = 0) -> None:
        if self._progress is None:
            return
        from rich.markup import escape

        description = escape("  ".join(bar.node_text(node) for node in bar.nodes))
        if bar.failed:
            description += "  [bold red]failed[/]"
        cached = f"↺ {bar.cached} cached" if bar.cached else ""
        self._progress.update(bar.task, description=description, advance=advance, cached=cached)
        if total:
            task = self._progress.tasks[self._task_index(bar)]
            self._progress.update(bar.task, total=max(0, (task.total or 0) + total))

    def _task_index(self, bar: _Bar) -> int:
        assert self._progress is not None
        for index, task in enumerate(self._progress.tasks):
            if task.id == bar.task:
                return index
        raise KeyError(bar.task)  # pragma: no cover

    def _pipeline_bar(self, ctx: CallbackContext) -> _Bar:
        return self._bar("pipeline", ctx, ctx.pipelines[-1])

    def _begin(self, ctx: CallbackContext, nodes: tuple[str, ...]) -> None:
        bar = self._pipeline_bar(ctx)
        for name in nodes:
            bar.nodes.setdefault(name, "pending")
        bar.per_run = len(nodes)
        self._refresh(bar, total=len(nodes))

    def _node(self, node: str, state: str, ctx: CallbackContext) -> None:
        bar = self._pipeline_bar(ctx)
        bar.nodes[node] = state
        finished = state in ("done", "cached")
        if state == "done":
            bar.done[node] = bar.done.get(node, 0) + 1
        elif state == "cached":
            bar.hits[node] = bar.hits.get(node, 0) + 1
            bar.cached += 1
        self._refresh(bar, advance=1 if finished else 0)

    # -- hooks ---------------------------------------------------------------------

    def on_pipeline_start(
        self, pipeline: str, nodes: tuple[str, ...], ctx: CallbackContext
    ) -> None:
        if ctx.depth == 0:
            self._start()
        self._begin(ctx, nodes)

    def on_pipeline_end(self, pipeline: str, duration: float, ctx: CallbackContext) -> None:
        if ctx.depth == 0:
            self._stop()

    def on_nested_pipeline_start(
        self, node: str, pipeline: str, nodes: tuple[str, ...], ctx: CallbackContext
    ) -> None:
        self._begin(ctx, nodes)

    def on_node_start(self, node: str, ctx: CallbackContext) -> None:
        self._node(node, "running", ctx)

    def on_node_end(self, node: str, duration: float, ctx: CallbackContext) -> None:
        self._node(node, "done", ctx)

    def on_node_cached(self, node: str, ctx: CallbackContext) -> None:
        self._node(node, "cached", ctx)

    def on_map_start(self, pipeline: str, items: int, ctx: CallbackContext) -> None:
        bar = self._bar("map", ctx, f"map {pipeline}")
        self._refresh(bar, total=items)
        nodes = self._pipeline_bar(ctx)  # it counted one run; the map runs `items`
        self._refresh(nodes, total=nodes.per_run * (items - 1))

    def on_map_item_end(self, index: int, duration: float, ctx: CallbackContext) -> None:
        self._refresh(self._bar("map", ctx, f"map {ctx.pipelines[-1]}"), advance=1)

    def on_map_item_cached(self, index: int, ctx: CallbackContext) -> None:
        bar = self._bar("map", ctx, f"map {ctx.pipelines[-1]}")
        bar.cached += 1
        self._refresh(bar)

    def on_error(self, node: str | None, error: BaseException, ctx: CallbackContext) -> None:
        bar = self._pipeline_bar(ctx)
        bar.failed = True
        if node is not None:
            bar.nodes[node] = "failed"
        self._refresh(bar)
        self._stop()  # the error ends the run: show the final state
