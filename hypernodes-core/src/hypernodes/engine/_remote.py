"""Running a pipeline, a map, or a chunk of map items elsewhere, and getting it back.

The protocol every out-of-process path uses (process pools, Dask, Modal,
a clean subprocess):

1. In the caller, a :class:`Job` packs what the work needs into one payload
   of bytes: the pipeline, the executor, the inputs, and the caller's context
   detached (:meth:`RunContext.detach`). Packing (``_pack``) uses
   cloudpickle, so functions defined in a test, a script or a notebook
   travel; every callback travels as a stand-in naming it (callbacks never
   run elsewhere); with ``by_value=True`` the user's own modules travel by
   value too, for a far side that has only the installed packages (a
   container).
2. Anywhere, :func:`run_job` runs the payload with a ``LocalBackend`` (or a
   holistic executor's own backend) and returns bytes of
   ``(outputs, events, error)``: the events every callback scope recorded,
   and the exception that ended the work, if any, packed so that it comes
   back as itself whenever its type can be rebuilt.
3. In the caller, :meth:`Job.receive` replays the events to the callbacks
   they belong to and returns the outputs, or raises the error with its
   original type, its notes, and the remote traceback as one more note.

A map may also travel in chunks of items (:meth:`Job.items`): the payload
(pipeline, executor, inputs shared by every item) is packed once per map and
each chunk carries only its rows; the far side unpacks a payload once, not
once per chunk.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import threading
from collections import OrderedDict
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from ._batch import run_items_batched
from ._pack import _dumps, pack, pack_error, packs, unpack, unpack_error
from ._steps import note, run_item

if TYPE_CHECKING:
    from .._model.config import Config
    from .._model.pipeline import Pipeline
    from ..executor import ExecutorStrategy
    from ._context import RunContext
    from ._items import MapItems

__all__ = ["Job", "run_job"]

#: How many maps' payloads a worker keeps unpacked (the maps a worker serves at once).
PAYLOAD_MEMO = 4


# -- jobs --------------------------------------------------------------------------------


_STOP_DIR: str | None = None


def _stop_path() -> str:
    """A path whose existence asks the chunks of one map to stop (after Ctrl-C or an error)."""
    global _STOP_DIR
    if _STOP_DIR is None:
        _STOP_DIR = tempfile.mkdtemp(prefix="hypernodes-stop-")
        atexit.register(shutil.rmtree, _STOP_DIR, True)
    return os.path.join(_STOP_DIR, os.urandom(8).hex())


class Job:
    """Work packed to run elsewhere, and the caller's side of getting it back.

    Build one with :meth:`run`, :meth:`map` or :meth:`items`; send
    :attr:`payload` (and, for items, each :meth:`chunk`) to wherever
    :func:`run_job` can be called; give the bytes it returns to
    :meth:`receive`. A backend that runs pipelines in a subprocess::

        class SubprocessBackend(Backend):
            def run(self, pipeline, inputs, executor, ctx, output_name=None):
                job = Job.run(pipeline, inputs, executor, ctx, output_name, by_value=True)
                return job.receive(call_in_subprocess(run_job, job.payload))

            def map(self, pipeline, inputs, executor, ctx, *, map_over, map_mode,
                    output_name=None):
                job = Job.map(pipeline, inputs, executor, ctx, map_over=map_over,
                              map_mode=map_mode, output_name=output_name, by_value=True)
                return job.receive(call_in_subprocess(run_job, job.payload))

    ``where`` names the far side in error notes ("a process-pool worker").
    """

    __slots__ = ("by_value", "ctx", "payload", "rows", "stop_path", "where")

    def __init__(self, ctx: RunContext, body: tuple[Any, ...], by_value: bool, where: str) -> None:
        self.ctx = ctx
        self.where = where
        self.by_value = by_value
        self.rows: list[tuple[Any, ...]] = []
        self.stop_path: str | None = None
        try:
            data = pack(body, by_value=by_value)
        except Exception as exc:
            raise _unpicklable(body, exc, where, by_value) from exc
        self.payload = os.urandom(16) + data

    @classmethod
    def run(
        cls,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
        *,
        by_value: bool = False,
        where: str = "another process",
    ) -> Job:
        """A job that runs ``pipeline`` once, as ``LocalBackend().run`` would here."""
        body = ("run", ctx.detach(), pipeline, executor, dict(inputs), output_name)
        return cls(ctx, body, by_value, where)

    @classmethod
    def map(
        cls,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
        by_value: bool = False,
        where: str = "another process",
    ) -> Job:
        """A job that maps ``pipeline`` (the executor's own map, pool included, runs there)."""
        body = ("map", ctx.detach(), pipeline, executor, dict(inputs), output_name)
        return cls(ctx, (*body, map_over, map_mode), by_value, where)

    @classmethod
    def items(
        cls,
        pipeline: Pipeline,
        executor: ExecutorStrategy,
        ctx: RunContext,
        items: MapItems,
        output_name: tuple[str, ...] | None = None,
        *,
        by_value: bool = False,
        where: str = "another process",
    ) -> Job:
        """A job whose chunks each run some items of a map, inline, in a worker.

        The payload holds what every item shares; :meth:`chunk` packs the rows
        of items ``start`` to ``stop``; :meth:`receive` returns each item's
        output values in plan order. Maps nested in an item run inline there.
        """
        from ..executor import TaskExecutor

        worker = executor.without_pool() if isinstance(executor, TaskExecutor) else executor
        if pipeline._executor is executor:  # its pool stays here; workers run items inline
            pipeline = pipeline._copy_with_executor(worker)
        detached = ctx.detach()
        detached.in_worker = True
        detached.config = _worker_config(ctx.config, executor, worker)
        stop_path = _stop_path()
        body = ("items", detached, pipeline, worker, items.shared, output_name, items.names)
        job = cls(ctx, (*body, stop_path), by_value, where)
        job.rows = list(items.rows())
        job.stop_path = stop_path
        return job

    def chunk(self, start: int, stop: int) -> bytes:
        """The rows of items ``start`` to ``stop`` (exclusive) of an items job, packed."""
        try:  # rows may hold instances of the user's classes: they travel as the payload does
            return pack((start, self.rows[start:stop]), by_value=self.by_value)
        except Exception as exc:
            rows = self.rows[start:stop]
            raise _unpicklable({"map items": rows}, exc, self.where, self.by_value) from exc

    def receive(self, result: bytes) -> Any:
        """Replay the events ``result`` carries, then return its outputs or raise its error."""
        outputs, events, error = unpack(result)
        exc = unpack_error(error, self.where) if error is not None else None
        self.ctx.replay(events, exc)
        if exc is not None:
            raise exc
        return outputs

    def stop(self) -> None:
        """Ask chunks of this items job still running to stop before their next item."""
        if self.stop_path is not None:
            try:
                with open(self.stop_path, "w"):
                    pass
            except OSError:  # pragma: no cover - an unwritable temp dir: items finish instead
                pass


def _worker_config(config: Config, strategy: ExecutorStrategy, worker: ExecutorStrategy) -> Config:
    """The configuration items run with in a worker: no pools (nested maps run inline)."""
    from ..executor import TaskExecutor

    inherited = config.executor
    if inherited is strategy:
        inherited = worker
    elif isinstance(inherited, TaskExecutor):
        inherited = inherited.without_pool()
    return config.layered(config.backend, inherited, config.cache, config.callbacks)


def _unpicklable(body: Any, exc: Exception, where: str, by_value: bool) -> TypeError:
    """A TypeError naming what in ``body`` cannot be sent to ``where``."""
    from ._culprit import find_unpicklable

    found = find_unpicklable(body, by_value=by_value)
    what = ""
    if found is not None:
        label, value = found
        what = f" ({label or 'a value'}: {type(value).__name__} {value!r:.60})"
    msg = (
        f"Cannot send the work to {where}: something it needs cannot be pickled{what}: "
        f"{type(exc).__name__}: {exc}. Make that value picklable (drop live resources in "
        "__getstate__, or create them inside the node), or run with threads instead."
    )
    return TypeError(msg)


# -- the far side ---------------------------------------------------------------------

_payloads: OrderedDict[bytes, Any] = OrderedDict()
_payload_lock = threading.Lock()


def run_job(payload: bytes, chunk: bytes | None = None) -> bytes:
    """Run a :class:`Job` here; return bytes of ``(outputs, events, error)``.

    The remote side's entry point (a pool worker, a Dask worker, a Modal
    function, a subprocess call it with the bytes they received). It never
    raises for what the work raises: the error travels back in the result.
    Caches are flushed before it returns.
    """
    body = _unpacked(payload, keep=chunk is not None)
    kind, detached, pipeline, executor = body[:4]
    ctx = detached.attach()
    first = 0  # the index of a chunk's first item
    outputs: Any = None
    error: tuple[bytes | None, str, str, str] | None = None
    try:
        from ._backend import LocalBackend

        # Here, a task executor runs locally; a holistic one on its own backend.
        here = executor.default_backend() if executor.holistic else LocalBackend()
        if kind == "run":
            outputs = here.run(pipeline, body[4], executor, ctx, body[5])
        elif kind == "map":
            inputs, output_name, map_over, map_mode = body[4:]
            outputs = here.map(
                pipeline,
                inputs,
                executor,
                ctx,
                map_over=map_over,
                map_mode=map_mode,
                output_name=output_name,
            )
        else:
            assert chunk is not None, "an items job runs chunk by chunk"
            rows_in = unpack(chunk)
            first = rows_in[0]
            outputs = _run_rows(ctx, pipeline, executor, body[4:], rows_in)
    except BaseException as exc:
        error = pack_error(exc)
    finally:
        ctx.flush()
    events = ctx.recorded or []
    try:
        return _dumps((outputs, events, error))
    except Exception as exc:
        if kind == "items" and ctx.continuing and error is None:  # the map goes on: those
            rows = _portable_rows(outputs, pipeline.plan(body[5]), ctx, first, exc)
            return _dumps((rows, events, error))  # items failed, the rest come back
        where = _unsendable(outputs, pipeline.plan(body[5]) if kind == "items" else None, first)
        failure = TypeError(
            f"The outputs of pipeline {ctx.path[-1]!r} cannot be sent back{where}: "
            f"{type(exc).__name__}: {exc}. Return picklable values from the nodes."
        )
        return _dumps((None, events, pack_error(failure)))


def _portable_rows(
    rows: list[tuple[Any, ...]], plan: Any, ctx: RunContext, start: int, exc: Exception
) -> list[tuple[Any, ...]]:
    """The rows with every value that cannot be sent back replaced by an ItemError."""
    from .._model.failures import ItemError

    producer = plan.graph.producer
    portable = []
    for offset, row in enumerate(rows):
        cells = []
        for name, value in zip(plan.outputs, row, strict=True):
            if packs(value):
                cells.append(value)
                continue
            failure = TypeError(
                f"output {name!r} (a {type(value).__name__}) cannot be sent back from "
                f"another process; return picklable values from the nodes ({exc})"
            )
            where = (*ctx.item_path, start + offset)
            node = producer[name].name if name in producer else name
            cells.append(ItemError(node, failure, item_path=where, pipeline=ctx.path))
        portable.append(tuple(cells))
    return portable


def _unsendable(outputs: Any, plan: Any, first: int) -> str:
    """`` (output 'y', a lock, of map item 3)``: the first value that cannot be sent back."""
    if plan is not None:  # the rows of a chunk of map items
        for offset, row in enumerate(outputs or ()):
            for name, value in zip(plan.outputs, row, strict=True):
                if not packs(value):
                    kind = type(value).__name__
                    return f" (output {name!r}, a {kind}, of map item {first + offset})"
        return ""
    for name, value in outputs.items() if isinstance(outputs, dict) else ():
        if not packs(value):
            return f" (output {name!r}, a {type(value).__name__})"
    return ""


def _unpacked(payload: bytes, keep: bool) -> Any:
    """The payload's body, unpacked once per map when chunks of one map share it."""
    token = payload[:16]
    if not keep:
        return unpack(payload[16:])
    with _payload_lock:
        found = _payloads.get(token)
        if found is None:
            found = unpack(payload[16:])
            if len(_payloads) >= PAYLOAD_MEMO:
                _payloads.popitem(last=False)
            _payloads[token] = found
        return found


def _run_rows(
    ctx: RunContext,
    pipeline: Pipeline,
    executor: Any,
    rest: tuple[Any, ...],
    chunk: tuple[int, list[tuple[Any, ...]]],
) -> list[tuple[Any, ...]]:
    shared, output_name, names, stop_path = rest
    start, rows = chunk
    plan = pipeline.plan(output_name)
    outputs = plan.outputs
    results = []
    label = ctx.path[-1]
    caching = ctx.caching  # the inputs shared by every item are hashed once per chunk
    if plan.batched:  # node by node over the chunk, batch implementations on its items
        items = []
        for row in rows:
            values = shared.copy()
            values.update(zip(names, row, strict=True))
            items.append(values)
        with nullcontext() if caching is None else caching.sharing(shared):
            run_items_batched(plan, items, ctx, start, shared, in_worker=True)
        return [tuple([values[name] for name in outputs]) for values in items]
    with nullcontext() if caching is None else caching.sharing(shared):
        for offset, row in enumerate(rows):
            if os.path.exists(stop_path):  # the caller stopped the map: start nothing more
                break
            index = start + offset
            values = shared.copy()
            values.update(zip(names, row, strict=True))
            try:
                run_item(executor.run_plan, plan, values, ctx.item(index, in_worker=True))
            except Exception as exc:
                note(exc, f"in map item {index} of pipeline {label!r}")
                raise
            results.append(tuple([values[name] for name in outputs]))
    return results
