"""A distributed map: items in chunks, one remote call per chunk, results in order.

``ModalBackend(distribute_map=True)`` maps this way. The items job (the
engine's ``Job.items``) packs what every item shares once; each chunk carries
its rows. A map of n items is cut into about ``OVERSUBSCRIPTION`` chunks per
container (``max_containers``, else ``DEFAULT_CONTAINERS``), so no container
waits behind a slow chunk. The chunks go to the transport's ``map`` when it
has one (Modal's function map), else to the transport on threads,
``max_containers`` (else ``DEFAULT_FANOUT``) at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from hypernodes.engine import Job, MapItems, note

from . import _wire
from ._inplace import shipping

if TYPE_CHECKING:
    from hypernodes import Pipeline
    from hypernodes.engine import RunContext
    from hypernodes.executor import ExecutorStrategy

    from .backend import ModalBackend

__all__ = ["Fanout"]

#: Chunks per container a distributed map is cut into, so no container waits on a slow one.
OVERSUBSCRIPTION = 4
#: The containers a distributed map plans for when ``max_containers`` is not set.
DEFAULT_CONTAINERS = 32
#: Calls at once of a transport that cannot map by itself, when ``max_containers`` is not set.
DEFAULT_FANOUT = 4


class Fanout:
    """One distributed map of ``backend`` through ``channel`` (its bound transport)."""

    def __init__(self, backend: ModalBackend, channel: Any) -> None:
        self.backend = backend
        self.channel = channel

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
        """What ``executor.map`` would return here, with the map's events around it."""
        items = MapItems(inputs, map_over, map_mode, where=f"Pipeline {pipeline.name!r}.map()")
        observed = ctx.observed
        if observed:
            ctx.begin_map(pipeline.name, len(items))
        try:
            rows = self._rows(pipeline, executor, ctx, items, output_name)
        except BaseException as exc:
            ctx.fail(None, exc)
            raise
        if observed:
            ctx.end_map(pipeline.name)
        outputs = pipeline.plan(output_name).outputs
        return {name: [row[i] for row in rows] for i, name in enumerate(outputs)}

    def _rows(
        self,
        pipeline: Pipeline,
        executor: ExecutorStrategy,
        ctx: RunContext,
        items: MapItems,
        output_name: tuple[str, ...] | None,
    ) -> list[tuple[Any, ...]]:
        """Every item's output values, in order."""
        count = len(items)
        if count == 0:
            return []
        where = self.backend.where
        with shipping(self.backend):
            job = Job.items(pipeline, executor, ctx, items, output_name, by_value=True, where=where)
        containers = self.backend.max_containers or DEFAULT_CONTAINERS
        size = max(1, -(-count // (OVERSUBSCRIPTION * containers)))
        spans = [(start, min(start + size, count)) for start in range(0, count, size)]
        requests = [_wire.request(job.payload, job.chunk(start, stop)) for start, stop in spans]
        rows: list[tuple[Any, ...]] = []
        responses = self._responses(requests)
        answers = iter(responses)
        carrier = self.backend.carrier
        try:
            for number, (start, stop) in enumerate(spans):
                response = next(answers, _NONE)
                if response is _NONE:
                    raise _miscounted(carrier, len(requests), f"only {number}")
                if isinstance(response, BaseException):
                    note(
                        response,
                        f"the call running map items {start} to {stop - 1} of "
                        f"pipeline {pipeline.name!r} failed in {where}",
                    )
                    raise response
                rows.extend(job.receive(_wire.read_response(response, where, carrier)))
            if next(answers, _NONE) is not _NONE:
                raise _miscounted(carrier, len(requests), f"more than {len(requests)}")
        finally:
            close = getattr(responses, "close", None)
            if close is not None:
                close()
        return rows

    def _responses(self, requests: list[bytes]) -> Iterable[bytes | BaseException]:
        """Each request's response, or the exception its call raised, in order."""
        fan_out = getattr(self.channel, "map", None)
        if fan_out is not None:
            responses: Iterable[bytes | BaseException] = fan_out(requests)
            return responses
        workers = self.backend.max_containers or DEFAULT_FANOUT
        return _threads(self.channel, requests, workers)


_NONE: Any = object()


def _miscounted(carrier: str, asked: int, answered: str) -> RuntimeError:
    msg = (
        f"{carrier} was given {asked} requests by a distributed map and its map() "
        f"answered {answered}: a transport's map(requests) must return one response (or "
        "the exception of a failed call) per request, in order. The map raises rather "
        "than return fewer results than items."
    )
    return RuntimeError(msg)


def _threads(
    call: Callable[[bytes], bytes], requests: list[bytes], workers: int
) -> Iterator[bytes | BaseException]:
    """Responses of ``call`` on each request, ``workers`` at a time, in order."""
    pool = ThreadPoolExecutor(min(workers, len(requests)))
    futures: list[Future[bytes]] = [pool.submit(call, request) for request in requests]
    try:
        for future in futures:
            try:
                yield future.result()
            except Exception as exc:
                yield exc
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
