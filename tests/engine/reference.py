"""Two reference implementations of the engine interface, written as a plugin author
would: only public modules of hypernodes (a test checks the imports).

- ``SubprocessBackend`` runs each run or map in a clean ``python -I`` process,
  outside the repository, via cloudpickle (caches and callbacks included;
  events are replayed here).
- ``ColumnExecutor`` is a holistic executor that runs a plan node by node over
  every row at once (node-major), the way a dataframe engine such as Daft does.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import Any

from hypernodes.engine import Backend, Job, MapItems
from hypernodes.executor import HolisticExecutor

RUNNER = (
    "import sys\n"
    "from hypernodes.engine import run_job\n"
    "payload = open(sys.argv[1], 'rb').read()\n"
    "open(sys.argv[2], 'wb').write(run_job(payload))\n"
)


class SubprocessBackend(Backend):
    """Run every run or map in a fresh, isolated Python process."""

    def run(self, pipeline, inputs, executor, ctx, output_name=None):
        job = Job.run(
            pipeline, inputs, executor, ctx, output_name, by_value=True, where="a subprocess"
        )
        return job.receive(self._call(job.payload))

    def map(self, pipeline, inputs, executor, ctx, *, map_over, map_mode, output_name=None):
        job = Job.map(
            pipeline,
            inputs,
            executor,
            ctx,
            map_over=map_over,
            map_mode=map_mode,
            output_name=output_name,
            by_value=True,
            where="a subprocess",
        )
        return job.receive(self._call(job.payload))

    @staticmethod
    def _call(payload: bytes) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            source, result = os.path.join(folder, "payload"), os.path.join(folder, "result")
            with open(source, "wb") as file:
                file.write(payload)
            subprocess.run(
                [sys.executable, "-I", "-c", RUNNER, source, result],
                cwd=folder,  # outside the repository: nothing importable by accident
                check=True,
                timeout=120,
            )
            with open(result, "rb") as file:
                return file.read()


class ColumnBackend(Backend):
    """Where a ColumnExecutor runs: here, handing the whole run to the executor."""

    def run(self, pipeline, inputs, executor, ctx, output_name=None):
        return executor.run(pipeline, inputs, ctx, output_name)

    def map(self, pipeline, inputs, executor, ctx, *, map_over, map_mode, output_name=None):
        return executor.map(
            pipeline, inputs, ctx, map_over=map_over, map_mode=map_mode, output_name=output_name
        )


class ColumnExecutor(HolisticExecutor):
    """Each node over every row, then the next node (a run is one row)."""

    def default_backend(self) -> Backend:
        return ColumnBackend()

    def run(self, pipeline, inputs, ctx, output_name=None):
        plan = pipeline.plan(output_name)
        rows = [dict(inputs)]
        self._columns(plan, rows, [ctx])
        return {name: rows[0][name] for name in plan.outputs}

    def map(self, pipeline, inputs, ctx, *, map_over, map_mode, output_name=None):
        plan = pipeline.plan(output_name)
        items = MapItems(inputs, map_over, map_mode)
        ctx.begin_map(pipeline.name, len(items))
        try:
            rows = list(items)
            contexts = [ctx.item(index) for index in range(len(rows))]
            for item in contexts:
                item.begin_item()
            self._columns(plan, rows, contexts)
            for item in contexts:
                item.end_item()
        except BaseException as exc:
            ctx.fail(None, exc)
            raise
        ctx.end_map(pipeline.name)
        return {name: [row[name] for row in rows] for name in plan.outputs}

    @staticmethod
    def _columns(plan, rows: list[dict[str, Any]], contexts) -> None:
        hashes: list[dict[str, str]] = [{} for _ in rows]
        for step in plan.steps:  # node-major: one node over every row
            for row, item, known in zip(rows, contexts, hashes):
                item.execute(step, row, known)
