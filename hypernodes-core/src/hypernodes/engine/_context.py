"""The run context: what one run (and each nested run and map item in it) carries.

:class:`RunContext` is the facade a backend or executor works through: it runs
one step of a plan with everything around it (cache lookup and store,
callbacks, async, nesting, error notes), emits events, looks up and stores
cache entries, opens and closes the scopes callbacks see (a map, an item, a
nested pipeline), and detaches into a small picklable
:class:`DetachedContext` to continue a run in another process, whose
recorded events :meth:`RunContext.replay` delivers back here.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from .._model.config import UNSET
from ..callbacks._dispatch import Dispatcher, callback_context, report_error
from ..callbacks._record import Event, Recorder, StandIn, replay, token_of
from ._steps import (
    execute,
    execute_async,
    fail_item,
    lookup,
    note,
    remember,
    step_failed,
    step_policy,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from .._model.config import Config
    from .._model.plan import Step
    from .._model.retries import Retries
    from ..caching._run import CacheRun
    from ..callbacks._hooks import CallbackContext, PipelineCallback

__all__ = ["DetachedContext", "RunContext", "RunState"]

_new_context = object.__new__


class RunState:
    """What every scope of one top-level run shares.

    ``shared`` is the dict callbacks see as ``CallbackContext.shared``;
    ``dispatchers`` the dispatcher of each callback set that events were
    replayed to (both made on first use: most runs need neither); ``events``
    is not ``None`` when the run is recorded (it runs where callbacks are
    not): every scope records into it.
    """

    __slots__ = ("_dispatchers", "_shared", "events")

    def __init__(self, events: list[Event] | None = None) -> None:
        self.events = events
        self._shared: dict[str, Any] | None = None
        self._dispatchers: dict[tuple[str, ...], Dispatcher] | None = None

    @property
    def shared(self) -> dict[str, Any]:
        found = self._shared
        if found is None:
            found = self._shared = {}
        return found

    @property
    def dispatchers(self) -> dict[tuple[str, ...], Dispatcher]:
        found = self._dispatchers
        if found is None:
            found = self._dispatchers = {}
        return found


class RunContext:
    """What one run carries down to its nodes; the facade backends and executors use.

    Built by ``Pipeline.run``/``map`` for the top-level run, by :meth:`nested`
    for a nested pipeline and by :meth:`item` for each map item. Read-only
    attributes:

    - ``config``: the effective :class:`~hypernodes.engine.Config` of the
      pipeline being run (backend, executor, cache, callbacks);
    - ``path``: names of the enclosing pipelines, outermost first;
    - ``item_path``: indices of the enclosing map items, outermost first;
    - ``in_worker``: true inside a map item that runs in a pool, so maps nested
      in it run their items inline instead of waiting on the pool they occupy;
    - ``observed``: whether any callback receives the events of this scope.

    A holistic executor that runs node-major (every row of a node, then the
    next node) uses it like this::

        def map(self, pipeline, inputs, ctx, *, map_over, map_mode, output_name=None):
            plan = pipeline.plan(output_name)
            items = MapItems(inputs, map_over, map_mode)
            ctx.begin_map(pipeline.name, len(items))
            rows = [ctx.item(i) for i in range(len(items))]
            values = list(items)
            hashes = [{} for _ in rows]
            for row in rows:
                row.begin_item()
            for step in plan.steps:  # one node over every row
                for row, v, h in zip(rows, values, hashes):
                    row.execute(step, v, h)
            for row in rows:
                row.end_item()
            ctx.end_map(pipeline.name)
            return {name: [v[name] for v in values] for name in plan.outputs}
    """

    __slots__ = (
        "caching",
        "callback_context",
        "config",
        "continuing",
        "dispatch",
        "in_worker",
        "item_of",
        "item_path",
        "item_stats",
        "path",
        "started",
        "state",
    )

    def __init__(
        self,
        config: Config,
        dispatch: Dispatcher | Recorder | None,
        path: tuple[str, ...],
        state: RunState | None,
        *,
        item_path: tuple[int, ...] = (),
        in_worker: bool = False,
        caching: CacheRun | None = None,
        item_stats: list[int] | None = None,
    ) -> None:
        self.config = config
        if caching is None and config.cache is not None:
            from ..caching._run import CacheRun

            caching = CacheRun(config.cache)
        self.caching = caching
        self.dispatch = dispatch
        self.path = path
        self.item_path = item_path
        self.in_worker = in_worker
        self.state = state
        self.item_stats = item_stats
        self.callback_context: CallbackContext | None = None
        self.started = 0.0
        #: The pipeline whose map this is an item of (``None``: not a map item's context).
        self.item_of: str | None = None
        #: This scope is (in) an item of a map with ``on_error="continue"``.
        self.continuing = False

    @classmethod
    def root(cls, config: Config, name: str) -> RunContext:
        """The context of a top-level run of pipeline ``name`` with ``config``."""
        if not config.callbacks:  # the run's state is made when a scope first needs it
            return cls(config, None, (name,), None)
        state = RunState()
        return cls(config, _dispatcher(config.callbacks, None, state), (name,), state)

    def _state(self) -> RunState:
        """The run's shared state, made now if no scope needed it before."""
        state = self.state
        if state is None:
            state = self.state = RunState()
        return state

    @property
    def shared(self) -> dict[str, Any]:
        """The dict callbacks of this run share (``CallbackContext.shared``)."""
        return self._state().shared

    @property
    def recorded(self) -> list[Event] | None:
        """The events recorded so far when this run is recorded (see
        :meth:`DetachedContext.attach`), else ``None``."""
        return self.state.events if self.state is not None else None

    @property
    def observed(self) -> bool:
        """Whether any callback receives the events of this scope."""
        return self.dispatch is not None

    # -- scopes ----------------------------------------------------------------------

    def item(self, index: int, *, in_worker: bool = False) -> RunContext:
        """The context of map item ``index`` of this run (no event is emitted).

        ``in_worker=True`` when the item runs in a pool: maps nested in it then
        run their items inline.
        """
        item = _new_context(RunContext)  # the hot path of maps: slots set directly
        item.config = self.config
        item.caching = self.caching
        item.dispatch = self.dispatch
        item.path = path = self.path
        item.item_path = (*self.item_path, index)
        item.in_worker = in_worker or self.in_worker
        item.state = self._state()
        item.item_stats = [0]
        item.callback_context = None
        item.started = 0.0
        item.item_of = path[-1]
        item.continuing = self.continuing
        return item

    for_item = item

    def nested(self, config: Config, name: str) -> RunContext:
        """The context of pipeline ``name`` nested in this run, with its effective ``config``."""
        return RunContext(
            config,
            _dispatcher(config.callbacks, self.dispatch, self._state()),
            (*self.path, name),
            self.state,
            item_path=self.item_path,
            in_worker=self.in_worker,
            caching=self.caching.child(config.cache) if self.caching is not None else None,
            item_stats=self.item_stats,
        )

    def nested_step(self, step: Step) -> RunContext:
        """The context of the inner pipeline of a nested ``step`` of this run.

        Its configuration is the inner pipeline's effective one (the
        ``as_node`` overrides, then the inner pipeline's own settings, then
        this run's), computed without changing the inner pipeline.
        """
        node = step.node
        pipeline = node.pipeline  # type: ignore[union-attr]
        config = node._layer_on(pipeline._layer_on(self.config))  # type: ignore[union-attr]
        return self.nested(config, pipeline.name)

    # -- events ----------------------------------------------------------------------

    def emit(self, hook: str, *args: Any) -> None:
        """Deliver event ``hook`` with ``args`` (the hook's arguments without its context)
        to the callbacks of this scope; nothing happens when none listen."""
        dispatch = self.dispatch
        if dispatch is not None:
            dispatch.emit(hook, *args, callback_context(self))

    def fail(self, node: str | None, error: BaseException) -> None:
        """Report ``error`` raised by ``node`` (``None``: outside any node): ``on_error``
        fires once per exception, at the innermost scope that reports it."""
        report_error(self, node, error)

    def begin_map(self, pipeline: str, count: int) -> None:
        """A map of ``pipeline`` over ``count`` items starts (``on_map_start``)."""
        self.started = time.perf_counter()
        self.emit("on_map_start", pipeline, count)

    def end_map(self, pipeline: str) -> None:
        """The map started by :meth:`begin_map` finished (``on_map_end``)."""
        self.emit("on_map_end", pipeline, time.perf_counter() - self.started)

    def begin_item(self) -> None:
        """This map item starts (``on_map_item_start``); call on the item's context."""
        self.started = time.perf_counter()
        self.emit("on_map_item_start", self.item_path[-1])

    def end_item(self) -> None:
        """This map item finished: ``on_map_item_cached`` first when every node of it
        was served from the cache, then ``on_map_item_end``."""
        if self.dispatch is None:
            return
        index = self.item_path[-1]
        if self.caching is not None and self.item_stats == [0]:
            self.emit("on_map_item_cached", index)
        self.emit("on_map_item_end", index, time.perf_counter() - self.started)

    def enter_nested(self, step: Step) -> RunContext:
        """Start the nested ``step`` (``on_node_start`` here, then
        ``on_nested_pipeline_start`` in the inner context) and return the inner context."""
        self.emit("on_node_start", step.name)
        inner = self.nested_step(step)
        inner.started = time.perf_counter()
        pipeline = step.node.pipeline  # type: ignore[union-attr]
        nodes = pipeline.plan(step.inner_outputs).node_names
        inner.emit("on_nested_pipeline_start", step.name, pipeline.name, nodes)
        return inner

    def exit_nested(self, step: Step, inner: RunContext) -> None:
        """Finish the nested ``step`` entered with :meth:`enter_nested`."""
        duration = time.perf_counter() - inner.started
        inner.emit("on_nested_pipeline_end", step.name, inner.path[-1], duration)
        self.emit("on_node_end", step.name, duration)

    # -- steps -----------------------------------------------------------------------

    def execute(
        self, step: Step, values: dict[str, Any], hashes: dict[str, str] | None = None
    ) -> str:
        """Run ``step`` on ``values`` and store its outputs in ``values``.

        Exactly what the built-in executors do for a step: the cache lookup
        (a hit stores the cached outputs and fires ``on_node_cached``), the call
        between ``on_node_start``/``on_node_end`` (an ``async def`` node is run
        to completion; a nested pipeline runs with its own backend and
        executor), the cache store, and on error ``on_error`` and notes naming
        the node and pipeline (and, on an item's context, the map item).
        ``hashes`` maps value names to their cache
        identity within one item; pass the same dict for every step of one
        item (or row) so outputs of cached nodes are not hashed again.

        Returns what happened: ``"computed"`` (the node ran), ``"cached"``
        (the cache served it), ``"skipped"`` (an input is an ``ItemError``,
        passed on) or ``"failed"`` (in a map that goes on past failures: its
        outputs now hold an ``ItemError``).
        """
        try:
            return execute(step, values, self, hashes if hashes is not None else {})
        except Exception as exc:
            self.note_error(exc, step, values)
            raise

    def note_error(self, exc: BaseException, step: Step, values: dict[str, Any]) -> None:
        """What the engine gives every exception ``step`` raises here: notes naming the
        node, the pipeline and (on an item's context) the map item, and the snapshot
        of the call (``error_snapshot``). For an executor that calls nodes itself."""
        step_failed(exc, step, values, self)
        if self.item_of is not None:
            note(exc, f"in map item {self.item_path[-1]} of pipeline {self.item_of!r}")

    async def execute_async(
        self, step: Step, values: dict[str, Any], hashes: dict[str, str] | None = None
    ) -> str:
        """:meth:`execute` for an ``async def`` node, awaited on the running loop."""
        try:
            return await execute_async(step, values, self, hashes if hashes is not None else {})
        except Exception as exc:
            self.note_error(exc, step, values)
            raise

    def policy(self, step: Step) -> tuple[Retries | None, float | None]:
        """The retries and timeout a call of ``step`` runs with here: the node's own
        (``@node(retries=..., timeout=...)``) where it sets them, else this run's."""
        return step_policy(step, self.config)

    def call_batch(
        self, step: Step, arguments: dict[str, Any], items: Sequence[RunContext] = ()
    ) -> Any:
        """Call ``step``'s batch implementation (``@node.batch``) on ``arguments`` (a list
        per input that varies across the items, the single value of each shared one), as
        the built-in executors do: under the step's retries and timeout (a retry event
        reaches every context in ``items``), an ``async def`` run to completion, and the
        result checked to hold one value per item (a tuple of lists for several outputs).
        Returns the result; raises what the call raised (``OutputCountError`` for a result
        of the wrong shape)."""
        from ._batch import call_batch

        return call_batch(step, arguments, list(items) or [self])

    def fail_item(self, exc: Exception, step: Step, values: dict[str, Any]) -> Any:
        """In a map that goes on past failures: record ``exc``, raised by ``step`` on this
        item, as an ``ItemError`` in each of the step's outputs (with the engine's notes
        and the call's snapshot), and return it. Nothing is cached."""
        return fail_item(exc, step, values, self, {})

    def cache_lookup(
        self, step: Step, values: dict[str, Any], hashes: dict[str, str] | None = None
    ) -> tuple[bool, str | None]:
        """Serve ``step`` from the cache if it can: ``(hit, key)``.

        On a hit the outputs are stored in ``values`` and ``on_node_cached``
        fires. ``key`` is ``None`` when the call is not to be cached (no cache,
        a nested step, ``cache=False``, an input that cannot be keyed).
        """
        return lookup(step, values, self, hashes if hashes is not None else {})

    def cache_store(
        self,
        step: Step,
        values: dict[str, Any],
        key: str | None,
        hashes: dict[str, str] | None = None,
    ) -> None:
        """After computing ``step`` into ``values``: store it under ``key`` (from
        :meth:`cache_lookup`; ``None`` stores nothing) and count the call."""
        remember(step, values, self, hashes if hashes is not None else {}, key)

    def flush(self) -> None:
        """Write what the caches of this run buffered (a run does it when it ends)."""
        if self.caching is not None:
            self.caching.flush()

    # -- running elsewhere -----------------------------------------------------------

    def detach(self) -> DetachedContext:
        """This context reduced to what can travel: configuration (caches and
        callbacks as descriptions), path and item path. See :class:`DetachedContext`."""
        return DetachedContext(
            self.config, self.path, self.item_path, self.in_worker, self.continuing
        )

    def replay(self, events: Iterable[Event], error: BaseException | None = None) -> None:
        """Deliver events recorded by a detached context to the callbacks they belong to.

        ``error`` is the exception that ended the detached work; a recorded
        ``on_error`` receives it. Here too, a run that is itself recorded
        passes the events on unchanged.
        """
        state = self._state()
        if state.events is not None:
            state.events.extend(events)
            return
        dispatch = self.dispatch
        if isinstance(dispatch, Dispatcher):  # events of this scope's set: its own dispatcher
            tokens = tuple(token_of(c) for c in dispatch.callbacks)
            state.dispatchers.setdefault(tokens, dispatch)
        replay(events, state.shared, state.dispatchers, error)

    def __repr__(self) -> str:
        return f"RunContext(path={self.path!r}, item_path={self.item_path!r})"


class DetachedContext:
    """A run context that can travel: what a run elsewhere needs to continue this one.

    Holds the effective configuration (a cache travels as its configuration
    and opens on first use where it lands; callbacks travel as stand-ins that
    name the caller's callbacks), the path of enclosing pipelines and the item
    path. :meth:`attach` makes a :class:`RunContext` that records every event
    for :meth:`RunContext.replay` in the caller::

        detached = ctx.detach()                   # in the caller
        ...                                       # ship it (hypernodes.engine.Job does)
        far = detached.attach()                   # where it lands
        outputs = LocalBackend().run(pipeline, inputs, executor, far)
        far.flush()
        events = far.recorded                     # ship back, then:
        ctx.replay(events)                        # in the caller
    """

    __slots__ = ("config", "continuing", "in_worker", "item_path", "path")

    def __init__(
        self,
        config: Config,
        path: tuple[str, ...],
        item_path: tuple[int, ...] = (),
        in_worker: bool = False,
        continuing: bool = False,
    ) -> None:
        self.config = config
        self.path = path
        self.item_path = item_path
        self.in_worker = in_worker
        self.continuing = continuing

    def attach(self) -> RunContext:
        """A context that continues the run here, recording its events.

        The backend that brought the work here is not inherited: pipelines
        nested in it run here too, unless they set a backend of their own.
        """
        state = RunState(events=[])
        config = self.config
        if config.backend is not None:  # it brought the work here: here, nothing ships it on
            config = config.layered(None, UNSET, UNSET, UNSET)
        ctx = RunContext(
            config,
            _dispatcher(config.callbacks, None, state),
            self.path,
            state,
            item_path=self.item_path,
            in_worker=self.in_worker,
        )
        ctx.continuing = self.continuing
        return ctx

    def __reduce__(self) -> tuple[Any, ...]:
        config = self.config
        if config.callbacks:  # callbacks never travel: stand-ins name them (any pickler)
            stand_ins = tuple(StandIn(token_of(c)) for c in config.callbacks)
            config = config.layered(UNSET, UNSET, UNSET, stand_ins)
        args = (config, self.path, self.item_path, self.in_worker, self.continuing)
        return (DetachedContext, args)

    def __repr__(self) -> str:
        return f"DetachedContext(path={self.path!r}, item_path={self.item_path!r})"


def _dispatcher(
    callbacks: tuple[PipelineCallback, ...],
    parent: Dispatcher | Recorder | None,
    state: RunState,
) -> Dispatcher | Recorder | None:
    """The dispatcher of a scope whose effective callbacks are ``callbacks``."""
    if parent is not None:
        return parent.child(callbacks)
    if not callbacks:
        return None
    if state.events is not None or isinstance(callbacks[0], StandIn):
        events = state.events if state.events is not None else []
        return Recorder(tuple(token_of(c) for c in callbacks), events)
    return Dispatcher(callbacks)
