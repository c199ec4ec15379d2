"""Names, classes and instances resolve everywhere a user configures something."""

from __future__ import annotations

import hypernodes
import hypernodes.executor
import hypernodes.telemetry
import pytest
from hypernodes import (
    LocalBackend,
    Pipeline,
    PipelineCallback,
    get_default_config,
    node,
    set_default_config,
)
from hypernodes._plugins import registry as registry_module
from hypernodes.errors import MissingPluginError, UnknownNameError, suggest
from hypernodes.executor import SequentialNodeExecutor

from .fakedist import run_python, write_distribution


@node(output_name="y")
def inc(x):
    return x + 1


@pytest.mark.parametrize("value", ["sequential", SequentialNodeExecutor, SequentialNodeExecutor()])
def test_an_executor_may_be_a_name_a_class_or_an_instance(value):
    pipeline = Pipeline([inc], executor=value)
    assert type(pipeline.effective_executor) is SequentialNodeExecutor
    assert pipeline.run({"x": 1}) == {"y": 2}


def test_an_instance_is_used_as_it_is():
    executor = SequentialNodeExecutor()
    assert Pipeline([inc], executor=executor).effective_executor is executor


def test_backend_names_resolve():
    assert isinstance(Pipeline([inc], backend="local").effective_backend, LocalBackend)


def test_names_resolve_in_set_default_config():
    set_default_config(executor="sequential", backend="local")
    config = get_default_config()
    assert isinstance(config.executor, SequentialNodeExecutor)
    assert isinstance(config.backend, LocalBackend)


def test_names_resolve_in_as_node_and_the_with_setters():
    inner = Pipeline([inc])
    wrapped = inner.as_node(executor="sequential", backend="local")
    assert isinstance(wrapped._executor, SequentialNodeExecutor)
    assert wrapped.with_executor("sequential") is wrapped
    assert inner.with_backend("local") is inner
    assert isinstance(inner.effective_backend, LocalBackend)


def test_callbacks_may_be_classes_or_instances_in_a_list():
    class Quiet(PipelineCallback):
        pass

    one = Quiet()
    callbacks = Pipeline([inc], callbacks=[Quiet, one]).effective_callbacks
    assert isinstance(callbacks[0], Quiet)
    assert callbacks[1] is one


def test_an_unknown_name_lists_what_is_available_and_suggests():
    with pytest.raises(UnknownNameError) as info:
        Pipeline([inc], executor="sequentail")
    message = str(info.value)
    assert "did you mean 'sequential'" in message
    assert "Available executors: sequential" in message
    assert isinstance(info.value, LookupError)


def test_a_wrong_kind_of_object_is_a_type_error():
    with pytest.raises(
        TypeError, match="An executor must be a registered name, an ExecutorStrategy subclass"
    ):
        Pipeline([inc], executor=LocalBackend)
    with pytest.raises(TypeError, match="got 42"):
        Pipeline([inc], backend=42)


@pytest.fixture
def fresh_registry(monkeypatch):
    monkeypatch.setattr(registry_module, "_registry", registry_module.Registry())
    monkeypatch.setitem(
        registry_module.FIRST_PARTY["backend"], "cloudgpu", ("hypernodes-cloudgpu", "cloudgpu")
    )
    monkeypatch.setitem(
        registry_module.PROVIDED_ATTRIBUTES["hypernodes"],
        "CloudGPUBackend",
        ("backend", "cloudgpu"),
    )


@pytest.mark.usefixtures("fresh_registry")
def test_a_first_party_name_not_installed_says_which_distribution_and_the_command():
    with pytest.raises(UnknownNameError) as info:
        Pipeline([inc], backend="cloudgpu")
    assert "provided by hypernodes-cloudgpu, which is not installed" in str(info.value)
    assert "pip install 'hypernodes[cloudgpu]'" in str(info.value)


@pytest.mark.usefixtures("fresh_registry")
def test_a_plugin_class_on_a_core_module_is_resolved_or_explained():
    assert "CloudGPUBackend" in dir(hypernodes)
    with pytest.raises(MissingPluginError) as info:
        hypernodes.CloudGPUBackend  # noqa: B018
    assert "pip install 'hypernodes[cloudgpu]'" in str(info.value)
    assert isinstance(info.value, ImportError)
    with pytest.raises(ImportError, match="hypernodes-cloudgpu"):
        from hypernodes import CloudGPUBackend  # noqa: F401


def test_core_modules_list_the_plugin_classes_they_provide():
    assert {"ModalBackend", "DaftBackend", "hookimpl"} <= set(dir(hypernodes))
    assert "DaftExecutor" in dir(hypernodes.executor)
    assert "ProgressCallback" in dir(hypernodes.telemetry)


def test_an_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError):
        hypernodes.NoSuchThing  # noqa: B018
    assert not hasattr(hypernodes.executor, "NoSuchExecutor")


def test_import_hypernodes_stays_light():
    import subprocess
    import sys

    code = (
        "import sys, hypernodes; "
        "print(sorted(m for m in ('pluggy', 'modal', 'daft', 'ray', 'rich', 'asyncio', "
        "'hypernodes._plugins.builtin', 'hypernodes._plugins.registry', 'importlib.metadata') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_did_you_mean_never_suggests_the_name_typed_nor_one_name_twice():
    assert suggest("progress", ["progress", "progress", "local"]) == ""
    assert suggest("Progress", ["progress", "progress"]) == " (did you mean 'progress'?)"


def test_a_first_party_plugin_installed_without_the_name_says_so_without_did_you_mean(tmp_path):
    write_distribution(tmp_path, "hypernodes-cloudgpu", {}, {}, version="0.5.0")
    done = run_python(
        tmp_path,
        """
from hypernodes import Pipeline
from hypernodes._plugins import registry
registry.FIRST_PARTY["backend"]["cloudgpu"] = ("hypernodes-cloudgpu", "cloudgpu")
Pipeline([], backend="cloudgpu")
""",
    )
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("hypernodes.errors.UnknownNameError: No backend is registered")
    assert "did you mean" not in message
    assert "the installed hypernodes-cloudgpu 0.5.0 does not register it" in message
    assert "pip install -U 'hypernodes[cloudgpu]'" in message


def test_a_first_party_plugin_that_fails_to_load_says_why(tmp_path):
    write_distribution(
        tmp_path,
        "hypernodes-cloudgpu",
        {"cloudgpu": "cloudgpu_plugin"},
        {"cloudgpu_plugin": "raise ImportError('needs libcuda')\n"},
        version="0.5.0",
    )
    done = run_python(
        tmp_path,
        """
import warnings
warnings.simplefilter("ignore")
from hypernodes import Pipeline
from hypernodes._plugins import registry
registry.FIRST_PARTY["backend"]["cloudgpu"] = ("hypernodes-cloudgpu", "cloudgpu")
Pipeline([], backend="cloudgpu")
""",
    )
    message = done.stderr.strip().splitlines()[-1]
    assert "hypernodes-cloudgpu 0.5.0, which is installed but failed to load" in message
    assert "needs libcuda" in message
    assert "did you mean" not in message
