"""Configuration: what a run uses for backend, executor, cache, callbacks, retries, timeout.

Precedence, highest first:

1. the override given to ``as_node(...)`` (or ``PipelineNode.with_*``),
2. the pipeline's own setting (``Pipeline(...)`` or ``Pipeline.with_*``),
3. the enclosing pipeline's effective setting, at run time,
4. :func:`set_default_config`,
5. the library default: ``LocalBackend()``, ``SequentialNodeExecutor()``,
   no cache, no callbacks, no retries, no timeout.

Retries and timeouts set on a node itself (``@node(retries=..., timeout=...)``)
come before all of these, for that node.

"Omitted" (the ``UNSET`` sentinel) means inherit; an explicit ``None`` means
none: no cache, no callbacks. For backend and executor, ``None`` means the
library default. Inheritance never mutates a pipeline: the effective values
are computed per run and carried in the run context, so one inner pipeline
can sit in two parents and run in two threads at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, Literal, Self, TypeAlias

from . import names as _names
from .retries import to_retries, to_timeout

if TYPE_CHECKING:
    from ..caching._base import Cache
    from ..callbacks._hooks import PipelineCallback
    from ..engine._backend import Backend
    from ..executor import ExecutorStrategy

    #: What configuration accepts: a registered name, a class (instantiated with no
    #: arguments) or an instance. ``None`` means the library default (backend,
    #: executor) or none at all (cache, callbacks).
    BackendLike: TypeAlias = str | type[Backend] | Backend | None
    ExecutorLike: TypeAlias = str | type[ExecutorStrategy] | ExecutorStrategy | None
    CacheLike: TypeAlias = str | type[Cache] | Cache | Literal[False] | None
    CallbackLike: TypeAlias = str | type[PipelineCallback] | PipelineCallback
    CallbacksLike: TypeAlias = CallbackLike | Iterable[CallbackLike] | None

    from .retries import Retries, RetriesLike, TimeoutLike

__all__ = [
    "UNSET",
    "Config",
    "Configurable",
    "get_default_config",
    "reset_default_config",
    "set_default_config",
]


class _Unset:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNSET"

    def __reduce__(self) -> str:
        return "UNSET"


UNSET: Final[Any] = _Unset()


class Config:
    """Resolved configuration of one run (or of the defaults).

    ``backend`` is ``None`` when nobody chose one: the run then uses the
    executor's own backend for a holistic executor and ``LocalBackend`` for
    a task executor (see :attr:`run_backend`). ``retries`` and ``timeout``
    apply to each node call unless the node sets its own.
    """

    __slots__ = ("backend", "cache", "callbacks", "executor", "retries", "timeout")

    def __init__(
        self,
        backend: Backend | None,
        executor: ExecutorStrategy,
        cache: Cache | None,
        callbacks: tuple[PipelineCallback, ...],
        retries: Retries | None = None,
        timeout: float | None = None,
    ) -> None:
        self.backend = backend
        self.executor = executor
        self.cache = cache
        self.callbacks = callbacks
        self.retries = retries
        self.timeout = timeout

    @property
    def run_backend(self) -> Backend:
        """The backend a run uses: the chosen one, else the executor's default."""
        if self.backend is not None:
            return self.backend
        return self.executor.default_backend()

    def layered(
        self,
        backend: Any,
        executor: Any,
        cache: Any,
        callbacks: Any,
        retries: Any = UNSET,
        timeout: Any = UNSET,
    ) -> Config:
        """This config with every value that is not UNSET replaced."""
        if (
            backend is UNSET
            and executor is UNSET
            and cache is UNSET
            and callbacks is UNSET
            and retries is UNSET
            and timeout is UNSET
        ):
            return self
        return Config(
            self.backend if backend is UNSET else backend,
            self.executor if executor is UNSET else executor,
            self.cache if cache is UNSET else cache,
            self.callbacks if callbacks is UNSET else callbacks,
            self.retries if retries is UNSET else retries,
            self.timeout if timeout is UNSET else timeout,
        )

    def __repr__(self) -> str:
        extra = f", retries={self.retries!r}" if self.retries is not None else ""
        extra += f", timeout={self.timeout!r}" if self.timeout is not None else ""
        return (
            f"Config(backend={self.backend!r}, executor={self.executor!r}, "
            f"cache={self.cache!r}, callbacks={self.callbacks!r}{extra})"
        )


def _library_default() -> Config:
    from ..executor import SequentialNodeExecutor

    return Config(None, SequentialNodeExecutor(), None, ())


_default: Config | None = None


def default_config() -> Config:
    """The global default (``set_default_config`` over the library default)."""
    global _default
    if _default is None:
        _default = _library_default()
    return _default


def get_default_config() -> Config:
    """Return the configuration a top-level pipeline with no settings would use."""
    return default_config()


def set_default_config(
    backend: BackendLike = UNSET,
    executor: ExecutorLike = UNSET,
    cache: CacheLike = UNSET,
    callbacks: CallbacksLike = UNSET,
    retries: RetriesLike = UNSET,
    timeout: TimeoutLike = UNSET,
) -> Config:
    """Set the global defaults; arguments left out keep their current value.

    Each value may be a registered name (``"eager"``, ``"disk"``), a class
    or an instance::

        set_default_config(executor="eager", cache=DiskCache(".cache"))

    ``cache=None`` / ``callbacks=None`` / ``retries=None`` / ``timeout=None``
    turn them off; ``backend=None`` and ``executor=None`` restore the library
    default.
    """
    global _default
    library = _library_default()
    current = default_config()
    _default = Config(
        current.backend if backend is UNSET else _names.to_backend(backend),
        current.executor
        if executor is UNSET
        else (_names.to_executor(executor) or library.executor),
        current.cache if cache is UNSET else _names.to_cache(cache),
        current.callbacks if callbacks is UNSET else _names.to_callbacks(callbacks),
        current.retries if retries is UNSET else to_retries(retries),
        current.timeout if timeout is UNSET else to_timeout(timeout),
    )
    return _default


def reset_default_config() -> None:
    """Restore the library defaults."""
    global _default
    _default = None


class Configurable:
    """The ``with_*`` setters and the stored settings shared by pipelines and nodes."""

    _backend: Any
    _executor: Any
    _cache: Any
    _callbacks: Any
    _retries: Any = UNSET
    _timeout: Any = UNSET
    _layered: tuple[Config, Config] | None = None  # (base, this layered on it): the last one

    def _init_settings(
        self,
        backend: BackendLike,
        executor: ExecutorLike,
        cache: CacheLike,
        callbacks: CallbacksLike,
        retries: RetriesLike = UNSET,
        timeout: TimeoutLike = UNSET,
    ) -> None:
        self._backend = self._executor = self._cache = self._callbacks = UNSET
        if backend is not UNSET:
            self.with_backend(backend)
        if executor is not UNSET:
            self.with_executor(executor)
        if cache is not UNSET:
            self.with_cache(cache)
        if callbacks is not UNSET:
            self.with_callbacks(callbacks)
        if retries is not UNSET:
            self.with_retries(retries)
        if timeout is not UNSET:
            self.with_timeout(timeout)

    def with_backend(self, backend: BackendLike) -> Self:
        """Set where this runs (name, class or instance); ``None`` means inherit. Returns self."""
        resolved = _names.to_backend(backend)
        self._backend = UNSET if resolved is None else resolved
        self._layered = None
        return self

    def with_executor(self, executor: ExecutorLike) -> Self:
        """Set how this runs (name, class or instance); ``None`` means inherit. Returns self."""
        resolved = _names.to_executor(executor)
        self._executor = UNSET if resolved is None else resolved
        self._layered = None
        return self

    def with_cache(self, cache: CacheLike) -> Self:
        """Set the cache (name, class or instance); ``None`` turns caching off. Returns self."""
        self._cache = _names.to_cache(cache)
        self._layered = None
        return self

    def with_callbacks(self, callbacks: CallbacksLike) -> Self:
        """Set the callbacks (a list of names, classes or instances); ``None`` means none."""
        self._callbacks = _names.to_callbacks(callbacks)
        self._layered = None
        return self

    def with_retries(self, retries: RetriesLike) -> Self:
        """Retry failed node calls (a count or a ``Retries``); ``None`` means none. Returns self.

        A node's own ``@node(retries=...)`` wins over this.
        """
        self._retries = to_retries(retries)
        self._layered = None
        return self

    def with_timeout(self, timeout: TimeoutLike) -> Self:
        """Bound each node call to ``timeout`` seconds; ``None`` means no limit. Returns self.

        A node's own ``@node(timeout=...)`` wins over this.
        """
        self._timeout = to_timeout(timeout)
        self._layered = None
        return self

    # -- what a run would use ---------------------------------------------------------

    def _effective(self) -> Config:
        """The configuration a top-level run would use (a node: its inner pipeline's)."""
        raise NotImplementedError

    @property
    def effective_backend(self) -> Backend:
        """The backend a top-level run would use (for ``as_node``'s node: its inner
        pipeline run at top level with the node's overrides)."""
        return self._effective().run_backend

    @property
    def effective_executor(self) -> ExecutorStrategy:
        """The executor a top-level run would use."""
        return self._effective().executor

    @property
    def effective_cache(self) -> Cache | None:
        """The cache a top-level run would use."""
        return self._effective().cache

    @property
    def effective_callbacks(self) -> tuple[PipelineCallback, ...]:
        """The callbacks a top-level run would use."""
        return self._effective().callbacks

    @property
    def effective_retries(self) -> Retries | None:
        """The retries of node calls that set none of their own, in a top-level run."""
        return self._effective().retries

    @property
    def effective_timeout(self) -> float | None:
        """The timeout of node calls that set none of their own, in a top-level run."""
        return self._effective().timeout

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_layered", None)  # a memo of the last run's configuration: not for travel
        return state

    def _layer_on(self, base: Config) -> Config:
        """These settings over ``base`` (remembered for the last base: runs repeat it)."""
        memo = self._layered
        if memo is not None and memo[0] is base:
            return memo[1]
        layered = base.layered(
            self._backend,
            self._executor,
            self._cache,
            self._callbacks,
            self._retries,
            self._timeout,
        )
        self._layered = (base, layered)
        return layered
