"""Executor strategies: eager overlap, map pools, faults, and executors that travel."""

from __future__ import annotations

import asyncio
import os
import pickle
import signal
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

import cloudpickle
import pytest
from hypernodes import Pipeline, node
from hypernodes.errors import WorkerLostError
from hypernodes.executor import (
    EagerNodeExecutor,
    PoolDescription,
    SequentialNodeExecutor,
    process_pool,
)

# -- eager -----------------------------------------------------------------------------


def _barrier_diamond(barrier: threading.Barrier) -> Pipeline:
    @node(output_name="left")
    def left(x):
        barrier.wait()  # returns only if `right` runs at the same time
        return x + 1

    @node(output_name="right")
    def right(x):
        barrier.wait()
        return x * 2

    @node(output_name="both")
    def both(left, right):
        return left + right

    return Pipeline([left, right, both])


def test_eager_runs_independent_sync_nodes_at_the_same_time():
    pipeline = _barrier_diamond(threading.Barrier(2, timeout=10))
    assert pipeline.with_executor(EagerNodeExecutor()).run({"x": 3}) == {
        "left": 4,
        "right": 6,
        "both": 10,
    }


def test_the_sequential_executor_does_not_overlap_nodes():
    pipeline = _barrier_diamond(threading.Barrier(2, timeout=0.5))
    with pytest.raises(threading.BrokenBarrierError):
        pipeline.run({"x": 3})


def test_eager_awaits_async_nodes_concurrently_on_the_loop():
    started: list[str] = []
    both_started = asyncio.Event  # created on the loop below

    state: dict[str, asyncio.Event] = {}

    @node(output_name="a")
    async def first(x):
        started.append("a")
        state.setdefault("go", both_started())
        if len(started) == 2:
            state["go"].set()
        await asyncio.wait_for(state["go"].wait(), 10)
        return x

    @node(output_name="b")
    async def second(x):
        started.append("b")
        state.setdefault("go", both_started())
        if len(started) == 2:
            state["go"].set()
        await asyncio.wait_for(state["go"].wait(), 10)
        return -x

    out = Pipeline([first, second]).with_executor(EagerNodeExecutor()).run({"x": 1})
    assert out == {"a": 1, "b": -1}


def test_eager_works_inside_a_running_event_loop():
    pipeline = _barrier_diamond(threading.Barrier(2, timeout=10)).with_executor("eager")

    async def cell():
        return pipeline.run({"x": 1})

    assert asyncio.run(cell())["both"] == 4


def test_eager_cancels_pending_nodes_when_one_fails():
    release = threading.Event()
    ran: list[str] = []

    @node(output_name="bad")
    def fail_fast(x):
        raise RuntimeError("boom")

    @node(output_name="slow")
    def slow(x):
        release.wait(10)
        ran.append("slow")
        return x

    @node(output_name="after")
    def after_slow(slow):
        ran.append("after")
        return slow

    pipeline = Pipeline([fail_fast, slow, after_slow]).with_executor(EagerNodeExecutor())
    with pytest.raises(RuntimeError, match="boom") as info:
        pipeline.run({"x": 1})
    assert info.value.__notes__ == ["hypernodes: in node 'fail_fast' of pipeline 'pipeline'"]
    release.set()  # a node already running in a thread finishes; its dependants never start
    time.sleep(0.2)
    assert "after" not in ran


def test_eager_runs_a_nested_pipeline_inside_an_async_node():
    inner = Pipeline([node(lambda x: x + 1, output_name="y")]).with_executor("eager")

    @node(output_name="z")
    async def call_inner(x):
        return inner.run({"x": x})["y"] * 10

    @node(output_name="w")
    def other(x):
        return x

    assert Pipeline([call_inner, other], executor="eager").run({"x": 1}) == {"z": 20, "w": 1}


# -- map pools -------------------------------------------------------------------------


def test_thread_pool_map_keeps_input_order():
    @node(output_name="y")
    def slow_first(x):
        time.sleep(0.02 if x < 3 else 0)
        return x * x

    pipeline = Pipeline([slow_first]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(4))
    )
    assert pipeline.map({"x": list(range(20))}) == {"y": [x * x for x in range(20)]}


def test_thread_pool_map_runs_items_at_the_same_time():
    barrier = threading.Barrier(4, timeout=10)

    @node(output_name="y")
    def meet(x):
        barrier.wait()
        return x

    pipeline = Pipeline([meet]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(4))
    )
    assert pipeline.map({"x": [1, 2, 3, 4]}) == {"y": [1, 2, 3, 4]}


def test_process_pool_runs_functions_defined_here_in_other_processes(processes):
    factor = 3

    @node(output_name="pid")
    def where(x):
        return os.getpid()

    @node(output_name="y")
    def times(x):
        return x * factor

    pipeline = Pipeline([where, times]).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    out = pipeline.map({"x": list(range(40))})
    assert out["y"] == [x * 3 for x in range(40)]
    assert os.getpid() not in out["pid"]


class CountingPool(Executor):
    """A real process pool that counts submits (an executor hypernodes cannot see into)."""

    def __init__(self, pool: Executor) -> None:
        self.pool = pool
        self.submits = 0
        self._max_workers = 2

    def submit(self, fn, /, *args, **kwargs):
        self.submits += 1
        return self.pool.submit(fn, *args, **kwargs)


class PickleCounter:
    """A value that counts how often it is pickled in this process."""

    count = 0

    def __reduce__(self):
        PickleCounter.count += 1
        return (PickleCounter, ())


def test_items_travel_in_chunks_and_what_they_share_is_pickled_once(processes):
    pool = CountingPool(processes)

    @node(output_name="y")
    def inc(x, shared):
        return x + 1

    PickleCounter.count = 0
    pipeline = Pipeline([inc]).with_executor(SequentialNodeExecutor(map_executor=pool))
    out = pipeline.map({"x": list(range(1000)), "shared": PickleCounter()}, map_over="x")
    assert out["y"] == list(range(1, 1001))
    assert PickleCounter.count == 1  # with the pipeline, once per map, not once per chunk
    assert pool.submits == 8  # 1000 items, 2 workers: chunks of ceil(1000 / 8) = 125


def test_few_items_on_many_workers_go_one_per_chunk(processes):
    pool = CountingPool(processes)
    pool._max_workers = 16
    pipeline = Pipeline([node(lambda x: x + 1, output_name="y")])
    pipeline.with_executor(SequentialNodeExecutor(map_executor=pool)).map({"x": list(range(10))})
    assert pool.submits == 10


def test_a_failing_item_in_a_process_keeps_its_type_and_index(processes):
    @node(output_name="y")
    def picky(x):
        if x == 5:
            raise KeyError("five")
        return x

    pipeline = Pipeline([picky], name="p").with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    with pytest.raises(KeyError) as info:
        pipeline.map({"x": list(range(10))})
    assert "hypernodes: in map item 5 of pipeline 'p'" in info.value.__notes__


def test_a_dying_worker_names_the_items_in_flight():
    @node(output_name="y")
    def crash(x):
        if x == 3:
            os._exit(1)
        time.sleep(0.05)
        return x

    pool = process_pool(2)
    try:
        pipeline = Pipeline([crash]).with_executor(SequentialNodeExecutor(map_executor=pool))
        with pytest.raises(WorkerLostError, match=r"died while running map items \d") as info:
            pipeline.map({"x": list(range(8))})
        assert 3 in info.value.lost  # the item that killed its worker is among those named
    finally:
        pool.shutdown()


def test_keyboard_interrupt_in_an_item_stops_the_map_and_leaves_the_pool_usable():
    ran: list[int] = []

    @node(output_name="y")
    def interrupt_at_two(x):
        ran.append(x)
        if x == 2:
            raise KeyboardInterrupt
        time.sleep(0.01)
        return x

    pool = ThreadPoolExecutor(2)
    pipeline = Pipeline([interrupt_at_two]).with_executor(SequentialNodeExecutor(map_executor=pool))
    with pytest.raises(KeyboardInterrupt):
        pipeline.map({"x": list(range(200))})
    assert len(ran) < 200
    again = Pipeline([node(lambda x: -x, output_name="y")])
    assert again.with_executor(SequentialNodeExecutor(map_executor=pool)).map({"x": [1, 2]}) == {
        "y": [-1, -2]
    }
    pool.shutdown()


def test_ctrl_c_while_waiting_on_a_process_pool_cancels_pending_items(processes, tmp_path):
    log = tmp_path / "ran.txt"

    @node(output_name="y")
    def slow(x):
        time.sleep(0.2)
        with open(log, "a") as f:
            f.write(f"{x}\n")
        return x

    pipeline = Pipeline([slow]).with_executor(SequentialNodeExecutor(map_executor=processes))
    # Python's own Ctrl-C handler, even if this runs where SIGINT was ignored at start.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))  # a real Ctrl-C
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            pipeline.map({"x": list(range(40))})
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    quick = Pipeline([node(lambda x: x * 2, output_name="y")])
    out = quick.with_executor(SequentialNodeExecutor(map_executor=processes)).map({"x": [1, 2, 3]})
    assert out == {"y": [2, 4, 6]}  # the pool is not hung
    assert len(log.read_text().split()) < 40  # items not started were cancelled


def test_a_nested_map_inside_a_pool_item_runs_inline_without_deadlock():
    inner = Pipeline([node(lambda x: x + 1, output_name="y")]).as_node(
        input_mapping={"xs": "x"}, map_over="xs"
    )
    outer = Pipeline([inner]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(1))
    )
    assert outer.map({"xs": [[1, 2], [3]]}, map_over="xs") == {"y": [[2, 3], [4]]}


def test_loky_executors_work_as_map_pools():
    loky = pytest.importorskip("loky")
    pool = loky.get_reusable_executor(max_workers=2)
    pipeline = Pipeline([node(lambda x: x * 10, output_name="y")])
    out = pipeline.with_executor(SequentialNodeExecutor(map_executor=pool)).map({"x": [1, 2, 3]})
    assert out == {"y": [10, 20, 30]}


def test_a_real_multi_process_dask_cluster_runs_map_items():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        offset = 100

        @node(output_name="y")
        def shifted(x):
            return (x + offset, os.getpid())

        pipeline = Pipeline([shifted]).with_executor(
            SequentialNodeExecutor(map_executor=client.get_executor())
        )
        out = pipeline.map({"x": list(range(20))})
        assert [y for y, _ in out["y"]] == [x + 100 for x in range(20)]
        assert os.getpid() not in {pid for _, pid in out["y"]}


# -- executors travel --------------------------------------------------------------------


def test_an_executor_with_a_thread_pool_pickles_as_a_description():
    executor = SequentialNodeExecutor(map_executor=ThreadPoolExecutor(3))
    copy = pickle.loads(cloudpickle.dumps(executor))
    assert isinstance(copy.map_executor, ThreadPoolExecutor)
    assert copy.map_executor._max_workers == 3
    assert copy.map_executor is not executor.map_executor


def test_an_executor_with_a_process_pool_is_rebuilt_lazily():
    executor = EagerNodeExecutor(map_executor=ProcessPoolExecutor(2))
    copy = pickle.loads(pickle.dumps(executor))
    assert copy._pool is None
    assert isinstance(copy._pool_description, PoolDescription)
    rebuilt = copy.map_executor
    assert isinstance(rebuilt, ProcessPoolExecutor)
    assert rebuilt._max_workers == 2
    rebuilt.shutdown()
    executor.map_executor.shutdown()


def test_a_pool_that_cannot_be_described_fails_to_pickle_clearly():
    class HomeMadePool(Executor):
        def submit(self, fn, /, *args, **kwargs):
            raise NotImplementedError

    executor = SequentialNodeExecutor(map_executor=HomeMadePool())
    with pytest.raises(TypeError, match="HomeMadePool, which cannot be described"):
        pickle.dumps(executor)


def test_threads_and_processes_are_registered_shorthands():
    threads = Pipeline([], executor="threads").effective_executor
    assert isinstance(threads.map_executor, ThreadPoolExecutor)
    procs = Pipeline([], executor="processes").effective_executor
    assert isinstance(procs.map_executor, ProcessPoolExecutor)
    procs.map_executor.shutdown()


def test_lambdas_travel_to_process_pools_as_inputs_and_outputs(processes):
    @node(output_name="adder")
    def make_adder(k):
        return lambda x: x + k

    @node(output_name="applied")
    def apply(adder, fn):
        return fn(adder(1))

    pipeline = Pipeline([make_adder, apply]).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    out = pipeline.map({"k": [1, 2, 3], "fn": lambda v: v * 10}, map_over="k")
    assert out["applied"] == [20, 30, 40]
    assert [f(0) for f in out["adder"]] == [1, 2, 3]


@pytest.mark.parametrize("observed", [False, True])
def test_eager_awaits_more_async_nodes_at_once_than_it_has_threads(observed):
    from hypernodes import MemoryCache, PipelineCallback

    count = 12
    started: list[int] = []
    state: dict[str, asyncio.Event] = {}

    def make(i: int):
        async def wait_for_all(x):
            started.append(i)
            gate = state.setdefault("gate", asyncio.Event())
            if len(started) == count:
                gate.set()
            await asyncio.wait_for(gate.wait(), 10)
            return x + i

        return node(wait_for_all, output_name=f"y{i}", name=f"n{i}")

    class Quiet(PipelineCallback):
        def on_node_end(self, node, duration, ctx):
            pass

    pipeline = Pipeline([make(i) for i in range(count)], executor=EagerNodeExecutor(max_threads=2))
    if observed:
        pipeline.with_cache(MemoryCache()).with_callbacks([Quiet()])
    assert pipeline.run({"x": 0}) == {f"y{i}": i for i in range(count)}
