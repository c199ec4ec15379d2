"""HyperNodes 0.4 spellings that still work: each warns with the new spelling, at the
user's line, and then behaves exactly like that new spelling."""

from __future__ import annotations

import linecache

import hypernodes
import pytest
from hypernodes import MemoryCache, Pipeline, PipelineCallback, node, set_default_config
from hypernodes.errors import CycleError, DuplicateOutputError, MissingInputsError
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor

from .guide import assert_points_at_guide


@node(output_name="y")
def inc(x: int) -> int:
    return x + 1


@node(output_name="z")
def double(y: int) -> int:
    return 2 * y


class Events(PipelineCallback):
    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def on_node_end(self, node, duration, ctx):
        self.events.append(("ran", node))

    def on_node_cached(self, node, ctx):
        self.events.append(("cached", node))


def old_seq_engine():
    with pytest.warns(DeprecationWarning, match="SeqEngine"):
        return hypernodes.SeqEngine


def assert_warned_at(record, code: str) -> None:
    """The first warning points at this file's line holding ``code``, and at the guide."""
    warning = record[0]
    assert warning.filename == __file__
    assert code in linecache.getline(__file__, warning.lineno)
    assert_points_at_guide(str(warning.message))


def test_seq_engine_warns_naming_sequential_node_executor_at_the_users_line():
    with pytest.warns(DeprecationWarning, match="SequentialNodeExecutor") as record:
        seq_engine = hypernodes.SeqEngine
    assert_warned_at(record, "seq_engine = hypernodes.SeqEngine")
    assert seq_engine.__name__ == "SeqEngine"


def test_engine_keyword_sets_the_executor_cache_and_callbacks_it_carries():
    cache, events = MemoryCache(), Events()
    engine = old_seq_engine()(cache=cache, callbacks=[events])
    with pytest.warns(
        DeprecationWarning, match=r"executor=SequentialNodeExecutor\(\), cache="
    ) as record:
        pipeline = Pipeline([inc, double], engine=engine)
    assert_warned_at(record, "Pipeline([inc, double], engine=engine)")
    assert isinstance(pipeline.effective_executor, SequentialNodeExecutor)
    assert pipeline.effective_cache is cache
    assert pipeline.effective_callbacks == (events,)
    assert pipeline.run({"x": 1}) == pipeline.run({"x": 1}) == {"y": 2, "z": 4}
    assert events.events == [
        ("ran", "inc"),
        ("ran", "double"),
        ("cached", "inc"),
        ("cached", "double"),
    ]


def test_an_engine_without_cache_or_callbacks_leaves_them_inherited():
    default = MemoryCache()
    set_default_config(cache=default)
    with pytest.warns(DeprecationWarning, match=r"executor=SequentialNodeExecutor\(\)\)"):
        pipeline = Pipeline([inc], engine=old_seq_engine()())
    assert pipeline.effective_cache is default


def test_a_nested_pipeline_with_an_engine_still_uses_its_parents_cache_as_in_04():
    events = Events()
    with pytest.warns(DeprecationWarning, match="engine="):
        inner = Pipeline([inc], engine=old_seq_engine()(), name="inner")
    outer = Pipeline([inner, double], cache=MemoryCache(), callbacks=[events])
    outer.run({"x": 1})
    events.events.clear()
    outer.run({"x": 1})
    assert events.events == [("cached", "inc"), ("ran", "inner"), ("cached", "double")]


def test_engine_given_an_executor_sets_the_executor():
    with pytest.warns(DeprecationWarning, match="executor='eager'"):
        pipeline = Pipeline([inc], engine="eager")
    assert isinstance(pipeline.effective_executor, EagerNodeExecutor)
    assert pipeline.run({"x": 1}) == {"y": 2}


def test_engine_none_was_04s_default_and_sets_nothing():
    with pytest.warns(DeprecationWarning, match="leave it out"):
        pipeline = Pipeline([inc], engine=None, executor="eager")
    assert isinstance(pipeline.effective_executor, EagerNodeExecutor)
    assert pipeline.effective_cache is None


def test_engine_given_the_seq_engine_class_uses_a_default_one():
    seq_engine = old_seq_engine()
    with pytest.warns(DeprecationWarning, match=r"executor=SequentialNodeExecutor\(\)"):
        pipeline = Pipeline([inc], engine=seq_engine)
    assert isinstance(pipeline.effective_executor, SequentialNodeExecutor)


def test_engine_beside_a_setting_it_does_not_make_is_fine_and_beside_one_it_makes_is_an_error():
    cache = MemoryCache()
    seq_engine = old_seq_engine()
    with pytest.warns(DeprecationWarning, match="engine="):
        pipeline = Pipeline([inc], engine=seq_engine(), cache=cache)
    assert pipeline.effective_cache is cache
    with pytest.raises(TypeError, match="engine= .* and cache=") as error:
        Pipeline([inc], engine=seq_engine(cache=MemoryCache()), cache=cache)
    assert_points_at_guide(str(error.value))


def test_engine_that_no_engine_stands_for_is_a_type_error_pointing_at_the_guide():
    with pytest.raises(TypeError, match="not an engine") as error:
        Pipeline([inc], engine=object())
    assert_points_at_guide(str(error.value))


def test_with_engine_warns_and_configures_the_pipeline_it_returns():
    cache = MemoryCache()
    pipeline = Pipeline([inc])
    engine = old_seq_engine()(cache=cache)
    with pytest.warns(DeprecationWarning, match="with_executor") as record:
        same = pipeline.with_engine(engine)
    assert_warned_at(record, "pipeline.with_engine(engine)")
    assert same is pipeline
    assert pipeline.effective_cache is cache


def test_setting_pipeline_engine_warns_and_configures_the_pipeline():
    pipeline = Pipeline([inc])
    with pytest.warns(DeprecationWarning, match=r"pipeline.engine = \.\.\.") as record:
        pipeline.engine = "eager"
    assert_warned_at(record, 'pipeline.engine = "eager"')
    assert isinstance(pipeline.effective_executor, EagerNodeExecutor)


def test_reading_pipeline_engine_names_the_effective_settings_and_the_guide():
    pipeline = Pipeline([inc])
    with pytest.raises(AttributeError, match="effective_executor") as error:
        pipeline.engine  # noqa: B018
    assert_points_at_guide(str(error.value))
    assert not hasattr(pipeline, "engine")


def test_with_name_warns_and_names_the_pipeline_everywhere():
    pipeline = Pipeline([inc])
    pipeline.plan()  # compiled under the old name
    with pytest.warns(DeprecationWarning, match=r"Pipeline\(nodes, name='counter'\)") as record:
        same = pipeline.with_name("counter")
    assert_warned_at(record, 'pipeline.with_name("counter")')
    assert same is pipeline
    assert pipeline.name == pipeline.as_node().name == "counter"
    with pytest.raises(MissingInputsError, match="'counter'"):
        pipeline.run({})


def test_with_name_refuses_what_is_not_a_name():
    with pytest.raises(TypeError, match="non-empty string"):
        Pipeline([inc]).with_name("")


def test_as_node_cache_true_warns_and_inherits_the_parents_cache():
    events = Events()
    inner = Pipeline([inc], name="inner")
    with pytest.warns(DeprecationWarning, match="leave cache out") as record:
        nested = inner.as_node(cache=True)
    assert_warned_at(record, "inner.as_node(cache=True)")
    outer = Pipeline([nested, double], cache=MemoryCache(), callbacks=[events])
    outer.run({"x": 1})
    events.events.clear()
    outer.run({"x": 1})
    assert events.events == [("cached", "inc"), ("ran", "inner"), ("cached", "double")]


def test_as_node_with_a_mapping_first_says_it_is_input_mapping_now():
    with pytest.raises(TypeError, match=r"as_node\(input_mapping=...\)") as error:
        Pipeline([inc]).as_node({"number": "x"})
    assert_points_at_guide(str(error.value))


def test_cycle_error_from_hypernodes_is_the_one_in_hypernodes_errors():
    with pytest.warns(DeprecationWarning, match="hypernodes.errors.CycleError") as record:
        old = hypernodes.CycleError
    assert_warned_at(record, "hypernodes.CycleError")
    assert old is CycleError


def test_dependency_error_is_duplicate_output_error_and_catches_two_producers():
    with pytest.warns(DeprecationWarning, match="DuplicateOutputError"):
        dependency_error = hypernodes.DependencyError
    assert dependency_error is DuplicateOutputError
    with pytest.raises(dependency_error):
        Pipeline([inc, node(lambda x: x, output_name="y", name="other")])


def test_names_from_04_modules_that_moved_warn_naming_their_new_home():
    with pytest.warns(DeprecationWarning, match="import DiskCache from hypernodes") as record:
        from hypernodes.cache import DiskCache
    assert "from hypernodes.cache import DiskCache" in linecache.getline(
        __file__, record[-1].lineno
    )
    assert DiskCache is hypernodes.DiskCache
    with pytest.warns(DeprecationWarning, match="import Pipeline from hypernodes"):
        from hypernodes.pipeline import Pipeline as OldPipeline
    assert OldPipeline is Pipeline
    with pytest.warns(DeprecationWarning, match="import HyperNodesError from hypernodes.errors"):
        from hypernodes.exceptions import HyperNodesError
    assert HyperNodesError is hypernodes.HyperNodesError


def test_seq_engine_from_hypernodes_engines_is_the_same_stand_in():
    with pytest.warns(DeprecationWarning, match="hypernodes.engines.SeqEngine"):
        from hypernodes.engines import SeqEngine
    assert SeqEngine is old_seq_engine()
