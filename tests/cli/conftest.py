"""Run the command line for real: a fresh ``python -m hypernodes`` process per call."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest

PIPES = """
from hypernodes import Pipeline, node


@node(output_name="clean")
def normalize(text: str, suffix: str = "") -> str:
    return text.strip().lower() + suffix


@node(output_name="n_words")
def count_words(clean: str) -> int:
    return len(clean.split())


per_doc = Pipeline([normalize, count_words], name="per_doc")


@node(output_name="ratio")
def divide(a: float, b: float) -> float:
    return a / b


division = Pipeline([divide], name="division")
inverted = Pipeline(
    [division.as_node(name="divide_all", map_over="b")], name="inverted"
)


@node(output_name="things")
def make_things(n: int) -> dict:
    return {"a_set": {n}, "a_tuple": (n, n), "nan": float("nan"), "fine": [n]}


odd = Pipeline([make_things], name="odd")


@node(output_name="loud")
def shout(text: str) -> str:
    print("a node printing", text)
    return text.upper()


noisy = Pipeline([shout], name="noisy")
not_a_pipeline = 42
"""


def cli_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERNODES_")}
    env.update(extra)
    return env


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A folder holding ``pipes.py``, used as the current directory."""
    (tmp_path / "pipes.py").write_text(textwrap.dedent(PIPES))
    return tmp_path


@pytest.fixture
def cli(project: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli("run", "pipes:per_doc", ...)``: run ``python -m hypernodes`` in the project folder."""

    def run(
        *args: str, env: dict[str, str] | None = None, script: bool = False
    ) -> subprocess.CompletedProcess[str]:
        # script=True: the `hypernodes` console script instead of `python -m hypernodes`
        command = (
            [str(Path(sys.executable).parent / "hypernodes")]
            if script
            else [
                sys.executable,
                "-m",
                "hypernodes",
            ]
        )
        return subprocess.run(
            [*command, *args],
            capture_output=True,
            text=True,
            cwd=project,
            env=env or cli_env(),
            timeout=120,
            check=False,
        )

    return run
