"""The conformance suite: one set of pipelines every executor must run identically.

hypernodes runs it against each of its own executor configurations; a
third-party executor plugin runs it against its own in a few lines::

    import pytest
    from hypernodes.testing import CASES, check_case
    from my_plugin import MyExecutor

    @pytest.mark.parametrize("case", CASES, ids=str)
    def test_conformance(case):
        check_case(case, MyExecutor())

Each :class:`Case` builds a fresh pipeline, gives it the executor under test
(nested pipelines inherit it), runs it, and compares the result — or the
type of the exception — with what the sequential executor gives.
"""

from __future__ import annotations

from ._cases import CASES, Case, check_case

__all__ = ["CASES", "Case", "check_case"]
