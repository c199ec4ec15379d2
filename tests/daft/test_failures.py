"""Failures on DaftExecutor (native runner): maps that go on past failed items, retries,
timeouts. Each test checks what the sequential executor gives, or the documented
semantics (docs/errors.md, docs/execution.md)."""

from __future__ import annotations

import time

import pytest
from hypernodes import ItemError, MemoryCache, Pipeline, PipelineCallback, Retries, error_snapshot
from hypernodes import node as make_node
from hypernodes.errors import NodeTimeoutError
from hypernodes.executor import DaftExecutor, SequentialNodeExecutor
from hypernodes.testing import EventLog, compare_events


class Calls(list):
    """A log nodes append to; keyed as a constant so that it never changes a cache key."""

    def __cache_key__(self):
        return "calls"


def summary(result):
    """Outputs with each ItemError as ``(node, item_path, type name)``, and the failed items."""

    def show(value):
        if isinstance(value, ItemError):
            return (value.node, value.item_path, value.error_type.rpartition(".")[2])
        if isinstance(value, list):
            return [show(v) for v in value]
        return value

    return {name: show(column) for name, column in result.items()}, result.failed


def both(build, call):
    """``call(pipeline)`` sequentially and on Daft; both results."""
    return (
        call(build().with_executor(SequentialNodeExecutor())),
        call(build().with_executor(DaftExecutor())),
    )


@make_node(output_name="y")
def invert(x: int) -> float:
    return 1 / x


@make_node(output_name="z")
def plus_one(y: float) -> float:
    return y + 1


@make_node(output_name="w")
def double(x: int) -> int:
    return 2 * x


# -- on_error="continue" -----------------------------------------------------------------


def test_a_failure_inside_a_nested_pipeline_becomes_that_items_item_error():
    inner = Pipeline([invert, plus_one], name="inner")

    def build():
        return Pipeline([inner.as_node(name="nested"), double], name="outer")

    expected, got = both(build, lambda p: p.map({"x": [1, 0, 2]}, on_error="continue"))
    assert summary(got) == summary(expected)
    assert summary(got)[0]["z"][1] == ("invert", (1,), "ZeroDivisionError")
    assert got["w"] == [2, 0, 4]  # does not depend on the failure: computed


def test_a_nested_map_that_raises_fails_only_its_item_in_a_map_that_goes_on():
    per_x = Pipeline([invert], name="per_x").as_node(
        name="each", input_mapping={"xs": "x"}, output_mapping={"y": "ys"}, map_over="xs"
    )

    def build():
        return Pipeline([per_x], name="outer")

    inputs = {"xs": [[1, 2], [4, 0], [], [1, 2, 3]]}
    expected, got = both(build, lambda p: p.map(inputs, on_error="continue"))
    assert summary(got) == summary(expected)
    assert got.failed == [1]
    assert got["ys"][3] == [1.0, 0.5, 1 / 3]


def test_each_failure_is_listed_once_and_reproduces():
    pipeline = Pipeline([invert, plus_one], executor=DaftExecutor())
    result = pipeline.map({"x": [1, 0, 4, 0]}, on_error="continue")
    assert [(e.node, e.index) for e in result.errors] == [("invert", 1), ("invert", 3)]
    assert result["y"][1] is result["z"][1]  # one failure, one object, in every output
    snapshot = error_snapshot(result.errors[0])
    assert snapshot.inputs == {"x": 0}
    with pytest.raises(ZeroDivisionError):
        snapshot.reproduce()


def test_callbacks_get_on_error_per_failed_item_and_the_map_still_ends():
    class Errors(PipelineCallback):
        def __init__(self):
            self.errors = []
            self.ended = 0

        def on_error(self, node, error, ctx):
            self.errors.append((node, ctx.item_path, ctx.on_error, type(error).__name__))

        def on_map_end(self, pipeline, duration, ctx):
            self.ended += 1

    errors = Errors()
    pipeline = Pipeline([invert], executor=DaftExecutor(), callbacks=[errors])
    pipeline.map({"x": [0, 1, 0]}, on_error="continue")
    assert errors.errors == [
        ("invert", (0,), "continue", "ZeroDivisionError"),
        ("invert", (2,), "continue", "ZeroDivisionError"),
    ]
    assert errors.ended == 1


def test_events_of_a_map_that_goes_on_match_the_sequential_ones():
    inner = Pipeline([invert, plus_one], name="inner")

    def events(executor):
        log = EventLog()
        pipeline = Pipeline([inner.as_node(name="nested"), double], name="outer")
        pipeline.with_executor(executor).with_callbacks([log])
        pipeline.map({"x": [1, 0, 2]}, on_error="continue")
        return log.events

    compare_events(events(SequentialNodeExecutor()), events(DaftExecutor()), "continue")


def test_a_nested_pipelines_own_callbacks_get_its_events_in_a_map_that_goes_on():
    def events(executor):
        log = EventLog()
        inner = Pipeline([invert], name="inner", callbacks=[log])
        outer = Pipeline([inner.as_node(name="nested")], name="outer", executor=executor)
        outer.map({"x": [1, 0, 2]}, on_error="continue")  # only the inner pipeline observed
        return log.events

    expected = events(SequentialNodeExecutor())
    assert expected
    compare_events(expected, events(DaftExecutor()), "inner callbacks")


def test_failed_calls_are_not_cached_and_successful_ones_are():
    calls = Calls()

    @make_node(output_name="y")
    def checked(x: int) -> int:
        calls.append(x)
        if x < 0:
            raise ValueError(x)
        return x

    pipeline = Pipeline([checked], executor=DaftExecutor(), cache=MemoryCache())
    pipeline.map({"x": [1, -2, 3]}, on_error="continue")
    again = pipeline.map({"x": [1, -2, 3]}, on_error="continue")
    assert sorted(calls) == [-2, -2, 1, 3]  # only the failed call ran again
    assert again.failed == [1]


# -- retries and timeouts ------------------------------------------------------------------


def test_only_the_failed_call_is_tried_again():
    calls = Calls()

    @make_node(output_name="y", retries=Retries(max=2, backoff=0))
    def flaky(x: int) -> int:
        calls.append(x)
        if x == 2 and calls.count(2) < 3:
            raise OSError("try again")
        return x * 10

    @make_node(output_name="z")
    def after(y: int) -> int:
        return y + 1

    pipeline = Pipeline([flaky, after], executor=DaftExecutor())
    assert pipeline.map({"x": [1, 2, 3]}) == {"y": [10, 20, 30], "z": [11, 21, 31]}
    assert sorted(calls) == [1, 2, 2, 2, 3]


def test_the_last_error_propagates_with_a_note_counting_the_calls():
    @make_node(output_name="y", retries=Retries(max=2, backoff=0))
    def broken(x: int) -> int:
        raise OSError(f"down {x}")

    pipeline = Pipeline([broken], name="p", executor=DaftExecutor())
    with pytest.raises(OSError, match="down 1") as caught:
        pipeline.map({"x": [1, 2]})
    assert "hypernodes: node 'broken' failed 3 times (retries=2)" in caught.value.__notes__


def test_retries_of_the_run_apply_where_the_node_sets_none_and_only_to_chosen_errors():
    calls = Calls()

    @make_node(output_name="y")
    def picky(x: int) -> int:
        calls.append(x)
        raise KeyError(x) if x else OSError(x)

    pipeline = Pipeline([picky], executor=DaftExecutor())
    pipeline.with_retries(Retries(max=1, on=OSError, backoff=0))
    with pytest.raises(OSError):
        pipeline.run({"x": 0})
    with pytest.raises(KeyError):
        pipeline.run({"x": 1})
    assert calls == [0, 0, 1]  # OSError tried again once; KeyError not retried


def test_retry_events_match_the_sequential_ones():
    def events(executor):
        tries = Calls()

        @make_node(output_name="y", retries=Retries(max=2, backoff=0))
        def flaky(x: int) -> int:
            tries.append(x)
            if tries.count(x) < 2:
                raise OSError(x)
            return x

        log = EventLog()
        pipeline = Pipeline([flaky], name="p", executor=executor, callbacks=[log])
        pipeline.map({"x": [1, 2]})
        return log.events

    expected = events(SequentialNodeExecutor())
    assert [e for e in expected if e[0] == "on_node_retry"]  # the case retries at all
    compare_events(expected, events(DaftExecutor()), "retries")


def test_a_slow_call_ends_with_node_timeout_error_naming_node_and_item():
    @make_node(output_name="y", timeout=0.1)
    def slow(x: int) -> int:
        time.sleep(0.5 if x else 0)
        return x

    pipeline = Pipeline([slow], name="p", executor=DaftExecutor())
    start = time.perf_counter()
    with pytest.raises(NodeTimeoutError, match="map item 1") as caught:
        pipeline.map({"x": [0, 1]})
    assert time.perf_counter() - start < 0.45  # the wait ended, not the call
    assert caught.value.node == "slow"


def test_a_timed_out_call_is_tried_again():
    calls = Calls()

    @make_node(output_name="y", timeout=0.1, retries=Retries(max=1, backoff=0))
    def slow_once(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            time.sleep(0.5)
        return x

    assert Pipeline([slow_once], executor=DaftExecutor()).run({"x": 7}) == {"y": 7}
    assert calls == [7, 7]


def test_an_async_node_is_cancelled_at_its_timeout():
    @make_node(output_name="y", timeout=0.1)
    async def waits(x: int) -> int:
        import asyncio

        await asyncio.sleep(5)
        return x

    with pytest.raises(NodeTimeoutError, match="it was cancelled"):
        Pipeline([waits], executor=DaftExecutor()).map({"x": [1, 2]})
