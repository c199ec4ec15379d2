"""Callbacks receive the same events on every executor, and each callback set gets exactly
its own scopes' events, wherever the items run."""

from __future__ import annotations

import pytest
from hypernodes import DiskCache, Pipeline, node
from hypernodes.executor import SequentialNodeExecutor
from hypernodes.testing import CASES, EventLog, check_events, compare_events


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_executor_gives_callbacks_the_sequential_events(case, make_executor):
    check_events(case, make_executor())


@pytest.mark.parametrize("case", [c for c in CASES if "map" in c.name], ids=str)
def test_every_executor_gives_callbacks_the_sequential_cache_hits(case, make_executor, tmp_path):
    check_events(case, make_executor(), cache=lambda: DiskCache(tmp_path / "cache"))


@node(output_name="y")
def inc(x):
    return x + 1


@node(output_name="total")
def add_up(ys):
    return sum(ys)


def build(outer_log, inner_log):
    inner = Pipeline([inc], name="inner", callbacks=[inner_log] if inner_log else None)
    mapped = inner.as_node(input_mapping={"xs": "x"}, output_mapping={"y": "ys"}, map_over="xs")
    return Pipeline([mapped, add_up], name="outer", callbacks=[outer_log] if outer_log else None)


def run_logged(executor, with_outer):
    outer_log = EventLog() if with_outer else None
    inner_log = EventLog()
    pipeline = build(outer_log, inner_log).with_executor(executor).with_cache(None)
    result = pipeline.map({"xs": [[1, 2], [3, 4, 5], [6]]}, map_over="xs")
    assert result == {"ys": [[2, 3], [4, 5, 6], [7]], "total": [5, 15, 7]}
    return outer_log, inner_log


@pytest.mark.parametrize("with_outer", [False, True], ids=["outer-none", "outer-own"])
def test_an_inner_pipelines_own_callbacks_get_the_inner_events_on_every_executor(
    make_executor, with_outer
):
    expected_outer, expected_inner = run_logged(SequentialNodeExecutor(), with_outer)
    outer, inner = run_logged(make_executor(), with_outer)
    assert {e[1] for e in inner.events} == {("outer", "inner")}  # inner scopes only
    compare_events(expected_inner.events, inner.events, "inner callbacks")
    if with_outer:
        assert {e[1] for e in outer.events} == {("outer",)}
        compare_events(expected_outer.events, outer.events, "outer callbacks")
