"""Batch implementations and @stateful resources on DaftExecutor (docs/ml.md)."""

from __future__ import annotations

import time

import pytest
from hypernodes import MemoryCache, Pipeline, PipelineCallback, Retries, node, stateful
from hypernodes.errors import NodeTimeoutError, OutputCountError
from hypernodes.executor import DaftExecutor


class Calls(list):
    """A log nodes append to; keyed as a constant so that it never changes a cache key."""

    def __cache_key__(self):
        return "calls"


def scaling(size=None, per_item=None, batches=None):
    """A node ``y = x * factor`` whose two implementations log their calls."""

    @node(output_name="y")
    def scale(x: int, factor: int) -> int:
        per_item.append(x)
        return x * factor

    def scale_batch(x: list[int], factor: int) -> list[int]:
        batches.append((list(x), factor))
        return [v * factor for v in x]

    scale.batch(size=size)(scale_batch) if size else scale.batch(scale_batch)
    return scale


# -- batch implementations -----------------------------------------------------------------


def test_a_map_calls_the_batch_function_with_lists_and_shared_values():
    per_item, batches = Calls(), Calls()
    pipeline = Pipeline([scaling(4, per_item, batches)], executor=DaftExecutor())
    result = pipeline.map({"x": list(range(10)), "factor": 3}, map_over="x")
    assert result == {"y": [3 * x for x in range(10)]}
    assert per_item == []
    assert all(len(xs) <= 4 and factor == 3 for xs, factor in batches)
    assert sorted(x for xs, _ in batches for x in xs) == list(range(10))


def test_a_run_calls_the_per_item_function():
    per_item, batches = Calls(), Calls()
    pipeline = Pipeline([scaling(4, per_item, batches)], executor=DaftExecutor())
    assert pipeline.run({"x": 2, "factor": 5}) == {"y": 10}
    assert (per_item, batches) == ([2], [])


def test_items_the_cache_serves_are_left_out_of_the_batch():
    per_item, batches = Calls(), Calls()
    pipeline = Pipeline(
        [scaling(None, per_item, batches)], executor=DaftExecutor(), cache=MemoryCache()
    )
    pipeline.map({"x": [1, 2, 3], "factor": 2}, map_over="x")
    batches.clear()
    assert pipeline.map({"x": [1, 2, 3, 4, 5], "factor": 2}, map_over="x") == {
        "y": [2, 4, 6, 8, 10]
    }
    assert sorted(x for xs, _ in batches for x in xs) == [4, 5]


def test_each_nested_map_gets_its_own_batches_with_its_rows_shared_value():
    per_item, batches = Calls(), Calls()
    inner = Pipeline([scaling(None, per_item, batches)], name="inner")
    outer = Pipeline(
        [inner.as_node(name="each", input_mapping={"xs": "x"}, map_over="xs")], name="outer"
    )
    outer.with_executor(DaftExecutor())
    result = outer.map(
        {"xs": [[1, 2], [3], [4, 5, 6]], "factor": [10, 20, 30]}, map_over=["xs", "factor"]
    )
    assert result == {"y": [[10, 20], [60], [120, 150, 180]]}
    assert sorted(batches) == [([1, 2], 10), ([3], 20), ([4, 5, 6], 30)]


def test_a_batch_of_the_wrong_length_is_an_error_naming_the_node():
    @node(output_name="y")
    def short(x: int) -> int:
        return x

    @short.batch
    def short_batch(x: list[int]) -> list[int]:
        return x[:-1]

    with pytest.raises(OutputCountError, match="batch implementation of node 'short'"):
        Pipeline([short], executor=DaftExecutor()).map({"x": [1, 2, 3]})


def test_a_batch_that_raises_names_the_items_it_held():
    @node(output_name="y")
    def invert(x: int) -> float:
        return 1 / x

    @invert.batch(size=2)
    def invert_batch(x: list[int]) -> list[float]:
        return [1 / v for v in x]

    with pytest.raises(ZeroDivisionError) as caught:
        Pipeline([invert], name="p", executor=DaftExecutor()).map({"x": [1, 2, 3, 0, 5]})
    assert "hypernodes: in a batch of node 'invert' holding map items 2-3" in caught.value.__notes__


def test_a_failed_batch_call_is_tried_again_as_a_whole():
    batches = Calls()

    class Retried(PipelineCallback):
        def __init__(self):
            self.retries = []

        def on_node_retry(self, node, attempt, error, delay, ctx):
            self.retries.append((node, attempt, ctx.item_path))

    @node(output_name="y", retries=Retries(max=1, backoff=0))
    def fetch(x: int) -> int:
        return x

    @fetch.batch
    def fetch_batch(x: list[int]) -> list[int]:
        batches.append(list(x))
        if len(batches) == 1:
            raise OSError("the service hiccups once")
        return x

    retried = Retried()
    pipeline = Pipeline([fetch], executor=DaftExecutor(batch_size=8), callbacks=[retried])
    assert pipeline.map({"x": [1, 2, 3]}) == {"y": [1, 2, 3]}
    assert batches == [[1, 2, 3], [1, 2, 3]]
    assert sorted(retried.retries) == [
        ("fetch", 1, (0,)),
        ("fetch", 1, (1,)),
        ("fetch", 1, (2,)),
    ]  # every item of the batch hears of its retry


def test_a_slow_batch_call_times_out():
    @node(output_name="y", timeout=0.1)
    def slow(x: int) -> int:
        return x

    @slow.batch
    def slow_batch(x: list[int]) -> list[int]:
        time.sleep(0.5)
        return x

    with pytest.raises(NodeTimeoutError, match="Node 'slow' took longer than its timeout"):
        Pipeline([slow], executor=DaftExecutor()).map({"x": [1, 2]})


# -- @stateful resources -------------------------------------------------------------------

BUILDS = Calls()


@stateful
class Model:
    def __init__(self, name: str):
        BUILDS.append(name)
        self.offset = len(name)

    def predict(self, x: int) -> int:
        return x + self.offset


@node(output_name="prediction")
def predict(x: int, model: Model) -> int:
    return model.predict(x)


def test_a_bound_model_is_built_once_in_this_process_for_every_map():
    BUILDS.clear()
    model = Model("abc")
    pipeline = Pipeline([predict], executor=DaftExecutor()).bind(model=model)
    assert BUILDS == []  # nothing built yet
    assert pipeline.map({"x": list(range(50))}) == {"prediction": [x + 3 for x in range(50)]}
    assert pipeline.map({"x": [1, 2]}) == {"prediction": [4, 5]}
    assert BUILDS == ["abc"]
    assert model.built
