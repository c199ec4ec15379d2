"""Maps that go on past failed items, and failures that can be looked at and made again."""

from __future__ import annotations

import dataclasses
import pickle
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypernodes import (
    ErrorSnapshot,
    ItemError,
    MemoryCache,
    Pipeline,
    PipelineCallback,
    error_snapshot,
    node,
)
from hypernodes.errors import MapInputError, MissingInputsError
from hypernodes.executor import SequentialNodeExecutor


def make(calls=None):
    calls = calls if calls is not None else []

    @node(output_name="parsed")
    def parse(text: str) -> int:
        calls.append(("parse", text))
        return int(text)

    @node(output_name="doubled")
    def double(parsed: int) -> int:
        calls.append(("double", parsed))
        return 2 * parsed

    @node(output_name="length")
    def measure(text: str) -> int:
        calls.append(("measure", text))
        return len(text)

    return Pipeline([parse, double, measure], name="docs"), calls


def test_every_item_runs_and_failed_outputs_hold_an_item_error():
    pipeline, _ = make()
    result = pipeline.map({"text": ["1", "x", "30"]}, on_error="continue")
    assert result["parsed"][0] == 1
    assert result["parsed"][2] == 30
    error = result["parsed"][1]
    assert isinstance(error, ItemError)
    assert result["doubled"] == [2, error, 60]  # downstream of the failure: the same error
    assert result["length"] == [1, 1, 2]  # independent of it: computed


def test_an_item_error_says_what_failed_where_and_on_what():
    pipeline, _ = make()
    error = pipeline.map({"text": ["1", "x"]}, on_error="continue")["parsed"][1]
    assert error.node == "parse"
    assert error.index == 1
    assert error.item_path == (1,)
    assert error.pipeline == ("docs",)
    assert isinstance(error.error, ValueError)
    assert error.error_type == "builtins.ValueError"
    assert "invalid literal" in error.message
    assert "in parse" in error.traceback
    assert error.inputs == {"text": "x"}
    assert "ItemError(node='parse', item=1, ValueError:" in repr(error)
    assert not error  # falsy: filters keep the successes


def test_the_result_tells_how_many_items_failed_and_which():
    pipeline, _ = make()
    result = pipeline.map({"text": ["a", "1", "b", "2"]}, on_error="continue")
    assert result.failed == [0, 2]
    assert [(e.index, e.node) for e in result.errors] == [(0, "parse"), (2, "parse")]
    assert result == {k: list(v) for k, v in result.items()}  # still a plain dict of lists
    clean = pipeline.map({"text": ["1"]})
    assert clean.failed == []
    assert clean.errors == []


def test_nodes_downstream_of_a_failure_are_skipped_for_that_item_only():
    pipeline, calls = make()
    pipeline.map({"text": ["x", "2"]}, on_error="continue")
    assert ("double", 2) in calls
    assert [c for c in calls if c[0] == "double"] == [("double", 2)]


def test_the_default_still_raises_at_the_first_failure():
    pipeline, _ = make()
    with pytest.raises(ValueError, match="invalid literal"):
        pipeline.map({"text": ["1", "x"]})


def test_successful_items_are_cached_and_failed_calls_are_not():
    calls = []
    pipeline, calls = make(calls)
    pipeline.with_cache(MemoryCache())
    pipeline.map({"text": ["1", "x"]}, on_error="continue")
    calls.clear()
    result = pipeline.map({"text": ["1", "x"]}, on_error="continue")
    assert ("parse", "1") not in calls  # served from the cache
    assert ("parse", "x") in calls  # the failure was not cached: tried again
    assert result.failed == [1]


def test_a_map_over_bad_values_is_refused_up_front():
    pipeline, _ = make()
    with pytest.raises(MapInputError, match="on_error must be 'raise'.*or 'continue'"):
        pipeline.map({"text": ["1"]}, on_error="ignore")


class Log(PipelineCallback):
    def __init__(self):
        self.events = []

    def on_error(self, node, error, ctx):
        self.events.append(("error", node, ctx.item_index, ctx.on_error, type(error).__name__))

    def on_map_end(self, pipeline, duration, ctx):
        self.events.append(("map_end", pipeline))

    def on_map_item_end(self, index, duration, ctx):
        self.events.append(("item_end", index))


@pytest.mark.parametrize("pool", [None, "threads", "processes"])
def test_callbacks_get_on_error_per_failed_item_and_the_map_still_ends(pool, processes):
    log = Log()
    pipeline, _ = make()
    pipeline.with_callbacks([log])
    if pool == "threads":
        pipeline.with_executor(SequentialNodeExecutor(map_executor=ThreadPoolExecutor(2)))
    elif pool == "processes":
        pipeline.with_executor(SequentialNodeExecutor(map_executor=processes))
    pipeline.map({"text": ["x", "1", "y"]}, on_error="continue")
    errors = sorted(e for e in log.events if e[0] == "error")
    assert errors == [
        ("error", "parse", 0, "continue", "ValueError"),
        ("error", "parse", 2, "continue", "ValueError"),
    ]
    assert sorted(e for e in log.events if e[0] == "item_end") == [
        ("item_end", 0),
        ("item_end", 1),
        ("item_end", 2),
    ]
    assert log.events[-1] == ("map_end", "docs")


class CodeError(Exception):
    def __init__(self, code, detail):
        super().__init__(f"code={code}")
        self.code = code


def test_item_errors_come_back_from_a_process_pool_with_their_exception(processes):
    @node(output_name="y")
    def fail_odd(x):
        if x % 2:
            raise CodeError(x, "odd")
        return x

    pipeline = Pipeline([fail_odd]).with_executor(SequentialNodeExecutor(map_executor=processes))
    result = pipeline.map({"x": [0, 1, 2, 3]}, on_error="continue")
    assert result.failed == [1, 3]
    error = result["y"][1]
    assert isinstance(error.error, CodeError)
    assert error.error.code == 1
    assert error.inputs == {"x": 1}


def test_an_as_node_map_that_continues_hands_item_errors_to_the_next_node_as_data():
    pipeline, _ = make()
    nested = pipeline.as_node(
        name="each",
        input_mapping={"texts": "text"},
        output_mapping={"doubled": "all_doubled"},
        map_over="texts",
        on_error="continue",
    )

    @node(output_name="report")
    def report(all_doubled: list) -> tuple[int, int]:
        ok = [v for v in all_doubled if not isinstance(v, ItemError)]
        return sum(ok), len(all_doubled) - len(ok)

    outer = Pipeline([nested, report], name="outer")
    assert outer.run({"texts": ["1", "x", "3"]}, output_name="report") == {"report": (8, 1)}


def test_a_failure_inside_a_nested_pipeline_names_the_inner_node():
    inner, _ = make()

    @node(output_name="texts")
    def split(line: str) -> list[str]:
        return line.split(",")

    per_line = Pipeline(
        [inner.as_node(name="each", input_mapping={"texts": "text"}, map_over="texts")]
    )
    outer = Pipeline([split, per_line.as_node(name="line")], name="lines")
    result = outer.map({"line": ["1,2", "3,x"]}, on_error="continue")
    assert result.failed == [1]
    error = result.errors[0]
    assert (error.node, error.index) == ("parse", 1)
    assert error_snapshot(error).item_path == (1, 1)  # the inner map's item, too


def test_on_error_continue_on_a_node_that_does_not_map_is_refused():
    pipeline, _ = make()
    with pytest.raises(MapInputError, match="applies to the items of a map"):
        pipeline.as_node(on_error="continue")


# -- reproducing a failure -------------------------------------------------------------


def test_an_exception_from_a_node_carries_a_snapshot_that_reproduces_the_call():
    pipeline, _ = make()
    with pytest.raises(ValueError) as info:
        pipeline.run({"text": "x"})
    snapshot = error_snapshot(info.value)
    assert isinstance(snapshot, ErrorSnapshot)
    assert (snapshot.node, snapshot.inputs, snapshot.pipeline) == (
        "parse",
        {"text": "x"},
        ("docs",),
    )
    with pytest.raises(ValueError, match="invalid literal"):
        snapshot.reproduce()
    assert snapshot.reproduce(lambda text: len(text)) == 1  # a fixed function, same inputs


def test_a_snapshot_names_the_map_item_and_uses_defaults_for_inputs_left_out():
    @node(output_name="y")
    def divide(x: int, by: int = 0) -> float:
        return x / by

    with pytest.raises(ZeroDivisionError) as info:
        Pipeline([divide]).map({"x": [1, 2]})
    snapshot = error_snapshot(info.value)
    assert snapshot.inputs == {"x": 1, "by": 0}
    assert snapshot.item_path == (0,)


def test_an_exception_no_node_raised_has_no_snapshot():
    pipeline, _ = make()
    with pytest.raises(MissingInputsError) as info:
        pipeline.run({})
    assert error_snapshot(info.value) is None


def test_an_async_nodes_failure_reproduces_by_running_it_to_completion():
    @node(output_name="y")
    async def fetch(x: int) -> int:
        if x < 0:
            raise ValueError("negative")
        return x

    with pytest.raises(ValueError) as info:
        Pipeline([fetch]).run({"x": -1})
    snapshot = error_snapshot(info.value)
    with pytest.raises(ValueError, match="negative"):
        snapshot.reproduce()

    async def fixed(x: int) -> int:
        return abs(x)

    assert snapshot.reproduce(fixed) == 1


def size(x):
    return len(x)


def test_a_snapshot_pickles_when_its_values_do_and_travels_without_them_otherwise():
    import threading

    snapshot = ErrorSnapshot("n", size, {"x": "abc"}, ("p",), (2,))
    copy = pickle.loads(pickle.dumps(snapshot))
    assert (copy.node, copy.inputs, copy.item_path, copy.reproduce()) == (
        "n",
        {"x": "abc"},
        (2,),
        3,
    )
    locked = pickle.loads(pickle.dumps(ErrorSnapshot("n", size, {"x": threading.Lock()})))
    assert locked.inputs is None
    with pytest.raises(RuntimeError, match="could not be pickled"):
        locked.reproduce()


def test_a_snapshot_comes_back_from_a_process_pool(processes):
    pipeline, _ = make()
    pipeline.with_executor(SequentialNodeExecutor(map_executor=processes))
    with pytest.raises(ValueError) as info:
        pipeline.map({"text": ["1", "2", "x"]})
    snapshot = error_snapshot(info.value)
    assert (snapshot.node, snapshot.inputs, snapshot.item_path) == ("parse", {"text": "x"}, (2,))
    with pytest.raises(ValueError):
        snapshot.reproduce()


def test_error_snapshot_accepts_an_item_error():
    pipeline, _ = make()
    error = pipeline.map({"text": ["x"]}, on_error="continue")["parsed"][0]
    assert error_snapshot(error).inputs == {"text": "x"}


def test_an_exception_whose_str_raises_still_becomes_an_item_error():
    class BadStr(Exception):
        def __str__(self):
            raise RuntimeError("str broke")

    @node(output_name="y")
    def f(x: int) -> int:
        if x == 1:
            raise BadStr()
        return x

    result = Pipeline([f]).map({"x": [0, 1, 2]}, on_error="continue")
    assert result["y"][0] == 0
    assert result["y"][2] == 2
    assert "BadStr whose str() raised RuntimeError" in result.errors[0].message


def test_an_output_that_cannot_travel_back_fails_only_its_item_in_a_map_that_goes_on(processes):
    import threading

    @node(output_name="y")
    def f(x: int):
        return threading.Lock() if x == 1 else x

    pipeline = Pipeline([f]).with_executor(SequentialNodeExecutor(map_executor=processes))
    result = pipeline.map({"x": [0, 1, 2, 3]}, on_error="continue")
    assert result.failed == [1]
    assert [result["y"][i] for i in (0, 2, 3)] == [0, 2, 3]
    assert "output 'y' (a lock) cannot be sent back" in result.errors[0].message
    with pytest.raises(TypeError, match=r"output 'y', a lock, of map item 1"):
        pipeline.map({"x": [0, 1, 2, 3]})


def test_a_worker_that_dies_in_a_map_that_goes_on_fails_only_the_items_it_held():
    import os

    from hypernodes.executor import process_pool

    @node(output_name="y")
    def crash_at_three(x: int) -> int:
        if x == 3:
            os._exit(1)
        return x

    pool = process_pool(2)
    try:
        pipeline = Pipeline([crash_at_three]).with_executor(
            SequentialNodeExecutor(map_executor=pool)
        )
        result = pipeline.map({"x": list(range(8))}, on_error="continue")
        assert 3 in result.failed
        assert all(result["y"][i] == i for i in range(8) if i not in result.failed)
        assert result.errors[0].error_type.endswith("WorkerLostError")
        assert pipeline.map({"x": [1, 2]}) == {"y": [1, 2]}  # a working pool again
    finally:
        pool.shutdown()


def test_an_item_error_and_its_snapshot_pickle_with_the_standard_library():
    result = Pipeline([invert_module_level]).map({"x": [1.0, 0.0]}, on_error="continue")
    error = pickle.loads(pickle.dumps(result.errors[0]))
    assert isinstance(error.error, ZeroDivisionError)
    assert error.snapshot.inputs == {"x": 0.0}
    with pytest.raises(ZeroDivisionError):
        error.snapshot.reproduce()
    copy = pickle.loads(pickle.dumps(result))
    assert copy.failed == [1]


@node(output_name="inv")
def invert_module_level(x: float) -> float:
    return 1 / x


def test_a_nested_run_in_an_item_that_goes_on_keeps_the_outputs_its_failure_does_not_touch():
    @node(output_name="inv")
    def invert(x: float) -> float:
        return 1 / x

    @node(output_name="dbl")
    def dbl(x: float) -> float:
        return 2 * x

    inner = Pipeline([invert, dbl], name="inner")
    outer = Pipeline([inner.as_node(name="sub")], name="outer")
    result = outer.map({"x": [1.0, 0.0]}, on_error="continue")
    assert result["dbl"] == [2.0, 0.0]  # computed: it does not need the failed invert
    assert isinstance(result["inv"][1], ItemError)
    error = result.errors[0]
    assert error.pipeline == error.snapshot.pipeline == ("outer", "inner")


def test_an_exception_with_an_attribute_that_cannot_travel_comes_back_with_its_snapshot(processes):
    result = Pipeline([raise_weird]).with_executor(SequentialNodeExecutor(map_executor=processes))
    with pytest.raises(WeirdError) as info:
        result.map({"x": [1, 2, 3]})
    assert error_snapshot(info.value).inputs == {"x": 2}
    assert any("attributes that could not be sent back: lock" in n for n in info.value.__notes__)
    continued = result.map({"x": [1, 2, 3]}, on_error="continue")
    assert isinstance(continued.errors[0].error, WeirdError)


class WeirdError(Exception):
    def __init__(self, a, b):
        import threading

        super().__init__(f"{a}-{b}")
        self.lock = threading.Lock()


@node(output_name="y")
def raise_weird(x: int) -> int:
    if x == 2:
        raise WeirdError(x, "bad")
    return x


# -- exceptions that refuse attributes, nodes defined in a script ----------------------------


@dataclasses.dataclass(frozen=True)
class FrozenParseError(Exception):
    text: str


@node(output_name="value")
def parse_strictly(text: str) -> int:
    if not text.isdigit():
        raise FrozenParseError(text)
    return int(text)


@pytest.mark.parametrize("executor", ["sequential", "eager", "threads", "processes"])
def test_an_exception_that_refuses_notes_propagates_as_itself(executor):
    pipeline = Pipeline([parse_strictly], executor=executor)
    with pytest.raises(FrozenParseError):
        pipeline.run({"text": "x"})
    with pytest.raises(FrozenParseError):
        pipeline.map({"text": ["1", "x"]})
    result = pipeline.map({"text": ["1", "x"]}, on_error="continue")
    assert result.failed == [1]
    assert isinstance(result["value"][1].error, FrozenParseError)


SCRIPT_NODE = """
import pickle
from hypernodes import ItemError, Pipeline, error_snapshot, node

@node(output_name="value")
def parse(text: str) -> int:
    return int(text)

if __name__ == "__main__":
    try:
        Pipeline([parse]).run({"text": "x"})
    except ValueError as exc:
        again = pickle.loads(pickle.dumps(exc))  # the standard pickle, as multiprocessing
        snapshot = error_snapshot(again)
        assert snapshot.inputs == {"text": "x"}
        assert snapshot.reproduce(lambda text: text * 2) == "xx"
        try:
            snapshot.reproduce()
        except ValueError:
            print("reproduced")
    result = Pipeline([parse]).map({"text": ["1", "x"]}, on_error="continue")
    item = pickle.loads(pickle.dumps(result["value"][1]))
    assert isinstance(item, ItemError) and item.error_type.endswith("ValueError")
    print("item error pickles")
"""


def test_an_exception_of_a_node_defined_in_a_script_pickles_with_the_standard_pickle(tmp_path):
    import subprocess
    import sys

    script = tmp_path / "script.py"
    script.write_text(SCRIPT_NODE)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["reproduced", "item", "error", "pickles"]
