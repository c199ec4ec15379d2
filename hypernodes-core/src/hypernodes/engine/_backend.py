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

    ``Pipeline.run`` validates the inputs, builds the :class:`RunContext` of the
    run (with its callbacks and cache) and calls ``backend.run(pipeline,
    inputs, executor, ctx, output_name)``; a backend returns exactly what
    ``executor.run`` / ``executor.map`` would return here. The arguments:

    - ``pipeline``: the :class:`~hypernodes.Pipeline` to run (picklable);
    - ``inputs``: a dict of input name -> value, bound inputs included;
    - ``executor``: the effective executor strategy (HOW): run it, or ship it;
    - ``ctx``: the run's :class:`RunContext` (callbacks, cache, where in a
      nested run this is); never ship it as it is: ship ``ctx.detach()``;
    - ``output_name``: the outputs asked for (``None``: all of them);
    - ``map_over`` / ``map_mode`` (``map`` only): the mapped input names and
      ``"zip"`` or ``"product"``.

    A backend that runs elsewhere ships the work as a :class:`Job` and runs
    it there with :func:`run_job`, which uses a :class:`LocalBackend`; events
    come back and reach the callbacks here. A complete backend that runs each
    call in a fresh Python process::

        import os, subprocess, sys, tempfile
        from hypernodes.engine import Backend, Job

        class SubprocessBackend(Backend):
            def run(self, pipeline, inputs, executor, ctx, output_name=None):
                job = Job.run(pipeline, inputs, executor, ctx, output_name, by_value=True)
                return job.receive(self._call(job.payload))

            def map(self, pipeline, inputs, executor, ctx, *, map_over, map_mode,
                    output_name=None):
                job = Job.map(pipeline, inputs, executor, ctx, map_over=map_over,
                              map_mode=map_mode, output_name=output_name, by_value=True)
                return job.receive(self._call(job.payload))

            def _call(self, payload):  # the result comes back in a file: user code prints
                code = ("import sys; from hypernodes.engine import run_job; "
                        "open(sys.argv[1], 'wb').write(run_job(sys.stdin.buffer.read()))")
                with tempfile.TemporaryDirectory() as folder:
                    result = os.path.join(folder, "result")
                    subprocess.run([sys.executable, "-c", code, result], input=payload,
                                   check=True)
                    with open(result, "rb") as file:
                        return file.read()
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
