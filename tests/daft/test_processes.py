"""DaftExecutor(use_process=True) on the native runner: synchronous nodes in worker
processes kept between runs (docs/daft.md, "Processes and cores"). Faults that could
hang run in a subprocess under a timeout."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading

import pytest
from hypernodes import ItemError, Pipeline, node, stateful
from hypernodes.errors import WorkerLostError
from hypernodes.executor import DaftExecutor


@node(output_name="pid")
def where(x: int) -> int:
    return os.getpid()


def test_the_same_worker_processes_serve_the_next_run():
    pipeline = Pipeline([where], executor=DaftExecutor(use_process=True))
    first = set(pipeline.map({"x": list(range(40))})["pid"])
    second = set(pipeline.map({"x": list(range(40))})["pid"])
    assert os.getpid() not in first
    assert len(first | second) <= (os.cpu_count() or 1)  # one pool, not new processes per run
    assert first & second


@stateful
class Model:
    """Writes one line per construction, with the pid of the process that built it."""

    def __init__(self, log: str):
        with open(log, "a") as file:
            file.write(f"{os.getpid()}\n")

    def predict(self, x: int) -> int:
        return -x


@node(output_name="prediction")
def predict(x: int, model: Model) -> int:
    return model.predict(x)


def test_a_stateful_model_is_built_once_per_worker_over_several_runs(tmp_path):
    log = tmp_path / "builds.txt"
    pipeline = Pipeline([predict], executor=DaftExecutor(use_process=True))
    pipeline.bind(model=Model(str(log)))
    for _ in range(3):
        assert pipeline.map({"x": list(range(30))}) == {"prediction": [-x for x in range(30)]}
    pids = log.read_text().split()
    assert pids
    assert len(pids) == len(set(pids))  # never built twice in one process, across runs
    assert str(os.getpid()) not in pids


@node(output_name="y")
def dies_at_three(x: int) -> int:
    if x == 3:
        os._exit(1)
    return x * 2


def test_a_dying_worker_fails_the_run_naming_the_node_and_the_next_run_works():
    pipeline = Pipeline([dies_at_three], executor=DaftExecutor(use_process=True))
    with pytest.raises(WorkerLostError, match="died while running node 'dies_at_three'"):
        pipeline.map({"x": list(range(8))})
    assert pipeline.map({"x": [1, 2]}) == {"y": [2, 4]}


def test_in_a_map_that_goes_on_the_rows_lost_with_a_worker_are_item_errors():
    pipeline = Pipeline([dies_at_three], executor=DaftExecutor(use_process=True, batch_size=1))
    result = pipeline.map({"x": list(range(8))}, on_error="continue")
    assert 3 in result.failed
    for index in result.failed:
        error = result["y"][index]
        assert isinstance(error, ItemError)
        assert error.node == "dies_at_three"
        assert error.error_type.endswith("WorkerLostError")
    for index, value in enumerate(result["y"]):
        if index not in result.failed:
            assert value == index * 2
    assert pipeline.map({"x": [5]}) == {"y": [10]}


SCRIPT = """
import os, signal, sys, threading, time
from hypernodes import Pipeline, node
from hypernodes.executor import DaftExecutor

@node(output_name="y")
def slow(x, log):
    with open(log, "a") as file:
        file.write(f"{x}\\n")
    time.sleep(0.3)
    return x

if __name__ == "__main__":
    log = sys.argv[1]
    pipeline = Pipeline([slow], executor=DaftExecutor(use_process=True, batch_size=25))
    pipeline.map({"x": [0, 1], "log": os.devnull}, map_over="x")  # workers started
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        pipeline.map({"x": list(range(100)), "log": log}, map_over="x")  # 7.5 s per batch
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    assert pipeline.map({"x": [1, 2], "log": os.devnull}, map_over="x") == {"y": [1, 2]}
    print("next map done", flush=True)
"""


def test_ctrl_c_stops_the_batches_running_in_the_workers(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(SCRIPT))
    log = tmp_path / "rows.txt"
    done = subprocess.run(
        [sys.executable, str(script), str(log)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "DO_NOT_TRACK": "1"},
    )
    assert done.returncode == 0, done.stderr
    assert "interrupted" in done.stdout
    assert "next map done" in done.stdout
    started = log.read_text().split()
    # Two batches of 25 rows were running: they stopped before their next row instead.
    assert 0 < len(started) < 25


def test_a_script_without_a_main_guard_is_refused_before_any_worker_starts(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(
        textwrap.dedent(
            """
            from hypernodes import Pipeline, node
            from hypernodes.executor import DaftExecutor

            @node(output_name="y")
            def f(x):
                return x + 1

            Pipeline([f], executor=DaftExecutor(use_process=True)).map({"x": [1, 2]})
            """
        )
    )
    done = subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "DO_NOT_TRACK": "1"},
    )
    assert done.returncode != 0
    assert 'without an `if __name__ == "__main__":` guard' in done.stderr
    assert "DaftExecutor(use_process=True) runs synchronous nodes in a process pool" in done.stderr


@pytest.mark.parametrize("raised", [KeyboardInterrupt, SystemExit])
@pytest.mark.parametrize("use_process", [False, True], ids=["threads", "processes"])
def test_a_node_raising_keyboard_interrupt_or_system_exit_stops_the_run(raised, use_process):
    @node(output_name="y")
    def quits(x: int) -> int:
        if x == 1:
            raise raised
        return x

    pipeline = Pipeline([quits], executor=DaftExecutor(use_process=use_process))
    with pytest.raises(raised):  # as with the sequential executor, not a hung Daft thread
        pipeline.map({"x": [0, 1, 2]})
    assert pipeline.map({"x": [0, 2]}) == {"y": [0, 2]}


def test_a_shared_input_that_cannot_be_pickled_is_named():
    @node(output_name="y")
    def use(x: int, handle: object) -> int:
        return x

    pipeline = Pipeline([use], executor=DaftExecutor(use_process=True))
    with pytest.raises(TypeError, match=r"input 'handle' \(lock\) cannot be pickled.*@stateful"):
        pipeline.map({"x": [1, 2], "handle": threading.Lock()}, map_over="x")


def test_a_timeout_or_an_untravelling_error_is_reported_to_callbacks_once():
    import time

    from hypernodes import PipelineCallback

    class Errors(PipelineCallback):
        def __init__(self):
            self.seen = []

        def on_error(self, node, error, ctx):
            self.seen.append((node, type(error).__name__))

    class Locked(Exception):
        def __init__(self, message):
            super().__init__(message)
            self.lock = threading.Lock()

    @node(output_name="y", timeout=0.2)
    def slow(x: int) -> int:
        if x == 1:
            time.sleep(0.6)
        return x

    @node(output_name="y")
    def locked(x: int) -> int:
        if x == 1:
            raise Locked("no")
        return x

    for failing in (slow, locked):
        expected, got = Errors(), Errors()
        with pytest.raises(Exception):  # noqa: B017 - compared below
            Pipeline([failing], callbacks=[expected]).map({"x": [0, 1, 2]})
        executor = DaftExecutor(use_process=True)
        with pytest.raises(Exception):  # noqa: B017
            Pipeline([failing], executor=executor, callbacks=[got]).map({"x": [0, 1, 2]})
        assert [node for node, _ in got.seen] == [node for node, _ in expected.seen]
        assert len(got.seen) == 1


LOCK = threading.Lock()


@node(output_name="y")
def reads_a_lock(x: int) -> int:
    with LOCK:
        return x


def test_a_global_a_node_reads_that_cannot_be_pickled_is_named():
    pipeline = Pipeline([reads_a_lock], executor=DaftExecutor(use_process=True))
    with pytest.raises(TypeError, match=r"global 'LOCK' used by node 'reads_a_lock'"):
        pipeline.map({"x": [1, 2]})
