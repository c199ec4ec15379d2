"""Seeing what a cache key covers: ``explain_key`` and the ``hypernodes.cache`` debug log."""

from __future__ import annotations

import logging
import threading

import pytest
from hypernodes import MemoryCache, Pipeline, node
from hypernodes.caching import explain_key


class Client:
    """Stands for an open client: its lock cannot be keyed by value."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.lock = threading.Lock()


class VersionedClient(Client):
    def __cache_key__(self) -> str:
        return self.url


CLIENT = Client("https://a")
VERSIONED = VersionedClient("https://a")
FACTOR = 3


@node(output_name="y")
def fetch(x: int) -> str:
    return f"{CLIENT.url}/{x * FACTOR}"


@node(output_name="y")
def fetch_versioned(x: int) -> str:
    return f"{VERSIONED.url}/{x}"


class _RecordingCache(MemoryCache):
    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    def put(self, key, value):
        self.keys.append(key)
        super().put(key, value)


def test_explain_key_lists_the_code_globals_and_inputs_with_how_each_counts():
    report = explain_key(fetch, x=2)
    how = {part.where: part.how for part in report.parts}
    assert how[""] == "code"
    assert how["global FACTOR"] == "value"
    assert how["global CLIENT"] == "value"
    assert how["input x"] == "value"
    assert "global FACTOR" in str(report)


def test_explain_key_names_the_parts_counted_by_type_only():
    report = explain_key(fetch, x=2)
    assert [part.where for part in report.by_type_only] == ["global CLIENT.lock"]
    assert "_thread.lock" in report.by_type_only[0].detail
    assert "__cache_key__()" in str(report)


def test_a_cache_key_method_removes_the_type_only_part():
    report = explain_key(fetch_versioned, x=2)
    assert report.by_type_only == ()
    assert {p.where: p.how for p in report.parts}["global VERSIONED"] == "__cache_key__"


def test_explain_key_gives_the_key_a_cached_run_uses():
    cache = _RecordingCache()
    Pipeline([fetch], cache=cache).run({"x": 2})
    assert cache.keys == [explain_key(fetch, x=2).key]
    assert explain_key(fetch, x=3).key != explain_key(fetch, x=2).key


def test_explain_key_takes_plain_functions_and_fills_in_defaults():
    def scale(x, factor=2):
        return x * factor

    report = explain_key(scale, x=1)
    assert report.key == explain_key(scale, x=1, factor=2).key
    assert "input factor (the default)" in [p.where for p in report.parts]


def test_a_missing_or_unkeyable_input_gives_no_key_and_says_why():
    missing = explain_key(fetch)
    assert missing.key is None
    assert [p.how for p in missing.parts if p.where == "input x"] == ["not keyable"]
    unkeyable = explain_key(fetch, x=threading.Lock())
    assert unkeyable.key is None
    assert "cannot pickle" in next(p.detail for p in unkeyable.parts if p.where == "input x")


def test_an_unknown_input_is_an_error_with_a_suggestion():
    with pytest.raises(TypeError, match="did you mean 'x'"):
        explain_key(fetch, xx=1)


def test_the_debug_log_names_the_parts_counted_by_type_only(caplog):
    with caplog.at_level(logging.DEBUG, logger="hypernodes.cache"):
        Pipeline([fetch], cache=MemoryCache()).run({"x": 1})
    messages = [r.getMessage() for r in caplog.records if r.name == "hypernodes.cache"]
    assert len(messages) == 1
    assert "'fetch'" in messages[0]
    assert "global CLIENT.lock" in messages[0]


BIG = list(range(5_000_000))


@node(output_name="y")
def look_up(i: int) -> int:
    return BIG[i]


def test_a_global_too_large_to_hash_at_every_run_counts_by_type_only_and_says_so():
    report = explain_key(look_up, i=1)
    assert [p.where for p in report.by_type_only] == ["global BIG"]
    assert "too large" in report.by_type_only[0].detail
