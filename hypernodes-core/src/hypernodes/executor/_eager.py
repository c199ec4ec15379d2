"""``EagerNodeExecutor``: each node starts as soon as its inputs exist."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Executor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..engine._loop import run_coroutine
from ..engine._occupancy import occupies, occupying
from ..engine._steps import execute, execute_async, step_failed
from ._base import TaskExecutor
from ._sequential import SequentialNodeExecutor

if TYPE_CHECKING:
    from .._model.plan import Plan, Step
    from ..engine._context import RunContext

__all__ = ["EagerNodeExecutor"]


class EagerNodeExecutor(TaskExecutor):
    """Start every node as soon as the nodes it depends on have finished.

    Runs on an asyncio event loop: ``async def`` nodes are awaited on the loop,
    synchronous nodes run in a thread pool (``max_threads`` threads, default
    that of ``ThreadPoolExecutor``) so independent ones overlap, and nested
    pipelines run on threads of their own so they never wait for a pool slot
    held by their parent. The loop belongs to the calling thread; when the
    caller already runs an event loop (Jupyter), the run gets a thread and a
    loop of its own. When a node fails, nodes not yet started are cancelled
    and its exception is raised.

    A plan in which every node needs the one before it (a chain) has nothing
    to overlap and runs inline, without the event-loop round trip; so does a
    pipeline run by a node that itself runs on one of this executor's threads
    (its threads may all be busy waiting the same way).
    """

    def __init__(
        self, map_executor: Executor | None = None, max_threads: int | None = None
    ) -> None:
        super().__init__(map_executor)
        self.max_threads = max_threads
        self._threads: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()

    def _thread_pool(self) -> ThreadPoolExecutor:
        if self._threads is None:
            with self._lock:
                if self._threads is None:
                    self._threads = ThreadPoolExecutor(
                        self.max_threads, thread_name_prefix="hypernodes-eager"
                    )
        return self._threads

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_threads"] = None
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def run_plan(self, plan: Plan, values: dict[str, Any], ctx: RunContext) -> None:
        threads = self._threads
        if plan.is_chain or (threads is not None and occupies(threads)):
            # A chain has nothing to overlap; and a node running on one of this
            # executor's threads that runs a pipeline with this executor must not
            # wait for threads that may all be waiting the same way: inline.
            SequentialNodeExecutor.run_plan(self, plan, values, ctx)  # type: ignore[arg-type]
            return
        if ctx.dispatch is not None:
            ctx.dispatch.concurrent()
        run_coroutine(self._run(plan, values, ctx))

    async def _run(self, plan: Plan, values: dict[str, Any], ctx: RunContext) -> None:
        loop = asyncio.get_running_loop()
        threads = self._thread_pool()
        tasks: list[asyncio.Task[None]] = []
        hashes: dict[str, str] = {}

        async def run(index: int, step: Step) -> None:
            deps = plan.dependencies[index]
            if deps:
                await asyncio.gather(*[tasks[i] for i in deps])
            try:
                if step.is_async:  # awaited here: many can wait at once, threads or not
                    await execute_async(step, values, ctx, hashes)
                elif step.nested:
                    await _in_own_thread(loop, execute, step, values, ctx, hashes)
                else:
                    await loop.run_in_executor(
                        threads, _occupying_call, threads, step, values, ctx, hashes
                    )
            except Exception as exc:
                step_failed(exc, step, values, ctx)
                raise

        for index, step in enumerate(plan.steps):
            task = loop.create_task(run(index, step))
            task.add_done_callback(_retrieve)
            tasks.append(task)
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            raise


def _occupying_call(
    threads: ThreadPoolExecutor,
    step: Step,
    values: dict[str, Any],
    ctx: RunContext,
    hashes: dict[str, str],
) -> None:
    with occupying(threads):
        execute(step, values, ctx, hashes)


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a task's exception as seen: the first one is raised, the rest are noise."""
    if not task.cancelled():
        task.exception()


def _in_own_thread(loop: asyncio.AbstractEventLoop, fn: Any, *args: Any) -> asyncio.Future[Any]:
    future: asyncio.Future[Any] = loop.create_future()

    def target() -> None:
        try:
            result = fn(*args)
        except BaseException as exc:
            loop.call_soon_threadsafe(_settle, future, None, exc)
        else:
            loop.call_soon_threadsafe(_settle, future, result, None)

    threading.Thread(target=target, name="hypernodes-nested", daemon=True).start()
    return future


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
