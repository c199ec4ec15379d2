"""Observability: callbacks that report on runs.

``ProgressCallback`` (a rich progress display) is provided by the
hypernodes-rich plugin and resolved from here on first use.
"""

from __future__ import annotations

__all__: list[str] = []


def __getattr__(name: str) -> object:
    from ._plugins.registry import provided_attribute

    return provided_attribute(__name__, name)


def __dir__() -> list[str]:
    from ._plugins.registry import provided_names

    return sorted({*__all__, *provided_names(__name__)})
