"""``hypernodes show MODULE:PIPELINE``: the summary, or the graph as DOT, Mermaid or SVG."""

from __future__ import annotations

import shutil

import pytest

from ..visual.graphtext import read_dot, read_mermaid
from .conftest import cli_env


def test_show_prints_the_summary(cli):
    done = cli("show", "pipes:inverted")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "Pipeline 'inverted': 1 node",
        "Inputs:",
        "  a  required",
        "  b  required",
        "Outputs: ratio",
        "Nodes, in run order:",
        "  divide_all(a, b) -> ratio",
        "      pipeline 'division', map over b",
        "      divide(a, b) -> ratio",
    ]


def test_show_depth_1_keeps_nested_nodes_closed(cli):
    done = cli("show", "pipes:inverted", "--depth", "1")
    assert "divide(a, b)" not in done.stdout
    assert "divide_all(a, b) -> ratio" in done.stdout


def test_show_dot_prints_the_graph_collapsed_unless_depth_opens_it(cli):
    drawn = read_dot(cli("show", "pipes:inverted", "--dot").stdout)
    assert set(drawn.boxes) == {"input:a", "input:b", "divide_all"}
    drawn = read_dot(cli("show", "pipes:inverted", "--dot", "--depth", "all").stdout)
    assert set(drawn.boxes) == {"input:a", "input:b", "divide_all/divide"}


def test_show_mermaid_prints_a_flowchart_with_highlighting(cli):
    done = cli("show", "pipes:per_doc", "--mermaid", "--output-name", "clean", "--direction", "TB")
    drawn = read_mermaid(done.stdout)
    assert done.stdout.startswith("flowchart TB")
    skipped = {drawn.text(b) for b in drawn.boxes if "skipped" in drawn.classes(b)}
    assert skipped == {"count_words → n_words"}


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="the Graphviz program `dot` is not installed"
)
def test_show_svg_writes_the_drawing(cli, project):
    pytest.importorskip("graphviz")
    done = cli("show", "pipes:per_doc", "--svg", "graph.svg")
    assert done.returncode == 0, done.stderr
    assert "<svg" in (project / "graph.svg").read_text()


def test_show_svg_without_graphviz_exits_1_saying_how_to_install_it(cli, project):
    pytest.importorskip("graphviz")
    done = cli("show", "pipes:per_doc", "--svg", "graph.svg", env=cli_env(PATH=""))
    assert done.returncode == 1
    assert "sudo apt-get install graphviz" in done.stderr
    assert not (project / "graph.svg").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "pipes:per_dog"], "(did you mean 'per_doc'?)"),
        (["show", "pipes:per_doc", "--dot", "--output-name", "cleen"], "has no output 'cleen'"),
        (["show", "pipes:per_doc", "--depth", "0"], "expected a number >= 1 or 'all'"),
        (["show", "pipes:per_doc", "--dot", "--mermaid"], "not allowed with argument"),
        (
            ["show", "pipes:per_doc", "--output-name", "clean"],
            "--output-name highlights a graph: give it with --dot, --mermaid or --svg FILE.",
        ),
        (
            ["show", "pipes:per_doc", "--svg", "graph.txt"],
            "--svg 'graph.txt': the suffix picks the image format; use one of .svg, .png,",
        ),
        (
            ["show", "pipes:per_doc", "--svg", "no/such/folder/graph.svg"],
            "--svg 'no/such/folder/graph.svg': no folder 'no/such/folder' to write it in.",
        ),
    ],
)
def test_show_bad_usage_exits_2(cli, args, message):
    done = cli(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="the Graphviz program `dot` is not installed"
)
def test_show_svg_that_cannot_be_written_exits_2_in_one_line(cli, project):
    pytest.importorskip("graphviz")
    (project / "taken.svg").mkdir()
    done = cli("show", "pipes:per_doc", "--svg", "taken.svg")
    assert done.returncode == 2
    assert done.stderr.startswith("hypernodes show: error: Cannot write --svg 'taken.svg': ")
    assert len(done.stderr.splitlines()) == 1, done.stderr


def test_show_output_name_may_be_repeated(cli):
    done = cli(
        "show", "pipes:per_doc", "--mermaid", "--output-name", "clean", "--output-name", "n_words"
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("<u>") == 2
