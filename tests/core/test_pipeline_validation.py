"""Pipelines check their nodes at construction."""

from __future__ import annotations

import itertools

import pytest
from hypernodes import Pipeline, node
from hypernodes.errors import (
    CycleError,
    DuplicateOutputError,
    NotANodeError,
    PipelineDefinitionError,
)


def test_two_producers_of_one_output_name_both():
    @node(output_name="y")
    def first(x):
        return x

    @node(output_name="y")
    def second(x):
        return x

    with pytest.raises(
        DuplicateOutputError, match="'y' is produced by two nodes: 'first' and 'second'"
    ):
        Pipeline([first, second])


def test_a_cycle_shows_its_path():
    @node(output_name="a")
    def make_a(c):
        return c

    @node(output_name="b")
    def make_b(a):
        return a

    @node(output_name="c")
    def make_c(b):
        return b

    with pytest.raises(CycleError) as info:
        Pipeline([make_a, make_b, make_c])
    cycle = info.value.cycle
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"make_a", "make_b", "make_c"}
    assert " -> ".join(cycle) in str(info.value)
    # each step of the path produces an input of the next
    producers = {"make_a": "a", "make_b": "b", "make_c": "c"}
    consumers = {"make_a": "c", "make_b": "a", "make_c": "b"}
    for left, right in itertools.pairwise(cycle):
        assert producers[left] == consumers[right]


def test_a_node_that_feeds_itself_is_a_cycle():
    @node(output_name="x")
    def loop(x):
        return x

    with pytest.raises(CycleError, match="loop -> loop"):
        Pipeline([loop])


def test_a_plain_function_is_a_type_error_saying_what_was_given():
    def not_decorated(x):
        return x

    with pytest.raises(NotANodeError, match="not_decorated.*plain function.*@node") as info:
        Pipeline([not_decorated])
    assert isinstance(info.value, TypeError)


def test_a_non_callable_entry_is_a_type_error():
    with pytest.raises(TypeError, match="got int 42"):
        Pipeline([42])  # type: ignore[list-item]


def test_nodes_must_be_a_list():
    @node(output_name="y")
    def f(x):
        return x

    with pytest.raises(TypeError, match="takes a list of nodes"):
        Pipeline(f)  # type: ignore[arg-type]


def test_input_and_output_names_are_reported_in_order():
    @node(output_name="b")
    def second(a, extra=1):
        return a

    @node(output_name="a")
    def first(x):
        return x

    pipeline = Pipeline([second, first])
    assert pipeline.output_names == ("a", "b")
    assert set(pipeline.input_names) == {"x", "extra"}


def test_two_nodes_with_one_name_are_refused_with_how_to_rename():
    def make(output):
        def process(x):
            return x

        return node(process, output_name=output)

    with pytest.raises(PipelineDefinitionError, match="named 'process'.*name=") as info:
        Pipeline([make("a"), make("b")])
    assert "('a',)" in str(info.value)
