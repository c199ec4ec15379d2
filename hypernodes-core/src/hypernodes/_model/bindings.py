"""A counter of changes to any pipeline's bound inputs.

Binding a value to an inner pipeline's input makes that input optional for
every parent using the pipeline as a node, so compiled plans of parents go
stale. Plans are compiled once and reused; each pipeline remembers the epoch
its plans were compiled in and recompiles when a binding changed anywhere.
One integer comparison per run keeps that cheap.
"""

from __future__ import annotations

__all__ = ["changed", "epoch"]

epoch = 0


def changed() -> None:
    """Note that some pipeline's bound inputs changed."""
    global epoch
    epoch += 1
