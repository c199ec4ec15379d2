"""The peers' workloads (see ../shared/bench/peers/), shared by the benchmark scripts."""

from __future__ import annotations

import time
from collections.abc import Callable

from hypernodes import Pipeline, node


def chain(length: int) -> Pipeline:
    """A linear chain x0 -> x1 -> ... -> x{length}, each node adding one."""
    nodes = []
    for k in range(1, length + 1):
        namespace: dict[str, object] = {}
        exec(f"def n{k}(x{k - 1}):\n    return x{k - 1} + 1\n", namespace)
        nodes.append(node(namespace[f"n{k}"], output_name=f"x{k}"))
    return Pipeline(nodes, name=f"chain{length}")


@node(output_name="a")
def step_a(x):
    return x + 1


@node(output_name="b")
def step_b(a):
    return a + 1


@node(output_name="c")
def step_c(b):
    return b + 1


def three_nodes(**settings: object) -> Pipeline:
    """The 3-node chain a = x + 1, b = a + 1, c = b + 1 mapped by the map workloads."""
    return Pipeline([step_a, step_b, step_c], name="three", **settings)


def best(fn: Callable[[], object], repeats: int = 5) -> float:
    """The best of ``repeats`` timings of ``fn`` after one warm-up call (like pipefunc's)."""
    fn()
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return min(samples)
