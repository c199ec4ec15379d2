"""Real runs on Modal: only where Modal credentials were given to pytest.

tests/conftest.py removes MODAL_TOKEN_ID and MODAL_TOKEN_SECRET from this
process so that no other test can reach Modal; these tests get them from the
`modal_credentials` fixture (skipping without them) and hand them to a child
process only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

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


def test_a_pipeline_runs_maps_and_nests_on_modal(tmp_path, modal_credentials):
    env = {**os.environ, **modal_credentials}
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
