"""Running map items in a ``concurrent.futures`` pool.

Two paths, chosen by where the pool runs its work:

- **In this process** (``ThreadPoolExecutor``): ``min(n, workers)`` worker loops
  pull item indices from a shared counter, so there is one submit per worker,
  not per item, and no item waits behind a slow one.
- **Elsewhere** (process pools, loky, Dask, anything else): the pipeline, the
  executor, the run configuration and the inputs shared by every item are
  serialised with cloudpickle ONCE per map; the mapped values travel in chunks
  sized so every worker is busy
  (``ceil(n / (4 * workers))``, at most 256), and each worker unpickles the
  payload once per map, not per chunk.

Either way results keep input order, a failing item raises its own exception
type with the item index in a note, KeyboardInterrupt cancels what has not
started, and a worker process that dies is a :class:`WorkerLostError` naming
the items that were in flight.
"""

from __future__ import annotations

import copy
import itertools
import os
import threading
import uuid
from concurrent.futures import (
    FIRST_EXCEPTION,
    BrokenExecutor,
    Executor,
    Future,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from contextlib import nullcontext
from typing import TYPE_CHECKING, Any

from ..callbacks._record import RECORDING, Recorder, replay
from ..engine._context import RunContext
from ..engine._steps import note, run_item
from ..errors import WorkerLostError

if TYPE_CHECKING:
    from .._model.config import Config
    from .._model.pipeline import Pipeline
    from .._model.plan import Plan
    from ..engine._items import MapItems
    from ._base import TaskExecutor

__all__ = ["PoolDescription", "map_in_pool", "worker_count"]

MAX_CHUNK = 256


def worker_count(pool: Executor) -> int:
    """How many items ``pool`` runs at once (threads, processes or Dask worker threads)."""
    count = getattr(pool, "_max_workers", None)
    if isinstance(count, int) and count > 0:
        return count
    client = getattr(pool, "_client", None)  # distributed.cfexecutor.ClientExecutor
    if client is not None:
        try:
            return max(1, int(sum(client.nthreads().values())))
        except Exception:
            pass
    return os.cpu_count() or 1


def map_in_pool(
    strategy: TaskExecutor,
    pipeline: Pipeline,
    plan: Plan,
    output_key: tuple[str, ...] | None,
    items: MapItems,
    ctx: RunContext,
    pool: Executor,
) -> list[tuple[Any, ...]]:
    """Run every item in ``pool``; return each item's output values, in order."""
    if isinstance(pool, ThreadPoolExecutor):
        return _map_in_threads(strategy, plan, list(items), ctx, pool)
    return _map_out_of_process(strategy, pipeline, output_key, items, ctx, pool)


def _map_in_threads(
    strategy: TaskExecutor,
    plan: Plan,
    items: list[dict[str, Any]],
    ctx: RunContext,
    pool: Executor,
) -> list[tuple[Any, ...]]:
    count = len(items)
    outputs = plan.outputs
    results: list[Any] = [None] * count
    next_index = itertools.count().__next__
    stopped = threading.Event()
    run_plan = strategy.run_plan
    label = ctx.path[-1]

    def work() -> None:
        while not stopped.is_set():
            index = next_index()
            if index >= count:
                return
            values = items[index]
            try:
                run_item(run_plan, plan, values, ctx.for_item(index, in_worker=True))
            except BaseException as exc:
                stopped.set()
                if isinstance(exc, Exception):
                    note(exc, f"in map item {index} of pipeline {label!r}")
                raise
            results[index] = tuple([values[name] for name in outputs])

    if ctx.dispatch is not None:
        ctx.dispatch.concurrent()
    futures = [pool.submit(work) for _ in range(min(count, worker_count(pool)))]
    _wait_all(futures, stopped)
    return results


def _wait_all(futures: list[Future[Any]], stopped: threading.Event | None = None) -> None:
    """Wait for every future; on the first error or an interrupt, cancel the rest and raise."""
    try:
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
    except BaseException:  # KeyboardInterrupt while waiting
        if stopped is not None:
            stopped.set()
        for future in futures:
            future.cancel()
        raise
    failed = [f for f in futures if f in done and f.exception() is not None]
    if failed:
        if stopped is not None:
            stopped.set()
        for future in pending:
            future.cancel()
        raise failed[0].exception()  # type: ignore[misc]


# -- out of process ----------------------------------------------------------------


def _map_out_of_process(
    strategy: TaskExecutor,
    pipeline: Pipeline,
    output_key: tuple[str, ...] | None,
    items: MapItems,
    ctx: RunContext,
    pool: Executor,
) -> list[tuple[Any, ...]]:
    import cloudpickle

    worker = strategy.without_pool()
    if pipeline._executor is strategy:  # its pool stays here; workers run items inline
        pipeline = copy.copy(pipeline)
        pipeline._executor = worker
    record = ctx.dispatch is not None
    payload = cloudpickle.dumps(
        (
            worker,
            pipeline,
            output_key,
            _worker_config(ctx.config, strategy, worker),
            ctx.path,
            ctx.item_path,
            record,
            items.shared,  # inputs shared by every item travel once, not once per chunk
            items.names,
        )
    )
    rows = list(items.rows())
    token = uuid.uuid4().hex
    count = len(rows)
    size = max(1, min(MAX_CHUNK, -(-count // (4 * worker_count(pool)))))
    chunks = {
        pool.submit(
            _run_chunk, token, payload, start, cloudpickle.dumps(rows[start : start + size])
        ): start
        for start in range(0, count, size)
    }
    results: list[Any] = [None] * count
    try:
        for future in as_completed(chunks):
            error = future.exception()
            if error is not None:
                if record:
                    events = getattr(error, "_hypernodes_events", [])
                    replay(events, ctx.dispatch, ctx.shared, error)  # type: ignore[arg-type]
                raise error
            rows, events = cloudpickle.loads(future.result())
            if record:
                replay(events, ctx.dispatch, ctx.shared)  # type: ignore[arg-type]
            start = chunks[future]
            results[start : start + len(rows)] = rows
    except BrokenExecutor as exc:
        _cancel(chunks)
        lost = sorted(
            start for future, start in chunks.items() if not future.done() or _lost(future)
        )
        spans = ", ".join(f"{s}-{min(s + size, count) - 1}" for s in lost) or "unknown"
        msg = (
            f"A worker of {type(pool).__name__} died while running map items {spans} of "
            f"pipeline {ctx.path[-1]!r} (killed, out of memory, or a crash in native code). "
            "Those items produced no result; rerun them or give each worker more memory."
        )
        raise WorkerLostError(msg) from exc
    except BaseException:
        _cancel(chunks)
        raise
    return results


def _cancel(futures: dict[Future[Any], int]) -> None:
    for future in futures:
        future.cancel()


def _lost(future: Future[Any]) -> bool:
    return isinstance(future.exception(), BrokenExecutor)


def _worker_config(config: Config, strategy: TaskExecutor, worker: TaskExecutor) -> Config:
    """The configuration items run with in a worker: no pools (nested maps run inline)."""
    from .._model.config import Config
    from ._base import TaskExecutor

    inherited = config.executor
    if inherited is strategy:
        inherited = worker
    elif isinstance(inherited, TaskExecutor):
        inherited = inherited.without_pool()
    # Callbacks stay in the caller: workers record events for every level that has some.
    callbacks = (RECORDING,) if config.callbacks else ()
    return Config(config.backend, inherited, config.cache, callbacks)


_payloads: dict[str, Any] = {}  # the unpickled payloads of the last few maps
_payload_lock = threading.Lock()


def _run_chunk(token: str, payload: bytes, start: int, chunk: bytes) -> bytes:
    """Worker side: run a chunk of items; the payload is unpickled once per map.

    Items and results travel as cloudpickle bytes (so lambdas and local classes
    can be inputs and outputs); the result holds the items' output values and
    the callback events recorded while running them (replayed by the caller).
    """
    import cloudpickle

    rows: list[tuple[Any, ...]] = cloudpickle.loads(chunk)
    with _payload_lock:
        unpacked = _payloads.get(token)
        if unpacked is None:
            unpacked = cloudpickle.loads(payload)
            if len(_payloads) >= 4:
                _payloads.pop(next(iter(_payloads)))
            _payloads[token] = unpacked
    strategy, pipeline, output_key, config, path, item_path, record, shared, names = unpacked
    plan = pipeline.plan(output_key)
    outputs = plan.outputs
    results = []
    recorder = Recorder() if record else None
    chunk_ctx = RunContext(config, recorder, path, item_path=item_path, in_worker=True)
    caching = chunk_ctx.caching  # the inputs shared by every item are hashed once per chunk
    try:
        with nullcontext() if caching is None else caching.sharing(shared):
            for offset, row in enumerate(rows):
                index = start + offset
                values = shared.copy()
                values.update(zip(names, row, strict=True))
                try:
                    run_item(
                        strategy.run_plan, plan, values, chunk_ctx.for_item(index, in_worker=True)
                    )
                except Exception as exc:
                    note(exc, f"in map item {index} of pipeline {path[-1]!r}")
                    if recorder is not None:
                        exc._hypernodes_events = recorder.events  # type: ignore[attr-defined]
                    raise
                results.append(tuple([values[name] for name in outputs]))
    finally:
        if chunk_ctx.caching is not None:
            chunk_ctx.caching.flush()
    data: bytes = cloudpickle.dumps((results, recorder.events if recorder is not None else []))
    return data


# -- pickling executors that hold a pool ---------------------------------------------


class PoolDescription:
    """A picklable description of a pool: its kind and size, rebuilt on first use."""

    __slots__ = ("address", "kind", "max_workers")

    def __init__(self, kind: str, max_workers: int | None, address: str | None = None) -> None:
        self.kind = kind
        self.max_workers = max_workers
        self.address = address

    @classmethod
    def of(cls, pool: Executor) -> PoolDescription:
        """Describe ``pool``, or raise a TypeError saying why it cannot travel."""
        if isinstance(pool, ThreadPoolExecutor):
            return cls("threads", pool._max_workers)
        from concurrent.futures import ProcessPoolExecutor

        if isinstance(pool, ProcessPoolExecutor):
            return cls("processes", pool._max_workers)  # type: ignore[attr-defined]
        module = type(pool).__module__
        if module.startswith("loky"):
            return cls("loky", getattr(pool, "_max_workers", None))
        client = getattr(pool, "_client", None)
        if module.startswith("distributed") and client is not None:
            return cls("dask", None, client.scheduler.address)
        msg = (
            f"This executor holds a {type(pool).__name__}, which cannot be described to "
            "rebuild it elsewhere (only thread pools, process pools, loky and Dask client "
            "executors can). Create the executor where it runs, or pass one of those."
        )
        raise TypeError(msg)

    def build(self) -> Executor:
        """A new pool matching the description."""
        if self.kind == "threads":
            return ThreadPoolExecutor(self.max_workers)
        if self.kind == "processes":
            return process_pool(self.max_workers)
        if self.kind == "loky":
            import loky

            pool: Executor = loky.get_reusable_executor(max_workers=self.max_workers)
            return pool
        from distributed import Client

        dask_pool: Executor = Client(self.address).get_executor()  # type: ignore[no-untyped-call]
        return dask_pool

    def __repr__(self) -> str:
        size = f", max_workers={self.max_workers}" if self.max_workers else ""
        return f"PoolDescription({self.kind!r}{size})"


def process_pool(max_workers: int | None = None) -> Executor:
    """A process pool that starts its workers with ``spawn``.

    Forking a process that runs threads (an event loop, a thread pool, a
    Dask client) can deadlock the child, so hypernodes' own process pools
    spawn; work reaches them serialised with cloudpickle.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"))
