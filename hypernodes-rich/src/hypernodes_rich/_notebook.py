"""The display in Jupyter: one output, updated in place through an IPython display handle.

rich's own live display needs ipywidgets in Jupyter, and a widget's content is
not saved with the notebook. A display handle needs nothing but IPython (every
kernel has it): each update replaces the cell's output with the current frame
as HTML and plain text, so the executed, saved notebook shows the final state.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

__all__ = ["NotebookView"]

_PRE = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:normal;'
    "font-family:Menlo,'DejaVu Sans Mono',consolas,'Courier New',monospace\">{code}</pre>"
)


class _Frame:
    """One frame as the mime bundle Jupyter shows (HTML) and saves (both)."""

    def __init__(self, text: str, html: str) -> None:
        self.text = text
        self.html = html

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"text/plain": self.text, "text/html": self.html}


class NotebookView:
    """Shows ``render()`` in the current cell and refreshes it until :meth:`stop`.

    ``transient``: the output is emptied at the end instead of keeping the last frame.
    """

    def __init__(
        self,
        render: Callable[[], RenderableType],
        console: Console,
        refresh_per_second: float,
        transient: bool = False,
    ) -> None:
        from IPython.display import display

        self._render = render
        self._transient = transient
        self._width = console.width
        self._interval = 1 / refresh_per_second
        self._handle = display(self._frame(), display_id=True)  # type: ignore[no-untyped-call]
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._refresh_until_stopped, daemon=True)
        self._thread.start()

    def _frame(self) -> _Frame:
        from rich.console import Console

        console = Console(
            file=io.StringIO(),
            width=self._width,
            record=True,
            force_terminal=True,
            force_jupyter=False,
            color_system="truecolor",
        )
        console.print(self._render())
        text = console.export_text(clear=False)
        return _Frame(text, console.export_html(inline_styles=True, code_format=_PRE))

    def _refresh_until_stopped(self) -> None:
        while not self._stopped.wait(self._interval):
            self.refresh()

    def refresh(self) -> None:
        self._handle.update(self._frame())

    def stop(self) -> None:
        """Stop refreshing and show the final frame (or nothing, when transient)."""
        self._stopped.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._handle.update(_Frame("", "") if self._transient else self._frame())
