"""Running map items in a ``concurrent.futures`` pool.

Two paths, chosen by where the pool runs its work:

- **In this process** (``ThreadPoolExecutor``): ``min(n, workers)`` worker loops
  pull item indices from a shared counter, so there is one submit per worker,
  not per item, and no item waits behind a slow one.
- **Elsewhere** (process pools, loky, Dask, anything else): an items
  :class:`~hypernodes.engine.Job` (the engine's run-elsewhere protocol) packs
  the pipeline, the executor, the run's detached context and the inputs shared
  by every item ONCE per map; the mapped values travel in chunks sized so
  every worker is busy (``ceil(n / (OVERSUBSCRIPTION * workers))``, at most
  ``MAX_CHUNK``; bigger for batched nodes, see :func:`chunk_size`), and each
  worker unpacks the payload once per map.

Either way results keep input order; a failing item raises its own exception
type with the item index in a note; a map started from a thread that is
itself a worker of the pool runs inline instead of waiting on it;
KeyboardInterrupt cancels what has not started and asks running chunks to
stop before their next item; a worker process that dies is a
:class:`WorkerLostError` naming the items that were in flight.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import sys
import threading
from concurrent.futures import (
    FIRST_EXCEPTION,
    BrokenExecutor,
    Executor,
    Future,
    ThreadPoolExecutor,
    as_completed,
    wait,
)
from typing import TYPE_CHECKING, Any

from ..engine._batch import run_items_batched
from ..engine._items import item_spans
from ..engine._occupancy import occupies, occupying
from ..engine._remote import Job, run_job
from ..engine._steps import note, run_item
from ..errors import WorkerLostError

if TYPE_CHECKING:
    from .._model.pipeline import Pipeline
    from .._model.plan import Plan
    from ..engine._context import RunContext
    from ..engine._items import MapItems
    from ._base import TaskExecutor

__all__ = [
    "PoolDescription",
    "check_main_guard",
    "map_in_pool",
    "occupies",
    "process_pool",
    "worker_count",
]

#: The most items one chunk carries to a worker.
MAX_CHUNK = 256
#: Chunks per worker a map is cut into, so a slow chunk never leaves workers idle.
OVERSUBSCRIPTION = 4


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
        return _map_in_threads(strategy, plan, list(items), set(items.shared), ctx, pool)
    return _map_out_of_process(strategy, pipeline, plan, output_key, items, ctx, pool)


def _map_in_threads(
    strategy: TaskExecutor,
    plan: Plan,
    items: list[dict[str, Any]],
    shared: set[str],
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
        with occupying(pool):
            while not stopped.is_set():
                index = next_index()
                if index >= count:
                    return
                values = items[index]
                try:
                    run_item(run_plan, plan, values, ctx.item(index, in_worker=True))
                except BaseException as exc:
                    stopped.set()
                    if isinstance(exc, Exception):
                        note(exc, f"in map item {index} of pipeline {label!r}")
                    raise
                results[index] = tuple([values[name] for name in outputs])

    if ctx.dispatch is not None:
        ctx.dispatch.concurrent()
    workers = min(count, worker_count(pool))
    if plan.batched:  # node by node: each worker takes whole chunks of the items
        size = chunk_size(plan, count, workers)
        futures = [
            pool.submit(_chunk_batched, pool, plan, items, shared, start, size, ctx, results)
            for start in range(0, count, size)
        ]
    else:
        futures = [pool.submit(work) for _ in range(workers)]
    _wait_all(futures, stopped)
    return results


def _chunk_batched(
    pool: Executor,
    plan: Plan,
    items: list[dict[str, Any]],
    shared: set[str],
    start: int,
    size: int,
    ctx: RunContext,
    results: list[Any],
) -> None:
    rows = items[start : start + size]
    with occupying(pool):
        run_items_batched(plan, rows, ctx, start, shared, in_worker=True)
    outputs = plan.outputs
    for offset, values in enumerate(rows):
        results[start + offset] = tuple([values[name] for name in outputs])


def chunk_size(plan: Plan, count: int, workers: int) -> int:
    """How many items one chunk of a map carries to a pool worker.

    ``OVERSUBSCRIPTION`` chunks per worker (at most ``MAX_CHUNK`` items), so a
    slow chunk never leaves workers idle. A plan with a batched node gets
    chunks big enough for its batches (``@node.batch(size=...)``; every item
    of a worker's share when a batch takes all), never more than a worker's
    share, so every worker still gets work.
    """
    workers = max(1, workers)
    share = -(-count // workers)
    size = max(1, min(MAX_CHUNK, -(-count // (OVERSUBSCRIPTION * workers))))
    if plan.batched:
        sizes = [step.batch_size for step in plan.steps if step.batch is not None]
        wanted = share if None in sizes else max(size, *[s for s in sizes if s is not None])
        size = max(1, min(share, wanted))
    return size


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
    plan: Plan,
    output_key: tuple[str, ...] | None,
    items: MapItems,
    ctx: RunContext,
    pool: Executor,
) -> list[tuple[Any, ...]]:
    check_main_guard(pool)
    where = f"a worker of {type(pool).__name__}"
    job = Job.items(pipeline, strategy, ctx, items, output_key, where=where)
    count = len(items)
    size = chunk_size(plan, count, worker_count(pool))
    chunks: dict[Future[bytes], int] = {}
    results: list[Any] = [None] * count
    try:
        for start in range(0, count, size):
            chunks[pool.submit(run_job, job.payload, job.chunk(start, start + size))] = start
        for future in as_completed(chunks):
            rows = job.receive(future.result())
            start = chunks[future]
            results[start : start + len(rows)] = rows
    except BrokenExecutor as exc:
        job.stop()
        _cancel(chunks)
        starts = [s for future, s in chunks.items() if not future.done() or _lost(future)]
        lost = [i for s in starts for i in range(s, min(s + size, count))]
        msg = (
            f"A worker of {type(pool).__name__} died while running map items "
            f"{item_spans(lost) if lost else 'unknown'} of pipeline {ctx.path[-1]!r} (killed, "
            "out of memory, or a crash in native code). Those items produced no result; "
            "rerun them or give each worker more memory."
        )
        error = WorkerLostError(msg)
        error.results, error.lost = results, lost  # what finished, for a map that goes on
        raise error from exc
    except BaseException:
        job.stop()  # chunks already running stop before their next item
        _cancel(chunks)
        raise
    return results


def _cancel(futures: dict[Future[bytes], int]) -> None:
    for future in futures:
        future.cancel()


def _lost(future: Future[Any]) -> bool:
    return not future.cancelled() and isinstance(future.exception(), BrokenExecutor)


_guard_checked: dict[str, bool] = {}


def check_main_guard(pool: Executor) -> None:
    """Refuse a process pool that would re-run an unguarded script in every worker.

    Workers started with ``spawn`` or ``forkserver`` import the main script
    again; a script that runs its pipelines at top level (no
    ``if __name__ == "__main__":``) would then start a map in every worker,
    which dies while starting and leaves a broken pool. Call it before
    handing work to a ``ProcessPoolExecutor`` (other pools pass): it raises a
    ``RuntimeError`` that says what to change, and reads the script once.
    """
    from concurrent.futures import ProcessPoolExecutor

    if not isinstance(pool, ProcessPoolExecutor):
        return
    context = getattr(pool, "_mp_context", None)
    if context is not None and context.get_start_method() == "fork":
        return
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if path == "<stdin>":  # spawned workers would look for a file of that name and die
        msg = (
            "A process pool cannot start its workers for a script read from standard "
            "input: each worker imports the main script again, from its file. Save the "
            'script to a file (with an `if __name__ == "__main__":` guard), or use '
            'executor="threads".'
        )
        raise RuntimeError(msg)
    if not path or not path.endswith(".py"):
        return
    guarded = _guard_checked.get(path)
    if guarded is None:
        try:
            with open(path, encoding="utf-8") as file:
                source: str | None = file.read()
        except OSError:
            source = None
        guarded = _guard_checked[path] = source is None or _has_main_guard(source)
    if not guarded:
        msg = (
            f'{path} runs a process-pool map without an `if __name__ == "__main__":` guard. '
            "Process-pool workers start by importing the script again, so each would run "
            "the pipeline too and die while starting. Put the code that runs pipelines under "
            '`if __name__ == "__main__":`, or use executor="threads".'
        )
        raise RuntimeError(msg)


def _has_main_guard(source: str) -> bool:
    """Whether the script has a top-level ``if __name__ == "__main__":`` (in any spelling
    that compares ``__name__`` with ``"__main__"``); a comment or a string saying so is
    not one. A script that does not parse is given the benefit of the doubt."""
    import ast

    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return True
    for statement in tree.body:
        if not isinstance(statement, ast.If):
            continue
        for part in ast.walk(statement.test):
            if not isinstance(part, ast.Compare):
                continue
            operands = [part.left, *part.comparators]
            names = {o.id for o in operands if isinstance(o, ast.Name)}
            strings = {o.value for o in operands if isinstance(o, ast.Constant)}
            if "__name__" in names and "__main__" in strings:
                return True
    return False


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
    spawn; work reaches them serialised with cloudpickle. Workers ignore
    Ctrl-C: the caller receives it, and the map's chunks stop before their
    next item.
    """
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(
        max_workers, mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint
    )


def _ignore_sigint() -> None:
    """Workers leave Ctrl-C to the caller, which stops the map (see ``Job.stop``)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
