"""The conformance suite, run through every executor configuration."""

from __future__ import annotations

import pytest
from hypernodes.testing import CASES, Case, check_case


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_executor_gives_the_sequential_result(case: Case, make_executor) -> None:
    check_case(case, make_executor())
    check_case(case, make_executor())  # again: with a cache configured, served from it


def test_the_expected_results_are_what_the_sequential_executor_gives() -> None:
    from hypernodes.executor import SequentialNodeExecutor

    for case in CASES:
        check_case(case, SequentialNodeExecutor())


def test_a_failing_map_item_is_named_by_index_on_every_executor(make_executor) -> None:
    from hypernodes import Pipeline, node

    @node(output_name="checked")
    def reject_three(x):
        if x == 3:
            raise ValueError("three")
        return x

    pipeline = Pipeline([reject_three], name="items").with_executor(make_executor())
    with pytest.raises(ValueError, match="three") as info:
        pipeline.map({"x": [0, 1, 2, 3, 4, 5]})
    assert "hypernodes: in node 'reject_three' of pipeline 'items'" in info.value.__notes__
    assert "hypernodes: in map item 3 of pipeline 'items'" in info.value.__notes__


def test_functions_defined_in_a_test_run_on_every_executor(make_executor) -> None:
    from hypernodes import Pipeline, node

    offset = 7

    @node(output_name="shifted")
    def shift(x):
        return x + offset

    pipeline = Pipeline([shift]).with_executor(make_executor())
    assert pipeline.map({"x": list(range(50))}) == {"shifted": [x + 7 for x in range(50)]}
