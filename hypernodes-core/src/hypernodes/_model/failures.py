"""Failures as data: what failed where, kept to inspect, rerun, or map past.

- :class:`ErrorSnapshot`: the call a node failed in (its function and the
  values it was given), attached to every exception a node raises, on every
  executor; :func:`error_snapshot` finds it, :meth:`ErrorSnapshot.reproduce`
  calls the function again here.
- :class:`ItemError`: the value ``map(..., on_error="continue")`` puts in each
  output of an item that a failure prevented; it holds the failure (node,
  item, exception, inputs) and its snapshot.
- :class:`MapResult`: what ``map`` returns, a dict of output lists that also
  tells which items failed.
"""

from __future__ import annotations

import traceback
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from .plan import Step

__all__ = ["ON_ERROR", "ErrorSnapshot", "ItemError", "MapResult", "error_snapshot"]

#: What a map does when an item's node raises: stop and raise, or record and go on.
ON_ERROR = ("raise", "continue")

_SNAPSHOT = "__hypernodes_snapshot__"


def safe_str(error: BaseException | None) -> str:
    """``str(error)``, or a description when its ``__str__`` itself raises."""
    try:
        return str(error)
    except Exception as exc:
        return f"<{type(error).__name__} whose str() raised {type(exc).__name__}: {exc}>"


def check_on_error(on_error: str, where: str) -> None:
    """Refuse an ``on_error`` that is neither ``"raise"`` nor ``"continue"``."""
    if on_error not in ON_ERROR:
        from ..errors import MapInputError

        msg = (
            f"{where}: on_error must be 'raise' (stop at the first failed item) or "
            f"'continue' (run every item, failures become ItemError values), got {on_error!r}."
        )
        raise MapInputError(msg)


class ErrorSnapshot:
    """The call a node failed in: enough to look at it and to make it again.

    - ``node``: the node's name; ``pipeline``: the enclosing pipeline names,
      outermost first; ``item_path``: the enclosing map items' indices;
    - ``function``: what was called (the node, callable as its function; a
      batch implementation for a failed batch); ``inputs``: the values of its
      parameters in that call (a node default where an input was left out;
      lists for a batch).

    It pickles (to inspect a failure from a process pool or a container) when
    its values do; a snapshot whose inputs cannot be pickled travels without
    them (``inputs`` is ``None``, and :meth:`reproduce` says so).
    """

    __slots__ = ("function", "inputs", "item_path", "node", "pipeline")

    def __init__(
        self,
        node: str,
        function: Callable[..., Any],
        inputs: dict[str, Any] | None,
        pipeline: tuple[str, ...] = (),
        item_path: tuple[int, ...] = (),
    ) -> None:
        self.node = node
        self.function = function
        self.inputs = inputs
        self.pipeline = pipeline
        self.item_path = item_path

    def reproduce(self, function: Callable[..., Any] | None = None) -> Any:
        """Call the function again on the same inputs, here, and return what it returns.

        ``function`` calls another function instead (a fixed version of the
        node, or the node itself after editing it) on those inputs. An
        ``async def`` function is run to completion.
        """
        if self.inputs is None:
            msg = (
                f"The snapshot of node {self.node!r} has no inputs: they could not be pickled "
                "where the node failed, so the call cannot be made again here."
            )
            raise RuntimeError(msg)
        call = function if function is not None else self.function
        if call is None:
            msg = (
                f"The snapshot of node {self.node!r} has no function: it could not be "
                "pickled where the node failed. Pass one: reproduce(function)."
            )
            raise RuntimeError(msg)
        call = getattr(call, "func", call)  # a Node: its plain function
        result = call(**self.inputs)
        if hasattr(result, "__await__") and hasattr(result, "send"):
            from ..engine._loop import run_coroutine

            result = run_coroutine(result)
        return result

    def __reduce__(self) -> tuple[Any, ...]:
        inputs = self.inputs
        if inputs is not None:
            from ..engine._pack import pack

            try:
                pack(inputs)
            except Exception:
                inputs = None  # the snapshot travels; its values could not
        fields = (self.node, _portable(self.function), inputs, self.pipeline, self.item_path)
        return (_arrived_snapshot, fields)

    def __repr__(self) -> str:
        where = f", item_path={self.item_path!r}" if self.item_path else ""
        return f"ErrorSnapshot(node={self.node!r}{where})"


def _portable(function: Any) -> Any:
    """The snapshot's function as it can travel with any pickler: itself when it pickles
    by reference, else its cloudpickle bytes (a node defined in a script or a notebook,
    which the standard pickle cannot find by name), else ``None``."""
    import pickle

    try:
        pickle.dumps(function)
    except Exception:
        pass
    else:
        return function
    try:
        import cloudpickle

        return cloudpickle.dumps(function)
    except Exception:
        return None


def _arrived_snapshot(
    node: str,
    function: Any,
    inputs: dict[str, Any] | None,
    pipeline: tuple[str, ...],
    item_path: tuple[int, ...],
) -> ErrorSnapshot:
    if isinstance(function, bytes):
        import cloudpickle

        try:
            function = cloudpickle.loads(function)
        except Exception:  # it cannot be rebuilt here: reproduce() needs a function given
            function = None
    return ErrorSnapshot(node, function, inputs, pipeline, item_path)


def snapshot_call(
    exc: BaseException,
    step: Step,
    values: dict[str, Any],
    path: tuple[str, ...],
    items: tuple[int, ...],
) -> None:
    """Attach the snapshot of ``step``'s call to ``exc`` (the innermost call wins)."""
    if step.nested or getattr(exc, _SNAPSHOT, None) is not None:
        return
    defaults = step.defaults
    inputs = {p: values[p] if p in values else defaults[p] for p in step.params}
    function: Any = step.node  # the node: it pickles by reference when importable
    try:
        setattr(exc, _SNAPSHOT, ErrorSnapshot(step.name, function, inputs, path, items))
    except Exception:  # pragma: no cover - exception types without a __dict__
        pass


def locate_snapshot(exc: BaseException, map_path: tuple[int, ...], index: int) -> None:
    """Give the snapshot of a call made in a map's own context the index of its item."""
    snapshot = getattr(exc, _SNAPSHOT, None)
    if isinstance(snapshot, ErrorSnapshot) and snapshot.item_path == map_path:
        snapshot.item_path = (*map_path, index)


def error_snapshot(error: BaseException | ItemError) -> ErrorSnapshot | None:
    """The snapshot of the node call that raised ``error`` (an exception or an
    :class:`ItemError`), or ``None`` for an exception no node raised::

        try:
            pipeline.run(inputs)
        except Exception as exc:
            snapshot = error_snapshot(exc)
            snapshot.inputs          # what the node was given
            snapshot.reproduce()     # call it again here, under a debugger if you like
    """
    if isinstance(error, ItemError):
        return error.snapshot
    found = getattr(error, _SNAPSHOT, None)
    return found if isinstance(found, ErrorSnapshot) else None


class ItemError:
    """An item's failure, in place of each output the failure prevented.

    ``map(..., on_error="continue")`` runs every item; when a node of an item
    raises, each output of that node, and of every node downstream of it in
    that item, holds the same ``ItemError``. Outputs that do not depend on the
    failure are computed as usual.

    - ``node``: the node that raised; ``pipeline``: the enclosing pipeline names;
    - ``index``: the item's index in the map; ``item_path``: every enclosing
      map item's index, outermost first (a failure in a nested map);
    - ``error``: the exception (with its notes and traceback);
      ``error_type``, ``message``, ``traceback``: the same as text, which
      survive even where the exception could not travel;
    - ``inputs``: the values the failed call was given; ``snapshot``: its
      :class:`ErrorSnapshot` (``snapshot.reproduce()`` calls it again).

    An ``ItemError`` is never cached, and a node that receives one as an
    input is skipped for that item. It is falsy, so ``[v for v in out if v]``
    keeps the successes of an output whose values are truthy.
    """

    __slots__ = (
        "error",
        "error_type",
        "item_path",
        "message",
        "node",
        "pipeline",
        "snapshot",
        "traceback",
    )

    def __init__(
        self,
        node: str,
        error: BaseException | None,
        *,
        item_path: tuple[int, ...] = (),
        pipeline: tuple[str, ...] = (),
        snapshot: ErrorSnapshot | None = None,
        error_type: str | None = None,
        message: str | None = None,
        traceback_text: str | None = None,
    ) -> None:
        self.node = node
        self.error = error
        self.item_path = item_path
        self.pipeline = pipeline
        self.snapshot = snapshot
        kind = type(error)
        self.error_type = error_type or f"{kind.__module__}.{kind.__qualname__}"
        self.message = message if message is not None else safe_str(error)
        self.traceback = (
            traceback_text
            if traceback_text is not None
            else "".join(traceback.format_exception(error))
            if error is not None
            else ""
        )

    @classmethod
    def of(
        cls, exc: BaseException, step: Step, path: tuple[str, ...], items: tuple[int, ...]
    ) -> ItemError:
        """The ItemError of ``exc``, raised in ``step`` (or in a node nested in it) in
        the item at ``items``; ``node`` names the node that raised."""
        snapshot = error_snapshot(exc)
        if snapshot is not None:  # the node that raised, where it is
            return cls(
                snapshot.node, exc, item_path=items, pipeline=snapshot.pipeline, snapshot=snapshot
            )
        return cls(step.name, exc, item_path=items, pipeline=path, snapshot=snapshot)

    @property
    def index(self) -> int | None:
        """The item's index in the map (``None`` outside any map)."""
        return self.item_path[-1] if self.item_path else None

    @property
    def inputs(self) -> dict[str, Any] | None:
        """The values the failed call was given (``None`` if they could not travel)."""
        return self.snapshot.inputs if self.snapshot is not None else None

    def raise_(self) -> None:
        """Raise the exception again (or a RuntimeError describing it, if it is gone)."""
        if self.error is not None:
            raise self.error
        msg = f"{self.error_type}: {self.message} (in node {self.node!r}, item {self.index})"
        raise RuntimeError(msg)

    def __bool__(self) -> bool:
        return False

    def __cache_key__(self) -> tuple[Any, ...]:
        """A node given ItemErrors as data (a nested map's list) caches on what failed."""
        return (
            "ItemError",
            self.node,
            self.pipeline,
            self.item_path,
            self.error_type,
            self.message,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        from ..engine._pack import pack_error

        # The exception travels as bytes that rebuild it even when its constructor does
        # not match its args; when it cannot travel at all, the text fields remain.
        data = pack_error(self.error)[0] if self.error is not None else None
        fields = (self.item_path, self.pipeline, self.snapshot)
        text = (self.error_type, self.message, self.traceback)
        return (_rebuild_item_error, (self.node, data, *fields, *text))

    def __repr__(self) -> str:
        where = f", item={self.index}" if self.item_path else ""
        short = self.error_type.rpartition(".")[2]
        return f"ItemError(node={self.node!r}{where}, {short}: {self.message!r})"


def _rebuild_item_error(
    node: str,
    data: bytes | None,
    item_path: tuple[int, ...],
    pipeline: tuple[str, ...],
    snapshot: ErrorSnapshot | None,
    error_type: str,
    message: str,
    traceback_text: str,
) -> ItemError:
    from ..engine._pack import load_error

    try:
        error = load_error(data)
    except Exception:  # its class does not exist here
        error = None
    if error is None:  # what travelled is its description: keep it an exception
        from ..errors import RemoteError

        error = RemoteError(f"{error_type}: {message}", error_type, traceback_text)
    return ItemError(
        node,
        error,
        item_path=item_path,
        pipeline=pipeline,
        snapshot=snapshot,
        error_type=error_type,
        message=message,
        traceback_text=traceback_text,
    )


class MapResult(dict[str, list[Any]]):
    """What ``map`` returns: one list per output, in input order, plus the failures.

    A plain dict in every other way (it compares equal to one). With
    ``on_error="continue"``, ``errors`` lists the :class:`ItemError` of every
    failed call, by item, and ``failed`` the indices of the items with one::

        result = pipeline.map({"doc": docs}, on_error="continue")
        print(f"{len(result.failed)} of {len(docs)} failed")
        for error in result.errors:
            print(error.index, error.node, error.message)
    """

    @property
    def errors(self) -> list[ItemError]:
        """Every distinct ItemError in the outputs, in item order."""
        seen: dict[int, ItemError] = {}
        for column in self.values():
            for value in column:
                if isinstance(value, ItemError) and id(value) not in seen:
                    seen[id(value)] = value
        return sorted(seen.values(), key=lambda e: e.item_path)

    @property
    def failed(self) -> list[int]:
        """The indices of the items that failed, ascending."""
        return sorted({e.index for e in self.errors if e.index is not None})

    def __reduce__(self) -> tuple[Any, ...]:
        return (MapResult, (dict(self),))
