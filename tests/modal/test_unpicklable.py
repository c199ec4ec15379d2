"""Work that cannot be pickled is refused here, before any call, with a TypeError naming
the value: the input, bound input, default value, global or closure variable."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from hypernodes import Pipeline, node
from hypernodes_modal.backend import ModalBackend

LOCK = threading.Lock()
CONNECTION = sqlite3.connect(":memory:")


def refuse(request):
    raise AssertionError("nothing is sent when the work does not pickle")


def backend(distribute=False):
    return ModalBackend(transport=refuse, distribute_map=distribute)


@node(output_name="y")
def uses_db(x, db):
    return x


@node(output_name="y")
def default_connection(x, conn=CONNECTION):
    return x


@node(output_name="y")
def reads_global_lock(x):
    with LOCK:
        return x


def locked(x):
    with LOCK:
        return x


@node(output_name="y")
def calls_a_helper(x):
    return locked(x)


def closure_node():
    lock = threading.Lock()

    @node(output_name="y")
    def holds_lock(x):
        with lock:
            return x

    return holds_lock


def run(pipeline, how):
    if how == "run":
        return pipeline.run({"x": 1})
    return pipeline.map({"x": [1, 2]}, map_over="x")


@pytest.mark.parametrize(("how", "distribute"), [("run", False), ("map", False), ("map", True)])
def test_an_unpicklable_bound_input_is_named(how, distribute):
    pipeline = Pipeline([uses_db], name="p2", backend=backend(distribute)).bind(db=CONNECTION)
    with pytest.raises(TypeError) as info:
        run(pipeline, how)
    message = str(info.value)
    assert "bound input 'db' of pipeline 'p2'" in message
    assert "Connection" in message
    assert isinstance(info.value.__cause__, TypeError)  # the pickling error itself


def test_an_unpicklable_input_given_to_the_run_is_named():
    pipeline = Pipeline([uses_db], name="p", backend=backend())
    with pytest.raises(TypeError, match="input 'db'"):
        pipeline.run({"x": 1, "db": CONNECTION})


@pytest.mark.parametrize(
    ("step", "words"),
    [
        (default_connection, "default value of parameter 'conn' of node 'default_connection'"),
        (reads_global_lock, "global 'LOCK' used by node 'reads_global_lock'"),
        (calls_a_helper, "global 'LOCK' used by function 'locked' used by node 'calls_a_helper'"),
        (closure_node(), "closure variable 'lock' used by node 'holds_lock'"),
    ],
)
@pytest.mark.parametrize("distribute", [False, True])
def test_an_unpicklable_value_a_node_holds_is_named_with_the_node(step, words, distribute):
    pipeline = Pipeline([step], name="p", backend=backend(distribute))
    with pytest.raises(TypeError, match=words):
        run(pipeline, "map" if distribute else "run")


def test_a_value_bound_in_a_nested_pipeline_is_named_with_that_pipeline():
    inner = Pipeline([uses_db], name="inner").bind(db=CONNECTION)
    outer = Pipeline([inner.as_node(name="nested")], name="outer", backend=backend())
    with pytest.raises(TypeError, match="bound input 'db' of pipeline 'inner'"):
        outer.run({"x": 1})
