"""Ordinary code that used to crash or hang: pipelines called from nodes, shared pools,
eager defaults, async nodes, callbacks on pools. Each test is guarded by a timeout."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypernodes import Pipeline, PipelineCallback, node, set_default_config
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor


def finishes(seconds, fn, *args):
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it takes longer."""
    outcome = {}

    def target():
        try:
            outcome["value"] = fn(*args)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still running after {seconds} s: a deadlock"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Counter(PipelineCallback):
    def __init__(self):
        self.ends = 0

    def on_node_end(self, node, duration, ctx):
        self.ends += 1


def test_a_node_mapping_a_pipeline_on_the_thread_pool_it_runs_on_completes():
    pool = ThreadPoolExecutor(2)

    @node(output_name="y")
    def double(x):
        return 2 * x

    helper = Pipeline([double]).with_executor(SequentialNodeExecutor(map_executor=pool))

    @node(output_name="total")
    def sum_of_doubles(n):
        return sum(helper.map({"x": list(range(n))})["y"])

    outer = Pipeline([sum_of_doubles]).with_executor(SequentialNodeExecutor(map_executor=pool))
    result = finishes(20, outer.map, {"n": [3, 4, 5, 6]})
    assert result == {"total": [6, 12, 20, 30]}


def test_twelve_parallel_eager_nodes_each_running_a_helper_pipeline_complete():
    set_default_config(executor=EagerNodeExecutor(max_threads=4))

    @node(output_name="a")
    def first(x):
        return x + 1

    @node(output_name="b")
    def second(x):
        return x + 2

    helper = Pipeline([first, second])  # not a chain: the eager executor overlaps a and b

    def make(i):
        @node(output_name=f"out{i}", name=f"call{i}")
        def call(x):
            result = helper.run({"x": x + i})
            return result["a"] + result["b"]

        return call

    pipeline = Pipeline([make(i) for i in range(12)])
    result = finishes(20, pipeline.run, {"x": 0})
    assert result == {f"out{i}": 2 * i + 3 for i in range(12)}


@pytest.mark.parametrize("inner_executor", ["threads", "eager"])
def test_an_async_node_running_a_pipeline_with_async_nodes_on_threads_completes(inner_executor):
    @node(output_name="z")
    async def slow_inc(y):
        await asyncio.sleep(0.01)
        return y + 1

    @node(output_name="w")
    async def slow_double(y):
        await asyncio.sleep(0.01)
        return 2 * y

    if inner_executor == "threads":
        inner = Pipeline([slow_inc]).with_executor(
            SequentialNodeExecutor(map_executor=ThreadPoolExecutor(2))
        )
    else:
        inner = Pipeline([slow_inc, slow_double]).with_executor(EagerNodeExecutor())

    @node(output_name="total")
    async def outer_node(xs):
        await asyncio.sleep(0)
        if inner_executor == "threads":
            return sum(inner.map({"y": xs})["z"])
        return sum(inner.run({"y": x})["z"] for x in xs)

    outer = Pipeline([outer_node]).with_executor(EagerNodeExecutor())
    assert finishes(20, outer.run, {"xs": [1, 2, 3]}) == {"total": 9}


def test_an_eager_executor_with_a_thread_pool_and_callbacks_maps():
    counter = Counter()

    @node(output_name="a")
    def a(x):
        return x + 1

    @node(output_name="b")
    def b(x):
        return x * 2

    pipeline = Pipeline([a, b], callbacks=[counter]).with_executor(
        EagerNodeExecutor(map_executor=ThreadPoolExecutor(3))
    )
    result = finishes(20, pipeline.map, {"x": list(range(6))})
    assert result == {"a": [1, 2, 3, 4, 5, 6], "b": [0, 2, 4, 6, 8, 10]}
    assert counter.ends == 12


def test_an_eager_pipeline_with_callbacks_nesting_one_with_callbacks_runs():
    outer_counter, inner_counter = Counter(), Counter()

    @node(output_name="a")
    def a(x):
        return x + 1

    @node(output_name="b")
    def b(x):
        return x * 2

    inner = Pipeline([a, b], name="inner", callbacks=[inner_counter])
    outer = Pipeline([inner, node(lambda a, b: a + b, output_name="c")], callbacks=[outer_counter])
    outer.with_executor(EagerNodeExecutor(map_executor=ThreadPoolExecutor(2)))
    assert finishes(20, outer.map, {"x": [1, 2]}) == {"a": [2, 3], "b": [2, 4], "c": [4, 7]}
    assert inner_counter.ends == 4  # a and b, twice
    assert outer_counter.ends == 4  # the nested node and c, twice


@pytest.mark.parametrize("pool", ["threads", "processes"])
def test_a_failing_item_keeps_its_node_note_with_callbacks_on_a_pool(pool, processes):
    from hypernodes.executor import threads

    @node(output_name="checked")
    def reject_three(x):
        if x == 3:
            raise ValueError("three")
        return x

    executor = threads(2) if pool == "threads" else SequentialNodeExecutor(map_executor=processes)
    pipeline = Pipeline([reject_three], name="items", callbacks=[Counter()]).with_executor(executor)
    with pytest.raises(ValueError, match="three") as info:
        finishes(60, pipeline.map, {"x": [0, 1, 2, 3, 4, 5]})
    assert "hypernodes: in node 'reject_three' of pipeline 'items'" in info.value.__notes__
    assert "hypernodes: in map item 3 of pipeline 'items'" in info.value.__notes__
