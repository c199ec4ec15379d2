"""Configuration: with_* setters, effective_* values, defaults and their precedence."""

from __future__ import annotations

import threading

import pytest
from hypernodes import (
    Backend,
    LocalBackend,
    Pipeline,
    get_default_config,
    node,
    reset_default_config,
    set_default_config,
)
from hypernodes._model.config import UNSET
from hypernodes.executor import HolisticExecutor, SequentialNodeExecutor


class Tagged(SequentialNodeExecutor):
    """A sequential executor that records which pipelines it ran."""

    def __init__(self, tag: str, log: list[tuple[str, str]]) -> None:
        super().__init__()
        self.tag = tag
        self.log = log

    def run_plan(self, plan, values, ctx):
        self.log.append((self.tag, ctx.path[-1]))
        super().run_plan(plan, values, ctx)


@node(output_name="y")
def inc(x):
    return x + 1


@pytest.fixture
def log() -> list[tuple[str, str]]:
    return []


def _nested(inner: Pipeline, **as_node_settings) -> Pipeline:
    return Pipeline([inner.as_node(**as_node_settings)], name="outer")


def test_library_defaults_are_local_sequential_no_cache_no_callbacks():
    pipeline = Pipeline([inc])
    assert isinstance(pipeline.effective_backend, LocalBackend)
    assert type(pipeline.effective_executor) is SequentialNodeExecutor
    assert pipeline.effective_cache is None
    assert pipeline.effective_callbacks == ()


def test_with_setters_set_the_value_and_return_the_object(log):
    pipeline = Pipeline([inc])
    executor = Tagged("own", log)
    assert pipeline.with_executor(executor) is pipeline
    assert pipeline.effective_executor is executor
    assert pipeline.with_backend(LocalBackend()) is pipeline
    assert pipeline.with_cache(None) is pipeline
    assert pipeline.with_callbacks(None) is pipeline
    wrapped = pipeline.as_node()
    assert wrapped.with_executor(executor) is wrapped
    assert wrapped.with_cache(None) is wrapped


def test_the_global_default_applies_to_pipelines_without_their_own_setting(log):
    set_default_config(executor=Tagged("global", log))
    Pipeline([inc], name="p").run({"x": 1})
    assert log == [("global", "p")]
    assert isinstance(get_default_config().executor, Tagged)


def test_reset_default_config_restores_the_library_defaults(log):
    set_default_config(executor=Tagged("global", log))
    reset_default_config()
    assert type(Pipeline([inc]).effective_executor) is SequentialNodeExecutor


def test_set_default_config_leaves_omitted_values_alone(log):
    set_default_config(executor=Tagged("global", log))
    set_default_config(backend="local")
    assert isinstance(get_default_config().executor, Tagged)


def test_the_pipeline_setting_beats_the_global_default(log):
    set_default_config(executor=Tagged("global", log))
    Pipeline([inc], executor=Tagged("own", log), name="p").run({"x": 1})
    assert log == [("own", "p")]


def test_an_inner_pipeline_inherits_the_enclosing_effective_setting(log):
    set_default_config(executor=Tagged("global", log))
    inner = Pipeline([inc], name="inner")
    _nested(inner).with_executor(Tagged("outer", log)).run({"x": 1})
    assert log == [("outer", "outer"), ("outer", "inner")]


def test_an_inner_pipeline_without_a_parent_setting_uses_the_global_default(log):
    set_default_config(executor=Tagged("global", log))
    _nested(Pipeline([inc], name="inner")).run({"x": 1})
    assert log == [("global", "outer"), ("global", "inner")]


def test_the_inner_pipeline_own_setting_beats_the_enclosing_one(log):
    inner = Pipeline([inc], name="inner", executor=Tagged("inner", log))
    _nested(inner).with_executor(Tagged("outer", log)).run({"x": 1})
    assert log == [("outer", "outer"), ("inner", "inner")]


def test_the_as_node_override_beats_the_inner_pipeline_own_setting(log):
    inner = Pipeline([inc], name="inner", executor=Tagged("inner", log))
    outer = _nested(inner, executor=Tagged("override", log)).with_executor(Tagged("outer", log))
    outer.run({"x": 1})
    assert log == [("outer", "outer"), ("override", "inner")]


def test_the_node_with_setter_overrides_like_as_node(log):
    inner = Pipeline([inc], name="inner", executor=Tagged("inner", log))
    wrapped = inner.as_node().with_executor(Tagged("override", log))
    Pipeline([wrapped], name="outer").run({"x": 1})
    assert log == [("override", "inner")]


def test_inheritance_does_not_mutate_the_inner_pipeline(log):
    inner = Pipeline([inc], name="inner")
    _nested(inner).with_executor(Tagged("outer", log)).run({"x": 1})
    assert type(inner.effective_executor) is SequentialNodeExecutor
    assert inner._executor is UNSET


def test_one_inner_pipeline_in_two_parents_running_in_two_threads(log):
    inner = Pipeline([inc], name="inner")
    first = _nested(inner).with_executor(Tagged("first", log))
    second = _nested(inner).with_executor(Tagged("second", log))
    barrier = threading.Barrier(2, timeout=10)

    def work(parent: Pipeline) -> None:
        barrier.wait()
        for i in range(100):
            parent.run({"x": i})

    threads = [threading.Thread(target=work, args=(p,)) for p in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(log)) == [
        ("first", "inner"),
        ("first", "outer"),
        ("second", "inner"),
        ("second", "outer"),
    ]
    assert log.count(("first", "inner")) == 100
    assert log.count(("second", "inner")) == 100


def test_with_executor_none_means_inherit(log):
    inner = Pipeline([inc], name="inner", executor=Tagged("inner", log)).with_executor(None)
    _nested(inner).with_executor(Tagged("outer", log)).run({"x": 1})
    assert log == [("outer", "outer"), ("outer", "inner")]


# -- holistic executors choose their backend ---------------------------------------------


class RecordingBackend(Backend):
    def __init__(self) -> None:
        self.runs = 0

    def run(self, pipeline, inputs, executor, ctx, output_name=None):
        self.runs += 1
        return {"y": inputs["x"] + 1000}


class Translating(HolisticExecutor):
    def __init__(self) -> None:
        self.backend = RecordingBackend()

    def default_backend(self):
        return self.backend


def test_a_holistic_executor_runs_on_its_own_backend_when_none_is_set():
    executor = Translating()
    pipeline = Pipeline([inc], executor=executor)
    assert pipeline.effective_backend is executor.backend
    assert pipeline.run({"x": 1}) == {"y": 1001}
    assert executor.backend.runs == 1


def test_local_backend_refuses_a_holistic_executor_and_names_the_backend_to_use():
    pipeline = Pipeline([inc], executor=Translating(), backend=LocalBackend())
    with pytest.raises(
        TypeError, match="Translating translates the whole pipeline.*RecordingBackend"
    ):
        pipeline.run({"x": 1})


def test_a_pipeline_node_reports_what_its_inner_pipeline_would_use_at_top_level(log):
    from hypernodes import MemoryCache, PipelineCallback

    class Quiet(PipelineCallback):
        pass

    set_default_config(executor=Tagged("global", log), callbacks=[Quiet()])
    cache = MemoryCache()
    inner = Pipeline([inc], name="inner", cache=cache)
    plain = inner.as_node()
    assert isinstance(plain.effective_executor, Tagged)  # the global default
    assert plain.effective_cache is cache  # the inner pipeline's own
    assert isinstance(plain.effective_callbacks[0], Quiet)
    assert isinstance(plain.effective_backend, LocalBackend)

    override = Tagged("override", log)
    wrapped = inner.as_node(executor=override, cache=None, callbacks=None)
    assert wrapped.effective_executor is override  # the node's override beats both
    assert wrapped.effective_cache is None
    assert wrapped.effective_callbacks == ()
    assert inner.effective_cache is cache  # the inner pipeline is not changed
    Pipeline([wrapped], name="outer").run({"x": 1})
    assert log == [("global", "outer"), ("override", "inner")]  # and a run agrees
