"""``ProgressCallback``: live progress of a run, built only on the public callback API.

One bar per pipeline level (nodes done of nodes to run, each node shown with
its state on the lines under it) and one per map (items done, cache hits
counted), each with its elapsed time and, while running, an estimate of the
time left. Nested pipelines run once per map item share one bar per level,
so 20,000 items mean one bar, not 20,000. The lines are laid out for the
console's width, essentials first (see ``_layout``).

When a node fails, the display stops at once: the clocks stop, the bars on
the way to the failure say ``✗ failed``, the node that raised is marked
``✗``, and a last line says what failed, where (pipelines and map items) and
with which error.

- In a terminal the display updates live (rich's ``Live``).
- In Jupyter it is one output updated in place through an IPython display
  handle, so the executed and saved notebook keeps the final state (no
  ipywidgets needed).
- In a log that is not a terminal (CI) nothing is printed until the run ends;
  then the final state is printed once, as plain lines that wrap.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any

from hypernodes import CallbackContext, PipelineCallback
from hypernodes.errors import NodeTimeoutError

from ._state import Bar, Failure, NodeState, format_seconds

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.live import Live

    from ._notebook import NotebookView

__all__ = ["ProgressCallback"]


class ProgressCallback(PipelineCallback):
    """Show a live progress display while pipelines run.

    ``console`` is the ``rich.console.Console`` to draw on (default: a new one
    on stderr, so results printed to stdout stay clean); ``transient=True``
    removes the display when the run ends. Nothing is created before the
    first run, and the callback pickles as its configuration::

        pipeline.with_callbacks(["progress"])
        pipeline.with_callbacks([ProgressCallback(transient=True)])

    It is a rich renderable too: ``console.print(callback)`` shows the current
    frame, or the last one once the run has ended, laid out for that console.
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
        self._lock = threading.RLock()
        self._bars: dict[tuple[str, tuple[str, ...]], Bar] = {}
        self._nested_nodes: dict[tuple[str, ...], str] = {}  # inner pipelines -> outer node
        self._failure: Failure | None = None
        self._ended: float | None = None  # when the run ended: every clock stops there
        self._view: Live | NotebookView | None = None  # a terminal's or a notebook's
        self._log: Console | None = None  # a console that is neither: summary at the end

    def __getstate__(self) -> dict[str, Any]:
        return {
            "console": None,
            "transient": self.transient,
            "refresh_per_second": self.refresh_per_second,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    # -- the display ---------------------------------------------------------------

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The current frame, laid out for the width rich gives it."""
        from ._layout import layout

        with self._lock:
            now = self._ended if self._ended is not None else time.monotonic()
            lines = layout(
                list(self._bars.values()),
                self._failure,
                now,
                options.max_width,
                live=self._ended is None,
            )
        yield from lines

    def _start(self) -> None:
        try:
            from rich.console import Console
        except ImportError as exc:
            msg = (
                f"hypernodes-rich is installed, but rich failed to import ({exc}). "
                "Reinstall it with: pip install 'hypernodes[rich]'."
            )
            raise ImportError(msg) from exc

        self._stop()
        with self._lock:
            self._bars = {}
            self._nested_nodes = {}
            self._failure = None
            self._ended = None
        console = self.console or Console(stderr=True)
        if console.is_jupyter:
            from ._notebook import NotebookView

            self._view = NotebookView(
                lambda: self, console, self.refresh_per_second, transient=self.transient
            )
        elif console.is_terminal:
            from rich.live import Live

            self._view = Live(
                self,
                console=console,
                transient=self.transient,
                refresh_per_second=self.refresh_per_second,
            )
            self._view.start()
        else:  # a log (CI): no live updates, only the final state
            self._log = console

    def _stop(self) -> None:
        """End the display, showing the final frame (or, in a log, printing the summary)."""
        view, self._view = self._view, None
        log, self._log = self._log, None
        if view is None and log is None:
            return
        with self._lock:
            if self._ended is None:
                self._ended = time.monotonic()
        if view is not None:
            view.stop()
        elif log is not None and not self.transient:
            self._print_summary(log)

    def _print_summary(self, console: Console) -> None:
        """The final state as plain lines that wrap instead of being cut."""
        from rich.text import Text

        assert self._ended is not None
        for bar in self._bars.values():
            elapsed = format_seconds(bar.elapsed(self._ended))
            line = f"{bar.label}  {bar.done}/{bar.total}  {elapsed}"
            if bar.cached:
                line += f"  ↺ {bar.cached} cached"
            if bar.failures:
                line += f"  ✗ {bar.failures} failed"
            states = "  ".join(node.text(name) for name, node in bar.nodes.items())
            if states:
                line += f"  {states}"
            if bar.failed:
                line += "  ✗ failed"
            console.print(Text(line), soft_wrap=True)
        if self._failure is not None:
            console.print(Text(self._failure.text()), soft_wrap=True)

    # -- the state -------------------------------------------------------------------

    def _bar(self, ctx: CallbackContext, is_map: bool = False) -> Bar:
        key = ("map" if is_map else "pipeline", ctx.pipelines)
        bar = self._bars.get(key)
        if bar is None:
            name = ctx.pipelines[-1]
            label = "  " * ctx.depth + (f"map {name}" if is_map else name)
            now = time.monotonic()
            bar = self._bars[key] = Bar(label, ctx.depth, now, is_map=is_map, last=now)
        return bar

    def _advance(self, bar: Bar, count: int = 1) -> None:
        bar.done += count
        bar.last = time.monotonic()

    def _begin(self, ctx: CallbackContext, nodes: tuple[str, ...]) -> None:
        with self._lock:
            if self._ended is not None:
                return  # the run already failed; items still running in a pool report late
            bar = self._bar(ctx)
            for name in nodes:
                bar.nodes.setdefault(name, NodeState())
            bar.per_run = len(nodes)
            bar.total += len(nodes)

    def _node(self, node: str, state: str, ctx: CallbackContext) -> None:
        with self._lock:
            if self._ended is not None:
                return  # the run already failed; items still running in a pool report late
            bar = self._bar(ctx)
            entry = bar.nodes.setdefault(node, NodeState())
            entry.state = state
            if state == "done":
                entry.done += 1
                self._advance(bar)
            elif state == "cached":
                entry.hits += 1
                bar.cached += 1
                self._advance(bar)

    # -- hooks -----------------------------------------------------------------------

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
        with self._lock:
            self._nested_nodes[ctx.pipelines] = node
        self._begin(ctx, nodes)

    def on_node_start(self, node: str, ctx: CallbackContext) -> None:
        self._node(node, "running", ctx)

    def on_node_end(self, node: str, duration: float, ctx: CallbackContext) -> None:
        self._node(node, "done", ctx)

    def on_node_cached(self, node: str, ctx: CallbackContext) -> None:
        self._node(node, "cached", ctx)

    def on_map_start(self, pipeline: str, items: int, ctx: CallbackContext) -> None:
        with self._lock:
            if self._ended is not None:
                return
            self._bar(ctx, is_map=True).total += items
            nodes = self._bar(ctx)  # it counted one run; the map runs `items`
            nodes.total = max(0, nodes.total + nodes.per_run * (items - 1))

    def on_map_end(self, pipeline: str, duration: float, ctx: CallbackContext) -> None:
        with self._lock:
            if self._ended is None and self._bar(ctx, is_map=True).failures:
                # Nodes downstream of a failed item were skipped: the map's work is done.
                nodes = self._bar(ctx)
                nodes.done = max(nodes.done, nodes.total)

    def on_map_item_end(self, index: int, duration: float, ctx: CallbackContext) -> None:
        with self._lock:
            if self._ended is None:
                self._advance(self._bar(ctx, is_map=True))

    def on_map_item_cached(self, index: int, ctx: CallbackContext) -> None:
        with self._lock:
            if self._ended is None:
                self._bar(ctx, is_map=True).cached += 1

    def on_node_retry(
        self, node: str, attempt: int, error: BaseException, delay: float, ctx: CallbackContext
    ) -> None:
        with self._lock:
            if self._ended is None:
                entry = self._bar(ctx).nodes.setdefault(node, NodeState())
                entry.retries += 1
                entry.timeouts += isinstance(error, NodeTimeoutError)

    def on_error(self, node: str | None, error: BaseException, ctx: CallbackContext) -> None:
        if node is not None and isinstance(error, NodeTimeoutError):
            with self._lock:
                if self._ended is None:
                    self._bar(ctx).nodes.setdefault(node, NodeState()).timeouts += 1
        if ctx.on_error == "continue":  # a failed item of a map that goes on: count it
            with self._lock:
                if self._ended is None:
                    nodes = self._bar(ctx)
                    if node is not None:
                        entry = nodes.nodes.setdefault(node, NodeState())
                        entry.state = "failed"
                        entry.failures += 1
                        self._advance(nodes)  # the call ran; it failed
                    self._bar(ctx, is_map=True).failures += 1
            return
        with self._lock:
            if self._ended is not None:
                return
            now = time.monotonic()
            message = str(error).strip().splitlines()
            self._failure = Failure(
                node,
                ctx.pipelines,
                ctx.item_path,
                f"{type(error).__name__}: {message[0]}" if message else type(error).__name__,
            )
            if node is not None:
                self._bar(ctx).nodes.setdefault(node, NodeState()).state = "failed"
            # Every bar on the way from the top to the failure failed with it, and the node
            # holding each nested pipeline failed in its parent.
            path = ctx.pipelines
            for depth in range(len(path), 0, -1):
                for is_map in (False, True):
                    bar = self._bars.get(("map" if is_map else "pipeline", path[:depth]))
                    if bar is not None:
                        bar.failed = True
                        bar.last = now
                outer = self._nested_nodes.get(path[:depth])
                parent = self._bars.get(("pipeline", path[: depth - 1]))
                if outer is not None and parent is not None and outer in parent.nodes:
                    parent.nodes[outer].state = "failed"
            self._ended = now
        self._stop()  # the error ends the run: show the final state
