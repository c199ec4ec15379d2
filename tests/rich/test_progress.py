"""The rich progress display, as a person reading a terminal or a CI log sees it."""

from __future__ import annotations

import io
import re
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cloudpickle
import pytest
from hypernodes import MemoryCache, Pipeline, node
from hypernodes.executor import SequentialNodeExecutor
from hypernodes_rich.progress import ProgressCallback
from rich.console import Console

from .screen import final_screen, run_in_terminal


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
    bar, failure = buffer.getvalue().splitlines()
    assert bar.startswith("fragile  1/2  ")
    assert bar.endswith("tokenize ✓  explode ✗  ✗ failed")
    assert failure == "✗ node 'explode' failed in fragile: RuntimeError: boom"


def test_a_terminal_gets_a_live_display_that_ends_with_the_final_state():
    console, buffer = _console(terminal=True)
    _corpus().with_callbacks([ProgressCallback(console=console)]).run({"docs": ["a", "b"]})
    out = buffer.getvalue()
    assert "\x1b[?25l" in out  # the cursor is hidden while the display is live
    screen = final_screen(out)
    assert screen[0].startswith("corpus ")
    assert screen[0].split()[2] == "2/2"  # label, bar, count
    assert screen[1] == "  each_doc ✓  total ✓"
    assert screen[3] == "    tokenize ✓2  count ✓2"


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
    callback = ProgressCallback(console=_console()[0], transient=True, refresh_per_second=2)
    Pipeline([tokenize], callbacks=[callback]).run({"text": "a"})
    copy = cloudpickle.loads(cloudpickle.dumps(callback))
    assert (copy.console, copy.transient, copy.refresh_per_second) == (None, True, 2)
    copy.console, out = _console()
    copy.transient = False
    Pipeline([count], name="fresh", callbacks=[copy]).run({"tokens": ["a"]})
    assert out.getvalue().startswith("fresh  1/1  ")  # its own state, not the first run's


def test_the_plugin_uses_only_the_public_api():
    source = Path(__file__).resolve().parents[2] / "hypernodes-rich" / "src" / "hypernodes_rich"
    private = re.compile(r"hypernodes(\.[a-z_]+)*\._[a-z]")
    for path in source.glob("*.py"):
        assert not private.search(path.read_text()), path


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


# -- layout: what fits in a width --------------------------------------------------------


@node(output_name="tokens")
def split_the_document_into_tokens(document):
    return document.split()


@node(output_name="n_tokens")
def count_the_tokens_of_the_document(tokens):
    if "boom" in tokens:
        raise ValueError("cannot count a document holding 'boom'")
    return len(tokens)


@node(output_name="score")
def score_the_document_against_the_query(n_tokens, query):
    return n_tokens / len(query)


PER_DOCUMENT = Pipeline(
    [
        split_the_document_into_tokens,
        count_the_tokens_of_the_document,
        score_the_document_against_the_query,
    ],
    name="per_document_pipeline",
)


@node(output_name="best")
def pick_the_best_score(scores):
    return max(scores)


def _long_names(**settings) -> Pipeline:
    each = PER_DOCUMENT.as_node(
        name="score_every_document",
        input_mapping={"documents": "document"},
        output_mapping={"score": "scores"},
        map_over="documents",
    )
    return Pipeline([each, pick_the_best_score], name="corpus", **settings)


FAILURE = (
    "✗ node 'count_the_tokens_of_the_document' failed in corpus > per_document_pipeline, "
    "map item 1: ValueError: cannot count a document holding 'boom'"
)


def _frame(callback: ProgressCallback, width: int) -> list[str]:
    """What the display shows now, laid out for ``width`` columns."""
    console = Console(file=io.StringIO(), width=width, color_system=None)
    console.print(callback)
    return console.file.getvalue().splitlines()


def test_at_80_columns_names_counts_and_cache_hits_fit_on_every_line():
    callback = ProgressCallback(console=_console(terminal=True)[0])
    pipeline = _long_names(cache=MemoryCache())
    documents = ["a b", "c d e", "f g"]
    pipeline.run({"documents": documents[:2], "query": "ab"})
    pipeline.with_callbacks([callback]).run({"documents": documents, "query": "ab"})
    frame = _frame(callback, 80)
    assert max(len(line) for line in frame) <= 80
    assert frame[0].split()[::2] == ["corpus", "2/2"]  # label, bar, count, time
    assert frame[1] == "  score_every_document ✓  pick_the_best_score ✓"
    assert frame[2].startswith("  per_document_pipeline ")
    assert frame[2].split()[2:5] == ["9/9", "↺", "6"]
    assert frame[3:5] == [  # every node whole, wrapped under its pipeline, none cut
        "    split_the_document_into_tokens ✓1 ↺2  count_the_tokens_of_the_document ✓1 ↺2",
        "    score_the_document_against_the_query ✓1 ↺2",
    ]
    assert frame[5].split()[:6] == ["map", "per_document_pipeline", "━" * 24, "3/3", "↺", "2"]
    assert "…" not in "".join(frame)


def test_a_narrow_console_drops_the_bar_and_shortens_names_but_keeps_counts_and_hits():
    callback = ProgressCallback(console=_console(terminal=True)[0])
    pipeline = _long_names(cache=MemoryCache())
    pipeline.run({"documents": ["a b"], "query": "ab"})
    pipeline.with_callbacks([callback]).run({"documents": ["a b", "c"], "query": "ab"})
    frame = _frame(callback, 40)
    assert max(len(line) for line in frame) <= 40
    assert "━" not in "".join(frame)
    assert frame[0].split()[:2] == ["corpus", "2/2"]
    assert frame[3].split()[:3] == ["per_document_pipeline", "6/6", "↺3"]
    assert frame[5] == "    count_the_tokens_of_the_docum… ✓1 ↺1"
    assert frame[-1].split()[:4] == ["map", "per_document_pipeline", "2/2", "↺1"]


def test_a_failure_stops_every_clock_and_the_final_frame_says_what_failed_and_where():
    callback = ProgressCallback(console=_console(terminal=True)[0])
    pipeline = _long_names(callbacks=[callback])
    with pytest.raises(ValueError, match="holding 'boom'"):
        pipeline.run({"documents": ["a b", "c boom", "d"], "query": "ab"})
    frame = _frame(callback, 80)
    assert frame[0].startswith("corpus ")
    assert frame[0].endswith("✗ failed")
    assert frame[1] == "  score_every_document ✗  pick_the_best_score ·"
    assert frame[2].endswith("✗ failed")
    assert "count_the_tokens_of_the_document ✗ ✓1" in frame[3]
    failure = next(i for i, line in enumerate(frame) if line.startswith("✗ node"))
    assert frame[failure - 1].startswith("  map per_document_pipeline ")
    assert frame[failure - 1].endswith("✗ failed")
    assert " ".join(frame[failure:]).split() == FAILURE.split()  # wrapped, never cut
    assert "eta" not in "".join(frame)
    time.sleep(0.05)
    assert _frame(callback, 80) == frame  # the clocks stopped with the failure


def test_in_a_real_terminal_80_columns_wide_the_final_screen_fits_and_says_what_failed():
    code = textwrap.dedent(
        """
        from tests.rich.test_progress import _long_names
        pipeline = _long_names(callbacks=["progress"])
        pipeline.run({"documents": ["a b", "c d"], "query": "ab"})
        try:
            pipeline.run({"documents": ["a b", "c boom"], "query": "ab"})
        except ValueError:
            print("raised")
        """
    )
    screen = final_screen(run_in_terminal(code, columns=80))
    assert max(len(line) for line in screen) <= 80
    assert screen[-1] == "raised"
    assert screen[0].split()[::2] == ["corpus", "2/2"]
    assert screen[1] == "  score_every_document ✓  pick_the_best_score ✓"
    failed = screen.index(next(line for line in screen[2:] if line.startswith("corpus ")))
    assert screen[failed].endswith("✗ failed")
    assert screen[failed + 1] == "  score_every_document ✗  pick_the_best_score ·"
    failure = next(i for i, line in enumerate(screen) if line.startswith("✗ node"))
    assert " ".join(screen[failure:-1]).split() == FAILURE.split()


def test_a_map_that_goes_on_past_failed_items_counts_them_and_finishes():
    @node(output_name="n")
    def parse(text):
        return int(text)

    callback = ProgressCallback(console=_console(terminal=True)[0])
    pipeline = Pipeline([parse], name="parse_all", callbacks=[callback])
    result = pipeline.map({"text": ["1", "x", "3", "y", "5"]}, on_error="continue")
    assert result.failed == [1, 3]
    frame = _frame(callback, 80)
    assert max(len(line) for line in frame) <= 80
    assert frame[1] == "  parse ✓3 ✗2"
    map_line = frame[-1].split()
    assert map_line[:2] == ["map", "parse_all"]
    assert "5/5" in map_line  # every item ran: the display did not stop at the first failure
    assert "✗ 2 failed" in frame[-1]
    assert not any(line.startswith("✗ node") for line in frame)  # nothing ended the run


def test_retries_and_timeouts_are_counted_per_node():
    from hypernodes import Retries

    calls = []

    @node(output_name="y", retries=Retries(max=1, backoff=0), timeout=0.1)
    def fetch(x):
        calls.append(x)
        if x == 2:
            time.sleep(0.3)  # times out, twice
        elif calls.count(x) == 1:
            raise OSError("flaky")  # fails once, then succeeds
        return x

    callback = ProgressCallback(console=_console(terminal=True)[0])
    result = Pipeline([fetch], name="fetch_all", callbacks=[callback]).map(
        {"x": [1, 2, 3]}, on_error="continue"
    )
    assert result.failed == [1]
    frame = _frame(callback, 80)
    assert frame[1] == "  fetch ✓2 ✗1 ↻3 ⏱2"  # 3 retries (1, 2 and 3 once), 2 timeouts
