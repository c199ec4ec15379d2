"""Lifecycle callbacks: ``PipelineCallback`` and the context each hook receives."""

from __future__ import annotations

from typing import Any

__all__ = ["CallbackContext", "PipelineCallback"]


class CallbackContext:
    """Where an event happened: nesting depth, enclosing pipelines, map item, shared dict."""

    __slots__ = ("depth", "item_index", "pipelines", "shared")

    def __init__(
        self,
        depth: int,
        pipelines: tuple[str, ...],
        item_index: int | None,
        shared: dict[str, Any],
    ) -> None:
        self.depth = depth
        self.pipelines = pipelines
        self.item_index = item_index
        self.shared = shared


class PipelineCallback:
    """Base class of callbacks; every hook is a no-op to override."""
