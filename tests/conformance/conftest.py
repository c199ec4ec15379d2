"""Every executor configuration hypernodes ships, built once per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from hypernodes import MemoryCache, set_default_config
from hypernodes.executor import EagerNodeExecutor, SequentialNodeExecutor

from tests.core.test_callbacks import Recording

CONFIGURATIONS = [
    "sequential",
    "eager",
    "sequential+threads",
    "sequential+processes",
    "eager+threads",
    "sequential+dask",
    "sequential+cache+callbacks",
    "eager+threads+cache+callbacks",
]


@pytest.fixture(scope="session")
def thread_pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(4) as pool:
        yield pool


@pytest.fixture(params=CONFIGURATIONS)
def make_executor(request: pytest.FixtureRequest) -> Callable[[], Any]:
    """A factory of the executor configuration under test."""
    name = request.param
    if name == "sequential":
        return SequentialNodeExecutor
    if name == "eager":
        return EagerNodeExecutor
    if name == "sequential+threads":
        pool = request.getfixturevalue("thread_pool")
        return lambda: SequentialNodeExecutor(map_executor=pool)
    if name == "sequential+processes":
        pool = request.getfixturevalue("processes")
        return lambda: SequentialNodeExecutor(map_executor=pool)
    if name == "eager+threads":
        pool = request.getfixturevalue("thread_pool")
        return lambda: EagerNodeExecutor(map_executor=pool)
    if name.endswith("+cache+callbacks"):
        # The cases set neither, so the global default reaches every pipeline (and is
        # reset after each test by the autouse fixture in tests/conftest.py).
        set_default_config(cache=MemoryCache(), callbacks=[Recording()])
        if name.startswith("eager"):
            pool = request.getfixturevalue("thread_pool")
            return lambda: EagerNodeExecutor(map_executor=pool)
        return SequentialNodeExecutor
    pool = request.getfixturevalue("dask_executor")
    return lambda: SequentialNodeExecutor(map_executor=pool)
