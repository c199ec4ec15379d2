"""Random DAGs (fan-in, fan-out, nesting) give identical results on every executor."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from hypernodes import DiskCache, MemoryCache, Node, Pipeline, node
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

ROOTS = ("i0", "i1")


def _make_node(index: int, params: list[str]) -> Node:
    body = " + ".join(params)
    source = f"def f{index}({', '.join(params)}):\n    return (({body}) * {index + 2} + {index}) % 1009\n"
    namespace: dict[str, object] = {}
    exec(source, namespace)
    return node(namespace[f"f{index}"], output_name=f"v{index}")


@st.composite
def dags(draw: st.DrawFn) -> Pipeline:
    count = draw(st.integers(1, 7))
    nodes: list[Node] = []
    available = list(ROOTS)
    for index in range(count):
        params = draw(st.lists(st.sampled_from(available), min_size=1, max_size=3, unique=True))
        nodes.append(_make_node(index, params))
        available.append(f"v{index}")
    nest = draw(st.integers(0, count))
    if nest >= 2:  # the first `nest` nodes become an inner pipeline used as one node
        inner = Pipeline(nodes[:nest], name="inner")
        mapped = draw(st.booleans())
        if mapped and "i0" in inner.input_names:
            inner_node = inner.as_node(input_mapping={"many": "i0"}, map_over="many")
            consumers_ok = all(
                not set(n.parameters) & set(inner.output_names) for n in nodes[nest:]
            )
            if consumers_ok:  # later nodes would receive lists; keep them scalar
                return Pipeline([inner_node, *nodes[nest:]], name="outer")
        return Pipeline([inner, *nodes[nest:]], name="outer")
    return Pipeline(nodes, name="outer")


def _inputs(pipeline: Pipeline, i0: list[int], i1: int) -> dict[str, object]:
    values: dict[str, object] = {"i0": i0[0], "i1": i1, "many": i0}
    return {k: v for k, v in values.items() if k in pipeline.input_names}


@pytest.fixture(scope="module")
def executors(processes):
    threads = ThreadPoolExecutor(3)
    yield {
        "eager": EagerNodeExecutor(),
        "sequential+threads": SequentialNodeExecutor(map_executor=threads),
        "eager+threads": EagerNodeExecutor(map_executor=threads),
        "sequential+processes": SequentialNodeExecutor(map_executor=processes),
    }
    threads.shutdown()


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pipeline=dags(),
    i0=st.lists(st.integers(-50, 50), min_size=1, max_size=4),
    i1=st.integers(-50, 50),
)
def test_random_dags_agree_across_executors(executors, pipeline, i0, i1):
    inputs = _inputs(pipeline, i0, i1)
    expected_run = pipeline.with_executor(SequentialNodeExecutor()).run(inputs)
    mapped_inputs = {**inputs, "i1": [i1, i1 + 1, i1 + 2]} if "i1" in inputs else None
    expected_map = pipeline.map(mapped_inputs, map_over="i1") if mapped_inputs else None
    for name, executor in executors.items():
        pipeline.with_executor(executor)
        assert pipeline.run(inputs) == expected_run, name
        if mapped_inputs:
            assert pipeline.map(mapped_inputs, map_over="i1") == expected_map, name
    pipeline.with_executor(SequentialNodeExecutor())


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    pipeline=dags(),
    i0=st.lists(st.integers(-50, 50), min_size=1, max_size=4),
    i1=st.integers(-50, 50),
)
def test_random_dags_agree_with_and_without_a_cache(executors, tmp_path_factory, pipeline, i0, i1):
    inputs = _inputs(pipeline, i0, i1)
    expected = pipeline.with_executor(SequentialNodeExecutor()).with_cache(None).run(inputs)
    caches = [MemoryCache(), DiskCache(tmp_path_factory.mktemp("dag-cache"))]
    for cache in caches:
        for name in ("sequential+threads", "sequential+processes"):
            pipeline.with_cache(cache).with_executor(executors[name])
            assert pipeline.run(inputs) == expected, (cache, name)  # cold
            assert pipeline.run(inputs) == expected, (cache, name)  # warm
            if "i1" in inputs:
                mapped = {**inputs, "i1": [i1, i1 + 1]}
                assert pipeline.map(mapped, map_over="i1") == pipeline.with_cache(None).map(
                    mapped, map_over="i1"
                ), (cache, name)
    pipeline.with_cache(None).with_executor(SequentialNodeExecutor())
