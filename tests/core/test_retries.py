"""Retries and timeouts: per node, per pipeline, nested, by default; events, caching, errors."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from hypernodes import MemoryCache, Pipeline, PipelineCallback, Retries, node, set_default_config
from hypernodes.errors import HyperNodesError, NodeTimeoutError
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor, threads


def flaky(failures: int, exc: type[Exception] = OSError):
    """A node that fails ``failures`` times, then returns x + 1 (calls counted)."""
    calls = []

    @node(output_name="y")
    def fetch(x: int) -> int:
        calls.append(x)
        if len(calls) <= failures:
            raise exc(f"try {len(calls)}")
        return x + 1

    return fetch, calls


FAST = Retries(max=2, backoff=0)


def test_a_node_failing_twice_succeeds_with_two_retries_of_its_own():
    fetch, calls = flaky(2)
    fetch = node(fetch.func, output_name="y", retries=FAST)
    assert Pipeline([fetch]).run({"x": 1}) == {"y": 2}
    assert calls == [1, 1, 1]


def test_the_last_error_propagates_with_a_note_counting_the_calls():
    fetch, calls = flaky(5)
    with pytest.raises(OSError, match="try 3") as info:
        Pipeline([fetch], retries=FAST).run({"x": 1})
    assert len(calls) == 3
    assert "hypernodes: node 'fetch' failed 3 times (retries=2)" in info.value.__notes__


def test_only_the_exceptions_named_in_on_are_retried():
    fetch, calls = flaky(1, exc=ValueError)
    with pytest.raises(ValueError, match="try 1"):
        Pipeline([fetch], retries=Retries(max=3, on=(OSError,), backoff=0)).run({"x": 1})
    assert calls == [1]


def test_a_number_is_retries_of_any_exception():
    fetch, calls = flaky(2, exc=KeyError)
    assert Pipeline([fetch]).with_retries(2).run({"x": 1}) == {"y": 2}
    assert len(calls) == 3


def test_only_the_failed_call_is_retried_not_the_item():
    upstream_calls = []

    @node(output_name="x")
    def upstream(seed: int) -> int:
        upstream_calls.append(seed)
        return seed

    fetch, calls = flaky(1)
    pipeline = Pipeline([upstream, fetch], retries=Retries(max=1, backoff=0))
    assert pipeline.run({"seed": 4}) == {"x": 4, "y": 5}
    assert upstream_calls == [4]
    assert calls == [4, 4]


def test_the_node_setting_wins_over_the_pipeline_and_none_turns_retries_off():
    fetch, calls = flaky(1)
    strict = node(fetch.func, output_name="y", retries=None)
    with pytest.raises(OSError):
        Pipeline([strict], retries=FAST).run({"x": 1})
    assert calls == [1]


def test_retries_are_inherited_by_nested_pipelines_and_set_by_as_node_and_by_default():
    fetch, _ = flaky(1)
    inner = Pipeline([fetch], name="inner")
    assert Pipeline([inner], retries=FAST).run({"x": 1}) == {"y": 2}
    fetch, _ = flaky(1)
    inner = Pipeline([fetch], name="inner")
    assert Pipeline([inner.as_node(retries=FAST)]).run({"x": 1}) == {"y": 2}
    fetch, _ = flaky(1)
    set_default_config(retries=FAST)
    assert Pipeline([fetch]).run({"x": 1}) == {"y": 2}
    assert Pipeline([fetch]).effective_executor is not None


def test_delays_grow_exponentially_with_jitter_and_up_to_the_limit():
    retries = Retries(max=10, backoff=0.1, max_delay=1.0)
    for attempt, base in [(1, 0.1), (2, 0.2), (3, 0.4)]:
        delays = [retries.delay(attempt) for _ in range(50)]
        assert min(delays) >= base * 0.5
        assert max(delays) <= base * 1.5
        assert len(set(delays)) > 1  # jittered
    assert Retries(max=10, backoff=0.1, max_delay=1.0, jitter=False).delay(9) == 1.0
    assert Retries(backoff=lambda attempt: attempt * 3).delay(2) == 6


class RetryLog(PipelineCallback):
    def __init__(self):
        self.events = []

    def on_node_retry(self, node, attempt, error, delay, ctx):
        self.events.append((node, attempt, str(error), delay, ctx.item_index))

    def on_node_end(self, node, duration, ctx):
        self.events.append(("end", node))


@pytest.mark.parametrize("pool", [None, "processes"])
def test_callbacks_get_an_event_per_retry_then_one_node_end(pool, processes):
    fetch, _ = flaky(2)
    log = RetryLog()
    pipeline = Pipeline([fetch], retries=FAST, callbacks=[log])
    if pool:
        pipeline.with_executor(SequentialNodeExecutor(map_executor=processes))
        pipeline.map({"x": [1, 2]})
        retries = [e for e in log.events if e[0] == "fetch"]
        assert {e[1] for e in retries} <= {1, 2}  # a counter per worker: some retry
        assert all(e[2].startswith("try") for e in retries)
        return
    pipeline.run({"x": 1})
    assert log.events == [
        ("fetch", 1, "try 1", 0.0, None),
        ("fetch", 2, "try 2", 0.0, None),
        ("end", "fetch"),
    ]


def test_a_call_that_succeeded_after_retries_is_cached_and_failed_attempts_never_are(tmp_path):
    log = str(tmp_path / "calls")  # counted in a file: the node's key reaches only the path

    @node(output_name="y")
    def fetch(x: int) -> int:
        with open(log, "a") as file:
            file.write("x")
        with open(log) as file:
            if len(file.read()) <= 2:
                raise OSError("flaky")
        return x + 1

    pipeline = Pipeline([fetch], retries=FAST, cache=MemoryCache())
    assert pipeline.run({"x": 1}) == {"y": 2}
    assert pipeline.run({"x": 1}) == {"y": 2}
    with open(log) as file:
        assert file.read() == "xxx"  # two failures, one success, then a hit


def test_bad_settings_are_refused_clearly():
    with pytest.raises(TypeError, match="retries takes a number of retries"):
        Pipeline([flaky(0)[0]], retries="3")
    with pytest.raises(ValueError, match="Retries\\(max=...\\) must be a whole number"):
        Retries(max=-1)
    with pytest.raises(TypeError, match="Retries\\(on=...\\) takes an exception class"):
        Retries(on="OSError")
    with pytest.raises(ValueError, match="timeout takes the seconds"):
        node(lambda x: x, output_name="y", timeout=0)


# -- timeouts --------------------------------------------------------------------------


def test_a_slow_sync_node_times_out_with_a_node_timeout_error_naming_node_and_item():
    release = threading.Event()

    @node(output_name="y", timeout=0.1)
    def slow(x: int) -> int:
        release.wait(5)
        return x

    start = time.perf_counter()
    with pytest.raises(NodeTimeoutError) as info:
        Pipeline([slow], name="p").map({"x": [1, 2]})
    release.set()
    assert time.perf_counter() - start < 2
    error = info.value
    assert isinstance(error, TimeoutError)
    assert isinstance(error, HyperNodesError)
    assert (error.node, error.item_path, error.timeout) == ("slow", (0,), 0.1)
    assert "Node 'slow' took longer than its timeout of 0.1 s in map item 0" in str(error)
    assert "left to finish in the background" in str(error)


def test_an_async_node_is_cancelled_when_its_time_is_up():
    cancelled = []

    @node(output_name="y")
    async def slow(x: int) -> int:
        try:
            await asyncio.sleep(5)
        except asyncio.CancelledError:
            cancelled.append(x)
            raise
        return x

    for executor in (SequentialNodeExecutor(), EagerNodeExecutor()):
        with pytest.raises(NodeTimeoutError, match="it was cancelled"):
            Pipeline([slow], timeout=0.05).with_executor(executor).run({"x": 1})
    assert cancelled == [1, 1]


def test_a_timed_out_call_can_be_retried():
    calls = []

    @node(output_name="y", timeout=0.1, retries=Retries(max=1, backoff=0))
    def slow_once(x: int) -> int:
        calls.append(x)
        if len(calls) == 1:
            time.sleep(0.5)
        return x

    assert Pipeline([slow_once]).run({"x": 7}) == {"y": 7}
    assert calls == [7, 7]


def test_an_async_nodes_own_timeout_error_is_not_taken_for_a_timeout():
    @node(output_name="y", timeout=5)
    async def raises_timeout(x: int) -> int:
        raise TimeoutError("the server said so")

    with pytest.raises(TimeoutError, match="the server said so") as info:
        Pipeline([raises_timeout]).run({"x": 1})
    assert not isinstance(info.value, NodeTimeoutError)


def test_a_node_under_a_timeout_may_map_on_the_thread_pool_it_runs_on():
    pool_executor = threads(2)

    @node(output_name="z")
    def inner(y):
        return y * 2

    helper = Pipeline([inner]).with_executor(pool_executor)

    @node(output_name="total", timeout=10)
    def outer(n):
        return sum(helper.map({"y": list(range(n))})["z"])

    pipeline = Pipeline([outer]).with_executor(pool_executor)
    assert pipeline.map({"n": [3, 4, 5]}) == {"total": [6, 12, 20]}


def test_an_infinite_or_huge_timeout_is_refused_with_what_to_write():
    with pytest.raises(ValueError, match="None for no limit"):
        node(lambda x: x, output_name="y", timeout=float("inf"))
    with pytest.raises(ValueError, match="None for no limit"):
        Pipeline([flaky(0)[0]], timeout=1e12)


def test_a_bad_max_delay_is_refused_and_huge_attempt_counts_do_not_overflow():
    with pytest.raises(ValueError, match="max_delay"):
        Retries(max=2, max_delay=-1)
    with pytest.raises(ValueError, match="max_delay"):
        Retries(max=2, max_delay=float("nan"))
    assert Retries(max=2000, backoff=1, max_delay=5, jitter=False).delay(1500) == 5


def test_a_backoff_function_that_raises_keeps_the_nodes_own_error():
    fetch, _ = flaky(5)
    with pytest.raises(OSError, match="try 1") as info:
        Pipeline([fetch], retries=Retries(max=3, backoff=lambda attempt: 1 / 0)).run({"x": 1})
    assert any("Retries(backoff=...) raised" in n for n in info.value.__notes__)
