"""What a transport that misbehaves gets: a clear error naming it, never a lost item or
an AttributeError from deep inside the backend."""

from __future__ import annotations

import time

import pytest
from hypernodes import Pipeline, node
from hypernodes_modal.backend import ModalBackend
from hypernodes_modal.testing import SubprocessTransport


@node(output_name="y")
def sleepy(x):
    time.sleep(x)
    return x


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
