"""``SequentialNodeExecutor``: nodes one by one, in dependency order."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._steps import execute, note, run_step
from ._base import TaskExecutor

if TYPE_CHECKING:
    from .._context import RunContext
    from .._plan import Plan

__all__ = ["SequentialNodeExecutor"]


class SequentialNodeExecutor(TaskExecutor):
    """Run the nodes one after another in the plan's topological order.

    The library default. Map items run one by one too, unless a
    ``map_executor`` (thread or process pool, Dask) is given::

        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(16))
    """

    def run_plan(self, plan: Plan, values: dict[str, Any], ctx: RunContext) -> None:
        step = None
        try:
            if ctx.caching is not None or (plan.optional and not plan.optional <= values.keys()):
                hashes: dict[str, str] = {}
                for step in plan.steps:
                    execute(step, values, ctx, hashes)
                return
            for step in plan.steps:
                if step.simple:
                    values[step.output] = step.func(*[values[p] for p in step.params])  # type: ignore[index]
                else:
                    run_step(step, values, ctx)
        except Exception as exc:
            if step is not None:
                note(exc, f"in node {step.name!r} of pipeline {ctx.path[-1]!r}")
            raise
