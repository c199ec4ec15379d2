"""Nodes: plain functions that name their outputs."""

from __future__ import annotations

import asyncio

import pytest
from hypernodes import Node, Pipeline, node
from hypernodes.errors import PipelineDefinitionError


def test_node_stays_callable_as_the_plain_function():
    @node(output_name="y")
    def double(x):
        return 2 * x

    assert isinstance(double, Node)
    assert double(3) == 6
    assert double(x=4) == 8
    assert double.__name__ == "double"


def test_bare_decorator_names_the_output_after_the_function():
    @node
    def total(a, b):
        return a + b

    assert total.output_name == "total"
    assert Pipeline([total]).run({"a": 1, "b": 2}) == {"total": 3}


def test_node_called_on_a_function_without_decorator_syntax():
    def square(x):
        return x * x

    sq = node(square, output_name="sq")
    assert Pipeline([sq]).run({"x": 3}) == {"sq": 9}


def test_tuple_output_name_unpacks_the_returned_tuple():
    @node(output_name=("low", "high"))
    def bounds(values):
        return min(values), max(values)

    assert Pipeline([bounds]).run({"values": [3, 1, 2]}) == {"low": 1, "high": 3}


def test_parameters_with_defaults_are_optional_inputs():
    @node(output_name="y")
    def scale(x, factor=10):
        return x * factor

    pipeline = Pipeline([scale])
    assert pipeline.run({"x": 2}) == {"y": 20}
    assert pipeline.run({"x": 2, "factor": 3}) == {"y": 6}


def test_each_node_gets_its_own_default_for_a_shared_optional_input():
    @node(output_name="a")
    def first(x, k=1):
        return x + k

    @node(output_name="b")
    def second(a, k=100):
        return a + k

    pipeline = Pipeline([first, second])
    assert pipeline.run({"x": 0}) == {"a": 1, "b": 101}
    assert pipeline.run({"x": 0, "k": 5}) == {"a": 5, "b": 10}


def test_keyword_only_parameters_are_wired_by_name():
    @node(output_name="y")
    def f(x, *, offset, scale=2):
        return x * scale + offset

    assert Pipeline([f]).run({"x": 1, "offset": 5}) == {"y": 7}


def test_async_def_functions_run_as_nodes():
    @node(output_name="y")
    async def fetch(x):
        await asyncio.sleep(0)
        return x + 1

    assert Pipeline([fetch]).run({"x": 1}) == {"y": 2}


def test_async_nodes_run_when_an_event_loop_is_already_running():
    @node(output_name="y")
    async def fetch(x):
        await asyncio.sleep(0)
        return x * 3

    pipeline = Pipeline([fetch])

    async def notebook_cell():
        return pipeline.run({"x": 2})

    assert asyncio.run(notebook_cell()) == {"y": 6}


def test_varargs_cannot_be_wired():
    with pytest.raises(PipelineDefinitionError, match=r"\*args"):

        @node(output_name="y")
        def f(*args):
            return args


def test_output_name_must_be_identifiers():
    with pytest.raises(PipelineDefinitionError, match="identifier"):
        node(lambda x: x, output_name="not valid")
    with pytest.raises(TypeError, match="output_name must be a string"):
        node(lambda x: x, output_name=3)  # type: ignore[arg-type]


def test_output_name_given_positionally_says_how_to_write_it():
    with pytest.raises(TypeError, match=r"@node\(output_name='y'\)"):
        node("y")  # type: ignore[call-overload]


def test_wrong_number_of_returned_values_names_the_node():
    from hypernodes.errors import OutputCountError

    @node(output_name=("a", "b"))
    def pair(x):
        return (x, x, x)

    with pytest.raises(OutputCountError, match=r"'pair' declares 2 outputs .* returned 3 values"):
        Pipeline([pair]).run({"x": 1})


def test_a_lambda_node_is_named_after_its_output():
    doubled = node(lambda x: 2 * x, output_name="doubled")
    assert doubled.name == "doubled"
    assert Pipeline([doubled, node(lambda doubled: doubled + 1, output_name="y")]).run(
        {"x": 1}
    ) == {"doubled": 2, "y": 3}


def test_a_lambda_without_output_name_says_how_to_name_it():
    with pytest.raises(PipelineDefinitionError, match="output_name='y'"):
        node(lambda x: x)
