"""Synchronous nodes in worker processes kept between runs (``use_process=True``).

Daft 0.7's own ``use_process`` starts one UDF worker process per UDF and core
for every query and waits for each to exit at its end: about half a second
per run on 2 cores, before any work (docs/daft.md, "Processes and cores").
A pipeline mapped again and again pays it every time, and a ``@stateful``
model is built again in every fresh process.

So on the native runner the plan stays on Daft's threads, and each batch of a
synchronous node's UDF is handed to a process pool kept for the life of this
process: :func:`hypernodes.executor.process_pool` (spawned workers that leave
Ctrl-C to the caller), as many workers as cores. A batch travels as the run's
:class:`~hypernodes_daft._run.Handle` (the run packed once per run, unpacked
once per worker and run) with its cells, and comes back as cells, exactly as
on Ray's workers. A worker that dies is a :class:`hypernodes.errors.WorkerLostError`
naming the node, and the next batch gets a new pool.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import threading
from concurrent.futures import BrokenExecutor, CancelledError, Executor, Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._run import Handle

__all__ = ["call", "pool", "stop", "stop_path"]

_lock = threading.Lock()
_pool: tuple[int, Executor] | None = None  # (the pid that made it, the pool)
_running: dict[str, set[Future[Any]]] = {}  # run token -> its batches in the pool


def pool() -> Executor:
    """This process's pool, refused when the main script would run again in its workers
    (no ``if __name__ == "__main__":`` guard)."""
    from hypernodes.executor import check_main_guard

    current = _current()
    check_main_guard(current)
    return current


def _current() -> Executor:
    """This process's pool, made on first use (a forked child makes its own)."""
    global _pool
    with _lock:
        if _pool is None or _pool[0] != os.getpid():
            from hypernodes.executor import process_pool

            _pool = (os.getpid(), process_pool(os.cpu_count() or 1))
        return _pool[1]


def _replace(broken: Executor) -> None:
    """Forget a broken pool; the next batch starts a new one."""
    global _pool
    with _lock:
        if _pool is not None and _pool[1] is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def _serve(handle: Handle, index: int, columns: list[list[Any]]) -> list[list[Any]]:
    """In a worker: run task ``index`` of the handle's run on the batch."""
    return handle.call(index, columns)


def call(handle: Handle, index: int, name: str, columns: list[list[Any]]) -> list[list[Any]]:
    """Run task ``index`` (node ``name``) on a batch in a worker process; its columns."""
    pool = _current()
    try:
        future = pool.submit(_serve, handle, index, columns)
    except BrokenExecutor:  # broke after it was looked up: once more, on a new pool
        _replace(pool)
        pool = _current()
        future = pool.submit(_serve, handle, index, columns)
    with _lock:
        _running.setdefault(handle.token, set()).add(future)
    try:
        return future.result()
    except CancelledError:
        msg = f"The run was stopped before node {name!r} ran on this batch."
        raise RuntimeError(msg) from None
    except BrokenExecutor as exc:
        _replace(pool)
        from hypernodes.errors import WorkerLostError

        msg = (
            f"A worker process died while running node {name!r} on "
            f"{len(columns[0]) if columns else 0} rows (killed, out of memory, or a crash in "
            "native code); those rows produced no result. The next run starts new workers; "
            "give each worker more memory, or look for a crash in the node."
        )
        raise WorkerLostError(msg) from exc
    finally:
        with _lock:
            batch = _running.get(handle.token)
            if batch is not None:
                batch.discard(future)
                if not batch:
                    del _running[handle.token]


_stops: str | None = None  # the folder of this process's stop files


def stop_path(token: str) -> str:
    """The file whose existence asks the batches of run ``token`` to stop (see :func:`stop`)."""
    global _stops
    with _lock:
        if _stops is None:
            _stops = tempfile.mkdtemp(prefix="hypernodes-daft-stop-")
            atexit.register(shutil.rmtree, _stops, True)
    return os.path.join(_stops, token)


def stop(token: str, path: str | None) -> None:
    """The run ``token`` stopped before its end (Ctrl-C, an error of Daft's): its batches
    that have not started never start, and running ones stop before their next row
    (they look for the file at ``path``), so the workers are free for the next run."""
    with _lock:
        futures = list(_running.get(token, ()))
    for future in futures:
        future.cancel()
    if futures and path is not None:
        with contextlib.suppress(OSError), open(path, "w"):
            pass
