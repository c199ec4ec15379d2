"""A representative subset of the conformance suite on Daft's Ray runner, in one process
of its own that starts a small local Ray (about 15 s), with nothing of the user's home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", reason="Ray is installed with hypernodes-daft[ray]")

SCRIPT = Path(__file__).with_name("ray_subset.py")


@pytest.fixture(scope="module")
def ray_results(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    env = {
        **os.environ,
        "HOME": str(home),
        "RAY_USAGE_STATS_ENABLED": "0",
        "DO_NOT_TRACK": "1",
        "RAY_ENABLE_UV_RUN_RUNTIME_ENV": "0",  # workers start as this Python, not `uv run`
        "RAY_DEDUP_LOGS": "0",
    }
    env.pop("DAFT_RUNNER", None)
    done = subprocess.run(
        [sys.executable, str(SCRIPT)],
        capture_output=True,
        text=True,
        env=env,
        cwd=home,
        timeout=300,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    report = f"the Ray subset failed:\n{done.stdout}\n{done.stderr}"
    assert done.returncode == 0, report
    assert lines, report
    return json.loads(lines[-1])


def test_the_conformance_subset_and_the_remote_protocol_pass_on_ray(ray_results):
    failed = {name: error for name, error in ray_results.items() if error != "ok"}
    assert not failed, "\n\n".join(f"{name}: {error}" for name, error in failed.items())
    assert len(ray_results) == 31
