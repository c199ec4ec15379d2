"""The engine interface as a backend or executor author meets it."""

from __future__ import annotations

import pickle
import threading

import pytest
from hypernodes import DiskCache, Pipeline, PipelineCallback, node
from hypernodes.engine import Config, DetachedContext, Job, MapItems, RunContext, run_job
from hypernodes.errors import MapInputError, ZipLengthError
from hypernodes.executor import SequentialNodeExecutor


@node(output_name="y")
def inc(x: int, step: int = 1) -> int:
    return x + step


@node(output_name=("lo", "hi"))
def around(y: int) -> tuple[int, int]:
    return y - 1, y + 1


INNER = Pipeline([inc, around], name="inner").bind(step=10)
OUTER = Pipeline(
    [
        INNER.as_node(
            name="each",
            input_mapping={"xs": "x"},
            output_mapping={"lo": "lows"},
            map_over="xs",
            map_mode="zip",
        )
    ],
    name="outer",
)


def test_a_plan_shows_each_step_and_a_nested_steps_settings():
    plan = INNER.plan()
    first, second = plan.steps
    assert (first.name, first.params, first.defaults, first.outputs) == (
        "inc",
        ("x", "step"),
        {"step": 1},
        ("y",),
    )
    assert (second.output, second.outputs, second.is_async, second.cache) == (
        None,
        ("lo", "hi"),
        False,
        True,
    )
    assert plan.inputs == ("x", "step")
    assert plan.dependencies == ((), (0,))
    nested = OUTER.plan().steps[0]
    assert nested.nested
    assert (nested.map_over, nested.map_mode) == (("xs",), "zip")
    assert nested.input_mapping == {"xs": "x"}
    assert nested.output_mapping == {"lo": "lows"}
    assert nested.bound == {"step": 10}
    assert nested.inner_plan.node_names == ("inc", "around")
    assert nested.pipeline is INNER


def test_plans_and_steps_are_read_only():
    plan = INNER.plan()
    with pytest.raises(AttributeError, match="Plan is read-only"):
        plan.steps = ()
    with pytest.raises(AttributeError, match="Step is read-only"):
        plan.steps[0].name = "other"


def test_map_items_validates_and_expands_zip_and_product():
    items = MapItems({"a": [1, 2], "b": ["x", "y"], "k": 0}, ["a", "b"], "zip")
    assert list(items.rows()) == [(1, "x"), (2, "y")]
    assert items.shared == {"k": 0}
    product = MapItems({"a": [1, 2], "b": ["x", "y"]}, ["a", "b"], "product")
    assert len(product) == 4
    with pytest.raises(ZipLengthError, match="a=2, b=1"):
        MapItems({"a": [1, 2], "b": ["x"]}, ["a", "b"], "zip")
    with pytest.raises(MapInputError, match="map_mode must be"):
        MapItems({"a": [1]}, "a", "diagonal")


class Log(PipelineCallback):
    def __init__(self):
        self.lock = threading.Lock()  # a callback that cannot be pickled
        self.events = []

    def on_node_end(self, node, duration, ctx):
        self.events.append((node, ctx.pipelines))


def test_a_context_with_a_disk_cache_and_callbacks_detaches_and_pickles(tmp_path):
    log = Log()
    pipeline = Pipeline([inc])
    config = Config(None, SequentialNodeExecutor(), DiskCache(tmp_path / "c"), (log,))
    ctx = RunContext.root(config, "p")
    detached = ctx.detach()
    assert isinstance(detached, DetachedContext)
    job = Job.run(pipeline, {"x": 1}, SequentialNodeExecutor(), ctx)
    assert b"threading" not in job.payload  # the callback travelled as a stand-in
    result = job.receive(run_job(job.payload))
    assert result == {"y": 2}
    assert log.events == [("inc", ("p",))]  # recorded there, delivered here


def test_a_detached_context_pickles_with_the_standard_library(tmp_path):
    config = Config(None, SequentialNodeExecutor(), DiskCache(tmp_path / "c"), (Log(),))
    ctx = RunContext.root(config, "p")
    copy = pickle.loads(pickle.dumps(ctx.detach()))
    far = copy.attach()
    assert far.path == ("p",)
    assert far.recorded == []


def test_a_task_executor_refuses_a_name_where_a_pool_is_expected():
    with pytest.raises(
        TypeError, match='map_executor must be a concurrent.futures.Executor.*executor="threads"'
    ):
        SequentialNodeExecutor(map_executor="threads")
