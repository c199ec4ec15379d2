"""Faults around process pools: Ctrl-C, exceptions that do not pickle, dead workers,
unguarded scripts, values that cannot travel. Subprocess tests run under timeouts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from hypernodes import Pipeline, PipelineCallback, node
from hypernodes.errors import WorkerLostError
from hypernodes.executor import SequentialNodeExecutor, process_pool

SLOW_MAP = """
import os, signal, sys, threading, time
from hypernodes import Pipeline, node
from hypernodes.executor import SequentialNodeExecutor, process_pool

@node(output_name="y")
def slow(x):
    time.sleep(0.4)
    return x

if __name__ == "__main__":
    pipeline = Pipeline([slow]).with_executor(SequentialNodeExecutor(map_executor=process_pool(2)))
    pipeline.map({"x": [0, 1]})  # workers started
    print("started", flush=True)
    {rest}
"""


def run_script(tmp_path, source, timeout, **kwargs):
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(source))
    return subprocess.run(
        [sys.executable, str(script)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
        **kwargs,
    )


def test_after_ctrl_c_the_next_map_does_not_wait_for_the_interrupted_chunks(tmp_path):
    rest = """
    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT)).start()
    try:
        pipeline.map({"x": list(range(200))})  # chunks of 25 items: 10 s each
    except KeyboardInterrupt:
        print("interrupted", flush=True)
    start = time.perf_counter()
    assert pipeline.map({"x": [1, 2]}) == {"y": [1, 2]}
    print(f"next map took {time.perf_counter() - start:.2f}")
    """
    out = run_script(
        tmp_path,
        SLOW_MAP.replace("{rest}", textwrap.indent(textwrap.dedent(rest), "    ").strip()),
        60,
    )
    assert out.returncode == 0, out.stderr
    assert "interrupted" in out.stdout
    took = float(out.stdout.rsplit("next map took ", 1)[1])
    assert took < 5, out.stdout  # about 0.4 s: running chunks stopped after their item


def test_sigint_to_a_process_in_a_process_pool_map_makes_it_exit_promptly(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SLOW_MAP.replace("{rest}", 'pipeline.map({"x": list(range(200))})'))
    child = subprocess.Popen(
        [sys.executable, str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout.readline().strip() == "started"
        time.sleep(0.5)
        sent = time.perf_counter()
        child.send_signal(signal.SIGINT)
        child.wait(timeout=30)
        exited_after = time.perf_counter() - sent
    finally:
        child.kill()
        child.wait()
    assert child.returncode != 0
    assert "KeyboardInterrupt" in child.stderr.read()
    assert exited_after < 5  # the running item finishes (0.4 s), nothing else starts


class CodeError(Exception):
    """A user exception whose constructor does not match its args (common)."""

    def __init__(self, code, detail):
        super().__init__(f"code={code}")
        self.code = code
        self.detail = detail


def test_an_exception_whose_constructor_does_not_match_its_args_comes_back_as_itself(processes):
    @node(output_name="y")
    def fail_at_two(x):
        if x == 2:
            raise CodeError(404, "missing")
        return x

    pipeline = Pipeline([fail_at_two], name="p").with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    with pytest.raises(CodeError, match="code=404") as info:
        pipeline.map({"x": [0, 1, 2, 3]})
    assert (info.value.code, info.value.detail) == (404, "missing")
    notes = "\n".join(info.value.__notes__)
    assert "in map item 2 of pipeline 'p'" in notes
    assert "remote traceback" in notes
    assert "fail_at_two" in notes
    # the pool keeps working
    assert pipeline.map({"x": [0, 1]}) == {"y": [0, 1]}


def test_an_exception_class_defined_in_main_comes_back_as_itself_with_notes(tmp_path):
    source = """
    from hypernodes import Pipeline, node
    from hypernodes.executor import SequentialNodeExecutor, process_pool

    class ScriptError(Exception):
        pass

    @node(output_name="y")
    def fail(x):
        if x == 1:
            raise ScriptError("from the script")
        return x

    if __name__ == "__main__":
        pipeline = Pipeline([fail], name="p")
        pipeline.with_executor(SequentialNodeExecutor(map_executor=process_pool(2)))
        try:
            pipeline.map({"x": [0, 1, 2]})
        except ScriptError as exc:
            print("caught", exc, "|", " / ".join(n.splitlines()[0] for n in exc.__notes__))
    """
    out = run_script(tmp_path, source, 60)
    assert out.returncode == 0, out.stderr
    assert "caught from the script" in out.stdout
    assert "in map item 1 of pipeline 'p'" in out.stdout


def test_after_a_worker_dies_the_next_map_gets_a_working_pool():
    @node(output_name="y")
    def crash_at_three(x):
        if x == 3:
            os._exit(1)
        return x

    pool = process_pool(2)
    try:
        pipeline = Pipeline([crash_at_three]).with_executor(
            SequentialNodeExecutor(map_executor=pool)
        )
        with pytest.raises(WorkerLostError):
            pipeline.map({"x": list(range(8))})
        assert pipeline.map({"x": [0, 1, 2]}) == {"y": [0, 1, 2]}
    finally:
        pool.shutdown()


@pytest.mark.parametrize(
    "mention",
    ["", '# if __name__ == "__main__":  (commented out)', '"""Run: if __name__ == "__main__"."""'],
    ids=["no-mention", "in-a-comment", "in-a-docstring"],
)
def test_a_script_without_a_main_guard_using_a_process_pool_is_told_what_to_do(tmp_path, mention):
    source = """
    MENTION
    from hypernodes import Pipeline, node

    @node(output_name="y")
    def inc(x):
        return x + 1

    print(Pipeline([inc], executor="processes").map({"x": [1, 2, 3]}))
    """
    out = run_script(tmp_path, source.replace("MENTION", mention), 60)
    assert out.returncode != 0
    assert 'without an `if __name__ == "__main__":` guard' in out.stderr
    assert 'executor="threads"' in out.stderr


def test_an_input_that_cannot_be_pickled_is_named(processes):
    @node(output_name="y")
    def use(x, handle):
        return x

    pipeline = Pipeline([use]).with_executor(SequentialNodeExecutor(map_executor=processes))
    with pytest.raises(TypeError, match=r"input 'handle': lock"):
        pipeline.map({"x": [1, 2], "handle": threading.Lock()}, map_over="x")


def test_an_unpicklable_bound_input_is_named_as_bound(processes):
    @node(output_name="y")
    def use(x, handle):
        return x

    pipeline = Pipeline([use], name="p").with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    pipeline.bind(handle=threading.Lock())
    with pytest.raises(TypeError, match=r"bound input 'handle' of pipeline 'p': lock"):
        pipeline.map({"x": [1, 2]})


class LockedCounter(PipelineCallback):
    """A callback holding a lock: it never needs to travel, callbacks run here."""

    def __init__(self):
        self.lock = threading.Lock()
        self.items = 0

    def on_map_item_end(self, index, duration, ctx):
        with self.lock:
            self.items += 1


def test_a_callback_that_cannot_be_pickled_works_with_a_process_pool(processes):
    counter = LockedCounter()
    pipeline = Pipeline([node(lambda x: x * 2, output_name="y")], callbacks=[counter])
    pipeline.with_executor(SequentialNodeExecutor(map_executor=processes))
    assert pipeline.map({"x": [1, 2, 3]}) == {"y": [2, 4, 6]}
    assert counter.items == 3


def test_a_timeout_in_a_worker_is_reported_to_callbacks_once(processes):
    class Errors(PipelineCallback):
        def __init__(self):
            self.seen = []

        def on_error(self, node, error, ctx):
            self.seen.append(node)

    @node(output_name="y", timeout=0.2)
    def slow(x):
        if x == 1:
            time.sleep(0.6)
        return x

    errors = Errors()
    pipeline = Pipeline([slow], callbacks=[errors]).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    with pytest.raises(TimeoutError, match="slow"):
        pipeline.map({"x": [0, 1, 2]})
    assert errors.seen == ["slow"]  # not again, with no node, when it reached the caller


def test_a_script_read_from_standard_input_is_told_to_use_a_file(tmp_path):
    source = textwrap.dedent(
        """
        from hypernodes import Pipeline, node

        @node(output_name="y")
        def inc(x):
            return x + 1

        if __name__ == "__main__":
            print(Pipeline([inc], executor="processes").map({"x": [1, 2, 3]}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-"],
        input=source,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert out.returncode != 0
    assert "script read from standard input" in out.stderr
    assert "WorkerLostError" not in out.stderr
