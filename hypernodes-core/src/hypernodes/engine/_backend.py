"""Backends: WHERE a pipeline runs. The executor strategy decides HOW."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._model.pipeline import Pipeline
    from ..executor import ExecutorStrategy
    from ._context import RunContext

__all__ = ["Backend", "LocalBackend"]


class Backend:
    """Where a pipeline runs. Subclass and implement :meth:`run` and :meth:`map`.

    A backend receives the pipeline, its inputs, the executor strategy and the
    run context, and must return what ``executor.run`` / ``executor.map``
    would return here; a remote backend ships the same arguments elsewhere and
    runs them there with a :class:`LocalBackend`::

        class SubprocessBackend(Backend):
            def run(self, pipeline, inputs, executor, ctx, output_name=None):
                args = (pipeline, inputs, executor, ctx, output_name)
                return run_elsewhere(LocalBackend().run, *args)

            def map(self, pipeline, inputs, executor, ctx, *, map_over, map_mode, output_name=None):
                return run_elsewhere(LocalBackend().map, ...)
    """

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """Run ``pipeline`` once on ``inputs``; return its outputs."""
        raise NotImplementedError

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        """Run ``pipeline`` once per item; return one list per output."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class LocalBackend(Backend):
    """Run in this process, with a task executor (sequential, eager, pools)."""

    @staticmethod
    def _refuse(executor: ExecutorStrategy) -> None:
        backend = type(executor.default_backend()).__name__
        msg = (
            f"LocalBackend runs task executors; {type(executor).__name__} translates the "
            f"whole pipeline and runs on {backend}. Leave the backend unset (it is then "
            f"chosen from the executor) or pass backend={backend}()."
        )
        raise TypeError(msg)

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        if executor.holistic:
            self._refuse(executor)
        return executor.run(pipeline, inputs, ctx, output_name)

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        if executor.holistic:
            self._refuse(executor)
        return executor.map(
            pipeline, inputs, ctx, map_over=map_over, map_mode=map_mode, output_name=output_name
        )
