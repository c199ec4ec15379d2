"""What the translation into Daft makes risky: types, nested maps, order, errors.

Every test compares DaftExecutor (native runner) with the sequential executor
on the same pipeline, or checks what the sequential executor would give.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import numpy as np
import pydantic
import pytest
from hypernodes import MemoryCache, Pipeline, node
from hypernodes.executor import DaftExecutor, SequentialNodeExecutor
from hypernodes.testing import EventLog, compare_events


def both(build, call):
    """``call(pipeline)`` sequentially and on Daft; both results."""
    return call(build().with_executor(SequentialNodeExecutor())), call(
        build().with_executor(DaftExecutor())
    )


@node(output_name="same")
def identity(x):
    return x


@node(output_name="kind")
def kind_of(same):
    return type(same).__name__


MIXED = [1, "a", 2.5, None, True, (1, "b"), {"k": [1, 2]}, [1, "a"], b"raw", {1, 2}]


def test_mixed_type_items_come_back_as_they_went_in():
    expected, got = both(lambda: Pipeline([identity, kind_of]), lambda p: p.map({"x": MIXED}))
    assert got == expected
    assert [type(v) for v in got["same"]] == [type(v) for v in MIXED]


def test_none_dict_and_tuple_outputs_survive_a_run():
    @node(output_name=("nothing", "mapping", "pair"))
    def shapes(x):
        return None, {"x": x, "nested": {"t": (x,)}}, (x, [x])

    expected, got = both(lambda: Pipeline([shapes]), lambda p: p.run({"x": 3}))
    assert (
        got
        == expected
        == {"nothing": None, "mapping": {"x": 3, "nested": {"t": (3,)}}, "pair": (3, [3])}
    )


class Reply(pydantic.BaseModel):
    text: str
    score: float


@dataclass(frozen=True)
class Point:
    x: int


def test_pydantic_models_dataclasses_and_numpy_arrays_keep_their_types():
    @node(output_name="reply")
    def answer(q: str) -> Reply:
        return Reply(text=q.upper(), score=0.5)

    @node(output_name="vector")
    def embed(reply: Reply) -> np.ndarray:
        return np.full(3, reply.score, dtype=np.float32)

    @node(output_name="point")
    def locate(vector: np.ndarray) -> Point:
        return Point(int(vector.size))

    got = Pipeline([answer, embed, locate], executor=DaftExecutor()).map({"q": ["a", "b"]})
    assert got["reply"] == [Reply(text="A", score=0.5), Reply(text="B", score=0.5)]
    assert [v.dtype for v in got["vector"]] == [np.float32, np.float32]
    assert got["point"] == [Point(3), Point(3)]


def test_a_value_that_cannot_be_pickled_still_flows_between_nodes_on_the_native_runner():
    @node(output_name="lock")
    def make_lock(x):
        return threading.Lock()

    @node(output_name="held")
    def use_lock(lock, x):
        with lock:
            return x

    got = Pipeline([make_lock, use_lock], executor=DaftExecutor()).map({"x": [1, 2]})
    assert got["held"] == [1, 2]


# -- nested map_over ------------------------------------------------------------------


calls: list[int] = []


@node(output_name="squared")
def square(x):
    calls.append(x)
    return x * x


@node(output_name="n")
def count(xs):
    return len(xs)


@node(output_name="summary")
def summarize(squares, n):
    return f"{n}:{sum(squares)}"


def per_row() -> Pipeline:
    inner = Pipeline([square], name="inner").as_node(
        name="each", input_mapping={"xs": "x"}, output_mapping={"squared": "squares"}, map_over="xs"
    )
    return Pipeline([count, inner, summarize], name="outer")


def test_an_empty_nested_list_gives_empty_outputs_without_calling_user_code():
    calls.clear()
    got = per_row().with_executor(DaftExecutor()).map({"xs": [[1, 2], [], [3]]}, map_over="xs")
    assert got == {"n": [2, 0, 1], "squares": [[1, 4], [], [9]], "summary": ["2:5", "0:0", "1:9"]}
    assert sorted(calls) == [1, 2, 3]


def test_nested_items_keep_their_order_across_many_small_batches():
    rows = [list(range(k, k + (k * 7) % 11)) for k in range(60)]
    expected = per_row().map({"xs": rows}, map_over="xs")
    got = per_row().with_executor(DaftExecutor(batch_size=1)).map({"xs": rows}, map_over="xs")
    assert got == expected


def test_every_other_value_of_the_row_survives_the_explode_and_regroup():
    # `n` is computed before the nested map and read after it, next to its outputs.
    expected, got = both(per_row, lambda p: p.run({"xs": [4, 5]}))
    assert got == expected == {"n": 2, "squares": [16, 25], "summary": "2:41"}


@node(output_name="cell")
def cell(row, col, sep="/"):
    return f"{row}{sep}{col}"


@pytest.mark.parametrize(
    ("mode", "expected"),
    [("zip", ["a/1", "b/2"]), ("product", ["a/1", "a/2", "b/1", "b/2"])],
)
def test_a_nested_map_over_two_names_zips_or_takes_the_product(mode, expected):
    def build():
        inner = Pipeline([cell], name="grid").as_node(
            input_mapping={"rows": "row", "cols": "col"}, map_over=["rows", "cols"], map_mode=mode
        )
        return Pipeline([inner], name="outer")

    sequential, got = both(build, lambda p: p.run({"rows": ["a", "b"], "cols": [1, 2]}))
    assert got == sequential == {"cell": expected}


def test_an_outer_map_of_a_nested_map_with_shared_and_bound_inputs():
    def build():
        inner = Pipeline([cell], name="grid").bind(sep="-")
        node_ = inner.as_node(input_mapping={"cols": "col"}, map_over="cols")
        return Pipeline([node_], name="outer")

    sequential, got = both(
        build, lambda p: p.map({"row": "a", "cols": [[1], [], [2, 3]]}, map_over="cols")
    )
    assert got == sequential == {"cell": [["a-1"], [], ["a-2", "a-3"]]}


def test_a_nested_pipeline_with_its_own_executor_runs_as_it_is_configured():
    inner = Pipeline([square], name="inner").with_executor(SequentialNodeExecutor())
    node_ = inner.as_node(input_mapping={"xs": "x"}, map_over="xs")
    pipeline = Pipeline([node_], name="outer", executor=DaftExecutor())
    log = EventLog()
    pipeline.with_callbacks([log])
    assert pipeline.run({"xs": [2, 3]}) == {"squared": [4, 9]}
    sequential_log = EventLog()
    Pipeline([node_], name="outer", callbacks=[sequential_log]).run({"xs": [2, 3]})
    compare_events(sequential_log.events, log.events, "own executor")


# -- errors ---------------------------------------------------------------------------


class Boom(Exception):
    def __init__(self, code, detail):
        super().__init__(f"code={code}")
        self.code = code
        self.detail = detail


@node(output_name="checked")
def check(x):
    if x == 3:
        raise Boom(x, "three")
    return x


def failure(pipeline, call):
    with pytest.raises(Boom) as info:
        call(pipeline)
    return info.value


def test_a_node_error_is_raised_as_itself_with_the_notes_of_the_sequential_executor():
    def call(p):
        return p.map({"x": [1, 2, 3, 4]})

    expected = failure(Pipeline([check], name="p"), call)
    got = failure(Pipeline([check], name="p", executor=DaftExecutor()), call)
    assert (got.code, got.detail, str(got)) == (3, "three", "code=3")
    assert got.__notes__ == expected.__notes__
    assert "in map item 2 of pipeline 'p'" in got.__notes__[-1]


def test_an_error_in_a_nested_map_item_names_every_level_as_sequentially():
    def build():
        inner = Pipeline([check], name="inner").as_node(
            name="each", input_mapping={"xs": "x"}, map_over="xs"
        )
        return Pipeline([inner], name="outer")

    def call(p):
        return p.map({"xs": [[1], [2, 3]]}, map_over="xs")

    expected = failure(build(), call)
    got = failure(build().with_executor(DaftExecutor()), call)
    assert got.__notes__ == expected.__notes__


def test_the_first_failing_item_is_raised_and_callbacks_hear_of_it_once():
    @node(output_name="y")
    def fail_on_even(x):
        if x % 2 == 0:
            raise ValueError(f"even: {x}")
        return x

    log = EventLog()
    pipeline = Pipeline([fail_on_even], name="p", executor=DaftExecutor(), callbacks=[log])
    with pytest.raises(ValueError, match="even: 2"):
        pipeline.map({"x": [1, 2, 3, 4]})
    assert [e[3] for e in log.events if e[0] == "on_error"] == [("fail_on_even", "ValueError")]


class Attempts(list):
    """A log the node reads (``len``) whose contents do not change what it returns: keyed
    as one constant (docs/caching.md, "Mutable state a node reads"), else every call
    would miss because the log it reads has grown."""

    def __cache_key__(self):
        return "attempts"


def test_a_failed_call_is_not_cached_and_runs_again():
    attempts = Attempts()

    @node(output_name="y")
    def flaky(x):
        attempts.append(x)
        if len(attempts) == 1:
            raise OSError("first call fails")
        return x

    cache = MemoryCache()
    pipeline = Pipeline([flaky], executor=DaftExecutor(), cache=cache)
    with pytest.raises(OSError, match="first call fails"):
        pipeline.run({"x": 1})
    assert pipeline.run({"x": 1}) == {"y": 1}
    assert pipeline.run({"x": 1}) == {"y": 1}
    assert attempts == [1, 1]


# -- async, parallelism, user code ------------------------------------------------------


def test_async_items_are_awaited_together():
    @node(output_name="y")
    async def wait(x):
        import asyncio

        await asyncio.sleep(0.2)
        return x

    pipeline = Pipeline([wait], executor=DaftExecutor())
    start = time.perf_counter()
    assert pipeline.map({"x": list(range(16))}) == {"y": list(range(16))}
    assert time.perf_counter() - start < 1.6  # one at a time: 3.2 s


def test_user_functions_and_nodes_are_left_as_they_were():
    before = (dict(vars(square.func)), square.func.__qualname__, square.func.__code__)
    per_row().with_executor(DaftExecutor()).run({"xs": [1, 2]})
    assert (dict(vars(square.func)), square.func.__qualname__, square.func.__code__) == before
