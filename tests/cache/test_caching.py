"""Caching in runs and maps: hits, misses, opting out, nesting, persistence, pickling."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypernodes import DiskCache, MemoryCache, Pipeline, node
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def chain(calls):
    @node(output_name="a")
    def make_a(x):
        calls.append(f"a{x}")
        return x + 1

    @node(output_name="b")
    def make_b(a):
        calls.append(f"b{a}")
        return a * 2

    return Pipeline([make_a, make_b], name="chain")


@pytest.fixture(params=["memory", "disk"])
def cache(request, tmp_path):
    return MemoryCache() if request.param == "memory" else DiskCache(tmp_path / "cache")


def test_a_second_run_is_served_from_the_cache(chain, calls, cache):
    chain.with_cache(cache)
    assert chain.run({"x": 1}) == {"a": 2, "b": 4}
    assert chain.run({"x": 1}) == {"a": 2, "b": 4}
    assert calls == ["a1", "b2"]


def test_different_inputs_miss(chain, calls, cache):
    chain.with_cache(cache)
    chain.run({"x": 1})
    chain.run({"x": 2})
    assert calls == ["a1", "b2", "a2", "b3"]


def test_map_items_are_cached_one_by_one(chain, calls, cache):
    chain.with_cache(cache)
    assert chain.map({"x": [1, 2, 3]})["b"] == [4, 6, 8]
    calls.clear()
    assert chain.map({"x": [2, 3, 4]})["b"] == [6, 8, 10]
    assert calls == ["a4", "b5"]


def test_a_node_with_cache_false_always_runs(calls, cache):
    @node(output_name="a", cache=False)
    def fresh(x):
        calls.append("fresh")
        return x

    @node(output_name="b")
    def kept(a):
        calls.append("kept")
        return a

    pipeline = Pipeline([fresh, kept], cache=cache)
    pipeline.run({"x": 1})
    pipeline.run({"x": 1})
    assert calls == ["fresh", "kept", "fresh"]


def test_downstream_of_an_uncached_node_reruns_when_its_value_changes(cache):
    source = {"value": 1}
    seen = []

    @node(output_name="reading", cache=False)
    def read(x):
        return source["value"]

    @node(output_name="doubled")
    def double(reading):
        seen.append(reading)
        return reading * 2

    pipeline = Pipeline([read, double], cache=cache)
    assert pipeline.run({"x": 0})["doubled"] == 2
    source["value"] = 5
    assert pipeline.run({"x": 0})["doubled"] == 10
    assert pipeline.run({"x": 0})["doubled"] == 10
    assert seen == [1, 5]


def test_with_cache_none_on_the_pipeline_turns_caching_off(chain, calls, cache):
    chain.with_cache(cache).with_cache(None)
    chain.run({"x": 1})
    chain.run({"x": 1})
    assert len(calls) == 4


def test_nested_pipelines_cache_their_inner_nodes(chain, calls, cache):
    outer = Pipeline([chain.as_node(input_mapping={"xs": "x"}, map_over="xs")], cache=cache)
    outer.run({"xs": [1, 2]})
    calls.clear()
    assert outer.run({"xs": [1, 2, 3]}) == {"a": [2, 3, 4], "b": [4, 6, 8]}
    assert calls == ["a3", "b4"]


def test_an_inner_pipeline_with_cache_none_is_not_cached(chain, calls, cache):
    @node(output_name="c")
    def make_c(b):
        calls.append("c")
        return b

    outer = Pipeline([chain.with_cache(None), make_c], cache=cache)
    outer.run({"x": 1})
    outer.run({"x": 1})
    assert calls == ["a1", "b2", "c", "a1", "b2"]


def test_as_node_cache_none_disables_caching_for_that_use(chain, calls, cache):
    outer = Pipeline([chain.as_node(cache=None)], cache=cache)
    outer.run({"x": 1})
    outer.run({"x": 1})
    assert len(calls) == 4


def test_a_default_and_the_same_value_given_share_a_key_other_values_miss(cache):
    ran = []

    @node(output_name="y")
    def scale(x, factor=2):
        ran.append(factor)
        return x * factor

    pipeline = Pipeline([scale], cache=cache)
    pipeline.run({"x": 1})
    pipeline.run({"x": 1})
    pipeline.run({"x": 1, "factor": 2})  # the default's value, given explicitly: the same call
    pipeline.run({"x": 1, "factor": 3})
    assert ran == [2, 3]


def test_rebinding_a_helper_between_runs_invalidates(cache):
    namespace: dict[str, object] = {"__name__": "notebook_cell"}
    exec("def helper(x):\n    return x + 1\ndef step(x):\n    return helper(x)\n", namespace)
    pipeline = Pipeline([node(namespace["step"], output_name="y")], cache=cache)
    assert pipeline.run({"x": 1}) == {"y": 2}
    exec("def helper(x):\n    return x + 100\n", namespace)
    assert pipeline.run({"x": 1}) == {"y": 101}


def test_multi_output_nodes_are_cached(cache):
    ran = []

    @node(output_name=("low", "high"))
    def bounds(values):
        ran.append(1)
        return min(values), max(values)

    pipeline = Pipeline([bounds], cache=cache)
    assert pipeline.run({"values": [3, 1, 2]}) == {"low": 1, "high": 3}
    assert pipeline.run({"values": [3, 1, 2]}) == {"low": 1, "high": 3}
    assert ran == [1]


def test_async_nodes_are_cached(cache):
    ran = []

    @node(output_name="y")
    async def fetch(x):
        ran.append(x)
        return x * 2

    for executor in (SequentialNodeExecutor(), EagerNodeExecutor()):
        pipeline = Pipeline([fetch, node(lambda x: x, output_name="z")], cache=cache)
        assert pipeline.with_executor(executor).run({"x": 4}) == {"y": 8, "z": 4}
    assert ran == [4]


def test_eager_and_thread_pools_share_the_cache(chain, calls, cache):
    chain.with_cache(cache).with_executor(EagerNodeExecutor(map_executor=ThreadPoolExecutor(4)))
    chain.map({"x": list(range(20))})
    calls.clear()
    assert chain.map({"x": list(range(20))})["b"] == [2 * (x + 1) for x in range(20)]
    assert calls == []


def test_a_disk_cache_is_shared_by_process_pool_workers(tmp_path, processes):
    log = tmp_path / "calls.txt"

    @node(output_name="y")
    def work(x):
        with open(log, "a") as f:
            f.write(f"{x}\n")
        return x * x

    pipeline = Pipeline([work], cache=DiskCache(tmp_path / "c")).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    assert pipeline.map({"x": list(range(10))})["y"] == [x * x for x in range(10)]
    assert pipeline.map({"x": list(range(12))})["y"] == [x * x for x in range(12)]
    assert sorted(int(v) for v in log.read_text().split()) == list(range(12))


def test_a_disk_cache_persists_across_processes(tmp_path):
    script = textwrap.dedent(
        f"""
        from hypernodes import DiskCache, Pipeline, node

        @node(output_name="y")
        def slow_square(x):
            with open({str(tmp_path / "calls.txt")!r}, "a") as f:
                f.write("call\\n")
            return x * x

        out = Pipeline([slow_square], cache=DiskCache({str(tmp_path / "c")!r})).map({{"x": [1, 2, 3]}})
        print(out["y"])
        """
    )
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "[1, 4, 9]"
    assert (tmp_path / "calls.txt").read_text().count("call") == 3


def test_caches_pickle_without_their_handles(tmp_path):
    disk = DiskCache(tmp_path / "c", size_limit=10**9)
    disk.put("k", 1)
    copy = pickle.loads(pickle.dumps(disk))
    assert copy._store is None
    assert copy.get("k") == (True, 1)
    memory = MemoryCache(max_size=3)
    memory.put("k", 1)
    fresh = pickle.loads(pickle.dumps(memory))
    assert fresh.max_size == 3
    assert fresh.get("k") == (False, None)


def test_copies_arriving_in_a_process_are_one_disk_cache_per_configuration(tmp_path):
    disk = DiskCache(tmp_path / "c")
    first, second = (pickle.loads(pickle.dumps(disk)) for _ in range(2))
    assert first is second  # one store and one set of open files, however many payloads
    assert first is not disk
    other = pickle.loads(pickle.dumps(DiskCache(tmp_path / "c", size_limit=10**9)))
    assert other is not first
    assert other.size_limit == 10**9


@node(output_name="fds")
def open_files(x: int) -> int:
    return len(os.listdir(f"/proc/{os.getpid()}/fd"))


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_a_long_lived_worker_keeps_its_open_files_flat_over_many_maps(tmp_path, processes):
    pipeline = Pipeline([open_files], cache=DiskCache(tmp_path / "c")).with_executor(
        SequentialNodeExecutor(map_executor=processes)
    )
    counts = [
        max(pipeline.map({"x": [run * 10 + k for k in range(4)]})["fds"]) for run in range(40)
    ]
    assert max(counts[20:]) <= max(counts[:5]) + 2  # not one more store per map served


def test_disk_cache_opens_nothing_until_first_use(tmp_path):
    cache = DiskCache(tmp_path / "not-yet")
    assert not (tmp_path / "not-yet").exists()
    cache.put("k", "v")
    assert cache.get("k") == (True, "v")  # served from the write batch
    cache.flush()
    assert (tmp_path / "not-yet").exists()


def test_memory_cache_evicts_the_least_recently_used():
    cache = MemoryCache(max_size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == (True, 1)  # a is now the most recent
    cache.put("c", 3)
    assert cache.contains("a")
    assert not cache.contains("b")
    assert len(cache) == 2


def test_memory_cache_is_thread_safe():
    cache = MemoryCache(max_size=50)

    def hammer(offset: int) -> None:
        for i in range(2000):
            cache.put(f"{offset}-{i % 80}", i)
            cache.get(f"{offset}-{(i * 7) % 80}")

    threads = [threading.Thread(target=hammer, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(cache) == 50


def test_cache_names_resolve_with_a_sensible_default_path(monkeypatch, tmp_path):
    monkeypatch.setenv("HYPERNODES_CACHE_DIR", str(tmp_path / "default"))
    assert isinstance(Pipeline([], cache="memory").effective_cache, MemoryCache)
    disk = Pipeline([], cache="disk").effective_cache
    assert isinstance(disk, DiskCache)
    assert disk.path == tmp_path / "default"


def test_the_default_disk_path_is_under_the_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("HYPERNODES_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert DiskCache().path == tmp_path / "hypernodes"


class _CountedKey:
    """An input that counts how often its cache key is computed."""

    def __init__(self, counter: list[int]) -> None:
        self.counter = counter

    def __cache_key__(self) -> str:
        self.counter.append(1)
        return "table-v1"


def test_an_input_shared_by_every_item_is_keyed_once_per_map():
    keyed: list[int] = []

    @node(output_name="y")
    def lookup(table, x):
        return x

    pipeline = Pipeline([lookup], cache=MemoryCache())
    table = _CountedKey(keyed)
    pipeline.map({"table": table, "x": list(range(50))}, map_over="x")
    assert len(keyed) == 1
    pipeline.map({"table": table, "x": list(range(50, 60))}, map_over="x")
    assert len(keyed) == 2  # the next map keys it again: it may have changed in between


def test_a_reused_mutated_buffer_from_an_uncached_producer_is_keyed_afresh(cache):
    buffer = [0.0]

    @node(output_name="filled", cache=False)
    def fill(x):
        buffer[0] = 3.0 * x  # the same list object every item, new contents
        return buffer

    @node(output_name="total")
    def total(filled):
        return sum(filled)

    pipeline = Pipeline([fill, total], cache=cache)
    assert pipeline.map({"x": [1, 2, 3]})["total"] == [3.0, 6.0, 9.0]
    assert pipeline.map({"x": [1, 2, 3]})["total"] == [3.0, 6.0, 9.0]


def test_intermediates_of_earlier_items_are_not_kept_alive_by_the_cache():
    import weakref

    class Blob:
        def __init__(self, n):
            self.n = n

        def __cache_key__(self):
            return self.n

    refs = []
    alive = []

    @node(output_name="blob", cache=False)
    def make(x):
        blob = Blob(x)
        refs.append(weakref.ref(blob))
        return blob

    @node(output_name="n")
    def size(blob):
        alive.append(sum(1 for r in refs if r() is not None))
        return blob.n

    Pipeline([make, size], cache=MemoryCache()).map({"x": list(range(50))}, output_name="n")
    assert max(alive) == 1  # this item's blob: earlier ones were freed as soon as unused


def test_a_map_over_large_intermediates_peaks_at_what_one_item_needs(tmp_path):
    np = pytest.importorskip("numpy")
    import tracemalloc

    size = 4 * 2**20

    @node(output_name="big", cache=False)
    def load(i):
        return np.full(size // 8, float(i))

    @node(output_name="mean")
    def mean(big):
        return float(big[0])

    pipeline = Pipeline([load, mean], cache=DiskCache(tmp_path / "c"))
    tracemalloc.start()
    try:
        out = pipeline.map({"i": list(range(20))}, output_name="mean")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert out["mean"] == [float(i) for i in range(20)]
    assert peak < 5 * size  # twenty items held by a value memo would be 20 * size


def test_a_class_attribute_changed_in_the_same_process_invalidates(cache):
    class Cfg:
        FACTOR = 2

    @node(output_name="y")
    def scale(x):
        return x * Cfg.FACTOR

    pipeline = Pipeline([scale], cache=cache)
    assert pipeline.run({"x": 5}) == {"y": 10}
    Cfg.FACTOR = 3
    assert pipeline.run({"x": 5}) == {"y": 15}


def test_lambda_inputs_never_collide(cache):
    @node(output_name="y")
    def apply(fn, v):
        return fn(v)

    pipeline = Pipeline([apply], cache=cache)
    assert pipeline.run({"fn": lambda v: v + 1, "v": 2}) == {"y": 3}
    assert pipeline.run({"fn": lambda v: v * 100, "v": 2}) == {"y": 200}


def test_an_input_whose_cache_key_raises_is_one_warning_and_uncached_calls(cache):
    import warnings

    from hypernodes.errors import CacheWarning

    class Broken:
        def __cache_key__(self):
            raise ValueError("no key today")

    ran = []

    @node(output_name="y")
    def use(obj, x):
        ran.append(x)
        return x

    pipeline = Pipeline([use], cache=cache)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert pipeline.map({"obj": Broken(), "x": [1, 2, 3]}, map_over="x") == {"y": [1, 2, 3]}
        assert pipeline.map({"obj": Broken(), "x": [1, 2, 3]}, map_over="x") == {"y": [1, 2, 3]}
    messages = [str(w.message) for w in caught if issubclass(w.category, CacheWarning)]
    assert len(messages) == 2  # one per map, not one per item
    assert "no key today" in messages[0]
    assert ran == [1, 2, 3, 1, 2, 3]


def test_an_input_whose_getattr_raises_never_fails_the_run(cache):
    class Proxy:
        def __init__(self, value):
            self.value = value

        def __getattr__(self, name):
            raise RuntimeError(f"remote attribute {name} unavailable")

    ran = []

    @node(output_name="y")
    def use(obj, x):
        ran.append(x)
        return obj.value + x

    pipeline = Pipeline([use], cache=cache)
    assert pipeline.run({"obj": Proxy(1), "x": 1}) == {"y": 2}
    assert pipeline.run({"obj": Proxy(1), "x": 1}) == {"y": 2}
    assert pipeline.run({"obj": Proxy(5), "x": 1}) == {"y": 6}
    assert ran == [1, 1]  # keyed by its state, like any object
