"""``visualize()``: Graphviz drawings for Jupyter and files, and what happens without Graphviz."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest
from hypernodes import Pipeline, node
from hypernodes.errors import HyperNodesError, MissingDependencyError

needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None,
    reason="the Graphviz program `dot` is not installed (apt-get install graphviz)",
)


@node(output_name="clean")
def normalize(text: str) -> str:
    return text.strip().lower()


@node(output_name="n_words")
def count_words(clean: str) -> int:
    return len(clean.split())


@pytest.fixture
def pipeline() -> Pipeline:
    pytest.importorskip("graphviz", reason="the graphviz package comes with hypernodes[viz]")
    return Pipeline([normalize, count_words], name="per_doc")


@needs_dot
def test_visualize_gives_an_svg_jupyter_shows_inline(pipeline):
    drawing = pipeline.visualize()
    svg = drawing._repr_svg_()
    assert svg.lstrip().startswith(("<?xml", "<svg", "<!DOCTYPE"))
    for text in ("normalize", "count_words", "text", "→ clean", "→ n_words"):
        assert f">{text}</text>" in svg
    bundle = drawing._repr_mimebundle_()
    assert bundle["image/svg+xml"] == svg
    assert drawing.source == pipeline.to_dot()


@needs_dot
def test_visualize_saves_svg_and_png_by_suffix(pipeline, tmp_path):
    pipeline.visualize(tmp_path / "graph.svg")
    assert "<svg" in (tmp_path / "graph.svg").read_text()
    pipeline.visualize(tmp_path / "graph.png", depth=None, direction="TB")
    assert (tmp_path / "graph.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


@needs_dot
def test_an_unknown_suffix_is_explained(pipeline, tmp_path):
    with pytest.raises(ValueError, match=r"use one of \.svg, \.png, \.pdf"):
        pipeline.visualize(tmp_path / "graph.gif")


def test_without_the_dot_program_the_error_says_how_to_install_it(pipeline, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # a folder without `dot`
    with pytest.raises(MissingDependencyError) as info:
        pipeline.visualize()
    message = str(info.value)
    assert "Graphviz program `dot`" in message
    for how in ("apt-get install graphviz", "brew install graphviz", "conda install", "winget"):
        assert how in message
    assert isinstance(info.value, ImportError | HyperNodesError)
    assert pipeline.to_dot().startswith("digraph")  # text output needs nothing


def test_without_the_graphviz_package_the_error_names_the_extra(tmp_path):
    hide = tmp_path / "graphviz.py"
    hide.write_text("raise ImportError('graphviz is hidden for this test')\n")
    code = """
import sys
from hypernodes import Pipeline, node
from hypernodes.errors import MissingDependencyError
p = Pipeline([node(lambda x: x, output_name="y")])
print(p.to_dot().splitlines()[0])
print(p.to_mermaid().splitlines()[0])
try:
    p.visualize()
except MissingDependencyError as exc:
    print(exc)
"""
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": ""},
        check=True,
    )
    lines = done.stdout.splitlines()
    assert lines[0].startswith("digraph")
    assert lines[1] == "flowchart LR"
    assert "pip install 'hypernodes[viz]'" in lines[2]


def test_import_hypernodes_does_not_import_graphviz():
    code = "import sys, hypernodes; print('graphviz' in sys.modules, 'hypernodes._view.dot' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
