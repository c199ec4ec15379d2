"""Pipeline.run: every output, pruning by output_name, and the errors users get."""

from __future__ import annotations

import traceback

import pytest
from hypernodes import Pipeline, node
from hypernodes.errors import MissingInputsError, UnknownInputsError, UnknownOutputError


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def diamond(calls: list[str]) -> Pipeline:
    @node(output_name="left")
    def make_left(x):
        calls.append("left")
        return x + 1

    @node(output_name="right")
    def make_right(x, y):
        calls.append("right")
        return x * y

    @node(output_name="joined")
    def join(left, right):
        calls.append("joined")
        return left + right

    @node(output_name="other")
    def unrelated(z):
        calls.append("other")
        return -z

    return Pipeline([join, make_left, make_right, unrelated], name="diamond")


def test_run_returns_every_output_including_intermediates_but_no_inputs(diamond):
    out = diamond.run({"x": 2, "y": 3, "z": 1})
    assert out == {"left": 3, "right": 6, "joined": 9, "other": -1}


def test_output_name_computes_only_what_that_output_needs(diamond, calls):
    out = diamond.run({"x": 2, "y": 3}, output_name="left")
    assert out == {"left": 3}
    assert calls == ["left"]


def test_output_name_list_returns_only_those_outputs(diamond, calls):
    out = diamond.run({"x": 2, "y": 3}, output_name=["joined", "left"])
    assert out == {"joined": 9, "left": 3}
    assert sorted(calls) == ["joined", "left", "right"]


def test_inputs_not_needed_for_the_requested_output_are_not_required(diamond):
    assert diamond.run({"z": 4}, output_name="other") == {"other": -4}


def test_missing_inputs_are_named_with_the_nodes_that_need_them(diamond):
    with pytest.raises(MissingInputsError) as info:
        diamond.run({"x": 1})
    message = str(info.value)
    assert "'y' (needed by 'make_right')" in message
    assert "'z' (needed by 'unrelated')" in message
    assert info.value.missing == {"y": ["make_right"], "z": ["unrelated"]}


def test_a_missing_input_needed_by_two_nodes_names_both():
    @node(output_name="a")
    def fa(x):
        return x

    @node(output_name="b")
    def fb(x):
        return x

    with pytest.raises(MissingInputsError, match="'x' \\(needed by 'fa', 'fb'\\)"):
        Pipeline([fa, fb]).run({})


def test_unknown_inputs_suggest_a_close_name(diamond):
    with pytest.raises(UnknownInputsError, match="'yy' \\(did you mean 'y'\\?\\)") as info:
        diamond.run({"x": 1, "yy": 2, "z": 0})
    assert info.value.unknown == ["yy"]
    assert "Its inputs are: x, y, z" in str(info.value)


def test_giving_a_value_for_an_output_says_which_node_produces_it(diamond):
    with pytest.raises(UnknownInputsError, match="'left' is an output of node 'make_left'"):
        diamond.run({"x": 1, "y": 1, "z": 1, "left": 5})


def test_unknown_output_name_lists_the_outputs(diamond):
    with pytest.raises(
        UnknownOutputError, match="no output 'joind' \\(did you mean 'joined'\\?\\)"
    ):
        diamond.run({"x": 1, "y": 1}, output_name="joind")


def test_asking_for_an_input_as_output_says_inputs_are_not_returned(diamond):
    with pytest.raises(UnknownOutputError, match="'x' is an input"):
        diamond.run({"x": 1}, output_name="x")


def test_input_errors_are_value_errors(diamond):
    with pytest.raises(ValueError):
        diamond.run({})


def test_a_node_exception_keeps_its_type_and_traceback_and_names_the_node():
    @node(output_name="ratio")
    def divide(a, b):
        return a / b

    with pytest.raises(ZeroDivisionError) as info:
        Pipeline([divide], name="maths").run({"a": 1, "b": 0})
    assert "hypernodes: in node 'divide' of pipeline 'maths'" in info.value.__notes__
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert frames[-1] == "divide"


def test_a_node_exception_raised_again_is_noted_once_per_level():
    @node(output_name="y")
    def fail(x):
        raise KeyError(x)

    with pytest.raises(KeyError) as info:
        Pipeline([fail]).run({"x": "k"})
    assert len(info.value.__notes__) == 1


def test_run_does_not_modify_the_inputs_mapping():
    @node(output_name="y")
    def f(x):
        return x + 1

    inputs = {"x": 1}
    Pipeline([f]).run(inputs)
    assert inputs == {"x": 1}


def test_the_plan_is_compiled_once_per_output_name(diamond):
    first = diamond.plan()
    diamond.run({"x": 1, "y": 1, "z": 1})
    assert diamond.plan() is first
    assert diamond.plan("left") is diamond.plan(["left"])
    assert [step.name for step in diamond.plan("joined").steps][-1] == "join"


def test_a_pipeline_with_no_nodes_returns_nothing():
    assert Pipeline([]).run({}) == {}


def test_inputs_that_are_not_a_dict_are_a_type_error(diamond):
    with pytest.raises(TypeError, match="takes its inputs as a dict of name -> value, got list"):
        diamond.run([1, 2])  # type: ignore[arg-type]


@pytest.mark.parametrize("returned", ["ab", {"a": 1, "b": 2}])
def test_a_str_or_dict_returned_for_two_outputs_is_refused_even_when_its_length_fits(returned):
    from hypernodes.errors import OutputCountError

    @node(output_name=("a", "b"))
    def pair(x):
        return returned

    with pytest.raises(OutputCountError, match=r"declares 2 outputs .* but returned a (str|dict)"):
        Pipeline([pair]).run({"x": 1})


def test_an_array_returned_for_two_outputs_is_unpacked():
    np = pytest.importorskip("numpy")

    @node(output_name=("low", "high"))
    def bounds(x):
        return np.array([x - 1, x + 1])

    assert Pipeline([bounds]).run({"x": 5}) == {"low": 4, "high": 6}


def test_a_one_name_tuple_output_name_is_refused_with_the_spelling_to_use():
    from hypernodes.errors import PipelineDefinitionError

    with pytest.raises(PipelineDefinitionError, match=r"write output_name='a'"):
        node(lambda x: (x,), output_name=("a",))


def test_inputs_with_a_key_that_is_not_a_string_are_refused_clearly():
    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(TypeError, match=r"got the key 1 \(int\).*'x'"):
        Pipeline([f]).run({1: 2})
