"""The engine interface: everything a backend or executor author needs, and nothing private.

A run flows like this::

    Pipeline.run(inputs)                      validates inputs, builds a RunContext
      -> backend.run(pipeline, inputs, executor, ctx, output_name)      WHERE
        -> executor.run(pipeline, inputs, ctx, output_name)             HOW
          -> for step in pipeline.plan(output_name).steps:
                 ctx.execute(step, values)    cache, callbacks, async, nesting, notes

What is here:

- :class:`Plan` and :class:`Step`: the read-only compiled plan of a pipeline
  (``pipeline.plan(output_name)``): steps in order with name, function,
  params, defaults, outputs, async or not, cache flag, and for a nested
  pipeline its ``map_over``, ``map_mode``, mappings, bound inputs and inner plan.
- :class:`MapItems`: map inputs validated and expanded (zip or product), the
  one implementation ``Pipeline.map`` and nested ``map_over`` share;
  :func:`run_items`: items of a map run node by node, calling batch
  implementations (``@node.batch``) on chunks, as the built-in executors do.
- ``UNSET``: what ``Step.retries`` / ``Step.timeout`` hold when a node sets
  none of its own; :func:`policy` (``policy(step, config)``, or
  ``ctx.policy(step)``) resolves them. ``ctx.call_batch`` makes a batch call
  as the built-in executors do, ``ctx.fail_item`` records a failed item in a
  map that goes on; :func:`item_spans` writes item indices as ranges.
- :class:`RunContext`: the facade over one run — execute a step, emit events,
  open and close the scopes callbacks see, cache lookups and stores,
  :meth:`~RunContext.detach` and :meth:`~RunContext.replay`.
- :class:`DetachedContext`, :class:`Job`, :func:`run_job`, :func:`pack`,
  :func:`unpack`: running a pipeline, a map, or chunks of map items in another
  process or machine, with callbacks served here; :func:`find_unpicklable`
  names what in a payload that failed to pack cannot be pickled.
- :class:`Backend` and :class:`LocalBackend`: where a pipeline runs.
- :class:`Config`: a resolved configuration (what ``ctx.config`` holds).
- :func:`run_coroutine`: run an ``async def`` node's coroutine from
  synchronous code, whatever loop is running; :func:`note`: add a
  ``hypernodes:`` note to an exception the way the engine does.

The executor base classes live in :mod:`hypernodes.executor`
(``ExecutorStrategy``, ``TaskExecutor``, ``HolisticExecutor``).
docs/engine.md walks through a complete backend and a complete holistic executor.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._model.config import UNSET, Config
    from .._model.plan import Plan, Step
    from ..callbacks._record import Event
    from ._backend import Backend, LocalBackend
    from ._batch import call_batch, run_items
    from ._context import DetachedContext, RunContext
    from ._culprit import find_unpicklable
    from ._items import MAP_MODES, MapItems, item_spans
    from ._loop import run_coroutine
    from ._pack import pack, unpack
    from ._remote import Job, run_job
    from ._steps import note
    from ._steps import step_policy as policy

__all__ = [
    "MAP_MODES",
    "UNSET",
    "Backend",
    "Config",
    "DetachedContext",
    "Event",
    "Job",
    "LocalBackend",
    "MapItems",
    "Plan",
    "RunContext",
    "Step",
    "call_batch",
    "find_unpicklable",
    "item_spans",
    "note",
    "pack",
    "policy",
    "run_coroutine",
    "run_items",
    "run_job",
    "unpack",
]

# Imported on first use: `import hypernodes` must not pay for cloudpickle or asyncio.
_WHERE = {
    "MAP_MODES": "._items",
    "UNSET": ".._model.config",
    "Backend": "._backend",
    "Config": ".._model.config",
    "DetachedContext": "._context",
    "Event": "..callbacks._record",
    "Job": "._remote",
    "LocalBackend": "._backend",
    "MapItems": "._items",
    "Plan": ".._model.plan",
    "RunContext": "._context",
    "Step": ".._model.plan",
    "call_batch": "._batch",
    "find_unpicklable": "._culprit",
    "item_spans": "._items",
    "note": "._steps",
    "pack": "._pack",
    "policy": "._steps",
    "run_coroutine": "._loop",
    "run_items": "._batch",
    "run_job": "._remote",
    "unpack": "._pack",
}


_RENAMED = {"policy": "step_policy"}  # public name -> name in its module


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        msg = f"module {__name__!r} has no attribute {name!r}"
        raise AttributeError(msg)
    value = getattr(importlib.import_module(module, __name__), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
