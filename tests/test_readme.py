"""The README starts with the two commands that set everything up, and CI runs the second.

Its python blocks run, and give the values they show, with every page of the
docs (tests/test_docs.py).
"""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_starts_with_exactly_two_commands_and_ci_runs_the_second_verbatim():
    text = README.read_text()
    first_block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert first_block is not None
    commands = first_block.group(1).strip().splitlines()
    assert len(commands) == 2
    assert "examples/demo.py" in commands[0]
    assert commands[1].endswith("pytest")
    ci = (README.parent / ".ci" / "run").read_text()
    assert commands[1] in ci.splitlines()
