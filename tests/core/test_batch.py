"""Batch implementations of a node: map calls them on chunks, run calls the per-item one."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypernodes import MemoryCache, Pipeline, PipelineCallback, node
from hypernodes.errors import OutputCountError, PipelineDefinitionError
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor


def make(size=None, calls=None):
    calls = calls if calls is not None else []

    @node(output_name="scaled")
    def scale(x: int, factor: int) -> int:
        calls.append(("item", x))
        return x * factor

    @scale.batch(size=size)
    def scale_batch(x: list[int], factor: int) -> list[int]:
        calls.append(("batch", list(x)))
        return [v * factor for v in x]

    @node(output_name="shifted")
    def shift(scaled: int) -> int:
        return scaled + 1

    return Pipeline([scale, shift], name="affine"), calls


def test_run_calls_the_per_item_function():
    pipeline, calls = make()
    assert pipeline.run({"x": 3, "factor": 2}) == {"scaled": 6, "shifted": 7}
    assert calls == [("item", 3)]


def test_map_calls_the_batch_function_with_lists_for_what_varies_and_shared_values_once():
    pipeline, calls = make()
    result = pipeline.map({"x": [1, 2, 3], "factor": 10}, map_over="x")
    assert result == {"scaled": [10, 20, 30], "shifted": [11, 21, 31]}
    assert calls == [("batch", [1, 2, 3])]


def test_size_cuts_the_items_into_chunks():
    pipeline, calls = make(size=2)
    pipeline.map({"x": [1, 2, 3, 4, 5], "factor": 1}, map_over="x")
    assert calls == [("batch", [1, 2]), ("batch", [3, 4]), ("batch", [5])]


def test_an_input_mapped_over_is_a_list_even_when_its_values_are_the_same_objects():
    seen = []

    @node(output_name="y")
    def times(x: int, factor: int) -> int:
        return x * factor

    @times.batch
    def times_batch(x: list[int], factor: list[int]) -> list[int]:
        seen.append((x, factor))
        return [a * b for a, b in zip(x, factor)]

    assert Pipeline([times]).map({"x": [1, 1, 1], "factor": [2, 2, 2]}) == {"y": [2, 2, 2]}
    assert seen == [([1, 1, 1], [2, 2, 2])]  # both mapped: both lists


def test_items_served_from_the_cache_are_left_out_of_the_batch():
    pipeline, calls = make()
    pipeline.with_cache(MemoryCache())
    pipeline.map({"x": [1, 2], "factor": 3}, map_over="x")
    calls.clear()
    assert pipeline.map({"x": [1, 2, 3, 4], "factor": 3}, map_over="x")["scaled"] == [3, 6, 9, 12]
    assert calls == [("batch", [3, 4])]


@pytest.mark.parametrize("pool", ["threads", "processes", "eager"])
def test_every_executor_uses_the_batch_function_and_gives_the_per_item_result(pool, processes):
    pipeline, _ = make()
    if pool == "threads":
        pipeline.with_executor(SequentialNodeExecutor(map_executor=ThreadPoolExecutor(2)))
    elif pool == "processes":
        pipeline.with_executor(SequentialNodeExecutor(map_executor=processes))
    else:
        pipeline.with_executor(EagerNodeExecutor())
    xs = list(range(40))
    result = pipeline.map({"x": xs, "factor": 3}, map_over="x")
    assert result == {"scaled": [3 * x for x in xs], "shifted": [3 * x + 1 for x in xs]}


def test_a_pool_gives_each_worker_whole_chunks():
    pipeline, calls = make()
    pipeline.with_executor(SequentialNodeExecutor(map_executor=ThreadPoolExecutor(2)))
    pipeline.map({"x": list(range(10)), "factor": 1}, map_over="x")
    batches = sorted(c[1] for c in calls if c[0] == "batch")
    assert batches == [[0, 1, 2, 3, 4], [5, 6, 7, 8, 9]]
    assert not [c for c in calls if c[0] == "item"]


def test_a_batch_returning_the_wrong_length_names_the_node_and_the_items():
    @node(output_name="y")
    def f(x):
        return x

    @f.batch
    def f_batch(x):
        return x[:-1]

    with pytest.raises(OutputCountError, match="was given 3 items and returned 2 values") as info:
        Pipeline([f], name="p").map({"x": [1, 2, 3]})
    assert "hypernodes: in a batch of node 'f' holding map items 0-2" in info.value.__notes__


def test_a_batch_that_raises_names_the_node_and_the_items_of_the_chunk():
    @node(output_name="y")
    def f(x):
        return x

    @f.batch(size=2)
    def f_batch(x):
        if 3 in x:
            raise ValueError("bad chunk")
        return x

    with pytest.raises(ValueError, match="bad chunk") as info:
        Pipeline([f], name="p").map({"x": [1, 2, 3, 4]})
    assert "hypernodes: in a batch of node 'f' holding map items 2-3" in info.value.__notes__


def test_in_a_map_that_goes_on_a_failing_batch_is_retried_item_by_item():
    @node(output_name="y")
    def parse(text: str) -> int:
        return int(text)

    @parse.batch
    def parse_batch(text: list[str]) -> list[int]:
        return [int(t) for t in text]  # one bad text fails the whole batch

    result = Pipeline([parse]).map({"text": ["1", "x", "3"]}, on_error="continue")
    assert result["y"][0] == 1
    assert result["y"][2] == 3
    assert result.failed == [1]


def test_several_outputs_come_back_as_a_tuple_of_lists():
    @node(output_name=("low", "high"))
    def bounds(x: int) -> tuple[int, int]:
        return x - 1, x + 1

    @bounds.batch
    def bounds_batch(x: list[int]) -> tuple[list[int], list[int]]:
        return [v - 1 for v in x], [v + 1 for v in x]

    pipeline = Pipeline([bounds])
    assert pipeline.map({"x": [1, 5]}) == {"low": [0, 4], "high": [2, 6]}
    assert pipeline.run({"x": 1}) == {"low": 0, "high": 2}


class Events(PipelineCallback):
    def __init__(self):
        self.events = []

    def on_node_start(self, node, ctx):
        self.events.append(("start", node, ctx.item_index))

    def on_node_end(self, node, duration, ctx):
        self.events.append(("end", node, ctx.item_index))

    def on_map_item_end(self, index, duration, ctx):
        self.events.append(("item_end", index))


def test_every_item_gets_its_node_events_as_with_the_per_item_path():
    pipeline, _ = make()
    events = Events()
    pipeline.with_callbacks([events]).map({"x": [1, 2], "factor": 1}, map_over="x")
    for index in (0, 1):
        mine = [e for e in events.events if e[-1] == index]
        assert mine == [
            ("start", "scale", index),
            ("end", "scale", index),
            ("start", "shift", index),
            ("end", "shift", index),
            ("item_end", index),
        ]


def test_a_batch_function_with_other_parameter_names_is_refused():
    @node(output_name="y")
    def f(x, k):
        return x

    with pytest.raises(
        PipelineDefinitionError, match="takes \\['xs', 'k'\\].*same parameter names"
    ):

        @f.batch
        def f_batch(xs, k):
            return xs


def test_a_nested_map_uses_the_batch_function_too():
    inner, calls = make()
    outer = Pipeline(
        [inner.as_node(name="each", input_mapping={"xs": "x"}, map_over="xs")], name="outer"
    )
    assert outer.run({"xs": [1, 2], "factor": 5})["scaled"] == [5, 10]
    assert calls == [("batch", [1, 2])]


def test_a_multi_output_batch_returning_one_tuple_per_item_is_refused_on_every_executor():
    @node(output_name=("lo", "hi"))
    def bounds(x: int):
        return x - 1, x + 1

    @bounds.batch
    def bounds_batch(x: list):
        return [(v - 1, v + 1) for v in x]  # the wrong shape, though 2 items and 2 outputs

    for executor in ("sequential", "threads"):
        with pytest.raises(OutputCountError, match="a tuple of 2 lists, one per output"):
            Pipeline([bounds], executor=executor).map({"x": [10, 20]})


def test_editing_the_batch_implementation_invalidates_the_cache():
    @node(output_name="unit")
    def scale(v: float) -> float:
        return v / 10

    @scale.batch
    def scale_batch(v: list) -> list:
        return [x / 100 for x in v]  # a bug in the batch path

    cache = MemoryCache()
    assert Pipeline([scale], cache=cache).map({"v": [10.0]})["unit"] == [0.1]

    @scale.batch
    def scale_batch_fixed(v: list) -> list:
        return [x / 10 for x in v]

    assert Pipeline([scale], cache=cache).map({"v": [10.0]})["unit"] == [1.0]


def test_the_snapshot_of_a_failed_batch_reproduces_the_batch_call():
    from hypernodes import error_snapshot

    @node(output_name="y")
    def parse(t: str) -> int:
        return int(t)

    @parse.batch
    def parse_batch(t: list) -> list:
        return [int(v) for v in t]

    with pytest.raises(ValueError) as info:
        Pipeline([parse]).map({"t": ["1", "2", "x"]})
    snapshot = error_snapshot(info.value)
    assert snapshot.inputs == {"t": ["1", "2", "x"]}
    with pytest.raises(ValueError, match="invalid literal"):
        snapshot.reproduce()


def test_a_batch_timeout_names_the_batch_and_a_retry_reaches_every_item():
    import time

    from hypernodes import Retries
    from hypernodes.errors import NodeTimeoutError

    retries = []

    class Retried(PipelineCallback):
        def on_node_retry(self, node, attempt, error, delay, ctx):
            retries.append(ctx.item_index)

    @node(output_name="y", timeout=0.1, retries=Retries(max=1, backoff=0))
    def embed(x: int) -> int:
        return x

    @embed.batch
    def embed_batch(x):
        time.sleep(0.5)
        return x

    with pytest.raises(NodeTimeoutError, match="in a batch of map items 0-2"):
        Pipeline([embed], callbacks=[Retried()]).map({"x": [10, 11, 12]})
    assert sorted(retries) == [0, 1, 2]


def test_a_process_pool_gives_batches_of_the_size_asked_when_the_items_allow(processes, tmp_path):
    log = tmp_path / "sizes"

    @node(output_name="y")
    def f(x: int) -> int:
        return x

    @f.batch(size=64)
    def f_batch(x):
        with open(log, "a") as file:
            file.write(f"{len(x)}\n")
        return list(x)

    pipeline = Pipeline([f]).with_executor(SequentialNodeExecutor(map_executor=processes))
    assert pipeline.map({"x": list(range(200))})["y"] == list(range(200))
    sizes = [int(n) for n in log.read_text().split()]
    assert sum(sizes) == 200
    assert max(sizes) == 64  # not 200 / (4 x 2) = 25
