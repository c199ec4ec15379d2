"""Running on "Modal" through the clean-subprocess transport: the seed's nested example,
errors, distributed maps, and what the payload carries."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

import pytest
from hypernodes import Pipeline, node
from hypernodes.testing import EventLog, compare_events
from hypernodes_modal.backend import ModalBackend
from hypernodes_modal.testing import SubprocessTransport

# -- the seed's example: an inner pipeline on a Modal GPU, nested in a local one -----


@node(output_name="cleaned")
def clean(text):
    return text.strip().lower()


@node(output_name="embedding")
def embed(cleaned):
    return [float(len(word)) for word in cleaned.split()]


@node(output_name="worker")
def where_it_ran(embedding):
    return os.getpid()


@node(output_name="report")
def summarize(embeddings, workers):
    return {"count": len(embeddings), "total": sum(map(sum, embeddings)), "pids": set(workers)}


def seed_pipeline(backend=None):
    encode = Pipeline([clean, embed, where_it_ran], name="encode", backend=backend)
    per_text = encode.as_node(
        name="encode_each",
        input_mapping={"texts": "text"},
        output_mapping={"embedding": "embeddings", "worker": "workers"},
        map_over="texts",
    )
    return Pipeline([per_text, summarize], name="report")


TEXTS = [" Hello World ", "a bb ccc", "GPU time"]


def test_only_the_inner_pipeline_runs_remotely_and_gives_what_a_local_run_gives():
    local = seed_pipeline().run({"texts": TEXTS}, output_name="report")["report"]
    remote = seed_pipeline(ModalBackend(gpu="A100", transport=SubprocessTransport()))
    report = remote.run({"texts": TEXTS}, output_name="report")["report"]
    assert (report["count"], report["total"]) == (local["count"], local["total"]) == (3, 23.0)
    assert len(report["pids"]) == 1  # one remote call ran the whole inner map
    assert report["pids"] != {os.getpid()}


def test_the_inner_pipelines_callbacks_fire_here_nested_under_the_outer_run():
    here, there = EventLog(), EventLog()
    seed_pipeline().with_callbacks([here]).run({"texts": TEXTS})
    backend = ModalBackend(gpu="A100", transport=SubprocessTransport())
    seed_pipeline(backend).with_callbacks([there]).run({"texts": TEXTS})
    compare_events(here.events, there.events, "seed example")
    inner = [e for e in there.events if e[0] == "on_node_end" and e[3] == ("embed",)]
    assert [e[1:3] for e in inner] == [(("report", "encode"), (i,)) for i in range(3)]


def test_a_distributed_inner_map_gives_the_same_report():
    backend = ModalBackend(transport=SubprocessTransport(), distribute_map=True, max_containers=3)
    report = seed_pipeline(backend).run({"texts": TEXTS}, output_name="report")["report"]
    assert (report["count"], report["total"]) == (3, 23.0)


# -- errors ------------------------------------------------------------------------


class QuotaExceeded(Exception):
    def __init__(self, used, limit):
        super().__init__(f"used {used} of {limit}")
        self.used = used
        self.limit = limit


@node(output_name="y")
def over_quota(x):
    raise QuotaExceeded(x, 10)


def test_a_remote_error_comes_back_as_itself_with_notes_and_the_remote_traceback():
    log = EventLog()
    pipeline = Pipeline([over_quota], name="billing", callbacks=[log])
    pipeline.with_backend(ModalBackend(transport=SubprocessTransport()))
    with pytest.raises(QuotaExceeded, match="used 12 of 10") as info:
        pipeline.run({"x": 12})
    assert (info.value.used, info.value.limit) == (12, 10)
    notes = "\n".join(info.value.__notes__)
    assert "hypernodes: in node 'over_quota' of pipeline 'billing'" in notes
    assert "raised in Modal function 'hypernodes_run' of app 'hypernodes'" in notes
    assert "in over_quota" in notes  # the node's frame, from the far side
    assert [e[0] for e in log.events] == ["on_pipeline_start", "on_node_start", "on_error"]


@node(output_name="checked")
def reject_seven(x):
    if x == 7:
        raise ValueError(f"seven is not allowed (got {x})")
    return x


@pytest.mark.parametrize("distribute", [False, True])
def test_a_failing_map_item_is_named_by_its_index(distribute):
    backend = ModalBackend(
        transport=SubprocessTransport(), distribute_map=distribute, max_containers=2
    )
    pipeline = Pipeline([reject_seven], name="items", backend=backend)
    with pytest.raises(ValueError, match="seven is not allowed") as info:
        pipeline.map({"x": list(range(12))})
    assert "hypernodes: in map item 7 of pipeline 'items'" in info.value.__notes__


def test_a_failed_call_of_a_distributed_map_names_the_items_it_carried():
    calls = []
    transport = SubprocessTransport()

    def flaky(request):  # the third call's container dies
        calls.append(request)
        if len(calls) == 3:
            raise ConnectionError("container lost")
        return transport(request)

    backend = ModalBackend(transport=flaky, distribute_map=True, max_containers=1)
    pipeline = Pipeline([reject_seven], name="items", backend=backend)
    with pytest.raises(ConnectionError, match="container lost") as info:
        pipeline.map({"x": list(range(6))})
    # max_containers=1 cuts 6 items into chunks of 2: the third call carried items 4 and 5.
    assert info.value.__notes__ == [
        "hypernodes: the call running map items 4 to 5 of pipeline 'items' failed in "
        "Modal function 'hypernodes_run' of app 'hypernodes'"
    ]


# -- distributed maps --------------------------------------------------------------------


class CountingTransport:
    """A clean-subprocess transport that records how many calls overlap."""

    def __init__(self):
        self.inner = SubprocessTransport()
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.calls = 0

    def __call__(self, request):
        with self.lock:
            self.calls += 1
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            return self.inner(request)
        finally:
            with self.lock:
                self.running -= 1


@node(output_name="square")
def slow_square(x):
    time.sleep(0.05)
    return x * x


def test_a_distributed_map_keeps_input_order_and_respects_max_containers():
    transport = CountingTransport()
    backend = ModalBackend(transport=transport, distribute_map=True, max_containers=2)
    result = Pipeline([slow_square], backend=backend).map({"x": list(range(20))})
    assert result == {"square": [x * x for x in range(20)]}
    assert transport.calls > 2  # more chunks than containers: no container idles behind a slow one
    assert transport.most == 2


def test_a_transport_that_maps_by_itself_is_given_every_chunk_at_once():
    class MappingTransport(SubprocessTransport):
        batches: list[int] = []

        def map(self, requests):
            requests = list(requests)
            self.batches.append(len(requests))
            return [self(request) for request in requests]

    backend = ModalBackend(transport=MappingTransport(), distribute_map=True, max_containers=2)
    assert Pipeline([slow_square], backend=backend).map({"x": [1, 2, 3]}) == {"square": [1, 4, 9]}
    assert MappingTransport.batches == [3]


@dataclass(frozen=True)
class Document:
    """Defined in a test module, which the clean process cannot import."""

    title: str
    words: int


@node(output_name="summary")
def describe_document(document):
    return f"{document.title}: {document.words} words"


def test_map_items_holding_instances_of_the_users_classes_travel_by_value():
    documents = [Document("a", 3), Document("b", 5), Document("c", 8)]
    backend = ModalBackend(transport=SubprocessTransport(), distribute_map=True)
    result = Pipeline([describe_document], backend=backend).map({"document": documents})
    assert result == {"summary": ["a: 3 words", "b: 5 words", "c: 8 words"]}


def test_an_empty_distributed_map_calls_nothing():
    def refuse(request):
        raise AssertionError("no call expected")

    backend = ModalBackend(transport=refuse, distribute_map=True)
    assert Pipeline([slow_square], backend=backend).map({"x": []}) == {"square": []}


# -- what travels ---------------------------------------------------------------------


class Recorder:
    def __init__(self):
        self.requests = []
        self.inner = SubprocessTransport()

    def __call__(self, request):
        self.requests.append(request)
        return self.inner(request)


def test_nothing_of_the_local_environment_or_the_configuration_is_in_the_payload(monkeypatch):
    import modal

    marker = "hn-marker-" + os.urandom(8).hex()
    monkeypatch.setenv("HYPERNODES_TEST_SECRET", marker)
    recorder = Recorder()
    backend = ModalBackend(
        secrets=[modal.Secret.from_dict({"API_KEY": marker})],
        env={"TOKEN": marker},
        transport=recorder,
    )
    pipeline = Pipeline([clean, embed], backend=backend)
    assert pipeline.run({"text": "Hello"}) == {"cleaned": "hello", "embedding": [5.0]}
    assert pipeline.map({"text": ["a", "b"]}) == {
        "cleaned": ["a", "b"],
        "embedding": [[1.0], [1.0]],
    }
    assert len(recorder.requests) == 2
    for request in recorder.requests:
        assert marker.encode() not in request


@node(output_name="outer_worker")
def outer_pid(cleaned):
    return os.getpid()


def nested_in_shipped_work(inner_backend=None):
    inner = Pipeline([where_it_ran], name="inner", backend=inner_backend)
    outer = Pipeline([clean, embed, inner.as_node(), outer_pid], name="outer")
    return outer.with_backend(ModalBackend(transport=SubprocessTransport()))


def test_a_pipeline_nested_in_shipped_work_runs_in_the_same_container():
    result = nested_in_shipped_work().run({"text": "x"})
    assert result["worker"] == result["outer_worker"] != os.getpid()


def test_another_modal_backend_nested_in_shipped_work_runs_in_place_and_says_so():
    pipeline = nested_in_shipped_work(ModalBackend(gpu="H100"))
    with pytest.warns(UserWarning, match="runs in that container, in place"):
        result = pipeline.run({"text": "x"})
    assert result["worker"] == result["outer_worker"] != os.getpid()


def test_a_small_pipelines_payload_is_small():
    recorder = Recorder()
    seed_pipeline(ModalBackend(transport=recorder)).run({"texts": TEXTS})
    (request,) = recorder.requests
    assert len(request) < 20_000
