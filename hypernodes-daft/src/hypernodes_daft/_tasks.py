"""The bodies of the Daft UDFs: one node over a batch of rows, and a nested map's
expansion and reassembly.

Every UDF is a Daft batch UDF whose inputs are the key columns of its scope
(which row, which item of each enclosing nested map) and the cells it reads,
and whose output is a struct of binary (or list-of-binary) fields, unnested
into columns. A node's UDF also writes a *meta* cell per row, left null on
the hot path and otherwise holding ``(done, events, error, hashes)``:

- ``done``: what ``RunContext.execute`` said happened (``"computed"``,
  ``"cached"``, ``"skipped"``, ``"failed"``: the outputs hold an
  ``ItemError`` in a map that goes on past failures), ``""`` when the call
  did not complete;
- ``events``: what the callbacks of that call would have received, recorded;
- ``error``: the exception that stops the run (see :meth:`Run.failure`);
- ``hashes``: the cache identity of its outputs, for the nodes downstream.

A row whose key or input is null (an empty nested map's placeholder row, or
a row an error stopped upstream) is skipped: user code never sees it.
"""

from __future__ import annotations

import pickle
from typing import TYPE_CHECKING, Any

from hypernodes import ItemError
from hypernodes.engine import MapItems

from ._guard import run_async

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hypernodes.engine import RunContext, Step

    from ._run import Run

__all__ = ["AssembleTask", "ExpandTask", "NodeTask", "Path", "Task", "continues", "meta"]

#: A source of a value in a scope: ``("col", input position)`` or ``("const", index)``.
Source = tuple[str, int]


class Path:
    """How to reach the context of a row from the run's root context.

    ``items``: the top-level rows are map items; ``levels``: the nested steps
    inlined on the way, each with whether it maps (then one more key picks
    the item).
    """

    __slots__ = ("items", "levels")

    def __init__(self, items: bool, levels: tuple[tuple[Step, bool], ...] = ()) -> None:
        self.items = items
        self.levels = levels

    def nested(self, step: Step, maps: bool) -> Path:
        return Path(self.items, (*self.levels, (step, maps)))

    def context(self, root: RunContext, key: Sequence[int]) -> RunContext:
        """The context of the row ``key`` (no event is emitted)."""
        ctx = root.item(key[0]) if self.items else root
        position = 1
        for step, maps in self.levels:
            ctx = ctx.nested_step(step)
            if maps:
                ctx.continuing = continues(step)  # as the nested map's own run would set it
                ctx = ctx.item(key[position])
                position += 1
        return ctx


def continues(step: Step) -> bool:
    """Whether the items of the nested map ``step`` go on past failures (``on_error``)."""
    return getattr(step.node, "on_error", "raise") == "continue"


class Task:
    """One UDF: ``keys`` key columns then ``inputs`` columns in, one batch at a time."""

    name: str
    keys: int

    def __call__(self, run: Run, columns: list[list[Any]]) -> list[list[Any]]:
        raise NotImplementedError

    def ready(self, columns: list[list[Any]], needed: Sequence[int]) -> list[int]:
        """The rows whose keys and ``needed`` cells are all present."""
        checked = [columns[i] for i in range(self.keys)] + [columns[i] for i in needed]
        n = len(columns[0])
        return [r for r in range(n) if all(c[r] is not None for c in checked)]


def meta(done: str, events: Any, error: Any, hashes: Any) -> bytes:
    """A meta cell: see the module docstring."""
    return pickle.dumps((done, events or None, error, hashes or None), 5)


class NodeTask(Task):
    """One node over a batch of rows.

    ``sources`` gives, per parameter of the step, where its value is: a column
    of this UDF, a captured constant, or nowhere (an optional input left out:
    the node's default is used). ``hash_columns`` are the meta columns of the
    nodes upstream in the same scope, read only when caching. ``simple``: no
    call needs a context (the hot path; in a map that goes on past failures,
    ``continuing``, a context is made for a call that fails).
    """

    def __init__(
        self,
        step: Step,
        path: Path,
        keys: int,
        sources: list[Source | None],
        hash_columns: list[int],
        simple: bool,
        continuing: bool,
    ) -> None:
        self.step = step
        self.name = step.name
        self.path = path
        self.keys = keys
        self.sources = sources
        self.hash_columns = hash_columns
        self.simple = simple  # no context needed: called like the sequential hot loop
        self.continuing = continuing

    def __call__(self, run: Run, columns: list[list[Any]]) -> list[list[Any]]:
        n = len(columns[0])
        outputs: list[list[Any]] = [[None] * n for _ in self.step.outputs]
        metas: list[Any] = [None] * n
        needed = [s[1] for s in self.sources if s is not None and s[0] == "col"]
        rows = self.ready(columns, needed)
        if self.step.is_async:
            run_async(self._run_async(run, columns, rows, outputs, metas))
        elif self.simple:
            self._run_plain(run, columns, rows, outputs[0], metas)
        else:
            base = self._base(run, columns, rows)
            for r in run.until_stopped(rows):
                self._run_row(run, columns, r, outputs, metas, base)
        return [*outputs, metas]

    def lost(self, run: Run, columns: list[list[Any]], exc: BaseException) -> list[list[Any]]:
        """The columns of a batch that produced nothing, ``exc`` raised in this process
        (its worker process died; or a call raised ``KeyboardInterrupt`` or
        ``SystemExit``, which must stop the run rather than Daft's thread): each row it
        would have computed fails with ``exc``, or, for a lost worker in a map that goes
        on past failures, holds an ItemError made of it (as a process pool's lost items
        do)."""
        n = len(columns[0])
        outputs: list[list[Any]] = [[None] * n for _ in self.step.outputs]
        metas: list[Any] = [None] * n
        needed = [s[1] for s in self.sources if s is not None and s[0] == "col"]
        stops = not self.continuing or not isinstance(exc, Exception)
        for r in self.ready(columns, needed):
            if stops:
                metas[r] = meta("", None, run.failure(exc, here=True), None)
                continue
            key = [columns[i][r] for i in range(self.keys)]
            ctx = self.path.context(run.detached.attach(), key)
            cell = run.encode(ItemError.of(exc, self.step, ctx.path, ctx.item_path))
            for column in outputs:
                column[r] = cell
        return [*outputs, metas]

    # -- the hot path: a plain call per row ------------------------------------------

    def _arguments(self, run: Run) -> tuple[list[Any], list[tuple[int, int]]]:
        """The argument list with constants and defaults in place, and the slots to fill."""
        template: list[Any] = []
        slots: list[tuple[int, int]] = []
        defaults = self.step.defaults
        pairs = zip(self.step.params, self.sources, strict=True)
        for position, (param, source) in enumerate(pairs):
            if source is None:
                template.append(defaults[param])
            elif source[0] == "const":
                template.append(run.consts[source[1]])
            else:
                template.append(None)
                slots.append((position, source[1]))
        return template, slots

    def _run_plain(
        self, run: Run, columns: list[list[Any]], rows: list[int], out: list[Any], metas: list[Any]
    ) -> None:
        template, slots = self._arguments(run)
        func, decode, encode = self.step.func, run.decode, run.encode
        filled = [(position, columns[index]) for position, index in slots]
        continuing = self.continuing
        for r in run.until_stopped(rows):
            args = template.copy()
            for position, column in filled:
                args[position] = decode(column[r])
            if continuing and self._passes_on(args, out, r, run):
                continue
            try:
                out[r] = encode(func(*args))
            except Exception as exc:
                if continuing:
                    out[r] = encode(self._went_on(run, columns, r, args, exc))
                else:
                    metas[r] = self._failed(run, columns, r, args, exc)

    async def _run_async(
        self,
        run: Run,
        columns: list[list[Any]],
        rows: list[int],
        outputs: list[list[Any]],
        metas: list[Any],
    ) -> None:
        import asyncio

        limit = asyncio.Semaphore(run.max_concurrency)
        if self.simple:
            template, slots = self._arguments(run)
            func, decode, encode = self.step.func, run.decode, run.encode
            out = outputs[0]

            async def plain(r: int) -> None:
                args = template.copy()
                for position, index in slots:
                    args[position] = decode(columns[index][r])
                if self.continuing and self._passes_on(args, out, r, run):
                    return
                async with limit:
                    try:
                        out[r] = encode(await func(*args))
                    except Exception as exc:
                        if self.continuing:
                            out[r] = encode(self._went_on(run, columns, r, args, exc))
                        else:
                            metas[r] = self._failed(run, columns, r, args, exc)

            await asyncio.gather(*(plain(r) for r in rows))
            return

        base = self._base(run, columns, rows)

        async def observed(r: int) -> None:
            async with limit:
                await self._run_row_async(run, columns, r, outputs, metas, base)

        await asyncio.gather(*(observed(r) for r in rows))

    @staticmethod
    def _passes_on(args: list[Any], out: list[Any], r: int, run: Run) -> bool:
        """In a map that goes on past failures, a call given an ItemError is skipped and
        passes it on (as ``RunContext.execute`` does)."""
        for value in args:
            if isinstance(value, ItemError):
                out[r] = run.encode(value)
                return True
        return False

    def _went_on(
        self, run: Run, columns: list[list[Any]], r: int, args: list[Any], exc: Exception
    ) -> ItemError:
        """The ItemError of a plain call that raised in a map going on past failures, made
        as ``RunContext.execute`` makes it: the exception gets the notes naming the node
        and pipeline and the call's snapshot; the ItemError names the item."""
        ctx = self.path.context(run.detached.attach(), [columns[i][r] for i in range(self.keys)])
        ctx.item_of = None  # the engine adds no "in map item" note to an item that went on
        ctx.note_error(exc, self.step, dict(zip(self.step.params, args, strict=True)))
        return ItemError.of(exc, self.step, ctx.path, ctx.item_path)

    def _failed(
        self, run: Run, columns: list[list[Any]], r: int, args: list[Any], exc: Exception
    ) -> bytes:
        """The meta cell of a plain call that raised ``exc``, given the engine's notes and
        snapshot in the row's context (made only now)."""
        ctx = self.path.context(run.detached.attach(), [columns[i][r] for i in range(self.keys)])
        ctx.note_error(exc, self.step, dict(zip(self.step.params, args, strict=True)))
        return meta("", None, run.failure(exc), None)

    # -- with a context: cache, callbacks, several outputs, nested pipelines -----------

    def _base(self, run: Run, columns: list[list[Any]], rows: list[int]) -> RunContext | None:
        """One attached context for every row of this batch when no callback observes
        them (nothing is recorded, so nothing can mix): a function node's rows then cost
        an item context each, not a whole attached run. ``None``: each row attaches."""
        if self.step.nested or not rows:  # a nested run may record its own callbacks' events
            return None
        root = run.detached.attach()
        first = self.path.context(root, [columns[i][rows[0]] for i in range(self.keys)])
        return None if first.observed else root

    def _prepare(
        self, run: Run, columns: list[list[Any]], r: int, base: RunContext | None = None
    ) -> tuple[RunContext, dict[str, Any], dict[str, str]]:
        key = [columns[i][r] for i in range(self.keys)]
        ctx = self.path.context(base if base is not None else run.detached.attach(), key)
        values = self._values(run, columns, r)
        hashes: dict[str, str] = {}
        for index in self.hash_columns:
            cell = columns[index][r]
            if cell is not None:
                known = pickle.loads(cell)[3]
                if known:
                    hashes.update(known)
        return ctx, values, hashes

    def _values(self, run: Run, columns: list[list[Any]], r: int) -> dict[str, Any]:
        """The row's input values by name (an optional input left out is absent)."""
        values: dict[str, Any] = {}
        for param, source in zip(self.step.params, self.sources, strict=True):
            if source is None:
                continue
            kind, index = source
            values[param] = run.consts[index] if kind == "const" else run.decode(columns[index][r])
        return values

    def _finish(
        self,
        run: Run,
        ctx: RunContext,
        values: dict[str, Any],
        hashes: dict[str, str],
        error: BaseException | None,
        done: str,
        r: int,
        outputs: list[list[Any]],
        metas: list[Any],
    ) -> None:
        names = self.step.outputs
        if error is None:
            try:
                for column, name in zip(outputs, names, strict=True):
                    column[r] = run.encode(values[name])
            except Exception as exc:
                ctx.note_error(exc, self.step, values)
                error = exc
        if error is None and ctx.caching is None and not ctx.recorded:
            return  # nothing to report: no events, no cache identity, no failure
        ctx.flush()
        own = {name: hashes[name] for name in names if name in hashes}
        failure = run.failure(error) if error is not None else None
        metas[r] = meta(done, ctx.recorded, failure, own)

    def _run_row(
        self,
        run: Run,
        columns: list[list[Any]],
        r: int,
        outputs: list[list[Any]],
        metas: list[Any],
        base: RunContext | None,
    ) -> None:
        ctx, values, hashes = self._prepare(run, columns, r, base)
        error = None
        done = ""
        try:
            done = ctx.execute(self.step, values, hashes)
        except Exception as exc:
            error = exc
        self._finish(run, ctx, values, hashes, error, done, r, outputs, metas)

    async def _run_row_async(
        self,
        run: Run,
        columns: list[list[Any]],
        r: int,
        outputs: list[list[Any]],
        metas: list[Any],
        base: RunContext | None,
    ) -> None:
        ctx, values, hashes = self._prepare(run, columns, r, base)
        error = None
        done = ""
        try:
            done = await ctx.execute_async(self.step, values, hashes)
        except Exception as exc:
            error = exc
        self._finish(run, ctx, values, hashes, error, done, r, outputs, metas)


class ExpandTask(Task):
    """A nested step's ``map_over``: validate the row's lists as ``map`` does and give,
    per mapped input, the list of item values (zip or product), the list of item
    indices (exploded with them: the item index of each row), and the count."""

    def __init__(
        self, step: Step, keys: int, sources: list[Source], names: tuple[str, ...]
    ) -> None:
        self.step = step
        self.name = f"{step.name}[expand]"
        self.keys = keys
        self.sources = sources  # one per outer mapped name, in ``names`` order
        self.names = names

    def __call__(self, run: Run, columns: list[list[Any]]) -> list[list[Any]]:
        n = len(columns[0])
        lists: list[list[Any]] = [[None] * n for _ in self.names]
        indices: list[Any] = [None] * n
        counts: list[Any] = [None] * n
        metas: list[Any] = [None] * n
        rows = self.ready(columns, [s[1] for s in self.sources if s[0] == "col"])
        where = f"Node {self.step.name!r}"
        mode = self.step.map_mode
        for r in rows:
            values = {
                name: run.consts[i] if kind == "const" else run.decode(columns[i][r])
                for name, (kind, i) in zip(self.names, self.sources, strict=True)
            }
            try:
                items = MapItems(values, self.names, mode, where=where)
                expanded = list(items.rows())
                for k, column in enumerate(lists):
                    column[r] = [run.encode(row[k]) for row in expanded]
                indices[r] = list(range(len(expanded)))
                counts[r] = pickle.dumps(len(expanded), 5)
            except Exception as exc:
                for column in lists:
                    column[r] = None
                metas[r] = meta("", None, run.failure(exc), None)
        return [*lists, indices, counts, metas]


class AssembleTask(Task):
    """After a nested map's regroup: each inner output's list, in item order.

    Input columns: the row's item count, the item indices and one list of
    cells per output, in whatever order the regroup left them. A row with no
    items gives empty lists; a row with a failed item gives nothing (null).
    """

    def __init__(self, step: Step, keys: int, outputs: int) -> None:
        self.step = step
        self.name = f"{step.name}[assemble]"
        self.keys = keys
        self.outputs = outputs

    def __call__(self, run: Run, columns: list[list[Any]]) -> list[list[Any]]:
        n = len(columns[0])
        result: list[list[Any]] = [[None] * n for _ in range(self.outputs)]
        counts, indices = columns[self.keys], columns[self.keys + 1]
        cells = columns[self.keys + 2 :]
        for r in self.ready(columns, [self.keys]):
            count = pickle.loads(counts[r])
            if count == 0:
                for column in result:
                    column[r] = run.encode([])
                continue
            found = indices[r]
            order = sorted(range(len(found)), key=found.__getitem__)
            for column, source in zip(result, cells, strict=True):
                ordered = [source[r][p] for p in order]
                if any(c is None for c in ordered):
                    break  # an item failed: the row stops here (its error is reported)
                column[r] = run.encode([run.decode(c) for c in ordered])
        return result
