"""The page on seeing a pipeline shows what the code gives for the README's corpus pipeline."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "visualization.md"


def demo_corpus():
    spec = importlib.util.spec_from_file_location("_docs_demo", ROOT / "examples" / "demo.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.corpus


def test_the_summary_and_the_mermaid_on_the_page_are_what_the_demo_gives():
    text = PAGE.read_text()
    corpus = demo_corpus()
    shown_summary = re.search(r"\ncorpus.describe\(\)\n(.*?)```", text, re.S)
    assert shown_summary is not None
    lines = shown_summary.group(1).rstrip("\n").splitlines()
    assert "\n".join(line.removeprefix("# ") for line in lines) == corpus.describe()
    shown_mermaid = re.search(r"```mermaid\n(.*?)```", text, re.S)
    assert shown_mermaid is not None
    assert shown_mermaid.group(1) == corpus.to_mermaid()


def test_the_pipeline_the_page_defines_is_the_demos():
    # The page defines the pipeline itself, so that its blocks run as pasted (tests/test_docs.py).
    definition = re.search(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert definition is not None
    code_after_imports = definition.group(1).split("\n\n\n", 1)[1]
    assert code_after_imports in (ROOT / "examples" / "demo.py").read_text()


def test_the_drawings_the_page_shows_are_kept_in_docs_images():
    images = re.findall(r"!\[[^\]]*\]\((images/[^)]+\.svg)\)", PAGE.read_text())
    assert len(images) == 3
    for image in images:
        svg = (ROOT / "docs" / image).read_text()
        assert "<svg" in svg
        assert ">score_each</text>" in svg
