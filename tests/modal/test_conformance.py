"""ModalBackend passes the conformance suite with its payload run in a clean process
(``python -I``, outside the repository: what a container sees), and through the
local path of its real Modal function."""

from __future__ import annotations

import pytest
from hypernodes import DiskCache, MemoryCache
from hypernodes.executor import EagerNodeExecutor
from hypernodes.testing import CASES, check_case, check_events
from hypernodes_modal.backend import ModalBackend
from hypernodes_modal.testing import InProcessTransport, SubprocessTransport

from tests.core.test_callbacks import Recording

# The cases whose top-level call is a map: the only ones a distributed map changes.
MAP_CASES = [
    c
    for c in CASES
    if c.name.startswith("map_")
    or c.name in {"async_map", "error_in_map_item", "error_output_count", "error_zip_lengths"}
]
EVENT_CASES = [
    c
    for c in CASES
    if c.name in {"diamond", "nested_map_over", "map_zip", "map_of_nested_map", "async_map"}
]


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_case_gives_the_sequential_result_in_a_clean_process(case):
    check_case(case, backend=ModalBackend(transport=SubprocessTransport()))


@pytest.mark.parametrize("case", MAP_CASES, ids=str)
def test_every_map_gives_the_sequential_result_when_distributed(case):
    backend = ModalBackend(transport=SubprocessTransport(), distribute_map=True, max_containers=2)
    check_case(case, backend=backend)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_every_case_gives_the_sequential_result_through_the_modal_function_itself(case):
    check_case(case, backend=ModalBackend(transport=InProcessTransport()))


@pytest.mark.parametrize("case", EVENT_CASES, ids=str)
def test_callbacks_and_cache_hits_are_as_here(case, tmp_path):
    check_events(
        case,
        backend=ModalBackend(transport=SubprocessTransport()),
        cache=lambda: DiskCache(tmp_path / "cache"),
    )


@pytest.mark.parametrize("case", EVENT_CASES, ids=str)
def test_callbacks_without_a_cache_are_as_here(case):
    check_events(case, backend=ModalBackend(transport=SubprocessTransport()))


@pytest.mark.parametrize("case", EVENT_CASES, ids=str)
def test_callbacks_and_cache_hits_of_a_distributed_map_are_as_here(case, tmp_path):
    backend = ModalBackend(transport=SubprocessTransport(), distribute_map=True, max_containers=2)
    check_events(case, backend=backend, cache=lambda: DiskCache(tmp_path / "cache"))


@pytest.mark.parametrize("case", EVENT_CASES, ids=str)
def test_an_eager_executor_with_a_thread_pool_runs_in_the_container(case):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(2) as pool:
        executor = EagerNodeExecutor(map_executor=pool)
        check_case(case, executor, backend=ModalBackend(transport=SubprocessTransport()))
        check_events(case, executor, backend=ModalBackend(transport=SubprocessTransport()))


def test_a_cache_and_callbacks_set_as_defaults_reach_the_container(tmp_path):
    from hypernodes import set_default_config

    recording = Recording()
    set_default_config(cache=MemoryCache(), callbacks=[recording])
    case = next(c for c in CASES if c.name == "nested_map_over")
    check_case(case, backend=ModalBackend(transport=SubprocessTransport()))
    assert recording.events, "the callback set by default received the replayed events"
