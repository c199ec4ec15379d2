"""Write real installed distributions (``*.dist-info`` + modules) into a folder.

Plugin discovery is tested for real: ``importlib.metadata`` reads these
folders from ``sys.path`` in a subprocess, exactly as it reads pip-installed
distributions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write_distribution(
    site: Path,
    name: str,
    entry_points: dict[str, str],
    modules: dict[str, str],
    version: str = "1.0",
) -> None:
    """Create ``name-version.dist-info`` with the ``hypernodes`` entry points, plus modules."""
    info = site / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    lines = ["[hypernodes]", *(f"{k} = {v}" for k, v in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    for module, source in modules.items():
        (site / f"{module}.py").write_text(textwrap.dedent(source))


def run_python(site: Path, code: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``site`` on ``sys.path``."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HYPERNODES_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(site), environ.get("PYTHONPATH", "")])
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=False,
    )


def run_json(site: Path, code: str, **env: str) -> object:
    """Run ``code`` (which prints one JSON document last) and return the document."""
    done = run_python(site, code, **env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])
