"""What a drawing shows, read back from the DOT and Mermaid text (never from pixels)."""

from __future__ import annotations

import pytest
from hypernodes import Pipeline, node
from hypernodes.errors import UnknownOutputError

from .graphtext import plain, read_dot, read_mermaid
from .pipelines import corpus, mapped_with_default, overlap, tokenize


def test_each_node_is_a_box_listing_its_outputs_and_edges_follow_parameter_names():
    @node(output_name=("mean", "spread"))
    def stats(values: list[float]) -> tuple[float, float]:
        return 0.0, 0.0

    @node(output_name="report")
    def describe(mean: float, spread: float, title: str) -> str:
        return title

    drawn = read_dot(Pipeline([stats, describe]).to_dot())
    assert set(drawn.boxes) == {"input:values", "input:title", "stats", "describe"}
    assert drawn.text("stats") == "stats → mean, spread"
    assert drawn.text("describe") == "describe → report"
    assert drawn.pairs() == {
        ("input:values", "stats"),
        ("input:title", "describe"),
        ("stats", "describe"),
    }
    # a source with several outputs names the values each edge carries
    assert plain(drawn.edge("stats", "describe")["label"]) == "mean spread"


def test_required_and_optional_inputs_look_different_and_the_default_is_shown():
    drawn = read_dot(Pipeline([tokenize, overlap]).to_dot())
    assert drawn.classes("input:document") == {"input", "required"}
    assert drawn.classes("input:lower") == {"input", "optional"}
    assert drawn.text("input:lower") == "lower = True"
    assert "dashed" in drawn.boxes["input:lower"]["style"]
    assert drawn.boxes["input:document"]["fillcolor"] != drawn.boxes["input:lower"]["fillcolor"]


def test_two_nodes_with_different_defaults_for_one_input_show_both():
    @node(output_name="a")
    def first(k: int = 1) -> int:
        return k

    @node(output_name="b")
    def second(k: int = 2) -> int:
        return k

    drawn = read_dot(Pipeline([first, second]).to_dot())
    assert drawn.text("input:k") == "k = 1 (first), 2 (second)"


def test_bound_inputs_are_marked_with_their_value():
    pipeline = Pipeline([tokenize, overlap]).bind(query="cat")
    drawn = read_dot(pipeline.to_dot())
    assert drawn.classes("input:query") == {"input", "bound"}
    assert drawn.text("input:query") == "query bound = 'cat'"
    assert drawn.classes("input:document") == {"input", "required"}


def test_an_input_bound_inside_a_nested_pipeline_is_marked_bound_there():
    inner = Pipeline([tokenize, overlap], name="inner").bind(query="cat")
    drawn = read_dot(Pipeline([inner.as_node(name="scored")]).to_dot())
    assert drawn.classes("input:query") == {"input", "bound"}
    assert drawn.text("input:query") == "query bound in scored = 'cat'"


def test_a_nested_pipeline_is_one_box_naming_the_pipeline_its_map_and_its_outputs():
    drawn = read_dot(corpus().to_dot())
    assert set(drawn.boxes) == {
        "input:documents",
        "input:lower",
        "input:query",
        "score_each",
        "rank",
    }
    assert drawn.classes("score_each") == {"pipeline"}
    assert drawn.text("score_each") == (
        "score_each pipeline per_document map over documents → tokens, scores, lengths"
    )
    assert drawn.clusters == {}
    assert drawn.pairs() == {
        ("input:documents", "score_each"),
        ("input:lower", "score_each"),
        ("input:query", "score_each"),
        ("input:documents", "rank"),
        ("score_each", "rank"),
    }


def test_edges_into_a_map_over_input_are_marked_and_others_are_not():
    drawn = read_dot(corpus().to_dot())
    mapped = {(a, b) for a, b, attrs in drawn.edges if "mapped" in attrs.get("class", "").split()}
    assert mapped == {("input:documents", "score_each")}
    assert plain(drawn.edge("input:documents", "score_each")["label"]) == "map"


def test_expanded_a_nested_pipeline_is_a_cluster_wired_through_its_mappings():
    drawn = read_dot(corpus().to_dot(depth=2))
    assert "class" not in drawn.clusters["cluster_score_each"]  # nothing highlighted
    assert plain(drawn.clusters["cluster_score_each"]["label"]) == (
        "score_each pipeline per_document map over documents"
    )
    inner = {box for box, cluster in drawn.cluster_of.items() if cluster == "cluster_score_each"}
    assert inner == {"score_each/tokenize", "score_each/overlap", "score_each/count"}
    assert drawn.pairs() == {
        ("input:documents", "score_each/tokenize"),
        ("input:lower", "score_each/tokenize"),
        ("score_each/tokenize", "score_each/overlap"),
        ("input:query", "score_each/overlap"),
        ("score_each/tokenize", "score_each/count"),
        ("input:documents", "rank"),
        ("score_each/overlap", "rank"),
        ("score_each/count", "rank"),
    }
    # renamed on the way in and out; mapped where the items enter
    assert plain(drawn.edge("input:documents", "score_each/tokenize")["label"]) == (
        "map documents → document"
    )
    assert plain(drawn.edge("score_each/overlap", "rank")["label"]) == "score → scores"
    assert "label" not in drawn.edge("input:query", "score_each/overlap")


def test_depth_opens_exactly_that_many_levels():
    @node(output_name="y")
    def inc(x: int) -> int:
        return x + 1

    innermost = Pipeline([inc], name="innermost")
    middle = Pipeline([innermost.as_node(name="deep")], name="middle")
    outer = Pipeline([middle.as_node(name="mid")], name="outer")

    one, two, every = (read_dot(outer.to_dot(depth=d)) for d in (1, 2, None))
    assert set(one.boxes) == {"input:x", "mid"}
    assert set(two.boxes) == {"input:x", "mid/deep"}
    assert two.classes("mid/deep") == {"pipeline"}
    assert set(every.boxes) == {"input:x", "mid/deep/inc"}
    assert every.cluster_parent == {"cluster_mid": None, "cluster_mid/deep": "cluster_mid"}
    assert every.pairs() == {("input:x", "mid/deep/inc")}


def test_output_name_selects_exactly_the_steps_a_selective_run_executes():
    pipeline = corpus()
    drawn = read_dot(pipeline.to_dot(output_name="lengths"))
    selected = {box for box in drawn.boxes if "selected" in drawn.classes(box)}
    steps = {step.name for step in pipeline.plan("lengths").steps}
    plan = pipeline.plan("lengths")
    assert selected == steps | {f"input:{name}" for name in plan.required | plan.optional}
    assert selected == {"score_each", "input:documents", "input:lower"}
    assert "skipped" in drawn.classes("rank")
    assert "skipped" in drawn.classes("input:query")
    assert "requested" in drawn.classes("score_each")


def test_output_name_selects_inside_an_expanded_nested_pipeline_too():
    pipeline = corpus()
    drawn = read_dot(pipeline.to_dot(depth=None, output_name="lengths"))
    selected = {box for box in drawn.boxes if "selected" in drawn.classes(box)}
    (step,) = pipeline.plan("lengths").steps
    inner_steps = step.node.pipeline.plan(step.inner_outputs).steps
    assert {b for b in selected if "/" in b} == {f"score_each/{s.name}" for s in inner_steps}
    assert {b for b in selected if "/" in b} == {"score_each/tokenize", "score_each/count"}
    assert "requested" in drawn.classes("score_each/count")
    assert drawn.clusters["cluster_score_each"]["class"] == "selected"
    skipped_edges = {(a, b) for a, b, attrs in drawn.edges if "skipped" in attrs.get("class", "")}
    assert skipped_edges == {
        ("score_each/tokenize", "score_each/overlap"),
        ("input:query", "score_each/overlap"),
        ("input:documents", "rank"),
        ("score_each/overlap", "rank"),
        ("score_each/count", "rank"),
    }


def test_without_output_name_nothing_is_marked_selected_or_skipped():
    drawn = read_dot(corpus().to_dot(depth=None))
    for box in drawn.boxes:
        assert not drawn.classes(box) & {"selected", "skipped"}


def test_mermaid_shows_the_same_boxes_edges_and_marks_as_dot():
    pipeline = corpus()
    for options in ({}, {"depth": None}, {"depth": None, "output_name": "scores"}):
        dot = read_dot(pipeline.to_dot(**options))
        mermaid = read_mermaid(pipeline.to_mermaid(**options))
        ids = {mermaid.text(box): box for box in mermaid.boxes}
        dot_ids = {dot.text(box): box for box in dot.boxes}
        assert set(ids) == set(dot_ids)
        rename = {dot_ids[text]: ids[text] for text in ids}
        assert {(rename[a], rename[b]) for a, b in dot.pairs()} == mermaid.pairs()
        for a, b, attrs in dot.edges:
            twin = mermaid.edge(rename[a], rename[b])
            assert plain(twin["label"]) == plain(attrs.get("label", ""))
            assert (twin["arrow"] == "==>") == ("mapped" in attrs.get("class", ""))
        for text, box in ids.items():
            assert ("skipped" in mermaid.classes(box)) == ("skipped" in dot.classes(dot_ids[text]))
        assert len(mermaid.clusters) == len(dot.clusters)


def test_mermaid_draws_inputs_as_stadiums_classed_by_kind():
    drawn = read_mermaid(Pipeline([tokenize]).to_mermaid(direction="TB"))
    shapes = {drawn.text(b): (drawn.boxes[b]["shape"], drawn.classes(b)) for b in drawn.boxes}
    assert shapes == {
        "document": ("stadium", {"required"}),
        "lower = True": ("stadium", {"optional"}),
        "tokenize → tokens": ("rounded", {"function"}),
    }


def test_names_and_values_that_need_escaping_stay_readable_in_both_formats():
    @node(output_name="out")
    def tag(text: str, wrap: str = '<b class="x">&</b>') -> str:
        return wrap + text

    pipeline = Pipeline([tag], name='say "hi"')
    dot = read_dot(pipeline.to_dot())
    assert dot.text("input:wrap") == """wrap = '<b class="x">&</b>'"""
    mermaid = read_mermaid(pipeline.to_mermaid())
    assert """wrap = '<b class="x">&</b>'""" in {mermaid.text(b) for b in mermaid.boxes}


def test_a_hash_in_a_name_or_value_is_not_read_as_a_mermaid_entity():
    @node(output_name="tagged", name="tag#1")
    def tag(text: str, marker: str = "#1;", colour: str = "#quot;red#quot;") -> str:
        return marker + text

    drawn = read_mermaid(Pipeline([tag]).to_mermaid())
    texts = {drawn.text(b) for b in drawn.boxes}
    assert texts == {
        "text",
        "marker = '#1;'",
        "colour = '#quot;red#quot;'",
        "tag#1 → tagged",
    }


def test_node_names_that_look_like_other_boxes_ids_still_get_boxes_of_their_own():
    @node(output_name="a")
    def f(x: int) -> int:
        return x

    @node(output_name="b", name="grp/f")
    def g(y: int) -> int:
        return y

    @node(output_name="c", name="input:x")
    def h(a: int, b: int) -> int:
        return a + b

    inner = Pipeline([f], name="inner")
    outer = Pipeline([inner.as_node(name="grp"), g, h], name="outer")
    drawn = read_dot(outer.to_dot(depth=None), raw=True)
    name = {box: drawn.text(box) for box in drawn.boxes}
    assert sorted(name.values()) == ["f → a", "grp/f → b", "input:x → c", "x", "y"]
    assert {(name[a], name[b]) for a, b in drawn.pairs()} == {
        ("x", "f → a"),
        ("y", "grp/f → b"),
        ("f → a", "input:x → c"),
        ("grp/f → b", "input:x → c"),
    }
    (inside,) = [box for box, cluster in drawn.cluster_of.items() if cluster is not None]
    assert name[inside] == "f → a"


def test_an_input_a_nested_pipeline_maps_over_is_required_despite_an_inner_default():
    outer = mapped_with_default()
    assert read_dot(outer.to_dot()).classes("input:x") == {"input", "required"}
    mermaid = read_mermaid(outer.to_mermaid())
    assert {drawn for drawn in mermaid.boxes if mermaid.text(drawn) == "x"} == {"n0"}
    assert mermaid.classes("n0") == {"required"}


def test_long_default_values_are_abbreviated():
    @node(output_name="out")
    def pick(options: tuple[int, ...] = tuple(range(1000))) -> int:
        return options[0]

    text = read_dot(Pipeline([pick]).to_dot()).text("input:options")
    assert text.startswith("options = (0, 1, 2, 3, ...")
    assert len(text) < 50


def test_direction_sets_the_layout_and_a_bad_one_is_explained():
    assert "rankdir=TB" in corpus().to_dot(direction="TB")
    assert corpus().to_mermaid(direction="TB").startswith("flowchart TB")
    with pytest.raises(ValueError, match=r"direction must be 'TB' \(top-down\) or 'LR'"):
        corpus().to_dot(direction="down")


@pytest.mark.parametrize("depth", [0, -1, 1.5, "all", True])
def test_a_bad_depth_is_explained(depth):
    with pytest.raises(ValueError, match="depth must be a whole number of levels >= 1"):
        corpus().to_dot(depth=depth)


def test_an_unknown_output_name_is_the_usual_error():
    with pytest.raises(UnknownOutputError, match="did you mean 'scores'"):
        corpus().to_mermaid(output_name="scors")
