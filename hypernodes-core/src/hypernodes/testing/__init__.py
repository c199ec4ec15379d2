"""The conformance kit: one set of pipelines every executor, backend and cache must run
identically, and the checks that run them.

hypernodes runs it against each of its own configurations; a plugin author
runs it against theirs in a few lines of their own pytest suite::

    import pytest
    from hypernodes import DiskCache
    from hypernodes.testing import CASES, check_case, check_events
    from my_plugin import MyBackend, MyExecutor

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_results(case):
        check_case(case, MyExecutor())                # an executor
        check_case(case, backend=MyBackend())         # a backend
        check_case(case, cache=MyCache())             # a cache

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_events(case, tmp_path):
        check_events(case, MyExecutor(), cache=lambda: DiskCache(tmp_path / "c"))

- :func:`check_case` builds a fresh pipeline, gives it the settings (nested
  pipelines inherit them), runs it, and compares the result, or the type of
  the exception, with what the sequential executor gives.
- :func:`check_events` compares what a callback receives with what it
  receives from the sequential executor, scope by scope (and the cache hits
  of a second run, given a cache factory).
"""

from __future__ import annotations

from ._cases import CASES, Case, check_case, configure
from ._events import EventLog, check_events, compare_events

__all__ = ["CASES", "Case", "EventLog", "check_case", "check_events", "compare_events", "configure"]
