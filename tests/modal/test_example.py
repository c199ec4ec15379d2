"""examples/modal_gpu.py: without credentials it shows what it would deploy."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).parents[2] / "examples" / "modal_gpu.py"


def test_the_gpu_example_without_credentials_shows_its_configuration(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MODAL_")}
    env.update(HOME=str(tmp_path), MODAL_CONFIG_PATH=str(tmp_path / "absent.toml"))
    done = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    out = done.stdout
    assert "Not running on Modal" in out
    assert "`modal token new`" in out
    assert "The pipeline 'embed' would run in this Modal function:" in out
    assert "gpu            'A100'" in out
    assert "modal.Volume.from_name('hypernodes-cache')" in out
    assert "image          your image, then pip install cloudpickle==" in out
