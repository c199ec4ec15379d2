"""The README's quick start runs as written and prints what it says."""

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


def test_readme_python_examples_give_the_results_they_show(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the examples write a cache directory
    text = README.read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    namespace: dict[str, object] = {}
    lines = "\n".join(blocks).splitlines()
    # Each "# {...}" / "# 5" comment line states the value of the expression above it.
    checked = 0
    source: list[str] = []
    for line in lines:
        if line.startswith("# ") and source and not line.startswith("# A "):
            expression = source.pop()
            exec("\n".join(source), namespace)
            source = []
            value = eval(expression.split("  #")[0], namespace)
            assert repr(value) == line[2:], expression
            checked += 1
        else:
            source.append(line)
    exec("\n".join(source), namespace)
    assert checked >= 5
