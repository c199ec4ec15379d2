"""The conformance suite on Daft's native runner: results, then callbacks and cache hits,
varying one thing at a time (no cache, a cache, callbacks without a cache)."""

from __future__ import annotations

import pytest
from hypernodes import DiskCache, MemoryCache
from hypernodes.executor import DaftExecutor
from hypernodes.testing import CASES, EventLog, check_case, check_events


@pytest.mark.parametrize("case", CASES, ids=str)
def test_results_match_the_sequential_executor(case):
    check_case(case, DaftExecutor())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_results_match_with_a_cache(case):
    check_case(case, DaftExecutor(), cache=MemoryCache())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_results_match_with_callbacks_and_no_cache(case):
    check_case(case, DaftExecutor(), callbacks=[EventLog()])


@pytest.mark.parametrize("case", CASES, ids=str)
def test_callbacks_receive_the_sequential_events(case):
    check_events(case, DaftExecutor())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_callbacks_and_cache_hits_match_on_a_cold_and_a_warm_cache(case, tmp_path):
    check_events(case, DaftExecutor(), cache=lambda: DiskCache(tmp_path / "cache"))


# use_process=True: synchronous nodes in worker processes kept between runs, every value and
# event crossing a process boundary.


@pytest.mark.parametrize("case", CASES, ids=str)
def test_results_match_in_worker_processes(case):
    check_case(case, DaftExecutor(use_process=True))


@pytest.mark.parametrize("case", CASES, ids=str)
def test_results_match_in_worker_processes_with_a_memory_cache(case):
    check_case(case, DaftExecutor(use_process=True), cache=MemoryCache())


@pytest.mark.parametrize("case", CASES, ids=str)
def test_events_and_cache_hits_match_in_worker_processes(case, tmp_path):
    check_events(case, DaftExecutor(use_process=True), cache=lambda: DiskCache(tmp_path / "c"))
