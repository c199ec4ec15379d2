"""hypernodes-daft: run a whole pipeline as one Daft plan, on Daft's native runner or on Ray.

``DaftExecutor`` and ``DaftBackend`` are imported on first use (also reachable
as ``hypernodes.executor.DaftExecutor`` and ``hypernodes.DaftBackend``), so
loading this plugin imports neither Daft nor Ray. See docs/daft.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DaftBackend", "DaftExecutor", "DaftRunnerError"]

_WHERE = {
    "DaftBackend": "._executor",
    "DaftExecutor": "._executor",
    "DaftRunnerError": "._runner",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module 'hypernodes_daft' has no attribute {name!r}"
        raise AttributeError(msg)
    import importlib

    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
