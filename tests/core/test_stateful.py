"""@stateful resources: built lazily, once per process, shipped as their arguments."""

from __future__ import annotations

import copy
import pickle
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypernodes import MemoryCache, Pipeline, Stateful, node, stateful
from hypernodes.executor import SequentialNodeExecutor

BUILDS: list[str] = []


@stateful
class Model:
    """A resource whose construction is slow and counted."""

    def __init__(self, name: str, scale: int = 1):
        BUILDS.append(name)
        time.sleep(0.01)
        self.name = name
        self.scale = scale
        self.weights = [0.5] * 100_000  # large built state

    def predict(self, x: int) -> int:
        return x * self.scale


@node(output_name="y")
def predict(x: int, model: Model) -> int:
    return model.predict(x)


@pytest.fixture(autouse=True)
def _fresh_counts():
    BUILDS.clear()


def test_constructing_returns_at_once_and_the_object_is_built_on_first_use():
    model = Model("small", scale=3)
    assert BUILDS == []
    assert isinstance(model, Stateful)
    assert not model.built
    assert model.predict(2) == 6
    assert BUILDS == ["small"]
    assert model.built
    assert repr(model) == "Model('small', scale=3)"


def test_two_runs_in_one_process_build_it_once():
    model = Model("m", scale=2)
    pipeline = Pipeline([predict]).bind(model=model)
    assert pipeline.run({"x": 1}) == {"y": 2}
    assert pipeline.run({"x": 5}) == {"y": 10}
    assert BUILDS == ["m"]


def test_sixteen_threads_asking_at_once_build_it_once():
    model = Model("t")
    pipeline = Pipeline([predict]).with_executor(
        SequentialNodeExecutor(map_executor=ThreadPoolExecutor(16))
    )
    result = pipeline.map({"x": list(range(64)), "model": model}, map_over="x")
    assert result["y"] == list(range(64))
    assert BUILDS == ["t"]


def test_a_map_of_200_items_on_a_2_process_pool_builds_it_at_most_twice(processes, tmp_path):
    log = tmp_path / "builds"

    @stateful
    class Logged:
        def __init__(self, path: str):
            with open(path, "a") as file:
                file.write("built\n")

        def double(self, x: int) -> int:
            return 2 * x

    @node(output_name="y")
    def use(x: int, resource) -> int:
        return resource.double(x)

    pipeline = Pipeline([use]).with_executor(SequentialNodeExecutor(map_executor=processes))
    handle = Logged(str(log))
    result = pipeline.map({"x": list(range(200)), "resource": handle}, map_over="x")
    assert result["y"] == [2 * x for x in range(200)]
    assert 1 <= len(log.read_text().splitlines()) <= 2
    assert not handle.built  # the caller never built it: only the workers used it


def test_it_pickles_as_its_arguments_never_its_built_state():
    model = Model("p", scale=4)
    model.predict(1)  # built here
    copy = pickle.loads(pickle.dumps(model))
    assert type(copy) is Model
    assert copy.predict(2) == 8
    assert BUILDS == ["p"]  # the copy shares this process's built object
    assert len(pickle.dumps(model)) < 1_000  # the 100,000 weights do not travel


def test_its_cache_key_is_its_code_and_arguments_so_a_node_taking_it_caches():
    calls = []

    @node(output_name="y")
    def scored(x: int, model: Model) -> int:
        calls.append(x)
        return model.predict(x)

    pipeline = Pipeline([scored], cache=MemoryCache())
    pipeline.run({"x": 1, "model": Model("a", scale=2)})
    pipeline.run({"x": 1, "model": Model("a", scale=2)})  # a new handle, same arguments
    assert calls == [1]
    pipeline.run({"x": 1, "model": Model("a", scale=3)})  # other arguments: a miss
    assert calls == [1, 1]


def test_a_failing_constructor_raises_its_own_error_naming_the_resource_and_is_retried():
    attempts = []

    @stateful
    class Flaky:
        def __init__(self, name: str):
            attempts.append(name)
            if len(attempts) == 1:
                raise OSError("weights not found")

        def ok(self) -> bool:
            return True

    flaky = Flaky("w")
    with pytest.raises(OSError, match="weights not found") as info:
        flaky.ok()
    assert "hypernodes: while building the stateful resource Flaky('w')" in info.value.__notes__
    assert flaky.ok() is True  # tried again, and built
    assert attempts == ["w", "w"]


def test_only_a_class_can_be_stateful():
    with pytest.raises(TypeError, match="@stateful decorates a class"):
        stateful(lambda: None)


def test_a_constructor_running_on_sixteen_threads_runs_once(monkeypatch):
    started = threading.Event()
    gate = threading.Event()
    count = []

    @stateful
    class Slow:
        def __init__(self):
            count.append(1)
            started.set()
            gate.wait(2)

        def value(self) -> int:
            return 1

    slow = Slow()
    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(slow.value) for _ in range(16)]
        started.wait(2)
        gate.set()
        assert [f.result() for f in futures] == [1] * 16
    assert count == [1]


def test_a_class_of_its_own_cache_key_counts_too_so_changed_weights_miss(tmp_path):
    weights = tmp_path / "weights"
    weights.write_text("2")

    @stateful
    class Weighted:
        def __init__(self, path):
            self.path = path
            with open(path) as file:
                self.k = int(file.read())

        def __cache_key__(self):
            with open(self.path) as file:
                return (self.path, file.read())

        def predict(self, x):
            return x * self.k

    @node(output_name="y")
    def predicted(x: int, model) -> int:
        return model.predict(x)

    cache = MemoryCache()
    assert Pipeline([predicted], cache=cache).run({"x": 5, "model": Weighted(str(weights))}) == {
        "y": 10
    }
    weights.write_text("3")
    assert Pipeline([predicted], cache=cache).run({"x": 5, "model": Weighted(str(weights))}) == {
        "y": 15
    }


def test_the_built_object_is_freed_with_the_last_handle():
    import gc
    import weakref

    refs = []

    @stateful
    class Heavy:
        def __init__(self, name):
            self.payload = [0] * 10
            refs.append(weakref.ref(self))

    handle = Heavy("v")
    handle.payload  # noqa: B018 - builds it
    twin = copy.copy(handle)  # as unpickling makes it: the same resource, in this process
    del handle
    gc.collect()
    assert refs[0]() is not None  # the twin still uses it
    del twin
    gc.collect()
    assert refs[0]() is None


@stateful
class Vocab:
    SIZE = 3

    def __init__(self, name):
        self.words = ["a", "b", "c"]

    def __len__(self):
        return len(self.words)

    def __getitem__(self, index):
        return self.words[index]

    def __iter__(self):
        return iter(self.words)

    def __contains__(self, word):
        return word in self.words

    @classmethod
    def size(cls):
        return cls.SIZE


def test_a_handle_passes_the_container_protocols_and_class_attributes_through():
    vocab = Vocab("en")
    assert bool(vocab)
    assert not vocab.built  # truth does not build it
    assert len(vocab) == 3
    assert vocab[0] == "a"
    assert list(vocab) == ["a", "b", "c"]
    assert "b" in vocab
    assert Vocab.SIZE == 3
    assert Vocab.size() == 3
    assert isinstance(vocab, Vocab)
    assert isinstance(vocab.instance, Vocab)


def test_asking_a_handle_for_a_protocol_it_lacks_builds_nothing():
    model = Model("quiet")
    assert not hasattr(model, "__array__")
    assert not model.built


def test_a_handle_of_a_class_made_stateful_under_another_name_pickles():
    import json

    decoder = stateful(json.JSONDecoder)()
    copy = pickle.loads(pickle.dumps(decoder))
    assert copy.decode('{"a": 1}') == {"a": 1}
    assert type(copy) is stateful(json.JSONDecoder)
