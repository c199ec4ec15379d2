"""What a transport that misbehaves gets: a clear error naming it, never a lost item or
an AttributeError from deep inside the backend."""

from __future__ import annotations

import time

import pytest
from hypernodes import Pipeline, node
from hypernodes_modal._remote import serve
from hypernodes_modal.backend import ModalBackend
from hypernodes_modal.testing import SubprocessTransport


@node(output_name="y")
def same(x):
    return x


@node(output_name="y")
def sleepy(x):
    time.sleep(x)
    return x


class ShortMap:
    """Maps by itself but answers only the first request."""

    def __call__(self, request):
        return serve(request)

    def map(self, requests):
        return [serve(r) for r in list(requests)[:1]]

    def __repr__(self):
        return "ShortMap()"


class LongMap(ShortMap):
    """Maps by itself and answers one request too many."""

    def map(self, requests):
        requests = list(requests)
        return [serve(r) for r in [*requests, requests[-1]]]

    def __repr__(self):
        return "LongMap()"


def distributed(transport):
    backend = ModalBackend(transport=transport, distribute_map=True, max_containers=2)
    return Pipeline([same], name="p", backend=backend)


def test_a_transport_map_answering_fewer_requests_than_it_was_given_raises_with_the_counts():
    with pytest.raises(RuntimeError) as info:
        distributed(ShortMap()).map({"x": list(range(8))}, map_over="x")
    message = str(info.value)
    assert "transport ShortMap()" in message
    assert "was given 8 requests" in message
    assert "answered only 1" in message


def test_a_transport_map_answering_more_requests_than_it_was_given_raises_with_the_counts():
    with pytest.raises(RuntimeError, match=r"LongMap\(\) was given 3 .* answered more than 3"):
        distributed(LongMap()).map({"x": [1, 2, 3]}, map_over="x")


@pytest.mark.parametrize("answer", [None, "response", 42])
@pytest.mark.parametrize("distribute", [False, True])
def test_a_transport_returning_something_else_than_bytes_is_a_type_error_naming_it(
    answer, distribute
):
    def wrong(request):
        return answer

    backend = ModalBackend(transport=wrong, distribute_map=distribute)
    pipeline = Pipeline([same], name="p", backend=backend)
    with pytest.raises(TypeError) as info:
        pipeline.map({"x": [1, 2]}, map_over="x")
    message = str(info.value)
    assert "transport <function" in message
    assert "wrong" in message
    assert f"returned {type(answer).__name__}" in message
    assert "instead of the response bytes" in message


def test_a_bytearray_response_is_read_as_bytes():
    backend = ModalBackend(transport=lambda request: bytearray(serve(request)))
    assert Pipeline([same], backend=backend).run({"x": 3}) == {"y": 3}


def test_a_subprocess_call_over_its_timeout_is_a_timeout_error_naming_it_without_the_script():
    backend = ModalBackend(transport=SubprocessTransport(timeout=1))
    started = time.monotonic()
    with pytest.raises(TimeoutError) as info:
        Pipeline([sleepy], backend=backend).run({"x": 30})
    assert time.monotonic() - started < 20
    message = str(info.value)
    assert "SubprocessTransport(timeout=1)" in message
    assert "import sys" not in message
    assert "serve(request)" not in message
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__
