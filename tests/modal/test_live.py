"""Real runs on Modal: only where Modal credentials were given to pytest.

tests/conftest.py removes MODAL_TOKEN_ID and MODAL_TOKEN_SECRET from this
process so that no other test can reach Modal; these tests read them from the
environment pytest was started with and hand them to a child process only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

NAMES = ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET")


def started_with() -> dict[str, str]:
    """The Modal credentials in the environment this process started with (Linux)."""
    found = {name: os.environ[name] for name in NAMES if name in os.environ}
    try:
        raw = Path("/proc/self/environ").read_bytes()
    except OSError:
        return found
    for entry in raw.split(b"\0"):
        name, _, value = entry.decode(errors="replace").partition("=")
        if name in NAMES:
            found.setdefault(name, value)
    return found


CREDENTIALS = started_with()
pytestmark = pytest.mark.skipif(
    set(CREDENTIALS) != set(NAMES),
    reason="a live Modal run needs MODAL_TOKEN_ID and MODAL_TOKEN_SECRET",
)

LIVE = """
import os
from hypernodes import Pipeline, node
from hypernodes_modal.backend import ModalBackend

@node(output_name="y")
def double(x):
    return 2 * x

@node(output_name="where")
def where(y):
    return os.environ.get("MODAL_TASK_ID", "here")

@node(output_name="total")
def total(ys):
    return sum(ys)

backend = ModalBackend(app_name="hypernodes-live-test", timeout=120)
inner = Pipeline([double, where], name="inner", backend=backend)
outer = Pipeline(
    [inner.as_node(input_mapping={"xs": "x"}, output_mapping={"y": "ys", "where": "wheres"},
                   map_over="xs"), total],
    name="outer",
)
with backend.running():
    assert inner.run({"x": 4})["y"] == 8
    result = outer.run({"xs": [1, 2, 3]})
    assert result["total"] == 12, result
    assert "here" not in result["wheres"], result
    spread = ModalBackend(app_name="hypernodes-live-test", distribute_map=True, max_containers=2)
    assert Pipeline([double], backend=spread).map({"x": list(range(10))}) == {
        "y": [2 * x for x in range(10)]
    }
print("live ok")
"""


def test_a_pipeline_runs_maps_and_nests_on_modal(tmp_path):
    env = {**os.environ, **CREDENTIALS}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(LIVE)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    assert "live ok" in done.stdout
