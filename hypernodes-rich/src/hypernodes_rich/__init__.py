"""hypernodes-rich: a progress display for hypernodes pipelines, built on ``rich``.

``ProgressCallback`` is imported lazily, so loading this plugin (``hypernodes
plugins``, a name lookup) does not import rich.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ProgressCallback"]


def __getattr__(name: str) -> Any:
    if name == "ProgressCallback":
        from .progress import ProgressCallback

        return ProgressCallback
    msg = f"module 'hypernodes_rich' has no attribute {name!r}"
    raise AttributeError(msg)
