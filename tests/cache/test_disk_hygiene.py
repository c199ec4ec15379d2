"""DiskCache keeps its directory private, survives a corrupt index once, and reads read-only dirs."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import tempfile
import textwrap
import warnings
from pathlib import Path

import pytest
from hypernodes import DiskCache, Pipeline, node
from hypernodes.errors import CacheWarning

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")


def _cache_warnings(caught: list[warnings.WarningMessage]) -> list[warnings.WarningMessage]:
    return [w for w in caught if issubclass(w.category, CacheWarning)]


def _counted():
    calls: list[int] = []

    @node(output_name="y")
    def grow(x: int) -> str:
        calls.append(x)
        return "v" * (x * 20_000)  # 20 kB and up: large ones go to value files

    return calls, grow


@posix_only
def test_a_new_cache_directory_and_every_entry_are_private_whatever_the_umask(tmp_path):
    where = tmp_path / "c"
    script = f"""
        import os
        os.umask(0)  # the most permissive umask: every file would be world-writable
        from hypernodes import DiskCache, Pipeline, node
        big = node(lambda x: "v" * (x * 40_000), output_name="y")
        Pipeline([big], cache=DiskCache({str(where)!r})).map({{"x": [0, 1, 2, 3]}})
    """
    subprocess.run([sys.executable, "-c", textwrap.dedent(script)], check=True)
    assert stat.S_IMODE(where.stat().st_mode) == 0o700
    entries = list(where.rglob("*"))
    assert any(p.suffix == ".val" for p in entries)  # value files were written
    assert any(p.name == "cache.db" for p in entries)
    for path in entries:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


@posix_only
def test_an_existing_directory_every_user_can_write_is_warned_about(tmp_path):
    where = tmp_path / "shared"
    where.mkdir()
    where.chmod(0o777)
    pipeline = Pipeline([node(lambda x: x, output_name="y")], cache=DiskCache(where))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pipeline.run({"x": 1}) == {"y": 1}
    [warning] = _cache_warnings(caught)
    assert "can be written by every user" in str(warning.message)
    assert f"chmod o-w {where}" in str(warning.message)
    assert warning.filename == __file__  # it points at the run, not at hypernodes


def _corrupt_cache(where: Path) -> bytes:
    """A directory whose index is garbage, with one orphaned value file."""
    (where / "ab" / "cd").mkdir(parents=True)
    (where / "ab" / "cd" / "old.val").write_bytes(b"old value")
    garbage = b"this is not an SQLite database" * 100
    (where / "cache.db").write_bytes(garbage)
    return garbage


def test_a_corrupt_index_is_moved_aside_once_with_a_warning_and_the_cache_rebuilt(tmp_path):
    where = tmp_path / "c"
    where.mkdir()
    garbage = _corrupt_cache(where)
    calls, grow = _counted()
    pipeline = Pipeline([grow], cache=DiskCache(where))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = pipeline.map({"x": list(range(50))})
        second = pipeline.map({"x": list(range(50))})
    assert first == second
    assert calls == list(range(50))  # the second map was served by the rebuilt cache
    [warning] = _cache_warnings(caught)
    message = str(warning.message)
    [aside] = [p for p in where.iterdir() if p.name.startswith("corrupt-")]
    assert f"index {where / 'cache.db'} was corrupt (file is not a database)" in message
    assert f"with the 1 value files it indexed, to {aside} (kept for inspection" in message
    assert "an empty cache was started" in message
    assert (aside / "cache.db").read_bytes() == garbage
    assert (aside / "ab" / "cd" / "old.val").read_bytes() == b"old value"

    calls.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # another process opening it later: no warning at all
        assert Pipeline([grow], cache=DiskCache(where)).map({"x": list(range(50))}) == first
    assert calls == []


def test_an_index_corrupted_while_open_is_moved_aside_once_and_rebuilt(tmp_path):
    where = tmp_path / "c"
    calls: list[int] = []

    @node(output_name="y")
    def inc(x: int) -> int:
        calls.append(x)
        return x + 1

    items = {"x": list(range(3000))}  # 3,000 small entries: an index of many pages
    filled = DiskCache(where)
    Pipeline([inc], cache=filled).map(items)
    filled.close()
    cache = DiskCache(where)
    assert cache.get("no such key") == (False, None)  # open, before the damage
    index = where / "cache.db"
    size = index.stat().st_size
    with index.open("r+b") as file:  # keep the header and first pages, wreck the rest
        file.seek(8192)
        file.write(b"\xff" * (size - 8192))
    calls.clear()
    pipeline = Pipeline([inc], cache=cache)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pipeline.map(items) == pipeline.map(items)
    assert len(calls) == 3000  # recomputed once, then served from the rebuilt cache
    [warning] = _cache_warnings(caught)
    assert "was corrupt (database disk image is malformed)" in str(warning.message)
    assert len([p for p in where.iterdir() if p.name.startswith("corrupt-")]) == 1


def test_a_path_that_is_a_file_is_one_warning_and_every_lookup_a_miss(tmp_path):
    where = tmp_path / "not-a-directory"
    where.write_text("hello")
    calls, grow = _counted()
    pipeline = Pipeline([grow], cache=DiskCache(where))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert [len(y) for y in pipeline.map({"x": [1, 2, 1]})["y"]] == [20_000, 40_000, 20_000]
    [warning] = _cache_warnings(caught)
    assert f"DiskCache at {where} cannot be used: {where} is a file" in str(warning.message)
    assert calls == [1, 2, 1]
    assert where.read_text() == "hello"


@pytest.mark.parametrize(
    "size_limit", [0, -1, 1.5, True, "1GB"], ids=["zero", "negative", "float", "bool", "str"]
)
def test_a_size_limit_that_is_not_a_positive_number_of_bytes_is_a_clear_error(size_limit):
    with pytest.raises(ValueError, match=r"Give a positive whole number of bytes") as info:
        DiskCache("somewhere", size_limit=size_limit)
    assert f"DiskCache(size_limit={size_limit!r})" in str(info.value)
    assert "or None for no limit" in str(info.value)


def test_other_bad_arguments_are_clear_errors():
    with pytest.raises(ValueError, match=r"write_batch=0.*positive whole number"):
        DiskCache("somewhere", write_batch=0)
    with pytest.raises(
        TypeError, match=r"must be a directory path \(str or Path\) or None, got 42"
    ):
        DiskCache(42)  # type: ignore[arg-type]


# A cache directory this process cannot write. Permissions do not bind root, so as root the
# scenario runs as the unprivileged user "nobody".
READ_ONLY_SCENARIO = """
import json, os, sys, warnings
from hypernodes import DiskCache, Pipeline, node

where = sys.argv[1] + "/c"
calls = []

@node(output_name="y")
def grow(x):
    calls.append(x)
    return "v" * (x * 20_000)

first = DiskCache(where)
Pipeline([grow], cache=first).map({"x": [1, 2, 3]})
if sys.argv[2] == "closed":
    first.close()  # a clean close removes the write-ahead log files
for root, _, files in os.walk(where):
    os.chmod(root, 0o555)
    for name in files:
        os.chmod(os.path.join(root, name), 0o444)
calls.clear()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    out = Pipeline([grow], cache=DiskCache(where)).map({"x": [1, 2, 3, 4, 4]})
print(json.dumps([[len(y) for y in out["y"]], calls,
                  [(w.category.__name__, w.filename, str(w.message)) for w in caught]]))
"""


def _run_unprivileged(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", script, *args]
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv to drop privileges")
        drop = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"]
        probe = subprocess.run(
            [*drop, sys.executable, "-c", "import hypernodes"], capture_output=True, check=False
        )
        if probe.returncode != 0:
            pytest.skip("this Python cannot run as an unprivileged user here")
        command = [*drop, *command]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


@posix_only
@pytest.mark.parametrize("state", ["closed", "left-open"])
def test_a_read_only_cache_directory_serves_reads_and_warns_once_about_writes(state):
    import json

    base = tempfile.mkdtemp()  # not under tmp_path: as root, that is private to root
    try:
        if os.geteuid() == 0:
            os.chown(base, 65534, 65534)
        done = _run_unprivileged(READ_ONLY_SCENARIO, base, state)
        assert done.returncode == 0, done.stderr
        lengths, calls, caught = json.loads(done.stdout.splitlines()[-1])
    finally:
        for root, dirs, _ in os.walk(base):
            for name in dirs:
                os.chmod(os.path.join(root, name), 0o755)
        shutil.rmtree(base)
    assert lengths == [20_000, 40_000, 60_000, 80_000, 80_000]
    assert calls == [4, 4]  # 1-3 were read; 4 could not be stored
    [(category, filename, message)] = caught
    assert category == "CacheWarning"
    assert filename == "<string>"  # the user's line
    assert f"DiskCache at {base}/c cannot be written" in message
    assert "still serves the entries it holds" in message
