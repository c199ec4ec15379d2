"""What a ModalBackend becomes inside the work it ships.

While a ModalBackend packs work (:func:`shipping`), every ModalBackend the
work reaches (the pipeline's own, the inherited one in the run's context, one
set on a nested pipeline) pickles as an :class:`InPlaceBackend`: the work is
in its container already, so pipelines nested in it run there, in place, and
no backend configuration (secrets, environment) travels in the payload.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hypernodes.engine import Backend, LocalBackend

if TYPE_CHECKING:
    from hypernodes import Pipeline
    from hypernodes.engine import RunContext
    from hypernodes.executor import ExecutorStrategy

    from .backend import ModalBackend

__all__ = ["InPlaceBackend", "reduce_shipped", "shipping"]


class InPlaceBackend(Backend):
    """What a ModalBackend becomes inside the work it ships: the work is in its
    container already, so pipelines nested there run in place."""

    def __init__(self, app_name: str) -> None:
        self.app_name = app_name

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        return _here(executor).run(pipeline, inputs, executor, ctx, output_name)

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        return _here(executor).map(
            pipeline,
            inputs,
            executor,
            ctx,
            map_over=map_over,
            map_mode=map_mode,
            output_name=output_name,
        )

    def __repr__(self) -> str:
        return f"InPlaceBackend(shipped by a ModalBackend of app {self.app_name!r})"


def _here(executor: ExecutorStrategy) -> Backend:
    return executor.default_backend() if executor.holistic else LocalBackend()


_shipped = threading.local()


@contextlib.contextmanager
def shipping(backend: ModalBackend) -> Iterator[None]:
    """While packing work for ``backend``, ModalBackends pickle as InPlaceBackends."""
    previous = getattr(_shipped, "backend", None)
    _shipped.backend = backend
    try:
        yield
    finally:
        _shipped.backend = previous


def reduce_shipped(backend: ModalBackend) -> tuple[Any, ...] | None:
    """How ``backend`` pickles while work is being shipped (``None``: not shipping)."""
    shipper = getattr(_shipped, "backend", None)
    if shipper is None:
        return None
    if shipper._token != backend._token:
        _warn_nested(backend, shipper)
    return (InPlaceBackend, (backend.app_name,))


_warned: set[tuple[str, str]] = set()


def _warn_nested(inner: ModalBackend, outer: ModalBackend) -> None:
    if (inner._token, outer._token) in _warned:
        return
    _warned.add((inner._token, outer._token))
    warnings.warn(
        f"{inner!r} is set on a pipeline nested in work shipped by {outer!r}: it runs in "
        "that container, in place, not in a container of its own. Nest it in a pipeline "
        "that runs here to give it its own container.",
        stacklevel=2,
    )
