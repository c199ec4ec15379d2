"""Delivering events to the callbacks of one run: one at a time, isolating their faults."""

from __future__ import annotations

import threading
import warnings
from typing import TYPE_CHECKING, Any

from ..errors import CallbackWarning
from ._hooks import HOOKS, CallbackContext, PipelineCallback

if TYPE_CHECKING:
    from ..engine._context import RunContext

__all__ = ["Dispatcher", "callback_context", "report_error"]


class Dispatcher:
    """Calls the callbacks of one run, isolating their faults.

    Only hooks a callback overrides are called; which hooks that is, is worked
    out once per class. Events from several threads (thread-pool maps, the
    eager executor) are delivered one at a time: those executors call
    :meth:`concurrent` first, which puts a lock around delivery. A callback
    that raises is reported once (``CallbackWarning``) and switched off for
    the rest of the run.
    """

    __slots__ = ("_lock", "_targets", "callbacks")

    def __init__(self, callbacks: tuple[PipelineCallback, ...]) -> None:
        self.callbacks = callbacks
        self._lock: threading.Lock | None = None
        targets: dict[str, list[Any]] = {}  # only hooks some callback overrides
        for callback in callbacks:
            for hook in _overridden(type(callback)):
                found = targets.get(hook)
                if found is None:
                    found = targets[hook] = []
                found.append(getattr(callback, hook))
        self._targets = targets

    def concurrent(self) -> None:
        """Events may now come from several threads: deliver them one at a time."""
        if self._lock is None:
            self._lock = threading.Lock()

    @property
    def is_concurrent(self) -> bool:
        return self._lock is not None

    def targets(self, hook: str) -> list[Any]:
        """The bound hook methods to call for ``hook`` (a live list: faulty ones leave it)."""
        return self._targets.setdefault(hook, [])

    def emit(self, hook: str, *args: Any) -> None:
        targets = self._targets.get(hook)
        if not targets:
            return
        lock = self._lock
        if lock is None:
            for method in targets:
                try:
                    method(*args)
                except Exception as exc:
                    self.switch_off(method, exc)
            return
        with lock:
            for method in targets:
                try:
                    method(*args)
                except Exception as exc:
                    self.switch_off(method, exc)

    def switch_off(self, method: Any, exc: Exception) -> None:
        """Report a hook that raised, once, and stop calling its callback in this run."""
        callback, hook = method.__self__, method.__name__
        for targets in self._targets.values():
            targets[:] = [m for m in targets if m.__self__ is not callback]
        warnings.warn(
            f"hypernodes: callback {type(callback).__name__}.{hook} raised "
            f"{type(exc).__name__}: {exc}; it is switched off for the rest of this "
            "run (the run goes on).",
            CallbackWarning,
            stacklevel=4,
        )

    def child(self, callbacks: tuple[PipelineCallback, ...]) -> Dispatcher | None:
        """The dispatcher of a nested run: this one when the callbacks are the same."""
        if not callbacks:
            return None
        if callbacks == self.callbacks:
            return self
        child = Dispatcher(callbacks)
        child._lock = self._lock
        return child


def _overridden(kind: type) -> tuple[str, ...]:
    """The hooks a callback class overrides (worked out once per class)."""
    found = _overrides.get(kind)
    if found is None:
        found = _overrides[kind] = tuple(
            hook for hook in HOOKS if getattr(kind, hook) is not getattr(PipelineCallback, hook)
        )
    return found


_overrides: dict[type, tuple[str, ...]] = {}


def callback_context(ctx: RunContext) -> CallbackContext:
    """The (cached) callback context of a run context."""
    found = ctx.callback_context
    if found is None:
        on_error = "continue" if ctx.continuing else "raise"
        found = ctx.callback_context = CallbackContext(
            ctx.path, ctx.item_path, ctx.shared, on_error
        )
    return found


def report_error(ctx: RunContext, node: str | None, error: BaseException) -> None:
    """Fire ``on_error`` once per exception, at the innermost place that sees it."""
    if ctx.dispatch is None or getattr(error, "_hypernodes_reported", False):
        return
    try:
        error._hypernodes_reported = True  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - exotic exception types without a __dict__
        pass
    ctx.dispatch.emit("on_error", node, error, callback_context(ctx))
