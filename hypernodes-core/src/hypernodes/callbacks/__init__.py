"""Callbacks: hooks into the life of a run, and how their events are delivered.

- :class:`PipelineCallback` and :class:`CallbackContext` (``_hooks``): what a
  callback author subclasses and receives.
- ``_dispatch``: delivering events in the caller, one at a time, switching off
  a callback that raises.
- ``_record``: recording events where callbacks are not (a process-pool
  worker, a remote container) and replaying them in the caller.
"""

from __future__ import annotations

from ._hooks import HOOKS, CallbackContext, PipelineCallback

__all__ = ["HOOKS", "CallbackContext", "PipelineCallback"]
