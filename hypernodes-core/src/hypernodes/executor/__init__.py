"""Executor strategies: HOW a pipeline runs.

``SequentialNodeExecutor`` runs nodes one by one; ``TaskExecutor`` is the base
of every strategy that runs nodes in this process (map items optionally in a
``concurrent.futures`` pool); ``HolisticExecutor`` is the base of strategies
that translate the whole pipeline into another engine.
"""

from __future__ import annotations

from ._base import ExecutorStrategy, HolisticExecutor, TaskExecutor
from ._sequential import SequentialNodeExecutor

__all__ = [
    "ExecutorStrategy",
    "HolisticExecutor",
    "SequentialNodeExecutor",
    "TaskExecutor",
]


def __getattr__(name: str) -> object:
    from .._plugins.registry import provided_attribute

    return provided_attribute(__name__, name)


def __dir__() -> list[str]:
    from .._plugins.registry import provided_names

    return sorted({*__all__, *provided_names(__name__)})
