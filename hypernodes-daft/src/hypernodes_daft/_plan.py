"""One run or map: build the Daft plan, collect it once, replay, return the outputs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypernodes import ItemError

from ._replay import has_payload, replay_row
from ._run import Run
from ._tasks import Path
from ._translate import Builder, Place, Scope

if TYPE_CHECKING:
    from hypernodes.engine import MapItems, Plan, RunContext

    from ._executor import DaftExecutor

__all__ = ["execute"]

ROW = "__row__"


def execute(
    executor: DaftExecutor,
    plan: Plan,
    ctx: RunContext,
    shared: dict[str, Any],
    items: MapItems | None,
) -> dict[str, list[Any]]:
    """The outputs of ``plan`` for each row: the items of a map, or one row for a run."""
    import daft
    from daft import Series

    runner = executor.start()
    # use_process on the native runner: the plan on Daft's threads, synchronous nodes in
    # worker processes kept between runs (see _workers), never Daft's per-query processes.
    pooled = runner == "native" and bool(executor.use_process)
    local = runner == "native" and not pooled
    run = Run(ctx.detach(), local=local, max_concurrency=executor.max_concurrency)
    if pooled:
        from ._workers import pool, stop_path

        try:
            pool()  # started, or refused with a reason, before Daft starts
        except RuntimeError as exc:
            exc.add_note(
                "hypernodes: DaftExecutor(use_process=True) runs synchronous nodes in a process "
                "pool; without use_process they run on Daft's threads in this process."
            )
            raise
        run.stop_path = stop_path(run.token)
    handle = run.handle()
    rows = len(items) if items is not None else 1
    data: dict[str, Any] = {ROW: Series.from_pylist(list(range(rows)), ROW, daft.DataType.int64())}
    values: dict[str, Place] = {}
    for name, value in shared.items():
        run.consts.append(value)
        values[name] = ("const", len(run.consts) - 1)
    if items is not None:
        columns: list[list[bytes]] = [[] for _ in items.names]
        for row in items.rows():
            for column, value in zip(columns, row, strict=True):
                column.append(run.encode(value))
        for k, (name, column) in enumerate(zip(items.names, columns, strict=True)):
            values[name] = ("col", f"i{k}")
            data[f"i{k}"] = Series.from_pylist(column, f"i{k}", dtype=daft.DataType.binary())
    batch_rows = executor.batch_rows(rows)
    options = executor.udf_options()
    if runner == "native":
        options["use_process"] = False  # the UDFs reach this run through this process
    builder = Builder(
        daft.from_pydict(data),
        run,
        handle,
        inlines=_inlines,
        udf_options=options,
        batch_rows=batch_rows,
        pooled=pooled,
    )
    mapped = {place[1] for place in values.values() if place[0] == "col"}
    scope = Scope(
        Path(items is not None),
        [ROW],
        values,
        ctx,
        items=items is not None,
        continuing=ctx.continuing,
        varying=mapped,
    )
    builder.steps(plan, scope)
    try:
        run.publish(handle)
    except Exception as exc:
        raise _unpicklable(exc, plan, shared, "use_process=True" if pooled else "Ray") from exc
    completed = False
    try:
        collected = builder.df.to_pydict()
        completed = True
        order = sorted(range(rows), key=collected[ROW].__getitem__)
        _report(scope, ctx, collected, order, run, items is not None)
        outputs = {}
        for name in plan.outputs:
            column = collected[scope.values[name][1]]
            outputs[name] = [run.decode(column[r]) for r in order]
        if ctx.continuing:
            _share_item_errors(outputs)
        return outputs
    finally:
        if pooled and not completed:  # Ctrl-C, or Daft failed: free the workers
            from ._workers import stop

            stop(run.token, run.stop_path)
        run.release()


def _unpicklable(exc: Exception, plan: Plan, shared: dict[str, Any], where: str) -> TypeError:
    """The run could not be packed for the UDFs' processes: say which shared input, or
    which value a node holds, cannot be pickled, and what to do."""
    from hypernodes.engine import find_unpicklable

    found = find_unpicklable((shared, [step.node for step in plan.steps]), by_value=True)
    if found is not None and found[0]:
        label, value = found
        msg = (
            f"The {label} ({type(value).__name__}) cannot be pickled, and with {where} "
            "every node call runs in another process, which receives the run's shared "
            "inputs and the pipeline's functions pickled. Pass a picklable value, make it a "
            "@stateful resource (built where it is used), or run without use_process on "
            "Daft's native runner."
        )
    else:
        msg = (
            f"The pipeline cannot be pickled ({type(exc).__name__}: {exc}), and with {where} "
            "every node call runs in another process, which receives the pipeline's "
            "functions and configuration pickled. Keep unpicklable objects (locks, open "
            "clients) out of nodes, build them in a @stateful resource, or run without "
            "use_process on Daft's native runner."
        )
    return TypeError(msg)


def _share_item_errors(outputs: dict[str, list[Any]]) -> None:
    """One ItemError object per failure, in every output it fills, as the engine gives it
    (``MapResult.errors`` lists each failure once); cells that travelled between
    processes come back as copies."""
    seen: dict[tuple[Any, ...], ItemError] = {}
    for column in outputs.values():
        for position, value in enumerate(column):
            if isinstance(value, ItemError):
                column[position] = seen.setdefault(value.__cache_key__(), value)


def _inlines(inner: RunContext) -> bool:
    """Whether a nested pipeline runs inside this plan: its executor is Daft too."""
    from ._executor import DaftBackend, DaftExecutor

    config = inner.config
    backend = config.backend
    return isinstance(config.executor, DaftExecutor) and (
        backend is None or isinstance(backend, DaftBackend)
    )


def _report(
    scope: Scope,
    ctx: RunContext,
    collected: dict[str, list[Any]],
    order: list[int],
    run: Run,
    items: bool,
) -> None:
    """Replay events and raise the first failure, row by row in item order (when any
    callback listens, or any cell recorded something)."""
    metas = [column for name, column in collected.items() if name.startswith("m")]
    if not ctx.observed and not any(has_payload(c) for column in metas for c in column):
        return
    names = list(collected)
    for r in order:
        row = {name: collected[name][r] for name in names}
        if not items:
            replay_row(scope, ctx, row, run)
            continue
        index = collected[ROW][r]
        item = ctx.item(index)
        item.begin_item()
        replay_row(scope, item, row, run)
        item.end_item()
