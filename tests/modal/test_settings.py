"""ModalBackend's configuration: checked here, turned into real Modal objects offline,
picklable, and reachable by name once the plugin is installed."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from importlib import metadata

import cloudpickle
import modal
import pytest
from hypernodes import Pipeline, node
from hypernodes_modal.backend import ModalBackend
from hypernodes_modal.errors import ModalSettingsError


@node(output_name="y")
def double(x):
    return 2 * x


# -- GPU strings ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("A100", "A100"),
        ("a100-80gb", "A100-80GB"),
        ("h100:2", "H100:2"),
        (" L40S ", "L40S"),
        ("A10:4", "A10:4"),
        ("b200+", "B200+"),
        (["H100", "a100:1"], ["H100", "A100:1"]),
        (None, None),
    ],
)
def test_a_gpu_request_is_accepted_in_any_case_and_given_in_modals_spelling(given, expected):
    assert ModalBackend(gpu=given).gpu == expected
    assert ModalBackend(gpu=given).function_options["gpu"] == expected


def test_an_unknown_gpu_type_is_refused_with_the_valid_ones_listed():
    with pytest.raises(ModalSettingsError) as info:
        ModalBackend(gpu="NOPE")
    message = str(info.value)
    assert "Unknown GPU type 'NOPE'" in message
    assert "T4, L4, A10" in message
    assert "':N' for N GPUs per container" in message


def test_a_near_miss_gpu_type_gets_a_suggestion():
    with pytest.raises(ModalSettingsError, match="did you mean 'A100-80GB'"):
        ModalBackend(gpu="A100-80G")


@pytest.mark.parametrize("gpu", ["H100:0", "H100:9", "A10:5", "T4:two", "T4:"])
def test_a_gpu_count_out_of_range_or_not_a_number_is_refused(gpu):
    with pytest.raises(ModalSettingsError, match="count after ':'"):
        ModalBackend(gpu=gpu)


@pytest.mark.parametrize("gpu", [1, [], ["A100", 3]])
def test_a_gpu_that_is_not_a_string_is_refused(gpu):
    with pytest.raises(ModalSettingsError, match="gpu"):
        ModalBackend(gpu=gpu)


# -- other settings --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"timeout": 0}, "timeout must be 1 to 86400"),
        ({"cpu": 0}, "cpu must be cores"),
        ({"cpu": "2"}, "cpu must be cores"),
        ({"memory": "8GB"}, "memory must be MiB"),
        ({"memory": (1024, 0)}, "memory must be MiB"),
        ({"timeout": 1.5}, "timeout must be whole seconds"),
        ({"max_containers": 0}, "max_containers must be an int >= 1"),
        ({"retries": -1}, "retries must be >= 0"),
        ({"volumes": {"cache": object()}}, "canonical, absolute path"),
        ({"app_name": ""}, "app_name"),
        ({"transport": b"bytes"}, "transport must be a callable"),
    ],
)
def test_settings_modal_would_refuse_late_are_refused_at_construction(settings, words):
    with pytest.raises(ModalSettingsError, match=words):
        ModalBackend(**settings)


_VOLUME = modal.Volume.from_name("hypernodes-test-cache", create_if_missing=True)


@pytest.mark.parametrize(
    ("settings", "words"),
    [
        ({"cpu": (2.0, 1.0)}, r"cpu=\(request, limit\) needs a limit at least the request"),
        ({"memory": (4096, 1024)}, r"memory=\(request, limit\) needs a limit at least"),
        ({"cpu": float("inf")}, "cpu must be cores [(]a finite number"),
        ({"cpu": float("nan")}, "cpu must be cores [(]a finite number"),
        ({"cpu": (1.0, float("inf"))}, "cpu must be cores [(]a finite number"),
        ({"volumes": {"/": _VOLUME}}, "does not mount a volume at '/'"),
        ({"volumes": {"/tmp": _VOLUME}}, "does not mount a volume at '/tmp'"),
        ({"volumes": {"/a/../b": _VOLUME}}, "'/a/../b' must be a canonical, absolute path"),
        ({"volumes": {"data": _VOLUME}}, "'data' must be a canonical, absolute path"),
        ({"volumes": {"/data": "my-volume"}}, r'modal.Volume.from_name\("my-volume"\)'),
        ({"volumes": {"/a": _VOLUME, "/b": _VOLUME}}, "one path per function"),
        ({"volumes": ["/data"]}, "volumes must map mount paths to volumes"),
        ({"env": {"N": 1}}, "env must map names [(]str[)] to values.*'N': int 1"),
        ({"env": "A=1"}, "env must map variable names to values"),
        ({"retries": "3"}, "retries must be a count.*got str '3'"),
        ({"retries": 1.5}, "retries must be a count.*got float 1.5"),
        ({"retries": True}, "retries must be a count.*got bool True"),
        ({"max_containers": True}, "max_containers must be an int >= 1"),
        (
            {"image": "python:3.11"},
            r'image must be a modal.Image.*Image.from_registry\("python:3.11"\)',
        ),
        ({"image": object()}, "image must be a modal.Image"),
        ({"secrets": modal.Secret.from_dict({"A": "1"})}, r"wrap it in a list, secrets=\[secret\]"),
        ({"secrets": ["API_KEY"]}, "secrets must be a list or tuple of modal.Secret"),
        ({"secrets": "API_KEY"}, "secrets must be a list or tuple of modal.Secret"),
    ],
)
def test_settings_modal_refuses_only_when_loading_the_function_are_refused_here(settings, words):
    with pytest.raises(ModalSettingsError, match=words):
        ModalBackend(**settings)


@pytest.mark.parametrize(
    "settings",
    [
        {"cpu": (1.0, 2.0), "memory": (1024, 4096)},
        {"cpu": (0.5, 0.5), "memory": (512, 512)},
        {"volumes": {"/data/": _VOLUME}},  # Modal reads it as /data
        {"volumes": {"/b": modal.CloudBucketMount("bucket")}},
        {"env": {"SET": "1", "SKIPPED": None}},  # Modal's own rule: None leaves a name unset
        {"retries": 0},
        {"retries": modal.Retries(max_retries=2)},
        {"secrets": (modal.Secret.from_dict({"A": "1"}),)},
        {"image": modal.Image.debian_slim()},
    ],
)
def test_settings_modal_accepts_build_the_real_modal_function(settings):
    assert ModalBackend(**settings).modal_function is not None  # Modal's own checks pass


def test_the_function_options_are_a_plain_mapping_of_what_is_deployed():
    volume = modal.Volume.from_name("hypernodes-test-cache", create_if_missing=True)
    secret = modal.Secret.from_dict({"API_KEY": "not-a-real-key"})
    backend = ModalBackend(
        gpu="a10g",
        cpu=2.0,
        memory=4096,
        volumes={"/cache": volume},
        secrets=[secret],
        timeout=900,
        retries=3,
        max_containers=5,
        env={"MODE": "test"},
    )
    assert backend.function_options == {
        "gpu": "A10G",
        "cpu": 2.0,
        "memory": 4096,
        "volumes": {"/cache": volume},
        "secrets": [secret],
        "env": {"MODE": "test"},
        "timeout": 900,
        "retries": 3,
        "max_containers": 5,
        "serialized": True,
        "name": "hypernodes_run",
    }
    backend.function_options["gpu"] = "T4"  # a copy: inspecting it changes nothing
    assert backend.gpu == "A10G"


def test_the_real_modal_function_is_built_offline_with_those_options():
    volume = modal.Volume.from_name("hypernodes-test-cache", create_if_missing=True)
    backend = ModalBackend(
        gpu="h100:2",
        cpu=4.0,
        memory=8192,
        volumes={"/cache": volume},
        secrets=[modal.Secret.from_dict({"API_KEY": "x"})],
        timeout=600,
        retries=2,
        app_name="my-app",
    )
    assert isinstance(backend.modal_app, modal.App)
    assert backend.modal_app.name == "my-app"
    assert isinstance(backend.modal_image, modal.Image)
    assert isinstance(backend.modal_function, modal.Function)
    info = backend.modal_function.info()  # what the function was declared with, no request
    assert info.gpus == [("H100", 2)]
    assert (info.cpu, info.memory_mib, info.timeout, info.max_retries) == (4.0, 8192, 600, 2)
    assert list(info.volumes) == ["/cache"]
    assert info.volumes["/cache"].name == "hypernodes-test-cache"
    assert len(info.secrets) == 1
    assert backend.modal_function is backend.modal_function  # built once


def test_the_environment_is_a_secret_of_the_function_not_part_of_any_payload():
    backend = ModalBackend(env={"MODE": "test"})
    assert len(backend.modal_function.info().secrets) == 1


def test_the_image_recipe_pins_python_cloudpickle_and_hypernodes_to_this_process():
    recipe = ModalBackend().image_recipe
    assert recipe["python_version"] == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"cloudpickle=={cloudpickle.__version__}" in recipe["pip"]
    # This checkout is installed from its source folders (editable): the index has no such
    # build, so the packages travel as source and their own requirements are installed.
    assert {"hypernodes", "hypernodes_modal"} <= set(recipe["local_packages"])
    assert any(r.startswith("pluggy") for r in recipe["pip"])
    assert not any(r.startswith(("modal", "hypernodes")) for r in recipe["pip"])


def test_a_plugin_in_use_here_is_part_of_the_image():
    import hypernodes_rich.progress  # noqa: F401 - in use: the rich progress display

    assert "hypernodes_rich" in ModalBackend().image_recipe["local_packages"]


def test_the_recipe_of_an_installed_release_pins_versions():
    """A distribution installed from the index (not from a source folder) is pinned."""
    code = (
        "import json, sys\n"
        "from importlib import metadata\n"
        "real = metadata.distribution\n"
        "class Released:\n"
        "    def __init__(self, d): self.d = d\n"
        "    version = property(lambda self: self.d.version)\n"
        "    requires = property(lambda self: self.d.requires)\n"
        "    def read_text(self, name): return None if name == 'direct_url.json' "
        "else self.d.read_text(name)\n"
        "metadata.distribution = lambda name: Released(real(name))\n"
        "from hypernodes_modal.backend import ModalBackend\n"
        "print(json.dumps(ModalBackend().image_recipe))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    recipe = json.loads(done.stdout)
    assert recipe["local_packages"] == []
    version = metadata.version("hypernodes-core")
    assert {f"hypernodes-core=={version}", f"hypernodes-modal=={version}"} <= set(recipe["pip"])


# -- pickling ------------------------------------------------------------------------


def test_the_backend_pickles_with_its_modal_objects_and_without_the_built_ones():
    backend = ModalBackend(
        gpu="T4",
        volumes={"/data": modal.Volume.from_name("v", create_if_missing=True)},
        secrets=[modal.Secret.from_dict({"K": "v"})],
        timeout=42,
    )
    backend.modal_function  # noqa: B018 - built: cannot be pickled with the standard library
    again = pickle.loads(pickle.dumps(backend))
    assert repr(again) == repr(backend)
    assert again.function_options["timeout"] == 42
    assert again.modal_function.info().gpus == [("T4", 1)]  # rebuilt where it landed


def test_a_pipeline_holding_the_backend_pickles_and_runs_after():
    from hypernodes_modal.testing import SubprocessTransport

    pipeline = Pipeline([double], backend=ModalBackend(gpu="A100", transport=SubprocessTransport()))
    again = cloudpickle.loads(cloudpickle.dumps(pipeline))
    assert again.effective_backend.gpu == "A100"
    assert again.run({"x": 4}) == {"y": 8}


def test_the_repr_shows_what_differs_from_the_defaults():
    assert repr(ModalBackend()) == "ModalBackend()"
    assert repr(ModalBackend(gpu="a100", timeout=60)) == "ModalBackend(gpu='A100', timeout=60)"


# -- the plugin ----------------------------------------------------------------------


def test_the_backend_is_reachable_by_name_and_from_hypernodes():
    import hypernodes

    assert hypernodes.ModalBackend is ModalBackend
    assert isinstance(Pipeline([double], backend="modal").effective_backend, ModalBackend)


def test_neither_the_plugin_nor_a_backend_imports_modal_until_objects_are_built():
    code = (
        "import sys, json\n"
        "from hypernodes._plugins.registry import registry\n"
        "registry().listing()\n"
        "after_listing = 'modal' in sys.modules\n"
        "from hypernodes import ModalBackend, Pipeline\n"
        "backend = ModalBackend(gpu='A100', timeout=60)\n"
        "options = backend.function_options\n"
        "after_backend = 'modal' in sys.modules\n"
        "backend.modal_function\n"
        "print(json.dumps([after_listing, after_backend, 'modal' in sys.modules]))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [False, False, True]


def test_the_plugin_is_listed_as_providing_the_modal_backend():
    done = subprocess.run(
        [sys.executable, "-m", "hypernodes", "plugins", "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["distribution"]: row for row in json.loads(done.stdout)}
    assert rows["hypernodes-modal"]["backends"] == ["modal"]
    assert rows["hypernodes-modal"]["status"] == "ok"


def test_a_hypernodes_retries_is_mapped_onto_modals_own_retries():
    from hypernodes import Retries

    backend = ModalBackend(retries=Retries(max=4, backoff=2.0, max_delay=300))
    assert backend.modal_function.info().max_retries == 4  # Modal's own policy, offline
