"""What the progress display knows about a run: one bar per pipeline level and per map.

Plain data, updated by the callback's hooks and read by the layout; the
callback holds a lock around both.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Bar", "Failure", "NodeState", "format_seconds"]

SYMBOLS = {"pending": "·", "running": "▶", "done": "✓", "cached": "↺", "failed": "✗"}


@dataclass
class NodeState:
    """One node of a pipeline bar: its last state and how often it ran or hit the cache."""

    state: str = "pending"
    done: int = 0
    hits: int = 0
    failures: int = 0  # calls that failed in a map that goes on past failed items
    retries: int = 0  # failed calls that were tried again
    timeouts: int = 0  # calls that took longer than their timeout

    def marks(self) -> str:
        """``✓``, or with counts once it ran more than once: ``▶ ✓3 ↺2 ✗1 ↻2 ⏱1``
        (done, cached, failed, retried, timed out)."""
        # Running, or failed for good (a failure the map went past is counted instead).
        live = self.state == "running" or (self.state == "failed" and not self.failures)
        if self.done + self.hits + self.failures + live <= 1 and not (
            self.retries or self.timeouts
        ):
            return SYMBOLS[self.state]
        parts = [SYMBOLS[self.state]] if live else []
        if self.done:
            parts.append(f"✓{self.done}")
        if self.hits:
            parts.append(f"↺{self.hits}")
        if self.failures:
            parts.append(f"✗{self.failures}")
        if self.retries:
            parts.append(f"↻{self.retries}")
        if self.timeouts:
            parts.append(f"⏱{self.timeouts}")
        return " ".join(parts)

    def text(self, name: str) -> str:
        """``tokenize ✓``, ``tokenize ▶ ✓3 ↺2``."""
        return f"{name} {self.marks()}"


@dataclass
class Bar:
    """One line of the display: a pipeline level (nodes done of nodes to run) or a map (items)."""

    label: str
    depth: int
    started: float
    is_map: bool = False
    total: int = 0
    done: int = 0
    cached: int = 0
    last: float = 0.0  # when ``done`` last moved
    per_run: int = 0  # nodes one run of this pipeline runs
    failed: bool = False
    failures: int = 0  # items that failed in a map that goes on past them
    nodes: dict[str, NodeState] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done >= self.total

    def elapsed(self, now: float) -> float:
        """Seconds since it started; a complete or failed bar's clock has stopped."""
        end = self.last if (self.complete or self.failed) and self.last else now
        return max(0.0, end - self.started)

    def eta(self, now: float) -> float | None:
        """Seconds left at the pace so far, while running and once something is done."""
        if self.failed or self.complete or not self.done:
            return None
        return self.elapsed(now) / self.done * (self.total - self.done)


@dataclass
class Failure:
    """What failed and where, for the last line of the final frame."""

    node: str | None
    pipelines: tuple[str, ...]
    items: tuple[int, ...]
    error: str

    def text(self) -> str:
        """``✗ node 'explode' failed in corpus > per_doc, map item 2: ValueError: bad``."""
        what = f"node {self.node!r}" if self.node else "the run"
        where = " > ".join(self.pipelines)
        if self.items:  # every enclosing map item, outermost first
            where += ", map item " + " > ".join(str(i) for i in self.items)
        return f"✗ {what} failed in {where}: {self.error}"


def format_seconds(seconds: float) -> str:
    """Compact durations: ``0.42s``, ``12s``, ``3m05s``, ``1h02m``."""
    if seconds < 10:
        return f"{seconds:.2f}s" if seconds < 1 else f"{seconds:.1f}s"
    if seconds < 60:
        return f"{seconds:.0f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"
