"""The container's side and what can go wrong around it: payloads that do not unpack,
credentials, volumes, CUDA tensors, work that cannot be sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
import types

import pytest
from hypernodes import DiskCache, Pipeline, node
from hypernodes_modal import _wire
from hypernodes_modal._remote import serve
from hypernodes_modal.backend import ModalBackend
from hypernodes_modal.errors import PayloadError
from hypernodes_modal.testing import SubprocessTransport


@node(output_name="y")
def passthrough(x):
    return x


# -- payloads that do not unpack there ------------------------------------------------


def test_a_payload_needing_a_module_missing_from_the_image_says_which_and_what_to_do(
    monkeypatch,
):
    missing = types.ModuleType("hn_only_here")  # importable here, installed nowhere

    class Widget:
        pass

    Widget.__module__, Widget.__qualname__ = "hn_only_here", "Widget"
    missing.Widget = Widget
    monkeypatch.setitem(sys.modules, "hn_only_here", missing)
    pipeline = Pipeline([passthrough], backend=ModalBackend(transport=SubprocessTransport()))
    with pytest.raises(PayloadError) as info:
        pipeline.run({"x": Widget()})
    message = str(info.value)
    assert "(most likely while unpacking it): ModuleNotFoundError" in message
    assert "Module 'hn_only_here' is used by the pipeline but is not installed" in message
    assert 'pip_install("hn_only_here")' in message
    assert "remote traceback" in info.value.__notes__[0]


def test_a_payload_from_another_python_explains_the_version_mismatch():
    """What the container answers when a payload pickled by Python 3.10 does not unpack."""
    error = AttributeError("Can't get attribute '_make_function' on <module 'cloudpickle'>")
    client = {"python": "3.10.14", "cloudpickle": "2.2.1", "hypernodes-core": "0.0.9"}
    with pytest.raises(PayloadError) as info:
        _wire.read_response(_wire.failure(error, client), "Modal function 'f'")
    message = str(info.value)
    local = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert "This process runs Python 3.10.14 and the container Python" in message
    assert 'python_version="3.10"' in message
    assert local in message
    assert "cloudpickle is 2.2.1 here" in message
    assert "hypernodes-core is 0.0.9 here" in message


def test_a_request_the_container_cannot_read_is_explained():
    def garbled(request):
        return SubprocessTransport()(b"garbage" + request)

    pipeline = Pipeline([passthrough], backend=ModalBackend(transport=garbled))
    with pytest.raises(PayloadError, match="not a hypernodes-modal request"):
        pipeline.run({"x": 1})


def test_an_answer_that_is_not_a_response_is_explained():
    pipeline = Pipeline([passthrough], backend=ModalBackend(transport=lambda request: b"<html>"))
    with pytest.raises(PayloadError, match="not a hypernodes-modal response"):
        pipeline.run({"x": 1})


def test_work_that_cannot_be_pickled_is_refused_here_naming_the_input():
    pipeline = Pipeline([passthrough], backend=ModalBackend(transport=SubprocessTransport()))
    with pytest.raises(TypeError, match="Cannot send the work to Modal function .*input 'x'"):
        pipeline.run({"x": threading.Lock()})


def test_an_executor_that_translates_the_whole_pipeline_is_refused_before_sending():
    from tests.engine.reference import ColumnExecutor

    pipeline = Pipeline([passthrough], backend=ModalBackend(transport=SubprocessTransport()))
    with pytest.raises(TypeError, match="ModalBackend runs task executors"):
        pipeline.with_executor(ColumnExecutor()).run({"x": 1})


# -- credentials ---------------------------------------------------------------------


def run_without_credentials(tmp_path, body, extra_env=None):
    """Run ``body`` in a process with no Modal credentials anywhere."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    env.update(HOME=str(tmp_path), MODAL_CONFIG_PATH=str(tmp_path / "absent.toml"))
    env.update(extra_env or {})
    code = textwrap.dedent(
        """
        import json, os, sys, threading
        from hypernodes import Pipeline, node
        from hypernodes_modal.backend import ModalBackend

        @node(output_name="y")
        def side_effect(x):
            open(sys.argv[1], "w").close()
            return x
        """
    ) + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "ran")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )


def test_no_credentials_is_a_clear_error_before_anything_is_packed_or_run(tmp_path):
    done = run_without_credentials(
        tmp_path,
        """
        try:
            # The input cannot even be pickled: the credentials are checked first.
            Pipeline([side_effect], backend=ModalBackend()).run({"x": threading.Lock()})
        except Exception as exc:
            print(json.dumps([type(exc).__name__, str(exc)]))
        """,
    )
    kind, message = json.loads(done.stdout)
    assert kind == "ModalCredentialsError"
    assert "nothing was sent to Modal" in message
    assert "`modal token new`" in message
    assert "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET" in message
    assert not (tmp_path / "ran").exists()


def test_keeping_an_app_running_needs_credentials_too(tmp_path):
    done = run_without_credentials(
        tmp_path,
        """
        try:
            with ModalBackend().running():
                pass
        except Exception as exc:
            print(type(exc).__name__)
        """,
    )
    assert done.stdout.strip() == "ModalCredentialsError"


def test_credentials_modal_refuses_are_a_clear_error_too(tmp_path):
    done = run_without_credentials(
        tmp_path,
        """
        import modal
        from modal.exception import AuthError

        def refuse(self, *args, **kwargs):
            raise AuthError("Token ID is malformed")

        modal.App.run = refuse
        try:
            Pipeline([side_effect], backend=ModalBackend()).run({"x": 1})
        except Exception as exc:
            print(json.dumps([type(exc).__name__, str(exc)]))
        """,
        extra_env={"MODAL_TOKEN_ID": "ak-not-real", "MODAL_TOKEN_SECRET": "as-not-real"},
    )
    kind, message = json.loads(done.stdout)
    assert kind == "ModalCredentialsError"
    assert "Modal refused the credentials configured here (Token ID is malformed)" in message
    assert "`modal token new`" in message


# -- volumes: a DiskCache that persists in a modal.Volume --------------------------------


class FakeVolume:
    """Stands for a mounted modal.Volume: notes when it is reloaded and committed."""

    def __init__(self, journal, fail_commit=False, refuse_reloads=0):
        self.journal = journal
        self.fail_commit = fail_commit
        self.refuse_reloads = refuse_reloads

    def reload(self):
        if self.refuse_reloads:
            self.refuse_reloads -= 1
            raise RuntimeError("there are open files preventing the operation")
        with open(self.journal, "a") as file:
            file.write("reload ")

    def commit(self):
        with open(self.journal, "a") as file:
            file.write("commit ")
        if self.fail_commit:
            raise RuntimeError("volume busy")


def in_a_container(monkeypatch, volume):
    """A transport that runs the container's entry in this process, as in a container."""
    import modal

    monkeypatch.setattr(modal, "is_local", lambda: False)
    return lambda request: serve(request, [volume])


def test_a_disk_cache_on_a_volume_is_reloaded_before_and_committed_after_each_call(
    tmp_path, monkeypatch
):
    journal = tmp_path / "journal"

    @node(output_name="y")
    def compute(x):
        with open(journal, "a") as file:
            file.write("node ")
        return x + 1

    transport = in_a_container(monkeypatch, FakeVolume(journal))
    cache = DiskCache(tmp_path / "volume" / "cache")  # the path where the volume is mounted
    pipeline = Pipeline([compute], cache=cache, backend=ModalBackend(transport=transport))
    assert pipeline.run({"x": 1}) == {"y": 2}
    assert pipeline.run({"x": 1}) == {"y": 2}  # served from the cache on the volume
    assert journal.read_text().split() == ["reload", "node", "commit", "reload", "commit"]


def test_a_failed_commit_is_a_warning_and_the_results_still_come_back(tmp_path, monkeypatch):
    transport = in_a_container(monkeypatch, FakeVolume(tmp_path / "journal", fail_commit=True))
    pipeline = Pipeline([passthrough], backend=ModalBackend(transport=transport))
    with pytest.warns(UserWarning, match="Committing Modal volume .* failed: volume busy"):
        assert pipeline.run({"x": 3}) == {"y": 3}


def test_a_reload_refused_once_is_retried_and_one_refused_twice_is_a_warning(tmp_path, monkeypatch):
    journal = tmp_path / "journal"
    transport = in_a_container(monkeypatch, FakeVolume(journal, refuse_reloads=1))
    assert Pipeline([passthrough], backend=ModalBackend(transport=transport)).run({"x": 1})
    assert journal.read_text().split() == ["reload", "commit"]
    transport = in_a_container(monkeypatch, FakeVolume(journal, refuse_reloads=2))
    with pytest.warns(UserWarning, match="Reloading Modal volume .* failed .*open files"):
        assert Pipeline([passthrough], backend=ModalBackend(transport=transport)).run({"x": 2})


def test_volumes_are_left_alone_outside_a_container(tmp_path):
    journal = tmp_path / "journal"
    transport = lambda request: serve(request, [FakeVolume(journal)])  # noqa: E731
    assert Pipeline([passthrough], backend=ModalBackend(transport=transport)).run({"x": 1})
    assert not journal.exists()


# -- CUDA tensors: moved to the CPU there, so a client without a GPU can use them -------


def fake_torch():
    """A stand-in for torch. ``gpu_here`` tells whether this process has a GPU: a CUDA
    tensor unpickles only where there is one, as with torch."""
    torch = types.ModuleType("torch")
    torch.gpu_here = True

    class Device:
        def __init__(self, kind):
            self.type = kind

    class Tensor:
        def __init__(self, values, device="cpu"):
            self.values = list(values)
            self.device = Device(device)

        def cpu(self):
            return Tensor(self.values, "cpu")

        def __reduce_ex__(self, protocol):
            return (torch.rebuild, (self.values, self.device.type))

    class Parameter(Tensor):
        def __init__(self, data, requires_grad=True):
            super().__init__(data.values, data.device.type)
            self.requires_grad = requires_grad

        @property
        def data(self):
            return Tensor(self.values, self.device.type)

        def __reduce_ex__(self, protocol):
            return (Parameter, (self.data, self.requires_grad))

    def rebuild(values, device):
        if device != "cpu" and not torch.gpu_here:
            raise RuntimeError("Attempting to deserialize object on a CUDA device")
        return Tensor(values, device)

    nn = types.ModuleType("torch.nn")
    for kind, module in ((Tensor, torch), (Parameter, nn), (Device, torch)):
        kind.__module__, kind.__qualname__ = module.__name__, kind.__name__
        setattr(module, kind.__name__, kind)
    rebuild.__module__, rebuild.__qualname__ = "torch", "rebuild"
    torch.rebuild, torch.nn = rebuild, nn
    torch.cuda = types.SimpleNamespace(is_initialized=lambda: True)
    return torch


def gpu_container_then_cpu_client(request):
    """Runs the container's entry in this process as if it had a GPU, then answers to a
    client that has none."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.gpu_here = True
    response = serve(request)
    sys.modules["torch"].gpu_here = False
    return response


@pytest.fixture
def no_torch_after(monkeypatch):
    """Whatever a test puts under sys.modules['torch'] is gone after it."""
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.setitem(sys.modules, "torch.nn", None)
    del sys.modules["torch"], sys.modules["torch.nn"]


def test_cuda_tensors_in_the_results_come_back_on_the_cpu(no_torch_after):
    import copyreg

    torch = fake_torch()
    sys.modules["torch"], sys.modules["torch.nn"] = torch, torch.nn

    @node(output_name=("vector", "weight"))
    def on_gpu(n):
        vector = torch.Tensor(range(n), device="cuda")
        return vector, torch.nn.Parameter(vector, requires_grad=False)

    backend = ModalBackend(transport=gpu_container_then_cpu_client)
    result = Pipeline([on_gpu], backend=backend).run({"n": 3})
    assert (result["vector"].device.type, result["vector"].values) == ("cpu", [0, 1, 2])
    weight = result["weight"]
    assert (type(weight).__name__, weight.device.type, weight.requires_grad) == (
        "Parameter",
        "cpu",
        False,
    )
    assert torch.Tensor not in copyreg.dispatch_table  # pickling here is as it was


def test_cuda_tensors_come_back_on_the_cpu_when_the_nodes_load_torch_themselves(
    no_torch_after,
):
    import copyreg

    @node(output_name="vector")
    def on_gpu(n):
        torch = fake_torch()  # what `import torch` in the node does there
        sys.modules["torch"], sys.modules["torch.nn"] = torch, torch.nn
        return torch.Tensor(range(n), device="cuda")

    backend = ModalBackend(transport=gpu_container_then_cpu_client)
    vector = Pipeline([on_gpu], backend=backend).run({"n": 2})["vector"]
    assert (vector.device.type, vector.values) == ("cpu", [0, 1])
    assert sys.modules["torch"].Tensor not in copyreg.dispatch_table
