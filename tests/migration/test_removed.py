"""HyperNodes 0.4 names with no stand-in: importing one raises an ImportError that names
the replacement and the section of docs/migration.md that explains it."""

from __future__ import annotations

import importlib

import hypernodes
import pytest

from .guide import assert_points_at_guide

REMOVED = [
    ("hypernodes", "DualNode", "batch"),
    ("hypernodes", "HyperNode", "PipelineNode"),
    ("hypernodes", "GraphvizTheme", "to_dot"),
    ("hypernodes", "DESIGN_STYLES", "to_dot"),
    ("hypernodes", "ExecutionError", "own exception"),
    ("hypernodes", "DaftEngine", "DaftExecutor"),
    ("hypernodes.engines", "DaftEngine", "DaftExecutor"),
    ("hypernodes.engines", "DaskEngine", "map_executor"),
    ("hypernodes.integrations.daft", "DaftEngine", "pip install 'hypernodes[daft]'"),
    ("hypernodes.integrations.dask", "DaskEngine", "executor='threads'"),
    ("hypernodes.protocols", "Engine", "ExecutorStrategy"),
    ("hypernodes.dual_node", "DualNode", "batch"),
    ("hypernodes.batch_adapter", "batch_optimized", "batch"),
    ("hypernodes.hypernode", "HyperNode", "PipelineNode"),
    ("hypernodes.cache", "Cache", "contains()"),
    ("hypernodes.viz", "GraphvizTheme", "to_dot"),
    ("hypernodes.exceptions", "ExecutionError", "own exception"),
]


@pytest.mark.parametrize(("module", "name", "replacement"), REMOVED)
def test_from_import_of_a_removed_name_names_its_replacement_and_the_guide(
    module, name, replacement
):
    with pytest.raises(ImportError) as error:
        exec(f"from {module} import {name}", {})
    message = str(error.value)
    assert replacement in message
    assert_points_at_guide(message)


@pytest.mark.parametrize(("module", "name", "replacement"), REMOVED)
def test_attribute_access_to_a_removed_name_raises_the_same(module, name, replacement):
    with pytest.raises(ImportError, match=name):
        getattr(importlib.import_module(module), name)


def test_a_name_a_04_module_had_without_a_counterpart_points_at_the_old_modules_table():
    with pytest.raises(ImportError, match="hypernodes.viz") as error:
        from hypernodes.viz import PipelineWidget  # noqa: F401
    assert "#old-modules" in str(error.value)
    assert_points_at_guide(str(error.value))


def test_an_04_module_answers_dunder_lookups_like_any_module():
    viz = importlib.import_module("hypernodes.viz")
    assert not hasattr(viz, "__all__")
    assert "migration" in (viz.__doc__ or "")


def test_modules_and_names_that_never_existed_fail_as_usual():
    with pytest.raises(ModuleNotFoundError, match="No module named 'hypernodes.not_a_module'"):
        importlib.import_module("hypernodes.not_a_module")
    assert not hasattr(hypernodes, "NotAName")
    with pytest.raises(AttributeError, match="has no attribute 'NotAName'"):
        hypernodes.NotAName  # noqa: B018


def test_real_modules_are_never_replaced_by_a_stand_in():
    assert hasattr(importlib.import_module("hypernodes.callbacks"), "PipelineCallback")
    assert importlib.import_module("hypernodes.errors").__file__ is not None
