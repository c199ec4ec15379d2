"""The run context: what one (possibly nested) run carries down to its nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._cache import Cache
    from ._caching import CacheRun
    from ._config import Config

__all__ = ["RunContext"]


class RunContext:
    """Internal state of one run; built by ``Pipeline.run``/``map`` and per nested run.

    ``config`` is the effective configuration of the pipeline being run (the
    "enclosing" configuration of its nested pipelines); ``cache`` and
    ``dispatch`` are taken from it once so the per-node path reads one
    attribute. ``in_worker`` is set inside a map item that runs in a pool, so
    nested maps run inline instead of waiting on the pool they occupy.
    """

    __slots__ = (
        "cache",
        "caching",
        "config",
        "depth",
        "dispatch",
        "in_worker",
        "item_index",
        "path",
        "shared",
    )

    def __init__(
        self,
        config: Config,
        dispatch: Any,
        path: tuple[str, ...],
        *,
        item_index: int | None = None,
        in_worker: bool = False,
        shared: dict[str, Any] | None = None,
        caching: CacheRun | None = None,
    ) -> None:
        self.config = config
        self.cache: Cache | None = config.cache
        if caching is None and config.cache is not None:
            from ._caching import CacheRun

            caching = CacheRun(config.cache)
        self.caching = caching
        self.dispatch = dispatch
        self.path = path
        self.depth = len(path) - 1
        self.item_index = item_index
        self.in_worker = in_worker
        self.shared = shared if shared is not None else {}

    def for_item(self, index: int, *, in_worker: bool) -> RunContext:
        """The context of map item ``index`` of this run."""
        return RunContext(
            self.config,
            self.dispatch,
            self.path,
            item_index=index,
            in_worker=in_worker or self.in_worker,
            shared=self.shared,
            caching=self.caching,
        )

    def nested(self, config: Config, dispatch: Any, name: str) -> RunContext:
        """The context of a pipeline nested in this run."""
        return RunContext(
            config,
            dispatch,
            (*self.path, name),
            item_index=self.item_index,
            in_worker=self.in_worker,
            shared=self.shared,
            caching=self.caching.child(config.cache) if self.caching is not None else None,
        )
