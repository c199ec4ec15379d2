"""The engine interface is complete: two reference implementations written only against
public modules pass the conformance suite (results, events, cache hits)."""

from __future__ import annotations

import ast
import pathlib

import pytest
from hypernodes import DiskCache, Pipeline, node
from hypernodes.executor import SequentialNodeExecutor
from hypernodes.testing import CASES, EventLog, check_case, check_events

from .reference import ColumnExecutor, SubprocessBackend

FAST_SUBPROCESS_CASES = [
    c for c in CASES if c.name in {"diamond", "nested_map_over", "map_zip", "error_in_map_item"}
]


def test_the_reference_implementations_import_only_public_hypernodes_modules():
    tree = ast.parse((pathlib.Path(__file__).parent / "reference.py").read_text())
    modules = [
        node.module
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("hyper")
    ]
    assert modules, "the reference implementations import hypernodes"
    assert not [m for m in modules if any(part.startswith("_") for part in m.split("."))]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_node_major_holistic_executor_passes_the_conformance_suite(case, tmp_path):
    check_case(case, ColumnExecutor())
    check_events(case, ColumnExecutor(), cache=lambda: DiskCache(tmp_path / "cache"))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_a_subprocess_backend_passes_the_conformance_suite(case):
    check_case(case, backend=SubprocessBackend())


@pytest.mark.parametrize("case", FAST_SUBPROCESS_CASES, ids=str)
def test_a_subprocess_backend_gives_callbacks_and_cache_hits_as_here(case, tmp_path):
    check_events(case, backend=SubprocessBackend(), cache=lambda: DiskCache(tmp_path / "c"))


def test_a_pipeline_defined_here_runs_in_a_clean_process_with_its_helpers(tmp_path):
    offset = 5

    def helper(x):
        return x * 2

    @node(output_name="y")
    def f(x):
        return helper(x) + offset

    pipeline = Pipeline([f]).with_backend(SubprocessBackend())
    assert pipeline.run({"x": 1}) == {"y": 7}
    assert pipeline.map({"x": [1, 2]}) == {"y": [7, 9]}


class Boom(Exception):
    def __init__(self, code, detail):
        super().__init__(f"code={code}")
        self.code = code
        self.detail = detail


def test_an_error_in_the_subprocess_comes_back_as_itself_with_notes_and_the_remote_traceback():
    @node(output_name="y")
    def explode(x):
        raise Boom(x, "bad")

    log = EventLog()
    pipeline = Pipeline([explode], name="p", callbacks=[log]).with_backend(SubprocessBackend())
    with pytest.raises(Boom, match="code=3") as info:
        pipeline.run({"x": 3})
    assert info.value.code == 3
    notes = "\n".join(info.value.__notes__)
    assert "hypernodes: in node 'explode' of pipeline 'p'" in notes
    assert "raised in a subprocess; remote traceback" in notes
    assert "in explode" in notes  # the frame of the node, from the far side
    hooks = [e[0] for e in log.events]
    assert hooks == ["on_pipeline_start", "on_node_start", "on_error"]


def test_a_cache_used_in_the_subprocess_serves_the_next_run_here(tmp_path):
    calls = tmp_path / "calls"

    @node(output_name="y")
    def slow(x):
        with open(calls, "a") as file:
            file.write("x")
        return x + 1

    cache = DiskCache(tmp_path / "cache")
    Pipeline([slow], cache=cache).with_backend(SubprocessBackend()).run({"x": 1})
    assert Pipeline([slow], cache=cache).with_executor(SequentialNodeExecutor()).run({"x": 1}) == {
        "y": 2
    }
    assert calls.read_text() == "x"


def test_a_remote_run_of_a_holistic_executor_uses_the_executors_own_backend_there():
    @node(output_name="y")
    def inc(x):
        return x + 1

    inner = Pipeline([inc], name="inner", backend=SubprocessBackend())
    outer = Pipeline([inner.as_node(map_over="x")], name="outer").with_executor(ColumnExecutor())
    assert outer.run({"x": [1, 2]}) == {"y": [2, 3]}
