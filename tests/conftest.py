"""Shared test set-up: every test starts from the library defaults."""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Executor

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
# No test reaches Modal by accident; the live tests get the credentials given to pytest
# (if any) through the `modal_credentials` fixture and hand them to a child process only.
_MODAL_CREDENTIALS = {
    name: os.environ.pop(name)
    for name in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET")
    if name in os.environ
}


@pytest.fixture
def modal_credentials() -> dict[str, str]:
    """The Modal credentials pytest was started with; skips the test without them."""
    if len(_MODAL_CREDENTIALS) != 2:
        pytest.skip("a live Modal run needs MODAL_TOKEN_ID and MODAL_TOKEN_SECRET")
    return dict(_MODAL_CREDENTIALS)


@pytest.fixture(autouse=True)
def _default_config() -> Iterator[None]:
    from hypernodes import reset_default_config

    reset_default_config()
    yield
    reset_default_config()


@pytest.fixture(scope="session")
def processes() -> Iterator[Executor]:
    """One spawned 2-process pool for the whole session (starting one costs about a second).

    A test that breaks its pool (a worker that dies) makes its own.
    """
    from hypernodes.executor import process_pool

    pool = process_pool(2)
    yield pool
    pool.shutdown(cancel_futures=True)


@pytest.fixture(scope="session")
def dask_executor() -> Iterator[Executor]:
    """A Dask cluster in this process (threads as workers): fast, and still the real
    distributed client path (work serialised and submitted as Dask futures)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
    )
    client = distributed.Client(cluster)
    yield client.get_executor()
    client.close()
    cluster.close()
