"""In Jupyter, the display is one output updated in place, and the saved notebook keeps it.

Runs a real kernel (nbclient + ipykernel), saves the executed notebook, reads
it back and looks at what a person opening the file would see.
"""

from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

SETUP = """
from hypernodes import Pipeline, node

@node(output_name="doubled")
def double(x: int) -> int:
    if x == 13:
        raise ValueError("13 is unlucky")
    return 2 * x

pipeline = Pipeline([double], name="doubler", callbacks=["progress"])
"""


def _saved_outputs(tmp_path, *cells: str) -> list[list[dict]]:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbclient.NotebookClient(
        notebook, timeout=60, kernel_name="python3", allow_errors=True
    ).execute()
    path = tmp_path / "executed.ipynb"
    nbformat.write(notebook, path)
    return [cell.outputs for cell in nbformat.read(path, as_version=4).cells]


def test_the_executed_and_saved_notebook_shows_the_final_state(tmp_path):
    _, succeeded, failed = _saved_outputs(
        tmp_path,
        SETUP,
        'pipeline.map({"x": [1, 2, 3]})["doubled"]',
        'pipeline.map({"x": [12, 13, 14]})',
    )
    text = "".join(str(output) for output in succeeded + failed)
    assert "ipywidgets" not in text  # no warning, no empty widget

    [display, result] = succeeded
    assert display["output_type"] == "display_data"  # one output, updated in place
    assert result["data"]["text/plain"] == "[2, 4, 6]"
    frame = display["data"]["text/plain"].splitlines()
    assert frame[0].split()[::2] == ["doubler", "3/3"]  # label, bar, count, time
    assert frame[1] == "  double ✓3"
    assert "3/3" in display["data"]["text/html"]

    [display, error] = failed
    assert error["ename"] == "ValueError"
    frame = display["data"]["text/plain"].splitlines()
    assert frame[0].endswith("✗ failed")
    assert frame[1] == "  double ✗ ✓1"
    assert frame[-1] == "✗ node 'double' failed in doubler, map item 1: ValueError: 13 is unlucky"
