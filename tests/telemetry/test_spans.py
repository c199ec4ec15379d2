"""OpenTelemetry spans, checked with the SDK's in-memory exporter."""

from __future__ import annotations

import pickle

import pytest

pytest.importorskip("opentelemetry.sdk")

from hypernodes import MemoryCache, Pipeline, node
from hypernodes.telemetry import TelemetryCallback
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def telemetry(exporter) -> TelemetryCallback:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TelemetryCallback(service_name="tests", tracer_provider=provider)


@node(output_name="a")
def add_one(x):
    return x + 1


@node(output_name="b")
def double(a):
    return a * 2


def _tree(spans) -> dict[str, str | None]:
    by_id = {s.context.span_id: s.name for s in spans}
    return {
        s.name
        + (
            f"#{s.attributes.get('hypernodes.item_index')}"
            if s.name.startswith("node") and s.attributes.get("hypernodes.item_index") is not None
            else ""
        ): by_id.get(s.parent.span_id) if s.parent else None
        for s in spans
    }


def test_a_run_gives_a_pipeline_span_with_node_children(exporter, telemetry):
    Pipeline([add_one, double], name="p", callbacks=[telemetry]).run({"x": 1})
    spans = exporter.get_finished_spans()
    assert _tree(spans) == {
        "node add_one": "pipeline p",
        "node double": "pipeline p",
        "pipeline p": None,
    }
    node_span = next(s for s in spans if s.name == "node add_one")
    assert node_span.attributes["hypernodes.node"] == "add_one"
    assert node_span.attributes["hypernodes.cache_hit"] is False
    assert node_span.attributes["hypernodes.duration_s"] >= 0
    root = next(s for s in spans if s.name == "pipeline p")
    assert root.attributes["service.name"] == "tests"


def test_maps_and_nested_pipelines_nest_their_spans(exporter, telemetry):
    inner = Pipeline([add_one], name="inner").as_node(
        name="each", input_mapping={"xs": "x"}, map_over="xs"
    )
    Pipeline([inner], name="outer", callbacks=[telemetry]).run({"xs": [1, 2]})
    spans = exporter.get_finished_spans()
    parents = {}
    by_id = {s.context.span_id: s for s in spans}
    for s in spans:
        parent = by_id.get(s.parent.span_id).name if s.parent else None
        parents.setdefault(s.name, set()).add(parent)
    assert parents["pipeline outer"] == {None}
    assert parents["node each"] == {"pipeline outer"}
    assert parents["pipeline inner"] == {"node each"}
    assert parents["map inner"] == {"pipeline inner"}
    assert parents["item 0"] == {"map inner"}
    assert parents["node add_one"] == {"item 0", "item 1"}
    indices = sorted(
        s.attributes["hypernodes.item_index"] for s in spans if s.name == "node add_one"
    )
    assert indices == [0, 1]


def test_cache_hits_are_marked(exporter, telemetry):
    pipeline = Pipeline([add_one], name="p", cache=MemoryCache(), callbacks=[telemetry])
    pipeline.run({"x": 1})
    exporter.clear()
    pipeline.run({"x": 1})
    node_span = next(s for s in exporter.get_finished_spans() if s.name == "node add_one")
    assert node_span.attributes["hypernodes.cache_hit"] is True


def test_errors_are_recorded_and_every_open_span_ends_in_error(exporter, telemetry):
    @node(output_name="b")
    def explode(a):
        raise ValueError("bad")

    with pytest.raises(ValueError):
        Pipeline([add_one, explode], name="p", callbacks=[telemetry]).run({"x": 1})
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["node add_one"].status.status_code is StatusCode.UNSET
    failing = spans["node explode"]
    assert failing.status.status_code is StatusCode.ERROR
    assert failing.events[0].name == "exception"
    assert failing.events[0].attributes["exception.type"] == "ValueError"
    assert spans["pipeline p"].status.status_code is StatusCode.ERROR


def test_the_callback_is_lazy_and_pickles_as_configuration():
    callback = TelemetryCallback(service_name="svc")
    assert callback._tracer is None
    copy = pickle.loads(pickle.dumps(callback))
    assert copy.service_name == "svc"


def test_a_map_that_goes_on_past_failures_marks_only_the_failed_items(exporter, telemetry):
    @node(output_name="n")
    def parse(text):
        return int(text)

    pipeline = Pipeline([parse], name="p", callbacks=[telemetry])
    pipeline.map({"text": ["1", "x", "3"]}, on_error="continue")
    spans = exporter.get_finished_spans()
    items = {s.name: s for s in spans if s.name.startswith("item ")}
    assert items["item 1"].status.status_code is StatusCode.ERROR
    assert items["item 0"].status.status_code is StatusCode.UNSET
    failed_nodes = [
        s for s in spans if s.name == "node parse" and s.status.status_code is StatusCode.ERROR
    ]
    assert len(failed_nodes) == 1
    assert failed_nodes[0].events[0].name == "exception"
    top = next(s for s in spans if s.name == "pipeline p")
    assert top.status.status_code is StatusCode.UNSET  # the run itself went on to the end


def test_a_retried_node_records_its_attempts(exporter, telemetry):
    from hypernodes import Retries

    calls = []

    @node(output_name="y", retries=Retries(max=2, backoff=0))
    def flaky(x):
        calls.append(x)
        if len(calls) < 3:
            raise OSError(f"try {len(calls)}")
        return x

    Pipeline([flaky], name="p", callbacks=[telemetry]).run({"x": 1})
    span = next(s for s in exporter.get_finished_spans() if s.name == "node flaky")
    assert span.attributes["hypernodes.attempts"] == 3
    assert [e.name for e in span.events] == ["retry", "retry"]
    assert span.events[1].attributes["exception.message"] == "try 2"
