"""The rich progress display, as a person reading a terminal or a CI log sees it."""

from __future__ import annotations

import io
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cloudpickle
import pytest
from hypernodes import MemoryCache, Pipeline, node
from hypernodes.executor import SequentialNodeExecutor
from hypernodes_rich.progress import ProgressCallback
from rich.console import Console


def _console(terminal: bool = False) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=120, color_system=None), buffer


@node(output_name="tokens")
def tokenize(text):
    return text.split()


@node(output_name="n")
def count(tokens):
    return len(tokens)


PER_DOC = Pipeline([tokenize, count], name="per_doc")


@node(output_name="total")
def total(n):
    return sum(n)


def _corpus() -> Pipeline:
    each = PER_DOC.as_node(name="each_doc", input_mapping={"docs": "text"}, map_over="docs")
    return Pipeline([each, total], name="corpus")


def test_a_log_that_is_not_a_terminal_gets_the_final_state_once_without_escape_codes():
    console, buffer = _console()
    _corpus().with_callbacks([ProgressCallback(console=console)]).run(
        {"docs": ["a b", "c", "d e f"]}
    )
    out = buffer.getvalue()
    assert "\x1b" not in out
    lines = out.splitlines()
    assert len(lines) == 3  # one line per bar, printed once, at the end
    assert lines[0].startswith("corpus  2/2  ")
    assert lines[0].endswith("s  each_doc ✓  total ✓")
    assert lines[1].startswith("  per_doc  6/6  ")
    assert lines[1].endswith("tokenize ✓3  count ✓3")
    assert lines[2].startswith("  map per_doc  3/3  ")


def test_cache_hits_are_counted():
    console, buffer = _console()
    pipeline = _corpus().with_cache(MemoryCache())
    pipeline.run({"docs": ["a b", "c"]})
    pipeline.with_callbacks([ProgressCallback(console=console)]).run(
        {"docs": ["a b", "c", "new doc"]}
    )
    out = buffer.getvalue()
    assert "tokenize ✓1 ↺2" in out
    assert "↺ 4 cached" in out  # four node calls served from the cache
    assert "↺ 2 cached" in out  # two whole items


def test_a_failing_node_is_shown_failed():
    @node(output_name="n")
    def explode(tokens):
        raise RuntimeError("boom")

    console, buffer = _console()
    pipeline = Pipeline(
        [tokenize, explode], name="fragile", callbacks=[ProgressCallback(console=console)]
    )
    with pytest.raises(RuntimeError):
        pipeline.run({"text": "a b"})
    out = buffer.getvalue()
    assert "tokenize ✓" in out
    assert "explode ✗" in out
    assert out.splitlines()[0].startswith("fragile  1/2  ")
    assert out.splitlines()[0].endswith("tokenize ✓  explode ✗  failed")


def test_a_terminal_gets_a_live_display_that_ends_with_the_final_state():
    console, buffer = _console(terminal=True)
    _corpus().with_callbacks([ProgressCallback(console=console)]).run({"docs": ["a", "b"]})
    out = buffer.getvalue()
    assert "\x1b[?25l" in out  # the cursor is hidden while the display is live
    final = out.rsplit("\r", 1)[-1]  # the last redraw
    assert "corpus" in final
    assert "2/2" in final
    assert "each_doc ✓  total ✓" in final
    assert "tokenize ✓2  count ✓2" in final


def test_thread_pool_maps_count_every_item():
    console, buffer = _console()
    pipeline = PER_DOC.with_callbacks([ProgressCallback(console=console)]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(4))
    )
    pipeline.map({"text": ["a b"] * 50})
    out = buffer.getvalue()
    assert "50/50" in out
    assert "tokenize ✓50" in out
    PER_DOC.with_callbacks(None).with_executor(None)


def test_reachable_by_name_and_from_the_core_modules():
    from hypernodes import ProgressCallback as FromRoot
    from hypernodes.telemetry import ProgressCallback as FromTelemetry

    assert FromRoot is ProgressCallback
    assert FromTelemetry is ProgressCallback
    assert isinstance(Pipeline([], callbacks=["progress"]).effective_callbacks[0], ProgressCallback)


def test_nothing_is_created_or_imported_before_the_first_run_and_it_pickles():
    code = (
        "import sys\n"
        "from hypernodes import Pipeline, node\n"
        "p = Pipeline([node(lambda x: x, output_name='y')], callbacks=['progress'])\n"
        "print('rich' in sys.modules, 'rich.progress' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
    callback = ProgressCallback(console=_console()[0])
    Pipeline([tokenize], callbacks=[callback]).run({"text": "a"})
    copy = cloudpickle.loads(cloudpickle.dumps(callback))
    assert copy._progress is None


def test_the_plugin_uses_only_the_public_api():
    source = Path(__file__).resolve().parents[2] / "hypernodes-rich" / "src" / "hypernodes_rich"
    for path in source.glob("*.py"):
        text = path.read_text()
        assert "hypernodes._" not in text, path
        assert "from hypernodes." not in text or "from hypernodes.telemetry" in text, path


def test_a_broken_rich_install_is_explained_and_the_run_still_returns(tmp_path):
    broken = tmp_path / "rich"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('rich is half-installed')\n")
    code = (
        "import warnings\n"
        "from hypernodes import Pipeline, node\n"
        "p = Pipeline([node(lambda x: x + 1, output_name='y')], callbacks=['progress'])\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    print(p.run({'x': 1}))\n"
        "print([str(w.message) for w in caught])\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**__import__("os").environ, "PYTHONPATH": str(tmp_path)},
    )
    result, messages = done.stdout.strip().splitlines()
    assert result == "{'y': 2}"
    assert "rich failed to import (rich is half-installed)" in messages
    assert "pip install 'hypernodes[rich]'" in messages
