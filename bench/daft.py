"""DaftExecutor benchmarks on Daft's native runner, against the sequential executor.

- daft_map_per_item_node: the shared 3-node map over 20,000 items
  (workloads.three_nodes), per item-node, Daft native and sequential measured
  in the same run, and the same map with on_error="continue". Target <= 10 us.
- daft_cpu_speedup: a CPU-bound pure-Python node over 200 items, sequential
  time / Daft time, with DaftExecutor(use_process=True) (Daft's worker
  processes: the GIL keeps threads to one core for pure Python) and, for
  comparison, with the default in-process threads and with the core's process
  pool (executor="processes", no Daft). Target >= 1.6 on 2 cores.
  daft_cpu_fixed_cost is what a Daft run costs beyond its work spread over
  the cores (Daft 0.7 starts its worker processes at every run).
- daft_async_seconds: 16 items of an ``async def`` node sleeping 0.2 s.
  Target <= 0.4 s.

Usage: python bench/daft.py
"""

from __future__ import annotations

import asyncio
import os
import platform
import sys
from pathlib import Path

# This file is named daft.py: put its folder last on the path so `import daft` finds Daft.
HERE = str(Path(__file__).resolve().parent)
sys.path[:] = [p for p in sys.path if p not in (HERE, "")] + [HERE]

from hypernodes import Pipeline, node  # noqa: E402
from hypernodes.executor import DaftExecutor, SequentialNodeExecutor  # noqa: E402
from workloads import best, three_nodes  # noqa: E402


def burn(x: int) -> int:
    total = 0
    for i in range(400_000):
        total += i % (x + 7)
    return total


cpu_bound = node(burn, output_name="burned")


@node(output_name="fetched")
async def fetch(x: int) -> int:
    await asyncio.sleep(0.2)
    return x


def map_overhead() -> None:
    xs = list(range(20_000))
    per = len(xs) * 3 / 1e6
    sequential = best(lambda: three_nodes(executor=SequentialNodeExecutor()).map({"x": xs}))
    daft = best(lambda: three_nodes(executor=DaftExecutor()).map({"x": xs}))
    going_on = best(
        lambda: three_nodes(executor=DaftExecutor()).map({"x": xs}, on_error="continue")
    )
    print(f"sequential_map_per_item_node: {sequential / per:.3f} us")
    print(f"daft_map_per_item_node: {daft / per:.3f} us")
    print(f"daft_map_continue_per_item_node: {going_on / per:.3f} us")


def cpu_speedup() -> None:
    xs = list(range(200))
    pipeline = Pipeline([cpu_bound])
    sequential = best(lambda: pipeline.map({"x": xs}), repeats=2)
    processes = Pipeline([cpu_bound], executor=DaftExecutor(use_process=True))
    in_processes = best(lambda: processes.map({"x": xs}), repeats=2)
    threads = Pipeline([cpu_bound], executor=DaftExecutor())
    in_threads = best(lambda: threads.map({"x": xs}), repeats=2)
    pool = Pipeline([cpu_bound], executor="processes")
    in_pool = best(lambda: pool.map({"x": xs}), repeats=2)
    cores = os.cpu_count() or 1
    print(f"daft_cpu_sequential: {sequential:.3f} s on {cores} cores")
    print(f"daft_cpu_processes: {in_processes:.3f} s")
    print(f"daft_cpu_speedup: {sequential / in_processes:.2f}")
    print(f"daft_cpu_fixed_cost: {in_processes - sequential / cores:.3f} s per run")
    print(f"daft_cpu_threads_speedup: {sequential / in_threads:.2f}")
    print(f"core_process_pool_speedup: {sequential / in_pool:.2f} (no Daft)")


def async_items() -> None:
    pipeline = Pipeline([fetch], executor=DaftExecutor())
    elapsed = best(lambda: pipeline.map({"x": list(range(16))}), repeats=3)
    print(f"daft_async_seconds: {elapsed:.3f} s (16 items of 0.2 s)")


def main() -> None:
    print(f"# hypernodes DaftExecutor (native runner), Python {platform.python_version()}")
    map_overhead()
    async_items()
    cpu_speedup()


if __name__ == "__main__":
    main()  # Daft's worker processes may import this file: keep the guard
