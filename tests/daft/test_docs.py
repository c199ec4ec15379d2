"""The first example of docs/daft.md runs and gives what its comment says."""

from __future__ import annotations

import re
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "daft.md"


def test_the_first_example_of_the_daft_page_runs():
    block = re.search(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert block is not None
    namespace: dict[str, object] = {}
    exec(block.group(1), namespace)
    pipeline = namespace["pipeline"]
    assert pipeline.map({"text": ["a b", "c d e"]}) == {  # type: ignore[attr-defined]
        "tokens": [["a", "b"], ["c", "d", "e"]],
        "count": [2, 3],
    }


def test_the_examples_print_what_the_page_shows(capsys):
    """Each ``# ...`` line right after a ``print(...)`` is what that print shows; the
    blocks with a print run in order, in one namespace."""
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    shown = [block for block in blocks if "print(" in block]
    assert len(shown) >= 2
    namespace: dict[str, object] = {}
    for block in shown:
        expected, previous = [], ""
        for line in block.splitlines():
            if line.startswith("# ") and previous.startswith("print("):
                expected.append(line[2:])
            else:
                previous = line
        exec(block, namespace)
        assert capsys.readouterr().out.splitlines() == expected
