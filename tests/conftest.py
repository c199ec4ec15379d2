"""Shared test set-up: every test starts from the library defaults."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
for _name in ("MODAL_TOKEN_ID", "MODAL_TOKEN_SECRET"):
    os.environ.pop(_name, None)


@pytest.fixture(autouse=True)
def _default_config() -> Iterator[None]:
    from hypernodes import reset_default_config

    reset_default_config()
    yield
    reset_default_config()
