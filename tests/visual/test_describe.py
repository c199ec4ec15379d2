"""``pipeline.describe()``: a readable summary, as text and as HTML in Jupyter."""

from __future__ import annotations

import pytest
from hypernodes import Pipeline, node

from .pipelines import corpus, mapped_with_default, overlap, tokenize


def test_the_summary_lists_inputs_outputs_and_nodes_in_run_order():
    assert corpus().describe() == (
        "Pipeline 'corpus': 2 nodes\n"
        "Inputs:\n"
        "  documents  required\n"
        "  lower      optional, default True\n"
        "  query      required\n"
        "Outputs: tokens, scores, lengths, ranking\n"
        "Nodes, in run order:\n"
        "  score_each(documents, lower, query) -> tokens, scores, lengths\n"
        "      pipeline 'per_document', map over documents\n"
        "      inputs: documents -> document\n"
        "      outputs: score -> scores, length -> lengths\n"
        "      tokenize(document, lower=True) -> tokens\n"
        "      overlap(tokens, query) -> score\n"
        "      count(tokens) -> length\n"
        "  rank(documents, scores, lengths) -> ranking"
    )


def test_depth_one_lists_nested_pipelines_without_their_nodes():
    text = corpus().describe(depth=1)
    assert "      inputs: documents -> document" in text
    assert "tokenize" not in text


def test_the_summary_is_a_string_that_prints_as_itself():
    summary = corpus().describe()
    assert isinstance(summary, str)
    assert repr(summary) == str(summary)
    assert "\n" not in repr(corpus())  # the pipeline's own repr stays one line


def test_jupyter_shows_a_pipeline_as_its_summary_in_html():
    @node(output_name="out")
    def tag(text: str, wrap: str = "<b>") -> str:
        return wrap + text

    page = Pipeline([tag], name="tags")._repr_html_()
    assert "<code>tags</code>" in page
    assert "&lt;b&gt;" in page  # values are escaped
    assert "'<b>'" not in page
    nested = corpus()._repr_html_()
    for text in ("map over documents", "tokenize(document, lower=True) -&gt; tokens"):
        assert text in nested
    assert (
        '<td style="font-family: monospace">lower</td><td>optional</td>'
        '<td style="font-family: monospace">True</td>'
    ) in nested
    assert "<details open>" in nested
    assert corpus().describe()._repr_html_() == nested


def test_a_pipeline_without_inputs_says_so():
    @node(output_name="answer")
    def constant() -> int:
        return 42

    text = Pipeline([constant], name="const").describe()
    assert "Inputs:\n  (none)\n" in text
    assert "Pipeline 'const': 1 node\n" in text


def test_an_empty_pipeline_says_it_has_nothing():
    assert Pipeline([], name="empty").describe().splitlines()[-4:] == [
        "  (none)",
        "Outputs: (none)",
        "Nodes, in run order:",
        "  (none)",
    ]


def test_bound_inputs_are_listed_with_their_value_and_where_they_are_bound():
    per_document = Pipeline([tokenize, overlap], name="per_document").bind(query="cat")
    outer = Pipeline([per_document.as_node(name="score_each")]).bind(lower=False)
    text = outer.describe()
    assert "  lower     bound = False\n" in text
    assert "  query     bound in score_each = 'cat'\n" in text
    assert "      bound: query='cat'\n" in text


@pytest.mark.parametrize("depth", [0, "all"])
def test_a_bad_depth_is_explained(depth):
    with pytest.raises(ValueError, match="depth must be a whole number of levels >= 1"):
        corpus().describe(depth=depth)


def test_an_input_a_nested_pipeline_maps_over_is_required_despite_an_inner_default():
    outer = mapped_with_default()
    assert outer.describe(depth=1).splitlines()[:3] == [
        "Pipeline 'outer': 1 node",
        "Inputs:",
        "  x  required",
    ]
