"""The plugin's surface: names, backends, pickling, import cost, and the runner rules."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import pytest
from hypernodes import LocalBackend, Pipeline, node
from hypernodes.executor import DaftExecutor, SequentialNodeExecutor
from hypernodes_daft import DaftBackend, DaftRunnerError


@node(output_name="y")
def inc(x):
    return x + 1


def python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python (Daft's runner is set once per process)."""
    environment = {**os.environ, "DO_NOT_TRACK": "1", **env}
    if "DAFT_RUNNER" not in env:
        environment.pop("DAFT_RUNNER", None)
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        timeout=120,
        check=False,
    )


def test_the_names_daft_reach_the_executor_and_the_backend():
    pipeline = Pipeline([inc], executor="daft", backend="daft")
    assert isinstance(pipeline.effective_executor, DaftExecutor)
    assert pipeline.map({"x": [1, 2]}) == {"y": [2, 3]}


def test_left_unset_the_backend_is_daft_and_local_is_refused_by_name():
    assert Pipeline([inc], executor=DaftExecutor()).run({"x": 1}) == {"y": 2}
    with pytest.raises(TypeError, match="DaftBackend"):
        Pipeline([inc], executor=DaftExecutor(), backend=LocalBackend()).run({"x": 1})


def test_the_daft_backend_refuses_another_executor():
    pipeline = Pipeline([inc], executor=SequentialNodeExecutor(), backend=DaftBackend())
    with pytest.raises(TypeError, match="DaftBackend runs a DaftExecutor"):
        pipeline.run({"x": 1})


def test_the_executor_pickles_as_its_settings():
    executor = DaftExecutor(runner="ray", ray_address="ray://head:10001", max_retries=2)
    copy = pickle.loads(pickle.dumps(executor))
    assert repr(copy) == repr(executor)
    assert repr(copy) == (
        "DaftExecutor(runner='ray', ray_address='ray://head:10001', max_retries=2)"
    )


@pytest.mark.parametrize("runner", ["local", "native", "LOCAL"])
def test_local_is_an_alias_of_daft_s_native_runner(runner):
    assert DaftExecutor(runner=runner).runner == "native"


def test_an_unknown_runner_or_an_address_without_ray_is_refused():
    with pytest.raises(ValueError, match="'local'"):
        DaftExecutor(runner="dask")
    with pytest.raises(ValueError, match="runner='ray'"):
        DaftExecutor(runner="local", ray_address="ray://head:10001")
    assert DaftExecutor(ray_address="ray://head:10001").runner == "ray"


def test_importing_listing_and_configuring_import_neither_daft_nor_ray():
    done = python(
        "import json, sys, hypernodes\n"
        "from hypernodes import Pipeline, node\n"
        "from hypernodes._plugins.registry import registry\n"
        "names = registry().names('executor')\n"
        "pipeline = Pipeline([node(lambda x: x, output_name='y')], executor='daft')\n"
        "print(json.dumps(['daft' in names, type(pipeline.effective_executor).__name__,\n"
        "                  'daft' in sys.modules, 'ray' in sys.modules]))\n"
    )
    assert json.loads(done.stdout) == [True, "DaftExecutor", False, False], done.stderr


def test_asking_for_ray_where_the_native_runner_is_set_is_a_clear_error_and_starts_nothing():
    Pipeline([inc], executor=DaftExecutor()).run({"x": 1})  # the native runner is now set
    with pytest.raises(DaftRunnerError) as info:
        Pipeline([inc], executor=DaftExecutor(runner="ray")).run({"x": 1})
    message = str(info.value)
    assert "already 'native' (local)" in message
    assert "another Python process" in message
    assert "DaftExecutor(runner='local')" in message


def test_a_runner_set_by_the_user_is_respected():
    done = python(
        "import daft\n"
        "daft.set_runner_native()\n"
        "from hypernodes import Pipeline, node\n"
        "from hypernodes.executor import DaftExecutor\n"
        "print(Pipeline([node(lambda x: x + 1, output_name='y')], executor=DaftExecutor())"
        ".run({'x': 1}))\n"
    )
    assert done.stdout.strip() == "{'y': 2}", done.stderr


def test_daft_runner_in_the_environment_that_differs_is_refused_before_ray_starts():
    done = python(
        "import sys\n"
        "from hypernodes import Pipeline, node\n"
        "from hypernodes.executor import DaftExecutor\n"
        "from hypernodes_daft import DaftRunnerError\n"
        "try:\n"
        "    Pipeline([node(lambda x: x, output_name='y')], executor=DaftExecutor(runner='local'))"
        ".run({'x': 1})\n"
        "except DaftRunnerError as exc:\n"
        "    print('refused:', exc, 'ray' in sys.modules)\n",
        DAFT_RUNNER="ray",
    )
    assert "refused: DaftExecutor asks for Daft's 'native' runner" in done.stdout, done.stderr
    assert "DAFT_RUNNER='ray'" in done.stdout
    assert done.stdout.strip().endswith("False")
