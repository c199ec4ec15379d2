"""Pipeline.map: zip and product, map_over defaults, order, empty lists, errors."""

from __future__ import annotations

import pytest
from hypernodes import Pipeline, node
from hypernodes.errors import MapInputError, ZipLengthError


@node(output_name="total")
def add(x, y):
    return x + y


@node(output_name="label")
def describe(total, prefix="n="):
    return f"{prefix}{total}"


PIPELINE = Pipeline([add, describe], name="adder")


def test_zip_pairs_the_items_and_keeps_input_order():
    out = PIPELINE.map({"x": [1, 2, 3], "y": [10, 20, 30]}, map_over=["x", "y"])
    assert out == {"total": [11, 22, 33], "label": ["n=11", "n=22", "n=33"]}


def test_product_takes_every_combination_in_itertools_order():
    out = PIPELINE.map({"x": [1, 2], "y": [10, 20, 30]}, map_over=["x", "y"], map_mode="product")
    assert out["total"] == [11, 21, 31, 12, 22, 32]


def test_inputs_not_mapped_are_shared_by_every_item():
    out = PIPELINE.map({"x": [1, 2], "y": 100}, map_over="x")
    assert out["total"] == [101, 102]


def test_map_over_left_out_maps_every_list_valued_input():
    out = PIPELINE.map({"x": [1, 2], "y": [3, 4], "prefix": "#"})
    assert out == {"total": [4, 6], "label": ["#4", "#6"]}


def test_a_list_can_be_a_shared_value_when_map_over_is_given():
    @node(output_name="n")
    def count(items, x):
        return len(items) + x

    out = Pipeline([count]).map({"items": [1, 2, 3], "x": [0, 10]}, map_over="x")
    assert out == {"n": [3, 13]}


def test_empty_lists_give_empty_lists():
    assert PIPELINE.map({"x": [], "y": []}) == {"total": [], "label": []}
    assert PIPELINE.map({"x": [], "y": [1]}, map_mode="product") == {"total": [], "label": []}


def test_output_name_limits_what_map_returns():
    out = PIPELINE.map({"x": [1, 2], "y": 0}, map_over="x", output_name="total")
    assert out == {"total": [1, 2]}


def test_tuples_and_ranges_can_be_mapped_over():
    assert PIPELINE.map({"x": range(3), "y": (5, 5, 5)}, map_over=["x", "y"])["total"] == [5, 6, 7]


def test_zip_of_different_lengths_names_the_lengths():
    with pytest.raises(ZipLengthError, match=r"x=2, y=3"):
        PIPELINE.map({"x": [1, 2], "y": [1, 2, 3]})


def test_map_over_an_input_that_is_not_a_list_says_so():
    with pytest.raises(MapInputError, match="map_over input 'y' is an int, not a list of items"):
        PIPELINE.map({"x": [1], "y": 5}, map_over=["x", "y"])


def test_a_string_is_not_a_list_of_items():
    with pytest.raises(MapInputError, match=r"'x' is a str \(mapping over it would give its"):
        PIPELINE.map({"x": "abc", "y": 1}, map_over="x")


def test_a_generator_is_refused_with_what_to_pass_instead():
    with pytest.raises(MapInputError, match=r"'x' is a generator.*Pass a list: list\(\.\.\.\)"):
        PIPELINE.map({"x": (i for i in range(3)), "y": 1}, map_over="x")


def test_a_dataframe_is_refused_with_how_to_map_over_rows_or_a_column():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1, 2], "y": [3, 4]})
    with pytest.raises(MapInputError, match=r"pandas DataFrame.*df.to_dict\('records'\)"):
        PIPELINE.map({"x": frame, "y": 1}, map_over="x")


def test_a_pandas_series_and_a_numpy_array_are_lists_of_items():
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    assert PIPELINE.map({"x": pd.Series([1, 2]), "y": 1}, map_over="x") == (
        PIPELINE.map({"x": np.array([1, 2]), "y": 1}, map_over="x")
    )


def test_a_nested_map_over_refuses_a_string_and_an_int_like_the_top_level_map():
    outer = Pipeline([PIPELINE.as_node(name="per_x", input_mapping={"xs": "x"}, map_over="xs")])
    with pytest.raises(MapInputError, match=r"Node 'per_x': map_over input 'xs' is a str"):
        outer.run({"xs": "abc", "y": 1})
    with pytest.raises(MapInputError, match=r"Node 'per_x': map_over input 'xs' is an int"):
        outer.run({"xs": 5, "y": 1})


def test_map_over_an_input_not_given_suggests_a_close_one():
    with pytest.raises(MapInputError, match="'xx'.*did you mean 'x'"):
        PIPELINE.map({"x": [1], "y": 1}, map_over="xx")


def test_map_without_any_list_says_what_to_do():
    with pytest.raises(MapInputError, match="no list"):
        PIPELINE.map({"x": 1, "y": 2})


def test_unknown_map_mode_is_an_error():
    with pytest.raises(MapInputError, match="'zip' or 'product'"):
        PIPELINE.map({"x": [1], "y": [1]}, map_mode="zipped")


def test_map_checks_inputs_like_run():
    from hypernodes.errors import MissingInputsError

    with pytest.raises(MissingInputsError, match="'y'"):
        PIPELINE.map({"x": [1, 2]})


def test_a_failing_item_keeps_its_exception_type_and_names_the_item_index():
    @node(output_name="inverse")
    def invert(x):
        return 1 / x

    with pytest.raises(ZeroDivisionError) as info:
        Pipeline([invert], name="inv").map({"x": [1, 2, 0, 4]})
    assert info.value.__notes__ == [
        "hypernodes: in node 'invert' of pipeline 'inv'",
        "hypernodes: in map item 2 of pipeline 'inv'",
    ]


def test_map_items_do_not_leak_into_each_other():
    seen = []

    @node(output_name="y")
    def record(x, y0=0):
        seen.append((x, y0))
        return x

    Pipeline([record]).map({"x": [1, 2]})
    assert seen == [(1, 0), (2, 0)]
