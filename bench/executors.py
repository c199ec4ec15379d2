"""Executor benchmarks: parallel maps, pool overhead and eager overlap.

- thread_io_efficiency: 200 items x 20 ms sleep in 16 threads; ideal time /
  measured time (1.0 = ideal speedup). Target >= 0.90.
- process_cpu_speedup: CPU-bound items (pure-Python loop) on a 2-process pool
  versus sequential. Target >= 1.7 on 2 cores. process_cpu_raw_pool_speedup
  is the same work through ``ProcessPoolExecutor.map`` directly: what the
  machine allows, measured in the same session.
- map_threads_per_item_node: the 3-node trivial map over 20,000 items with a
  4-thread pool (pipefunc's ``map_threads_per_item_node``: same workload).
  Target <= 5 us.
- eager_diamond_over_critical_path: two independent 200 ms nodes joined by a
  third, time / 200 ms. Target <= 1.10.

Usage: python bench/executors.py
"""

from __future__ import annotations

import platform
import time
from concurrent.futures import ThreadPoolExecutor

from hypernodes import Pipeline, node
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor, process_pool
from workloads import best, three_nodes


@node(output_name="slept")
def io_bound(x: int) -> int:
    time.sleep(0.02)
    return x


def burn(x: int) -> int:
    total = 0
    for i in range(600_000):
        total += i % (x + 7)
    return total


cpu_bound = node(burn, output_name="burned")


def thread_io() -> None:
    items, threads = 200, 16
    pipeline = Pipeline([io_bound]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(threads))
    )
    elapsed = best(lambda: pipeline.map({"x": list(range(items))}), repeats=3)
    ideal = items * 0.02 / threads
    print(f"thread_io_seconds: {elapsed:.3f} s (ideal {ideal:.3f})")
    print(f"thread_io_efficiency: {ideal / elapsed:.3f}")


def process_cpu() -> None:
    xs = list(range(24))
    pipeline = Pipeline([cpu_bound])
    sequential = best(lambda: pipeline.map({"x": xs}), repeats=3)
    pool = process_pool(2)
    pipeline.with_executor(SequentialNodeExecutor(map_executor=pool))
    parallel = best(lambda: pipeline.map({"x": xs}), repeats=3)
    raw = best(lambda: list(pool.map(burn, xs, chunksize=3)), repeats=3)
    pool.shutdown()
    print(f"process_cpu_sequential: {sequential:.3f} s")
    print(f"process_cpu_parallel: {parallel:.3f} s")
    print(f"process_cpu_speedup: {sequential / parallel:.2f}")
    print(f"process_cpu_raw_pool_speedup: {sequential / raw:.2f}")


def thread_overhead() -> None:
    xs = list(range(20_000))
    with ThreadPoolExecutor(4) as pool:
        pipeline = three_nodes(executor=SequentialNodeExecutor(map_executor=pool))
        elapsed = best(lambda: pipeline.map({"x": xs}))
    print(f"map_threads_per_item_node: {elapsed / (len(xs) * 3) * 1e6:.3f} us")


def eager_diamond() -> None:
    @node(output_name="left")
    def left(x):
        time.sleep(0.2)
        return x

    @node(output_name="right")
    def right(x):
        time.sleep(0.2)
        return x

    @node(output_name="joined")
    def joined(left, right):
        return left + right

    pipeline = Pipeline([left, right, joined], executor=EagerNodeExecutor())
    elapsed = best(lambda: pipeline.run({"x": 1}), repeats=3)
    print(f"eager_diamond_seconds: {elapsed:.3f} s")
    print(f"eager_diamond_over_critical_path: {elapsed / 0.2:.3f}")


def main() -> None:
    print(f"# hypernodes executors, Python {platform.python_version()}")
    thread_io()
    process_cpu()
    thread_overhead()
    eager_diamond()


if __name__ == "__main__":
    main()  # the process pool spawns workers that import this file: keep the guard
