"""Laying the bars out in a given width, essentials first.

Each bar is one line: label, bar, ``done/total``, cache hits, failed items
(in a map that goes on past them), elapsed time and either the time left or
``✗ failed``; under a pipeline bar its nodes follow
on lines of their own, wrapped, never cut. When the width is short, what goes
first is the bar itself (it shrinks, then disappears), then the estimate of
the time left, then the words around the cache count, then the elapsed
time; the label is shortened last. Names, counts, cache hits and failures
always fit, from about 40 columns up.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from ._state import Bar, Failure, format_seconds

if TYPE_CHECKING:
    from rich.text import Text

__all__ = ["layout"]

BAR_MAX, BAR_MIN = 24, 6
NODE_STYLES = {
    "pending": "bright_black",
    "running": "yellow",
    "done": "green",
    "cached": "cyan",
    "failed": "bold red",
}


class _Row:
    """The texts of one bar's line, before widths are decided."""

    __slots__ = ("bar", "cached", "counts", "failures", "label", "status", "time")

    def __init__(self, bar: Bar, now: float, live: bool) -> None:
        self.bar = bar
        self.label = bar.label
        self.counts = f"{bar.done}/{bar.total}"
        self.cached = f"↺ {bar.cached} cached" if bar.cached else ""
        self.failures = f"✗ {bar.failures} failed" if bar.failures else ""
        self.time = format_seconds(bar.elapsed(now))
        eta = bar.eta(now) if live else None
        self.status = "✗ failed" if bar.failed else (f"eta {format_seconds(eta)}" if eta else "")


def _width(rows: list[_Row], attribute: str) -> int:
    return max((len(getattr(row, attribute)) for row in rows), default=0)


def _needed(rows: list[_Row]) -> int:
    """Columns needed by everything but the bar."""
    total = _width(rows, "label") + 1 + _width(rows, "counts")
    for attribute in ("cached", "failures", "time", "status"):
        width = _width(rows, attribute)
        if width:
            total += 1 + width
    return total


def _fit(rows: list[_Row], width: int) -> None:
    """Drop or shorten the less essential parts until a line fits ``width``."""
    if _needed(rows) > width:
        for row in rows:
            if not row.bar.failed:
                row.status = ""
    if _needed(rows) > width:
        for row in rows:
            row.cached = f"↺{row.bar.cached}" if row.bar.cached else ""
            row.failures = f"✗{row.bar.failures}" if row.bar.failures else ""
    if _needed(rows) > width:
        for row in rows:
            row.time = ""
    excess = _needed(rows) - width
    if excess > 0:
        keep = max(4, _width(rows, "label") - excess)
        for row in rows:
            if len(row.label) > keep:
                row.label = row.label[: keep - 1] + "…"


def _bar_line(row: _Row, widths: dict[str, int], bar_width: int) -> Text:
    from rich.text import Text

    bar = row.bar
    line = Text()
    line.append(row.label.ljust(widths["label"]), style="bold" if bar.depth == 0 else "")
    if bar_width:
        filled = bar_width * bar.done // bar.total if bar.total else 0
        color = "red" if bar.failed else ("green" if bar.complete else "magenta")
        line.append(" " + "━" * filled, style=color)
        line.append("━" * (bar_width - filled), style="bright_black")
    line.append(" " + row.counts.ljust(widths["counts"]))
    if widths["cached"]:
        line.append(" " + row.cached.ljust(widths["cached"]), style="cyan")
    if widths["failures"]:
        line.append(" " + row.failures.ljust(widths["failures"]), style="bold red")
    if widths["time"]:
        line.append(" " + row.time.rjust(widths["time"]), style="bright_black")
    if widths["status"]:
        line.append(" " + row.status, style="bold red" if bar.failed else "bright_black")
    line.rstrip()
    return line


def _node_lines(bar: Bar, width: int) -> list[Text]:
    """The bar's nodes, packed onto as many lines as they need under it."""
    from rich.text import Text

    indent = "  " * (bar.depth + 1)
    room = max(1, width - len(indent))
    lines: list[Text] = []
    line = Text(indent)
    used = 0
    for name, node in bar.nodes.items():
        text = node.text(name)
        if len(text) > room:  # shorten the name, never the counts
            marks = node.marks()
            text = f"{name[: max(1, room - len(marks) - 2)]}… {marks}"
        if used and used + 2 + len(text) > room:
            lines.append(line)
            line, used = Text(indent), 0
        if used:
            line.append("  ")
            used += 2
        line.append(text, style=NODE_STYLES[node.state])
        used += len(text)
    if used:
        lines.append(line)
    return lines


def layout(
    bars: list[Bar], failure: Failure | None, now: float, width: int, live: bool = True
) -> list[Text]:
    """The display's lines for a console ``width`` columns wide.

    ``live`` shows the estimate of the time left (pointless in a final frame).
    """
    from rich.text import Text

    rows = [_Row(bar, now, live) for bar in bars]
    _fit(rows, width)
    widths = {
        name: _width(rows, name)
        for name in ("label", "counts", "cached", "failures", "time", "status")
    }
    bar_width = min(BAR_MAX, width - _needed(rows) - 1)
    if bar_width < BAR_MIN:
        bar_width = 0
    lines: list[Text] = []
    for row in rows:
        lines.append(_bar_line(row, widths, bar_width))
        if row.bar.nodes:
            lines.extend(_node_lines(row.bar, width))
    if failure is not None:
        for part in textwrap.wrap(failure.text(), width, subsequent_indent="  "):
            lines.append(Text(part, style="bold red"))
    return lines
