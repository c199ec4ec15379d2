"""Nesting: pipelines as nodes, input/output mappings, map_over inside a pipeline."""

from __future__ import annotations

import threading

import pytest
from hypernodes import Pipeline, PipelineNode, node
from hypernodes.errors import (
    DuplicateOutputError,
    MapInputError,
    PipelineDefinitionError,
    UnknownInputsError,
)


@node(output_name="clean")
def normalize(text):
    return text.strip().lower()


@node(output_name="n_words")
def count_words(clean):
    return len(clean.split())


PER_DOC = Pipeline([normalize, count_words], name="per_doc")


def test_a_pipeline_placed_in_nodes_is_used_as_a_node():
    @node(output_name="shout")
    def shout(clean):
        return clean.upper()

    outer = Pipeline([PER_DOC, shout], name="outer")
    assert outer.run({"text": " Hi There "}) == {
        "clean": "hi there",
        "n_words": 2,
        "shout": "HI THERE",
    }


def test_input_mapping_is_outer_to_inner_and_output_mapping_inner_to_outer():
    inner = PER_DOC.as_node(
        input_mapping={"title": "text"}, output_mapping={"n_words": "title_words"}
    )
    out = Pipeline([inner]).run({"title": "A Tale Of Two"})
    assert out == {"clean": "a tale of two", "title_words": 4}


def test_one_inner_pipeline_used_twice_with_different_mappings():
    title = PER_DOC.as_node(
        name="title",
        input_mapping={"title": "text"},
        output_mapping={"clean": "clean_title", "n_words": "title_words"},
    )
    body = PER_DOC.as_node(
        name="body",
        input_mapping={"body": "text"},
        output_mapping={"clean": "clean_body", "n_words": "body_words"},
    )

    @node(output_name="total")
    def total(title_words, body_words):
        return title_words + body_words

    out = Pipeline([title, body, total]).run({"title": "Hello", "body": "a b c"})
    assert out["total"] == 4
    assert out["clean_title"] == "hello"


def test_map_over_runs_the_inner_pipeline_per_item_and_gives_lists():
    per_doc = PER_DOC.as_node(
        input_mapping={"docs": "text"},
        output_mapping={"n_words": "counts", "clean": "cleaned"},
        map_over="docs",
    )

    @node(output_name="total")
    def total(counts):
        return sum(counts)

    out = Pipeline([per_doc, total]).run({"docs": ["a b", " C ", "d e f"]})
    assert out == {"cleaned": ["a b", "c", "d e f"], "counts": [2, 1, 3], "total": 6}


def test_map_over_with_product_and_a_shared_input():
    @node(output_name="score")
    def score(model, query, weight):
        return f"{model}:{query}:{weight}"

    grid = Pipeline([score]).as_node(
        input_mapping={"models": "model", "queries": "query"},
        map_over=["models", "queries"],
        map_mode="product",
    )
    out = Pipeline([grid]).run({"models": ["m1", "m2"], "queries": ["q1", "q2"], "weight": 1})
    assert out["score"] == ["m1:q1:1", "m1:q2:1", "m2:q1:1", "m2:q2:1"]


def test_a_nested_pipeline_mapped_inside_an_outer_map():
    per_doc = PER_DOC.as_node(input_mapping={"docs": "text"}, map_over="docs")

    @node(output_name="total")
    def total(n_words):
        return sum(n_words)

    corpus = Pipeline([per_doc, total], name="corpus")
    out = corpus.map({"docs": [["a", "b c"], ["d e f"]]}, map_over="docs", output_name="total")
    assert out == {"total": [3, 3]}


def test_pruning_reaches_inside_a_nested_pipeline():
    calls = []

    @node(output_name="a")
    def make_a(x):
        calls.append("a")
        return x

    @node(output_name="b")
    def make_b(y):
        calls.append("b")
        return y

    outer = Pipeline([Pipeline([make_a, make_b], name="inner")])
    assert outer.run({"x": 1}, output_name="a") == {"a": 1}
    assert calls == ["a"]


def test_optional_inner_inputs_stay_optional_outside():
    @node(output_name="y")
    def scale(x, factor=3):
        return x * factor

    outer = Pipeline([Pipeline([scale]).as_node(input_mapping={"value": "x"})])
    assert outer.run({"value": 2}) == {"y": 6}
    assert outer.run({"value": 2, "factor": 10}) == {"y": 20}


def test_missing_inputs_of_a_nested_pipeline_name_the_nested_node():
    from hypernodes.errors import MissingInputsError

    outer = Pipeline([PER_DOC.as_node(name="doc_stats")])
    with pytest.raises(MissingInputsError, match="'text' \\(needed by 'doc_stats'\\)"):
        outer.run({})


def test_inner_names_renamed_by_input_mapping_are_not_outer_inputs():
    outer = Pipeline([PER_DOC.as_node(input_mapping={"doc": "text"})])
    with pytest.raises(UnknownInputsError, match="'text'"):
        outer.run({"text": "x", "doc": "y"})


def test_input_mapping_to_an_unknown_inner_input_suggests_one():
    with pytest.raises(PipelineDefinitionError, match="'txt'.*not an input.*did you mean 'text'"):
        PER_DOC.as_node(input_mapping={"doc": "txt"})


def test_output_mapping_of_an_unknown_inner_output_is_an_error():
    with pytest.raises(PipelineDefinitionError, match="'words'.*not an output"):
        PER_DOC.as_node(output_mapping={"words": "w"})


def test_map_over_an_inner_name_that_was_renamed_points_to_the_outer_name():
    with pytest.raises(MapInputError, match="map over 'docs'"):
        PER_DOC.as_node(input_mapping={"docs": "text"}, map_over="text")


def test_an_inner_output_clashing_with_an_outer_output_is_a_duplicate():
    @node(output_name="clean")
    def other(text):
        return text

    with pytest.raises(DuplicateOutputError, match="'clean'"):
        Pipeline([PER_DOC, other])


def test_an_error_inside_a_nested_map_names_every_level():
    @node(output_name="inverse")
    def invert(x):
        return 1 / x

    inner = Pipeline([invert], name="inner").as_node(
        name="invert_all", input_mapping={"xs": "x"}, map_over="xs"
    )
    with pytest.raises(ZeroDivisionError) as info:
        Pipeline([inner], name="outer").run({"xs": [1, 0]})
    assert info.value.__notes__ == [
        "hypernodes: in node 'invert' of pipeline 'inner'",
        "hypernodes: in map item 1 of pipeline 'inner'",
        "hypernodes: in node 'invert_all' of pipeline 'outer'",
    ]


def test_one_inner_pipeline_runs_in_two_parents_in_two_threads():
    parents = [
        Pipeline([PER_DOC.as_node(input_mapping={f"doc{i}": "text"})], name=f"parent{i}")
        for i in range(2)
    ]
    results: dict[int, list[int]] = {0: [], 1: []}

    def work(i: int) -> None:
        for k in range(200):
            results[i].append(parents[i].run({f"doc{i}": "w " * (k % 5 + i)})["n_words"])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results[0] == [k % 5 for k in range(200)]
    assert results[1] == [k % 5 + 1 for k in range(200)]


def test_as_node_returns_a_pipeline_node_with_the_given_name():
    wrapped = PER_DOC.as_node(name="stats")
    assert isinstance(wrapped, PipelineNode)
    assert wrapped.name == "stats"
    assert wrapped.output_names == ("clean", "n_words")
    assert wrapped.parameters == ("text",)


def test_two_unnamed_pipelines_in_one_parent_get_distinct_names_from_their_outputs():
    @node(output_name="a")
    def make_a(x):
        return x + 1

    @node(output_name="b")
    def make_b(x):
        return x * 2

    outer = Pipeline([Pipeline([make_a]), Pipeline([make_b])], name="outer")
    assert [n.name for n in outer.nodes] == ["pipeline[a]", "pipeline[b]"]
    assert outer.run({"x": 3}) == {"a": 4, "b": 6}


def test_one_unnamed_pipeline_reused_with_different_mappings_runs_twice():
    @node(output_name="y")
    def inc(x):
        return x + 1

    inner = Pipeline([inc])
    outer = Pipeline(
        [
            inner.as_node(input_mapping={"u": "x"}, output_mapping={"y": "u1"}),
            inner.as_node(input_mapping={"v": "x"}, output_mapping={"y": "v1"}),
        ]
    )
    assert outer.run({"u": 1, "v": 10}) == {"u1": 2, "v1": 11}


def test_explicit_duplicate_names_of_pipeline_nodes_stay_an_error():
    from hypernodes.errors import PipelineDefinitionError

    @node(output_name="y")
    def inc(x):
        return x + 1

    inner = Pipeline([inc], name="same")
    with pytest.raises(PipelineDefinitionError, match="named 'same'"):
        Pipeline(
            [
                inner.as_node(output_mapping={"y": "y1"}),
                inner.as_node(input_mapping={"z": "x"}, output_mapping={"y": "y2"}),
            ]
        )
