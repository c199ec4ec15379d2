"""Type checkers see what users write: nodes keep their signatures, configuration is typed.

mypy runs on a small user script; each line marked ``# E: <code>`` must be
reported with that error code, and no other line may be reported.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

USER_SCRIPT = """
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, assert_type

from hypernodes import (
    DiskCache,
    LocalBackend,
    MemoryCache,
    Pipeline,
    PipelineCallback,
    PipelineNode,
    node,
    set_default_config,
)
from hypernodes.executor import ExecutorStrategy, SequentialNodeExecutor


@node(output_name="clean")
def normalize(text: str) -> str:
    return text.strip().lower()


@node
def count_words(clean: str, minimum: int = 0) -> int:
    return max(minimum, len(clean.split()))


@node(output_name="doubled")
async def double(n_words: int) -> int:
    return 2 * n_words


assert_type(normalize("a"), str)
assert_type(count_words("a b", minimum=1), int)
_ = assert_type(double(1), Coroutine[Any, Any, int])  # the script is checked, never run
normalize(42)  # E: arg-type
normalize("a", "b")  # E: call-arg
count_words("a", minimum="1")  # E: arg-type
normalize.output_name

per_doc = Pipeline([normalize, count_words], name="per_doc")
corpus = Pipeline([per_doc.as_node(map_over="text"), double], executor="eager")
assert_type(corpus.run({"text": ["a"]}), dict[str, Any])


class Timer(PipelineCallback):
    pass


# What configuration accepts: names, classes, instances, None; setters return their object.
assert_type(per_doc.with_executor("eager"), Pipeline)
assert_type(per_doc.with_executor(SequentialNodeExecutor), Pipeline)
assert_type(
    per_doc.with_executor(SequentialNodeExecutor(map_executor=ThreadPoolExecutor(2))), Pipeline
)
assert_type(per_doc.with_backend(LocalBackend()).with_cache("memory"), Pipeline)
assert_type(per_doc.with_cache(DiskCache(".cache")).with_cache(None), Pipeline)
assert_type(per_doc.with_callbacks(["progress", Timer, Timer()]), Pipeline)
assert_type(per_doc.with_callbacks(Timer()), Pipeline)
wrapped = per_doc.as_node(executor="sequential", cache=MemoryCache(), callbacks=None)
assert_type(wrapped.with_executor("eager").with_cache(None), PipelineNode)
assert_type(wrapped.effective_executor, ExecutorStrategy)
Pipeline([normalize], executor=SequentialNodeExecutor, cache="disk", callbacks=[Timer])
set_default_config(executor="eager", cache=MemoryCache(), callbacks=["progress"])

# What it refuses.
per_doc.with_executor(42)  # E: arg-type
per_doc.with_executor(LocalBackend())  # E: arg-type
per_doc.with_cache(LocalBackend)  # E: arg-type
per_doc.with_callbacks([42])  # E: list-item
wrapped.with_backend(MemoryCache())  # E: arg-type
set_default_config(executor=DiskCache)  # E: arg-type
Pipeline([normalize], cache=3)  # E: arg-type
per_doc.as_node(executor=LocalBackend)  # E: arg-type
"""


def _mypy(tmp_path, source: str) -> set[tuple[int, str]]:
    script = tmp_path / "user_script.py"
    script.write_text(source)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            "--cache-dir",
            str(tmp_path / ".mypy_cache"),
            str(script),
        ],
        cwd=tmp_path,  # no project configuration: a user's own settings
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr + done.stdout
    reported = set()
    for line in done.stdout.splitlines():
        found = re.match(r".*user_script\.py:(\d+): error: .*\[([\w-]+)\]$", line)
        assert found is not None or ": note:" in line, line
        if found is not None:
            reported.add((int(found.group(1)), found.group(2)))
    return reported


def test_mypy_sees_node_signatures_and_typed_configuration(tmp_path):
    source = textwrap.dedent(USER_SCRIPT)
    expected = {
        (number, found.group(1))
        for number, line in enumerate(source.splitlines(), start=1)
        if (found := re.search(r"# E: ([\w-]+)$", line))
    }
    assert len(expected) == 11
    assert _mypy(tmp_path, source) == expected
