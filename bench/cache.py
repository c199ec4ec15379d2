"""Caching overhead on the peers' map workload (a 3-node chain over 20,000 items).

- diskcache_cold_per_item_node: first map on an empty DiskCache (every call
  misses, is computed and written).
- diskcache_warm_per_item_node: the same map again with a NEW DiskCache on the
  same directory, as in a new session (every call hits).
- memorycache_warm_per_item_node: the same map on a warm MemoryCache.
- key_3m_int_list_s: keying a 3,000,000-int list input (beside pickling it).
- map_40x50mb_peak_mb: the traced memory peak of a DiskCache map over forty
  items whose uncached producer makes a 50 MB array each (a cache that keeps
  intermediates alive peaks at the sum of them).

Targets on the project's machines: cold <= 150 us, warm <= 15 us,
MemoryCache warm <= 3 us (the original HyperNodes: 12,000 cold, 35 warm).

Usage: python bench/cache.py [--items N]
"""

from __future__ import annotations

import argparse
import pickle
import platform
import shutil
import tempfile
import time
import tracemalloc

from hypernodes import DiskCache, MemoryCache, Pipeline, node
from hypernodes.caching import explain_key
from workloads import three_nodes


def per_item_node(pipeline: Pipeline, xs: list[int]) -> float:
    t0 = time.perf_counter()
    out = pipeline.map({"x": xs})
    elapsed = time.perf_counter() - t0
    assert out["c"][-1] == xs[-1] + 3
    return elapsed / (len(xs) * 3) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=20_000)
    args = parser.parse_args()
    xs = list(range(args.items))
    print(f"# hypernodes cache, Python {platform.python_version()}, {args.items} items")
    root = tempfile.mkdtemp(prefix="hn-bench-cache-")
    try:
        pipeline = three_nodes(cache=DiskCache(root))
        print(f"diskcache_cold_per_item_node: {per_item_node(pipeline, xs):.3f} us")
        warm = []
        for _ in range(3):
            pipeline.with_cache(DiskCache(root))
            warm.append(per_item_node(pipeline, xs))
        print(f"diskcache_warm_per_item_node: {min(warm):.3f} us")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    memory = MemoryCache()
    pipeline = three_nodes(cache=memory)
    print(f"memorycache_cold_per_item_node: {per_item_node(pipeline, xs):.3f} us")
    print(
        f"memorycache_warm_per_item_node: {min(per_item_node(pipeline, xs) for _ in range(3)):.3f} us"
    )
    keying()
    large_intermediates()


@node(output_name="n")
def count(values):
    return len(values)


def keying() -> None:
    values = list(range(3_000_000))
    t0 = time.perf_counter()
    explain_key(count, values=values)
    keyed = time.perf_counter() - t0
    t0 = time.perf_counter()
    pickle.dumps(values)
    pickled = time.perf_counter() - t0
    print(f"key_3m_int_list_s: {keyed:.3f} s (pickle.dumps: {pickled:.3f} s)")


def large_intermediates() -> None:
    import numpy as np

    @node(output_name="big", cache=False)
    def load(i):
        return np.full(50 * 2**20 // 8, float(i))

    @node(output_name="mean")
    def mean(big):
        return float(big[0])

    root = tempfile.mkdtemp(prefix="hn-bench-cache-")
    try:
        pipeline = Pipeline([load, mean], cache=DiskCache(root))
        tracemalloc.start()
        pipeline.map({"i": list(range(40))}, output_name="mean")
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"map_40x50mb_peak_mb: {peak / 2**20:.0f} MB")


if __name__ == "__main__":
    main()
