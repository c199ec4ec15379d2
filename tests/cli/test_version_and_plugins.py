"""``hypernodes --version`` and ``hypernodes plugins`` (whose exit code CI can rely on)."""

from __future__ import annotations

import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from ..plugins.fakedist import write_distribution
from .conftest import cli_env

GOOD_PLUGIN = """
from hypernodes import hookimpl

@hookimpl
def register_caches(register):
    register("shelf", "hypernodes:MemoryCache")
"""


def hypernodes(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hypernodes", *args],
        capture_output=True,
        text=True,
        env=cli_env(PYTHONPATH=str(site)),
        timeout=120,
        check=False,
    )


def test_version_names_core_each_plugin_distribution_and_python(tmp_path):
    write_distribution(
        tmp_path, "acme-shelf", {"shelf": "acme_shelf"}, {"acme_shelf": GOOD_PLUGIN}, "2.5"
    )
    done = hypernodes(tmp_path, "--version")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"hypernodes-core {metadata.version('hypernodes-core')}"
    assert "acme-shelf 2.5 (plugin shelf)" in lines
    assert lines[-1] == f"Python {sys.version.split()[0]}"
    try:
        rich = metadata.version("hypernodes-rich")
    except metadata.PackageNotFoundError:
        pytest.skip("hypernodes-rich is not installed")
    assert f"hypernodes-rich {rich} (plugin rich)" in lines


def test_plugins_exits_0_when_every_plugin_loads(tmp_path):
    write_distribution(tmp_path, "acme-shelf", {"shelf": "acme_shelf"}, {"acme_shelf": GOOD_PLUGIN})
    done = hypernodes(tmp_path, "plugins")
    assert done.returncode == 0, done.stderr
    assert "caches: shelf  [ok]" in done.stdout


def test_plugins_exits_1_when_a_plugin_is_broken(tmp_path):
    write_distribution(
        tmp_path,
        "acme-broken",
        {"broken": "acme_broken"},
        {"acme_broken": "raise RuntimeError('no')"},
    )
    for args in (["plugins"], ["plugins", "--json"]):
        done = hypernodes(tmp_path, *args)
        assert done.returncode == 1
        assert "BROKEN: plugin 'broken' from acme-broken" in done.stderr
        assert "RuntimeError: no" in done.stderr


def test_plugins_exits_1_when_two_plugins_claim_one_name(tmp_path):
    write_distribution(tmp_path, "acme-shelf", {"shelf": "acme_shelf"}, {"acme_shelf": GOOD_PLUGIN})
    write_distribution(
        tmp_path, "other-shelf", {"other": "other_shelf"}, {"other_shelf": GOOD_PLUGIN}
    )
    done = hypernodes(tmp_path, "plugins")
    assert done.returncode == 1
    assert "CONFLICT: cache 'shelf' is registered by acme-shelf and other-shelf" in done.stderr
    assert "CONFLICT" in done.stdout  # the listing shows it too
