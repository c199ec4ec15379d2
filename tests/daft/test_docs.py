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
