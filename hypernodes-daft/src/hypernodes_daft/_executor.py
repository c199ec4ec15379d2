"""``DaftExecutor``: a whole pipeline translated into one Daft plan per run or map."""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Any

from hypernodes.engine import Backend, MapItems
from hypernodes.executor import HolisticExecutor, SequentialNodeExecutor

from ._runner import ensure_runner, normalize_runner

if TYPE_CHECKING:
    from hypernodes import Pipeline
    from hypernodes.engine import RunContext

__all__ = ["DaftBackend", "DaftExecutor"]


class DaftExecutor(HolisticExecutor):
    """Run a pipeline as one Daft plan: items are rows, nodes are UDF columns.

    ``runner`` is ``"local"`` (alias ``"native"``: Daft's multithreaded
    engine in this process) or ``"ray"`` (a local Ray started here, or the
    cluster at ``ray_address``). Left out, it is the runner already set in
    this process, else ``DAFT_RUNNER``, else local. Daft's runner is set once
    per process; asking for a different one is an error that says so.

    ``use_process=True`` runs synchronous nodes in worker processes, one per
    core, kept between runs (pure-Python CPU-bound nodes then use every core;
    on Ray it is Daft's own UDF option). ``batch_size`` is
    the rows per Daft batch (default: enough batches to keep every core
    busy); ``max_concurrency`` bounds the calls of an ``async def`` node
    awaited at once per batch. ``max_retries`` is Daft's own UDF retry, handed to every
    synchronous node's UDF: it reruns a whole batch when the UDF machinery
    fails; a node's ``retries`` and ``timeout`` are applied per call by
    hypernodes (docs/daft.md, "Retries and timeouts").

    Inside one of its own UDFs (a nested pipeline run in its row, or a node
    that runs a pipeline) it runs the pipeline node by node, with the
    sequential executor: never a Daft plan inside a Daft plan.

    ::

        from hypernodes import Pipeline
        from hypernodes.executor import DaftExecutor

        pipeline = Pipeline([embed, score], executor=DaftExecutor())
        pipeline.map({"text": texts, "model": "small"}, map_over="text")

    The executor holds only its settings: it pickles (it travels to Modal).
    """

    def __init__(
        self,
        runner: str | None = None,
        ray_address: str | None = None,
        *,
        use_process: bool | None = None,
        batch_size: int | None = None,
        max_concurrency: int = 64,
        max_retries: int | None = None,
    ) -> None:
        self.runner = normalize_runner(runner, ray_address)
        self.ray_address = ray_address
        self.use_process = use_process
        if batch_size is not None and batch_size < 1:
            msg = f"DaftExecutor(batch_size={batch_size!r}): give a positive number of rows."
            raise ValueError(msg)
        self.batch_size = batch_size
        if max_concurrency < 1:
            msg = f"DaftExecutor(max_concurrency={max_concurrency!r}): give at least 1."
            raise ValueError(msg)
        self.max_concurrency = max_concurrency
        self.max_retries = max_retries

    def default_backend(self) -> Backend:
        return DaftBackend()

    # -- the two entry points ----------------------------------------------------------

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        from ._plan import execute
        from ._run import in_udf

        if in_udf.get():  # inside one of our UDFs (a nested pipeline run in its row)
            return SequentialNodeExecutor().run(pipeline, inputs, ctx, output_name)
        plan = pipeline.plan(output_name)
        columns = execute(self, plan, ctx, dict(inputs), None)
        return {name: values[0] for name, values in columns.items()}

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        from ._plan import execute
        from ._run import in_udf

        if in_udf.get():  # inside one of our UDFs (a nested pipeline run in its row)
            return SequentialNodeExecutor().map(
                pipeline, inputs, ctx, map_over=map_over, map_mode=map_mode, output_name=output_name
            )
        plan = pipeline.plan(output_name)
        items = MapItems(inputs, map_over, map_mode, where=f"Pipeline {pipeline.name!r}.map()")
        ctx.begin_map(pipeline.name, len(items))
        try:
            result = execute(self, plan, ctx, items.shared, items) if len(items) else {}
        except BaseException as exc:
            ctx.fail(None, exc)
            raise
        ctx.end_map(pipeline.name)
        return result or {name: [] for name in plan.outputs}

    # -- settings the translation reads --------------------------------------------------

    def start(self) -> str:
        """Set Daft's runner (once per process) and return it: ``"native"`` or ``"ray"``."""
        return ensure_runner(self.runner, self.ray_address)

    def batch_rows(self, rows: int) -> int:
        """Rows per Daft batch: ``batch_size``, or about four batches per core."""
        if self.batch_size is not None:
            return self.batch_size
        cores = os.cpu_count() or 1
        return max(1, min(4096, math.ceil(rows / (4 * cores))))

    def udf_options(self) -> dict[str, Any]:
        """Options of every synchronous node's Daft UDF."""
        options: dict[str, Any] = {}
        if self.use_process is not None:
            options["use_process"] = self.use_process
        if self.max_retries is not None:
            options["max_retries"] = self.max_retries
        return options

    def __repr__(self) -> str:
        shown = [f"runner={self.runner!r}"] if self.runner else []
        if self.ray_address is not None:
            shown.append(f"ray_address={self.ray_address!r}")
        for name in ("use_process", "batch_size", "max_retries"):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={value!r}")
        if self.max_concurrency != 64:
            shown.append(f"max_concurrency={self.max_concurrency!r}")
        return f"DaftExecutor({', '.join(shown)})"


class DaftBackend(Backend):
    """Where a :class:`DaftExecutor` runs: it hands the whole run or map to Daft."""

    @staticmethod
    def _check(executor: Any) -> None:
        if not isinstance(executor, DaftExecutor):
            msg = (
                f"DaftBackend runs a DaftExecutor, got {type(executor).__name__}. Use "
                "executor='daft' with it, or backend='local' for the other executors."
            )
            raise TypeError(msg)

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: Any,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        self._check(executor)
        return executor.run(pipeline, inputs, ctx, output_name)  # type: ignore[no-any-return]

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: Any,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        self._check(executor)
        return executor.map(  # type: ignore[no-any-return]
            pipeline, inputs, ctx, map_over=map_over, map_mode=map_mode, output_name=output_name
        )
