"""Callbacks: the events a run fires, their order and context, and fault isolation."""

from __future__ import annotations

import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor

import cloudpickle
import pytest
from hypernodes import CallbackContext, MemoryCache, Pipeline, PipelineCallback, node
from hypernodes.errors import CallbackWarning, ZipLengthError
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor


class Recording(PipelineCallback):
    """Records every event as a tuple (hook, the interesting arguments, depth)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self.contexts: list[CallbackContext] = []
        self.threads: set[int] = set()

    def _add(self, *event, ctx):
        self.events.append((*event, ctx.depth))
        self.contexts.append(ctx)
        self.threads.add(threading.get_ident())

    def on_pipeline_start(self, pipeline, nodes, ctx):
        self._add("pipeline_start", pipeline, nodes, ctx=ctx)

    def on_pipeline_end(self, pipeline, duration, ctx):
        self._add("pipeline_end", pipeline, ctx=ctx)

    def on_node_start(self, node, ctx):
        self._add("node_start", node, ctx=ctx)

    def on_node_end(self, node, duration, ctx):
        self._add("node_end", node, ctx=ctx)

    def on_node_cached(self, node, ctx):
        self._add("node_cached", node, ctx=ctx)

    def on_error(self, node, error, ctx):
        self._add("error", node, type(error).__name__, ctx=ctx)

    def on_nested_pipeline_start(self, node, pipeline, nodes, ctx):
        self._add("nested_start", node, pipeline, ctx=ctx)

    def on_nested_pipeline_end(self, node, pipeline, duration, ctx):
        self._add("nested_end", node, pipeline, ctx=ctx)

    def on_map_start(self, pipeline, items, ctx):
        self._add("map_start", pipeline, items, ctx=ctx)

    def on_map_item_start(self, index, ctx):
        self._add("item_start", index, ctx=ctx)

    def on_map_item_end(self, index, duration, ctx):
        self._add("item_end", index, ctx=ctx)

    def on_map_item_cached(self, index, ctx):
        self._add("item_cached", index, ctx=ctx)

    def on_map_end(self, pipeline, duration, ctx):
        self._add("map_end", pipeline, ctx=ctx)


@node(output_name="a")
def add_one(x):
    return x + 1


@node(output_name="b")
def double(a):
    return a * 2


def test_a_run_wraps_node_events_in_pipeline_events():
    rec = Recording()
    Pipeline([add_one, double], name="p", callbacks=[rec]).run({"x": 1})
    assert rec.events == [
        ("pipeline_start", "p", ("add_one", "double"), 0),
        ("node_start", "add_one", 0),
        ("node_end", "add_one", 0),
        ("node_start", "double", 0),
        ("node_end", "double", 0),
        ("pipeline_end", "p", 0),
    ]


def test_nested_pipeline_events_sit_inside_the_nested_node_events():
    rec = Recording()
    inner = Pipeline([double], name="inner")
    Pipeline([add_one, inner.as_node(name="wrap")], name="outer", callbacks=[rec]).run({"x": 1})
    assert rec.events == [
        ("pipeline_start", "outer", ("add_one", "wrap"), 0),
        ("node_start", "add_one", 0),
        ("node_end", "add_one", 0),
        ("node_start", "wrap", 0),
        ("nested_start", "wrap", "inner", 1),
        ("node_start", "double", 1),
        ("node_end", "double", 1),
        ("nested_end", "wrap", "inner", 1),
        ("node_end", "wrap", 0),
        ("pipeline_end", "outer", 0),
    ]
    assert rec.contexts[5].pipelines == ("outer", "inner")


def test_a_map_wraps_item_events_in_map_events():
    rec = Recording()
    Pipeline([add_one], name="p", callbacks=[rec]).map({"x": [1, 2]})
    assert rec.events == [
        ("pipeline_start", "p", ("add_one",), 0),
        ("map_start", "p", 2, 0),
        ("item_start", 0, 0),
        ("node_start", "add_one", 0),
        ("node_end", "add_one", 0),
        ("item_end", 0, 0),
        ("item_start", 1, 0),
        ("node_start", "add_one", 0),
        ("node_end", "add_one", 0),
        ("item_end", 1, 0),
        ("map_end", "p", 0),
        ("pipeline_end", "p", 0),
    ]
    assert [c.item_index for c in rec.contexts] == [None, None, 0, 0, 0, 0, 1, 1, 1, 1, None, None]


def test_a_nested_map_fires_map_events_inside_the_nested_events():
    rec = Recording()
    inner = Pipeline([add_one], name="inner").as_node(
        name="each", input_mapping={"xs": "x"}, map_over="xs"
    )
    Pipeline([inner], name="outer", callbacks=[rec]).run({"xs": [5]})
    assert [e[0] for e in rec.events] == [
        "pipeline_start",
        "node_start",
        "nested_start",
        "map_start",
        "item_start",
        "node_start",
        "node_end",
        "item_end",
        "map_end",
        "nested_end",
        "node_end",
        "pipeline_end",
    ]
    item_node = rec.contexts[5]
    assert (item_node.depth, item_node.item_path, item_node.pipelines) == (
        1,
        (0,),
        ("outer", "inner"),
    )


def test_a_cache_hit_fires_only_the_cached_event_and_a_cached_item_says_so():
    rec = Recording()
    pipeline = Pipeline([add_one, double], name="p", cache=MemoryCache(), callbacks=[rec])
    pipeline.map({"x": [1]})
    rec.events.clear()
    pipeline.map({"x": [1, 2]})
    assert rec.events[2:6] == [
        ("item_start", 0, 0),
        ("node_cached", "add_one", 0),
        ("node_cached", "double", 0),
        ("item_cached", 0, 0),
    ]
    assert ("item_cached", 1, 0) not in rec.events
    assert ("node_start", "add_one", 0) in rec.events  # item 1 was computed


def test_on_error_fires_once_and_nothing_pretends_success():
    rec = Recording()

    @node(output_name="b")
    def fail(a):
        raise KeyError("nope")

    with pytest.raises(KeyError):
        Pipeline([add_one, fail], name="p", callbacks=[rec]).run({"x": 1})
    assert rec.events[-2:] == [("node_start", "fail", 0), ("error", "fail", "KeyError", 0)]
    assert not any(
        e[0] in ("node_end", "pipeline_end") and e[1] in ("fail", "p") for e in rec.events
    )


def test_an_error_raised_by_a_nested_node_outside_its_inner_nodes_names_that_node():
    rec = Recording()

    @node(output_name="z")
    def needs_y(y):
        return y

    inner = Pipeline([add_one, needs_y], name="inner").as_node(
        name="each", input_mapping={"xs": "x", "ys": "y"}, map_over=["xs", "ys"]
    )
    with pytest.raises(ZipLengthError):
        Pipeline([inner], name="outer", callbacks=[rec]).run({"xs": [1, 2], "ys": [1]})
    errors = [e for e in rec.events if e[0] == "error"]
    assert errors == [("error", "each", "ZipLengthError", 0)]


def test_an_error_outside_any_node_is_reported_with_no_node():
    from hypernodes import Backend

    class Unreachable(Backend):
        def run(self, pipeline, inputs, executor, ctx, output_name=None):
            raise ConnectionError("cluster unreachable")

    rec = Recording()
    with pytest.raises(ConnectionError):
        Pipeline([add_one], name="p", backend=Unreachable(), callbacks=[rec]).run({"x": 1})
    assert rec.events == [
        ("pipeline_start", "p", ("add_one",), 0),
        ("error", None, "ConnectionError", 0),
    ]


def test_input_errors_are_raised_before_any_event():
    from hypernodes.errors import MissingInputsError

    @node(output_name="s")
    def add(x, y):
        return x + y

    rec = Recording()
    pipeline = Pipeline([add], callbacks=[rec])
    with pytest.raises(ZipLengthError):
        pipeline.map({"x": [1, 2], "y": [1]})
    with pytest.raises(MissingInputsError):
        pipeline.run({"x": 1})
    assert rec.events == []


def test_the_shared_dict_is_one_per_top_level_run():
    seen = []

    class Counter(PipelineCallback):
        def on_node_end(self, node, duration, ctx):
            ctx.shared["count"] = ctx.shared.get("count", 0) + 1
            seen.append(ctx.shared["count"])

    pipeline = Pipeline([add_one, double], callbacks=[Counter()])
    pipeline.run({"x": 1})
    pipeline.run({"x": 1})
    assert seen == [1, 2, 1, 2]


def test_a_failing_callback_is_one_warning_is_switched_off_and_results_are_kept():
    rec = Recording()

    class Broken(PipelineCallback):
        calls = 0

        def on_node_start(self, node, ctx):
            Broken.calls += 1
            raise RuntimeError("ui crashed")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = Pipeline([add_one, double], callbacks=[Broken(), rec]).map({"x": [1, 2, 3]})
    assert out == {"a": [2, 3, 4], "b": [4, 6, 8]}
    messages = [str(w.message) for w in caught if issubclass(w.category, CallbackWarning)]
    assert len(messages) == 1
    assert "Broken.on_node_start raised RuntimeError: ui crashed" in messages[0]
    assert Broken.calls == 1
    assert sum(1 for e in rec.events if e[0] == "node_end") == 6


def test_callbacks_are_only_called_during_a_run_and_pickle_as_configuration():
    class Lazy(PipelineCallback):
        def __init__(self):
            self.started = False

        def on_pipeline_start(self, pipeline, nodes, ctx):
            self.started = True

    callback = Lazy()
    pipeline = Pipeline([add_one], callbacks=[callback])
    assert callback.started is False
    assert cloudpickle.loads(cloudpickle.dumps(callback)).started is False
    pipeline.run({"x": 1})
    assert callback.started is True


def test_thread_pool_items_deliver_their_events_from_the_worker_threads():
    rec = Recording()
    barrier = threading.Barrier(2, timeout=10)

    @node(output_name="a")
    def meet_once(x):
        if x < 2:  # the first two items run at the same time, on two threads
            barrier.wait()
        return x + 1

    pipeline = Pipeline([meet_once], name="p", callbacks=[rec]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(4))
    )
    pipeline.map({"x": list(range(40))})
    starts = sorted(e[1] for e in rec.events if e[0] == "item_start")
    assert starts == list(range(40))
    assert rec.events[0][0] == "pipeline_start"
    assert rec.events[-2:] == [("map_end", "p", 0), ("pipeline_end", "p", 0)]
    assert len(rec.threads) > 1


def test_process_pool_items_deliver_their_events_with_real_durations(processes):
    durations: dict[int, float] = {}

    class ItemTimes(PipelineCallback):
        def on_map_item_end(self, index, duration, ctx):
            durations[index] = duration

    @node(output_name="y")
    def slow(x):
        time.sleep(0.05)
        return x

    rec = Recording()
    pipeline = Pipeline([slow], name="p", callbacks=[rec, ItemTimes()]).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    assert pipeline.map({"x": list(range(6))}) == {"y": list(range(6))}
    assert sorted(durations) == list(range(6))
    assert min(durations.values()) >= 0.05
    node_events = [e for e in rec.events if e[0] == "node_end"]
    assert len(node_events) == 6
    assert rec.events[-1] == ("pipeline_end", "p", 0)


def test_a_failing_item_in_a_process_reports_its_node_and_the_items_before_it(processes):
    rec = Recording()

    @node(output_name="y")
    def second_fails(x):
        if x == 1:
            raise ValueError("bad item")
        return x

    pipeline = Pipeline([second_fails], name="p", callbacks=[rec]).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    with pytest.raises(ValueError, match="bad item"):
        pipeline.map({"x": list(range(16))})  # 2 workers: chunks of 2, items 0 and 1 together
    errors = [e for e in rec.events if e[0] == "error"]
    assert errors == [("error", "second_fails", "ValueError", 0)]
    assert ("item_end", 0, 0) in rec.events  # ran in the failing chunk, before the failure


def test_the_eager_executor_fires_the_same_node_events():
    rec = Recording()
    Pipeline([add_one, double], name="p", callbacks=[rec], executor=EagerNodeExecutor()).run(
        {"x": 1}
    )
    assert sorted(e for e in rec.events if e[0] in ("node_start", "node_end")) == sorted(
        [
            ("node_start", "add_one", 0),
            ("node_end", "add_one", 0),
            ("node_start", "double", 0),
            ("node_end", "double", 0),
        ]
    )


def test_an_inner_pipeline_with_no_callbacks_fires_no_inner_events():
    rec = Recording()
    inner = Pipeline([double], name="inner").with_callbacks(None)
    Pipeline([add_one, inner], name="outer", callbacks=[rec]).run({"x": 1})
    assert not any(e[-1] == 1 for e in rec.events)


def test_without_callbacks_no_dispatcher_exists():
    from hypernodes._model.config import default_config
    from hypernodes.engine._context import RunContext

    assert RunContext.root(default_config(), "p").dispatch is None


def test_dask_items_deliver_their_events_to_the_caller(dask_executor):
    rec = Recording()
    pipeline = Pipeline([add_one, double], name="p", callbacks=[rec]).with_executor(
        SequentialNodeExecutor(map_executor=dask_executor)
    )
    assert pipeline.map({"x": [1, 2, 3]})["b"] == [4, 6, 8]
    assert sorted(e[1] for e in rec.events if e[0] == "item_end") == [0, 1, 2]
    assert sum(1 for e in rec.events if e[0] == "node_end") == 6
    assert rec.events[-1] == ("pipeline_end", "p", 0)


def test_an_inner_pipeline_without_callbacks_stays_silent_in_process_pool_items(processes):
    rec = Recording()
    inner = Pipeline([double], name="inner").with_callbacks(None)
    pipeline = Pipeline([add_one, inner], name="outer", callbacks=[rec]).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    assert pipeline.map({"x": [1, 2]})["b"] == [4, 6]
    assert sum(1 for e in rec.events if e[0] == "node_end") == 4  # add_one and the nested node
    assert not any(e[-1] == 1 for e in rec.events)


def test_a_callback_collected_while_tokens_are_handed_out_does_not_deadlock():
    # A garbage collection can run while the token table is locked (inside token_of); the
    # dead callback's weakref callback then takes the same lock on the same thread.
    import gc
    import threading

    from hypernodes.callbacks import _record

    locals_ = []
    done = threading.Event()

    def body():
        callback = PipelineCallback()
        _record.token_of(callback)
        locals_.append(callback)
        del callback
        with _record._lock:
            locals_.clear()  # the last reference: its weakref callback runs here
            gc.collect()
        done.set()

    worker = threading.Thread(target=body, daemon=True)
    worker.start()
    worker.join(10)
    assert done.is_set(), "collecting a callback while the token table was locked hung"
