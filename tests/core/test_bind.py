"""Bound inputs: values kept on a pipeline, overridden by run/map inputs and by parents."""

from __future__ import annotations

import pytest
from hypernodes import MemoryCache, Pipeline, node
from hypernodes.errors import MissingInputsError, UnknownInputsError


@node(output_name="scaled")
def scale(x: int, factor: int) -> int:
    return x * factor


@node(output_name="shifted")
def shift(scaled: int, offset: int = 0) -> int:
    return scaled + offset


def make() -> Pipeline:
    return Pipeline([scale, shift], name="affine")


def test_bind_returns_the_pipeline_and_bound_values_are_used_by_run():
    pipeline = make()
    assert pipeline.bind(factor=3) is pipeline
    assert pipeline.run({"x": 2}) == {"scaled": 6, "shifted": 6}


def test_run_inputs_override_bound_values():
    pipeline = make().bind(factor=3)
    assert pipeline.run({"x": 2, "factor": 10})["scaled"] == 20
    assert pipeline.bound_inputs == {"factor": 3}  # the binding itself is unchanged


def test_bound_inputs_is_a_copy():
    pipeline = make().bind(factor=3)
    pipeline.bound_inputs["factor"] = 99
    assert pipeline.run({"x": 1})["scaled"] == 3


def test_unbind_one_name_and_all():
    pipeline = make().bind(factor=3, offset=1)
    pipeline.unbind("offset")
    assert pipeline.bound_inputs == {"factor": 3}
    pipeline.bind(offset=1).unbind()
    assert pipeline.bound_inputs == {}
    with pytest.raises(MissingInputsError, match="factor"):
        pipeline.run({"x": 1})


def test_unbinding_a_name_that_is_not_bound_says_what_is():
    pipeline = make().bind(factor=3)
    with pytest.raises(UnknownInputsError, match=r"no bound input 'factr'.*did you mean 'factor'"):
        pipeline.unbind("factr")


def test_binding_a_name_that_is_not_an_input_suggests_the_close_one():
    with pytest.raises(UnknownInputsError, match=r"'factr' \(did you mean 'factor'\?\)"):
        make().bind(factr=3)


def test_binding_an_output_is_refused_with_the_reason():
    with pytest.raises(UnknownInputsError, match="'scaled' is an output of node 'scale'"):
        make().bind(scaled=3)


def test_unfulfilled_args_lists_required_inputs_still_missing_in_order():
    pipeline = make()
    assert pipeline.unfulfilled_args == ("x", "factor")  # offset has a default
    pipeline.bind(x=1)
    assert pipeline.unfulfilled_args == ("factor",)
    pipeline.bind(factor=2)
    assert pipeline.unfulfilled_args == ()


def test_repr_is_one_line_with_bound_and_needed_inputs():
    text = repr(make().bind(factor=3))
    assert "\n" not in text
    assert "needs=['x']" in text
    assert "bound=['factor']" in text


def test_map_shares_bound_values_unless_mapped_over():
    pipeline = make().bind(factor=[1, 2])  # a list bound: shared, not mapped
    pipeline.unbind().bind(factor=10)
    assert pipeline.map({"x": [1, 2, 3]})["scaled"] == [10, 20, 30]
    assert pipeline.map({"x": [1, 2], "factor": [5, 6]})["scaled"] == [5, 12]


def test_a_bound_list_is_shared_by_every_item_when_map_over_is_left_out():
    @node(output_name="n")
    def count(x: int, table: list) -> int:
        return len(table) + x

    pipeline = Pipeline([count]).bind(table=[1, 2, 3])
    assert pipeline.map({"x": [0, 10]}) == {"n": [3, 13]}


def test_a_bound_value_can_be_mapped_over_by_name():
    pipeline = make().bind(x=[1, 2, 3], factor=2)
    assert pipeline.map({}, map_over="x")["scaled"] == [2, 4, 6]


def test_a_nested_pipeline_keeps_its_bindings_inside_a_parent():
    inner = make().bind(factor=100)
    outer = Pipeline([inner.as_node(name="inner")], name="outer")
    assert outer.unfulfilled_args == ("x",)
    assert outer.run({"x": 2})["scaled"] == 200


def test_the_parent_value_wins_over_the_inner_binding_by_name_and_by_mapping():
    inner = make().bind(factor=100)
    by_name = Pipeline([inner.as_node(name="inner")])
    assert by_name.run({"x": 2, "factor": 3})["scaled"] == 6
    mapped = Pipeline([inner.as_node(name="inner", input_mapping={"k": "factor"})])
    assert mapped.run({"x": 2, "k": 4})["scaled"] == 8
    assert mapped.run({"x": 2})["scaled"] == 200


def test_binding_after_the_parent_was_built_and_run_is_seen_by_the_parent():
    inner = make()
    outer = Pipeline([inner.as_node(name="inner")])
    with pytest.raises(MissingInputsError, match="factor"):
        outer.run({"x": 1})
    inner.bind(factor=7)
    assert outer.run({"x": 1})["scaled"] == 7
    inner.unbind()
    with pytest.raises(MissingInputsError, match="factor"):
        outer.run({"x": 1})


def test_bound_values_count_in_cache_keys_like_inputs():
    calls = []

    @node(output_name="y")
    def f(x: int, factor: int) -> int:
        calls.append((x, factor))
        return x * factor

    pipeline = Pipeline([f], cache=MemoryCache()).bind(factor=2)
    pipeline.run({"x": 1})
    pipeline.run({"x": 1, "factor": 2})  # the same value passed: a hit
    assert calls == [(1, 2)]
    pipeline.bind(factor=3)
    assert pipeline.run({"x": 1}) == {"y": 3}
    assert calls == [(1, 2), (1, 3)]


def test_a_list_bound_on_the_inner_pipeline_can_be_mapped_over_by_a_nested_node():
    inner = make().bind(x=[1, 2, 3])
    outer = Pipeline([inner.as_node(name="each", map_over="x")], name="outer")
    assert outer.unfulfilled_args == ("factor",)
    assert outer.run({"factor": 2})["scaled"] == [2, 4, 6]
    assert outer.run({"factor": 2, "x": [5]})["scaled"] == [10]  # the parent's list wins


def test_a_scalar_bound_where_a_nested_node_maps_is_refused_clearly():
    from hypernodes.errors import MapInputError

    inner = make().bind(x=5)
    outer = Pipeline([inner.as_node(name="each", input_mapping={"xs": "x"}, map_over="xs")])
    with pytest.raises(MapInputError, match="map_over input 'xs' is an int"):
        outer.run({"factor": 2})
