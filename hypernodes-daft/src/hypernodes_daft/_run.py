"""What every UDF of one translated run shares, and how the UDFs reach it.

A :class:`Run` holds the translated tasks, the values every row shares
(captured, never stored as columns), the caller's context detached (far
contexts are attached from it), and the exceptions raised in this process.
A UDF holds a :class:`Handle` only:

- in this process (Daft's native runner, UDFs on its threads) a handle is a
  token into a process-local table: nothing large is pickled when Daft checks
  that a UDF pickles, and live objects (exceptions with their tracebacks,
  values that cannot be pickled) stay here;
- elsewhere (Ray workers, the worker processes of ``use_process=True``) the
  handle also carries the run packed once with :func:`hypernodes.engine.pack`
  (callbacks become stand-ins, the user's own modules travel by value),
  unpacked once per process.

Cells of the frame are values pickled to bytes (Arrow ``binary``), so Daft
never infers a type: ``1`` stays an ``int`` beside ``"a"``, tuples, dicts,
pydantic models and numpy arrays come back as they went in.
"""

from __future__ import annotations

import itertools
import os
import pickle
import threading
import traceback
from collections import OrderedDict
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeVar

from hypernodes import ItemError
from hypernodes.engine import note, pack, unpack

if TYPE_CHECKING:
    from collections.abc import Iterable

    from hypernodes.engine import DetachedContext

    from ._tasks import Task

__all__ = ["Handle", "Run", "decode", "encode", "in_udf"]

#: True while a UDF of a translated run runs (in this thread, or a task it awaits): a
#: DaftExecutor asked to run a pipeline there runs it node by node, never a Daft plan
#: inside a Daft plan.
in_udf: ContextVar[bool] = ContextVar("hypernodes_daft_in_udf", default=False)

#: A cell holding a reference to a value kept in this process (pickles start with 0x80).
_REF = b"\x00"

_counter = itertools.count()
_live: dict[str, Run] = {}  # token -> the run, for UDFs on this process's threads
_unpacked: OrderedDict[str, Run] = OrderedDict()  # token -> run unpacked here (workers)
_lock = threading.Lock()
_MEMO = 8  # runs a worker keeps unpacked (the runs it serves at once)

T = TypeVar("T")


class Run:
    """What the UDFs of one translated run or map share."""

    def __init__(self, detached: DetachedContext, *, local: bool, max_concurrency: int) -> None:
        self.tasks: list[Task] = []
        self.consts: list[Any] = []
        self.detached = detached
        self.local = local
        self.max_concurrency = max_concurrency
        self.token = f"{os.getpid()}-{next(_counter)}-{os.urandom(4).hex()}"
        self.errors: list[BaseException] = []  # raised here; cells refer to them by index
        self.refs: list[Any] = []  # values that could not be pickled (this process only)
        self.stop_path: str | None = None  # exists once the run stopped early (_workers.stop)
        self._lock = threading.Lock()

    # -- cells -------------------------------------------------------------------

    def encode(self, value: Any) -> bytes:
        """``value`` as a cell; see :func:`encode`."""
        return encode(value, self)

    def decode(self, cell: bytes) -> Any:
        """The value of a cell; see :func:`decode`."""
        return decode(cell, self)

    def keep(self, value: Any) -> bytes:
        """A cell referring to ``value``, kept in this process."""
        with self._lock:
            self.refs.append(value)
            index = len(self.refs) - 1
        return _REF + index.to_bytes(8, "little")

    # -- failures ----------------------------------------------------------------

    def failure(self, exc: BaseException, *, here: bool = False) -> Any:
        """What a cell records of ``exc``: its index here, or the exception packed.

        ``here``: the cell is made in the caller's process (a batch that failed on
        its way to a worker), so the exception is kept as itself even when the
        run's UDFs work elsewhere."""
        if self.local or here:
            with self._lock:
                self.errors.append(exc)
                return len(self.errors) - 1
        return _pack_error(exc)

    def exception(self, recorded: Any) -> BaseException:
        """The exception :meth:`failure` recorded, as itself."""
        if isinstance(recorded, int):
            return self.errors[recorded]
        return _unpack_error(recorded)

    def until_stopped(self, rows: Iterable[T]) -> Iterable[T]:
        """``rows``, up to the caller stopping the run early (see ``_workers.stop``)."""
        path = self.stop_path
        if path is None:
            return rows
        return itertools.takewhile(lambda _: not os.path.exists(path), rows)

    # -- reaching it from a UDF ---------------------------------------------------

    def handle(self) -> Handle:
        """What the UDFs hold to reach this run; :meth:`publish` fills it in."""
        return Handle(self.token, None)

    def publish(self, handle: Handle) -> None:
        """Every task is known: make the run reachable (registered here; packed too when
        UDFs run in other processes)."""
        _live[self.token] = self  # the UDFs on this process's threads use it as it is
        if self.local:
            return
        state = self.__dict__.copy()
        del state["_lock"]
        handle.payload = pack(state, by_value=True)

    def release(self) -> None:
        """The run is over: forget it."""
        _live.pop(self.token, None)


class Handle:
    """A UDF's way to its :class:`Run`: a token here, the packed run elsewhere."""

    __slots__ = ("payload", "token")

    def __init__(self, token: str, payload: bytes | None) -> None:
        self.token = token
        self.payload = payload

    def resolve(self) -> Run:
        found = _live.get(self.token)
        if found is not None:
            return found
        if self.payload is None:
            msg = (
                "A Daft UDF of hypernodes ran in another process than the run it belongs to, "
                "but the run was translated for this process only. This happens when Daft "
                "moves a UDF to a process on its own; please report it."
            )
            raise RuntimeError(msg)
        with _lock:
            found = _unpacked.get(self.token)
            if found is None:
                found = Run.__new__(Run)
                found.__dict__.update(unpack(self.payload))
                found._lock = threading.Lock()
                if len(_unpacked) >= _MEMO:
                    _unpacked.popitem(last=False)
                _unpacked[self.token] = found
            return found

    def call(self, index: int, columns: list[list[Any]]) -> list[list[Any]]:
        """Run task ``index`` of the run on a batch's ``columns``; its output columns."""
        run = self.resolve()
        token = in_udf.set(True)
        try:
            return run.tasks[index](run, columns)
        finally:
            in_udf.reset(token)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Handle, (self.token, self.payload))


def encode(value: Any, run: Run) -> bytes:
    """A value as a cell: pickled bytes.

    Here (threads of this process) the standard pickle is tried first, then
    cloudpickle; a value neither can pickle stays in this process and the cell
    refers to it. Elsewhere every value goes through cloudpickle (classes
    defined in a script travel by value); one that cannot be pickled is a
    ``TypeError`` that says so.
    """
    if run.local:
        if isinstance(value, ItemError):  # one object in every output it fills, not copies
            return run.keep(value)
        try:
            return pickle.dumps(value, 5)
        except Exception:
            try:
                return pack(value)
            except Exception:
                return run.keep(value)
    try:
        return pack(value)
    except Exception as exc:
        msg = (
            f"A value of type {type(value).__name__} cannot be pickled ({type(exc).__name__}: "
            f"{exc}), and here every value travels between processes (use_process=True, "
            "or Ray). Return picklable values, or run without use_process on Daft's "
            "native runner."
        )
        raise TypeError(msg) from exc


def decode(cell: bytes, run: Run) -> Any:
    """The value of a cell made by :func:`encode`."""
    if cell[:1] == _REF:
        return run.refs[int.from_bytes(cell[1:9], "little")]
    return pickle.loads(cell)


# -- exceptions that travel -------------------------------------------------------


def _rebuild(kind: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    """An exception of ``kind`` with ``args`` and attributes, without calling its
    ``__init__`` (whose signature need not match its args)."""
    exc = kind.__new__(kind)
    object.__setattr__(exc, "args", args)  # past a __setattr__ that refuses (frozen)
    exc.__dict__.update(state)
    return exc


def _pack_error(exc: BaseException) -> tuple[bytes | None, str, str, bool]:
    """``(the exception pickled, or None; its type and message; its traceback text;
    whether callbacks were told of it already)``.

    Pickled as itself when that unpickles again, else as its type, args and
    attributes (an exception whose constructor takes other arguments than
    its ``args``), else only described.
    """
    kind = type(exc)
    reported = bool(getattr(exc, "_hypernodes_reported", False))  # on_error fired there
    text = "".join(traceback.format_exception(exc)).rstrip()
    described = f"{kind.__module__}.{kind.__qualname__}: {exc}"
    for attempt in (exc, (_rebuild, kind, exc.args, dict(vars(exc)))):
        try:
            candidate = pack(attempt)
            loaded = unpack(candidate)
            if isinstance(loaded, tuple):
                loaded[0](*loaded[1:])
        except Exception:
            continue
        return candidate, described, text, reported
    return None, described, text, reported


def _unpack_error(packed: tuple[bytes | None, str, str, bool]) -> BaseException:
    from hypernodes.errors import RemoteError

    data, described, text, reported = packed
    exc: BaseException | None = None
    if data is not None:
        try:
            loaded = unpack(data)
            exc = loaded[0](*loaded[1:]) if isinstance(loaded, tuple) else loaded
        except Exception:
            exc = None
    if exc is None:
        exc = RemoteError(
            f"{described} (raised in a Daft worker; it could not be sent back as itself)",
            described.partition(":")[0],
            text,
        )
        if reported:  # the callbacks got on_error for the original: not again for this
            exc._hypernodes_reported = True  # type: ignore[attr-defined]
    note(exc, f"raised in a Daft worker; remote traceback:\n{text}")
    return exc
