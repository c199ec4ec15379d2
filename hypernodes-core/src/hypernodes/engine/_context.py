"""The run context: what one (possibly nested) run carries down to its nodes."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..callbacks._dispatch import Dispatcher

if TYPE_CHECKING:
    from .._model.config import Config
    from ..caching._base import Cache
    from ..caching._run import CacheRun
    from ..callbacks._hooks import CallbackContext
    from ..callbacks._record import Recorder

__all__ = ["RunContext"]


class RunContext:
    """Internal state of one run; built by ``Pipeline.run``/``map`` and per nested run.

    ``config`` is the effective configuration of the pipeline being run (the
    "enclosing" configuration of its nested pipelines); ``caching`` and
    ``dispatch`` are derived from it once so the per-node path reads one
    attribute. ``path`` names the enclosing pipelines and ``item_path`` the
    enclosing map items. ``in_worker`` is set inside a map item that runs in a
    pool, so nested maps run inline instead of waiting on the pool they occupy.
    ``item_stats`` counts node calls that were computed (not served from the
    cache) in the current map item.
    """

    __slots__ = (
        "cache",
        "caching",
        "callback_context",
        "config",
        "dispatch",
        "in_worker",
        "item_path",
        "item_stats",
        "path",
        "shared",
    )

    def __init__(
        self,
        config: Config,
        dispatch: Dispatcher | Recorder | None,
        path: tuple[str, ...],
        *,
        item_path: tuple[int, ...] = (),
        in_worker: bool = False,
        shared: dict[str, Any] | None = None,
        caching: CacheRun | None = None,
        item_stats: list[int] | None = None,
    ) -> None:
        self.config = config
        self.cache: Cache | None = config.cache
        if caching is None and config.cache is not None:
            from ..caching._run import CacheRun

            caching = CacheRun(config.cache)
        self.caching = caching
        self.dispatch = dispatch
        self.path = path
        self.item_path = item_path
        self.in_worker = in_worker
        self.shared = shared if shared is not None else {}
        self.item_stats = item_stats
        self.callback_context: CallbackContext | None = None

    @classmethod
    def root(cls, config: Config, name: str) -> RunContext:
        """The context of a top-level run of pipeline ``name``."""
        return cls(config, Dispatcher(config.callbacks) if config.callbacks else None, (name,))

    def for_item(self, index: int, *, in_worker: bool) -> RunContext:
        """The context of map item ``index`` of this run."""
        return RunContext(
            self.config,
            self.dispatch,
            self.path,
            item_path=(*self.item_path, index),
            in_worker=in_worker or self.in_worker,
            shared=self.shared,
            caching=self.caching,
            item_stats=[0],
        )

    def nested(self, config: Config, name: str) -> RunContext:
        """The context of a pipeline nested in this run, with its effective ``config``."""
        dispatch = self.dispatch
        if dispatch is not None:
            dispatch = dispatch.child(config.callbacks)
        elif config.callbacks:
            dispatch = Dispatcher(config.callbacks)
        return RunContext(
            config,
            dispatch,
            (*self.path, name),
            item_path=self.item_path,
            in_worker=self.in_worker,
            shared=self.shared,
            caching=self.caching.child(config.cache) if self.caching is not None else None,
            item_stats=self.item_stats,
        )
