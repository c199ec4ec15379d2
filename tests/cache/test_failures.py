"""A cache never costs a user their results: every cache fault degrades to a miss or a warning."""

from __future__ import annotations

import multiprocessing
import shutil
import sqlite3
import threading
import warnings

from hypernodes import Cache, DiskCache, MemoryCache, Pipeline, node
from hypernodes.errors import CacheWarning


def _record(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]


def test_an_unhashable_input_skips_caching_with_one_warning_naming_node_and_type():
    ran = []

    @node(output_name="y")
    def use_lock(lock, x):
        ran.append(x)
        return x

    pipeline = Pipeline([use_lock], cache=MemoryCache())
    lock = threading.Lock()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pipeline.map({"lock": lock, "x": [1, 2, 3]}, map_over="x") == {"y": [1, 2, 3]}
    messages = _record(caught)
    assert len(messages) == 1
    assert "'use_lock'" in messages[0]
    assert "lock" in messages[0]
    assert "__cache_key__" in messages[0]
    assert ran == [1, 2, 3]


def test_a_result_that_cannot_be_stored_is_one_warning_and_the_run_succeeds(tmp_path):
    @node(output_name="fn")
    def make_function(x):
        return lambda: x  # a lambda cannot be pickled by the standard pickle

    pipeline = Pipeline([make_function], cache=DiskCache(tmp_path / "c"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = pipeline.map({"x": [1, 2]})
    assert [f() for f in out["fn"]] == [1, 2]
    messages = _record(caught)
    assert len(messages) == 1
    assert "'make_function'" in messages[0]
    assert "function" in messages[0]


def _ran_counter():
    ran = []

    @node(output_name="y")
    def compute(x):
        ran.append(x)
        return {"x": x, "payload": "z" * (100_000 if x > 100 else 1)}

    return ran, compute


def test_a_corrupt_entry_is_a_miss_and_is_replaced(tmp_path):
    ran, compute = _ran_counter()
    cache = DiskCache(tmp_path / "c")
    pipeline = Pipeline([compute], cache=cache)
    pipeline.run({"x": 1})
    cache.close()
    with sqlite3.connect(tmp_path / "c" / "cache.db") as db:
        db.execute("UPDATE Cache SET value = ?", (b"\x80\x04 not a pickle",))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pipeline.run({"x": 1})["y"]["x"] == 1
    assert any("could not be read" in m for m in _record(caught))
    pipeline.run({"x": 1})
    assert ran == [1, 1]  # recomputed once, then served from the replaced entry


def test_a_truncated_file_entry_is_a_miss_and_is_replaced(tmp_path):
    ran, compute = _ran_counter()
    pipeline = Pipeline([compute], cache=DiskCache(tmp_path / "c"))
    pipeline.run({"x": 500})  # a large value: stored in its own file
    files = list((tmp_path / "c").rglob("*.val"))
    assert files
    for path in files:
        path.write_bytes(path.read_bytes()[:100])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CacheWarning)
        assert pipeline.run({"x": 500})["y"]["x"] == 500
    pipeline.run({"x": 500})
    assert ran == [500, 500]


def test_a_cache_directory_deleted_during_a_run_is_recreated(tmp_path):
    where = tmp_path / "c"
    ran = []

    @node(output_name="a")
    def first(x):
        ran.append("first")
        return x

    @node(output_name="b")
    def delete_the_cache(a):
        ran.append("delete")
        shutil.rmtree(where)
        return a + 1

    @node(output_name="c")
    def after(b):
        ran.append("after")
        return b + 1

    # write_batch=1: each entry is written at once, so the deletion happens between writes
    pipeline = Pipeline([first, delete_the_cache, after], cache=DiskCache(where, write_batch=1))
    assert pipeline.run({"x": 1}) == {"a": 1, "b": 2, "c": 3}
    assert where.exists()
    ran.clear()
    assert pipeline.run({"x": 1}) == {"a": 1, "b": 2, "c": 3}
    assert ran == ["first"]  # the entries written after the deletion survived


class BrokenCache(Cache):
    """A cache plugin whose storage fails on every call."""

    def get(self, key):
        raise OSError("disk on fire")

    def put(self, key, value):
        raise OSError("disk on fire")

    def discard(self, key):
        raise OSError("disk on fire")


def test_a_cache_that_fails_on_every_call_never_fails_the_run():
    ran = []

    @node(output_name="y")
    def f(x):
        ran.append(x)
        return x * 2

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert Pipeline([f], cache=BrokenCache()).map({"x": [1, 2, 3]}) == {"y": [2, 4, 6]}
    assert ran == [1, 2, 3]
    assert len(_record(caught)) == 2  # one for reads, one for writes


def _writer(path: str, start: multiprocessing.synchronize.Event, log: str) -> None:
    from hypernodes import DiskCache, Pipeline, node

    @node(output_name="y")
    def square(x):
        with open(log, "a") as f:
            f.write(f"{x}\n")
        return [x] * 50

    start.wait(30)
    Pipeline([square], cache=DiskCache(path)).map({"x": list(range(300))})


def test_four_processes_writing_the_same_keys_at_once_lose_nothing(tmp_path):
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    log = tmp_path / "calls.txt"
    workers = [
        context.Process(target=_writer, args=(str(tmp_path / "c"), start, str(log)))
        for _ in range(4)
    ]
    for w in workers:
        w.start()
    start.set()
    for w in workers:
        w.join(120)
        assert w.exitcode == 0
    cache = DiskCache(tmp_path / "c")
    assert len(cache) == 300
    log.write_text("")
    _writer(str(tmp_path / "c"), start, str(log))
    assert log.read_text() == ""  # every key written by someone, every entry readable
