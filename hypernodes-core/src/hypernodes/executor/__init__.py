"""Executor strategies: HOW a pipeline runs.

``SequentialNodeExecutor`` runs nodes one by one; ``EagerNodeExecutor`` starts
each node as soon as its inputs exist; ``TaskExecutor`` is the base
of every strategy that runs nodes in this process (map items optionally in a
``concurrent.futures`` pool); ``HolisticExecutor`` is the base of strategies
that translate the whole pipeline into another engine.
"""

from __future__ import annotations

from ._base import ExecutorStrategy, HolisticExecutor, TaskExecutor
from ._eager import EagerNodeExecutor
from ._pools import PoolDescription, check_main_guard, process_pool
from ._sequential import SequentialNodeExecutor

__all__ = [
    "EagerNodeExecutor",
    "ExecutorStrategy",
    "HolisticExecutor",
    "PoolDescription",
    "SequentialNodeExecutor",
    "TaskExecutor",
    "check_main_guard",
    "process_pool",
    "threads",
    "processes",
]


def threads(max_workers: int | None = None) -> SequentialNodeExecutor:
    """Nodes one by one; map items in a thread pool (registered as ``"threads"``).

    For I/O-bound items (HTTP calls, disk, GPU clients). ``max_workers``
    defaults to ``min(32, cpu_count + 4)`` as in ``ThreadPoolExecutor``.
    """
    from concurrent.futures import ThreadPoolExecutor

    return SequentialNodeExecutor(map_executor=ThreadPoolExecutor(max_workers))


def processes(max_workers: int | None = None) -> SequentialNodeExecutor:
    """Nodes one by one; map items in a process pool (registered as ``"processes"``).

    For CPU-bound items. Workers are spawned (see :func:`process_pool`) and
    receive the pipeline serialised with cloudpickle once per map.
    """
    return SequentialNodeExecutor(map_executor=process_pool(max_workers))


def __getattr__(name: str) -> object:
    from .._plugins.registry import provided_attribute

    return provided_attribute(__name__, name)


def __dir__() -> list[str]:
    from .._plugins.registry import provided_names

    return sorted({*__all__, *provided_names(__name__)})
