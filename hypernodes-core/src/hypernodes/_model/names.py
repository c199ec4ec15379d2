"""Turning what a user configures (a name, a class, an instance) into an object.

Names are looked up through the plugin registry (``"eager"``, ``"disk"``,
``"progress"``, or any name a third-party plugin registers); classes are
instantiated with no arguments; instances are used as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from ..caching._base import Cache
    from ..callbacks._hooks import PipelineCallback
    from ..engine._backend import Backend
    from ..executor import ExecutorStrategy
    from .config import BackendLike, CacheLike, CallbacksLike, ExecutorLike

__all__ = ["to_backend", "to_cache", "to_callbacks", "to_executor"]

T = TypeVar("T")


def _resolve(kind: str, value: Any, base: type[T]) -> T:
    if isinstance(value, str):
        from .._plugins.registry import registry

        value = registry().create(kind, value)
    elif isinstance(value, type) and issubclass(value, base):
        value = value()
    if isinstance(value, base):
        return value
    what = f"the class {value.__name__}" if isinstance(value, type) else repr(value)
    msg = (
        f"{_article(kind).capitalize()} {kind} must be a registered name, "
        f"{_article(base.__name__)} {base.__name__} subclass or an instance of one; "
        f"got {what}. Run `hypernodes plugins` to list the registered names."
    )
    raise TypeError(msg)


def _article(word: str) -> str:
    return "an" if word[:1].lower() in "aeiou" else "a"


def to_executor(value: ExecutorLike) -> ExecutorStrategy | None:
    """An executor from a name, class or instance; ``None`` stays ``None``."""
    from ..executor import ExecutorStrategy

    return None if value is None else _resolve("executor", value, ExecutorStrategy)


def to_backend(value: BackendLike) -> Backend | None:
    """A backend from a name, class or instance; ``None`` stays ``None``."""
    from ..engine._backend import Backend

    return None if value is None else _resolve("backend", value, Backend)


def to_cache(value: CacheLike) -> Cache | None:
    """A cache from a name, class or instance; ``None`` (or ``False``) means no cache."""
    from ..caching._base import Cache

    if value is None or value is False:
        return None
    return _resolve("cache", value, Cache)


def to_callbacks(value: CallbacksLike) -> tuple[PipelineCallback, ...]:
    """A tuple of callbacks from a list of names, classes or instances (or one of them)."""
    from ..callbacks._hooks import PipelineCallback

    if value is None:
        return ()
    if isinstance(value, str | type | PipelineCallback) or not isinstance(value, Iterable):
        value = [value]
    return tuple(_resolve("callback", v, PipelineCallback) for v in value)
