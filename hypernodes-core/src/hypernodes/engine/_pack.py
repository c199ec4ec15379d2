"""Packing work and errors to travel between processes.

- :func:`pack` / :func:`unpack`: cloudpickle, with every callback replaced by
  a stand-in naming it (callbacks never run elsewhere), nodes of importable
  modules sent by reference, and with ``by_value=True`` the user's own
  modules sent by value, for a far side that has only the installed packages.
- :func:`pack_error` / :func:`unpack_error`: an exception as bytes that come
  back as itself whenever its type can be rebuilt (even when its constructor
  does not match its args, or an attribute cannot travel), else as a
  :class:`~hypernodes.errors.RemoteError` with its type, message and remote
  traceback.
"""

from __future__ import annotations

import io
import sys
import threading
import traceback
import types
from typing import Any

import cloudpickle

from .._model.failures import safe_str
from .._model.node import Node
from ..callbacks._hooks import PipelineCallback
from ..callbacks._record import StandIn, token_of
from ..errors import RemoteError
from ._steps import note

__all__ = [
    "import_attribute",
    "load_error",
    "node_reference",
    "pack",
    "pack_error",
    "packs",
    "unpack",
    "unpack_error",
]


# -- packing -------------------------------------------------------------------------


class _Pickler(cloudpickle.CloudPickler):  # type: ignore[misc]
    """cloudpickle, with every callback replaced by a stand-in that names it, and nodes
    of importable modules sent by reference (their function's module attribute is the
    node, so cloudpickle alone would send the function and its globals by value)."""

    by_value: frozenset[str] = frozenset()  # modules whose nodes travel by value

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, PipelineCallback) and not isinstance(obj, type):
            return (StandIn, (token_of(obj),))
        if isinstance(obj, Node):
            found = node_reference(obj)
            if found is not None and found[0] not in self.by_value:
                return (import_attribute, found)
            return obj.reduce_by_state()
        return super().reducer_override(obj)


class _ModuleFinder(_Pickler):
    """A pickler that notes the modules of the functions, classes and modules it meets."""

    def __init__(self, file: Any, found: set[str]) -> None:
        super().__init__(file)
        self.found = found

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, Node) and _travels_by_value(obj.func.__module__):
            self.found.add(obj.func.__module__)
            return obj.reduce_by_state()  # walk into its function: what it reaches may travel

        if isinstance(obj, types.ModuleType):
            self.found.add(obj.__name__)
        elif isinstance(obj, type | types.FunctionType):
            module = getattr(obj, "__module__", None)
            if isinstance(module, str):
                self.found.add(module)
        return super().reducer_override(obj)


_by_value_lock = threading.Lock()  # cloudpickle's by-value registry is process-global


def pack(obj: Any, *, by_value: bool = False) -> bytes:
    """``obj`` as bytes for :func:`unpack` elsewhere.

    Callbacks become stand-ins. With ``by_value``, the user's own modules that
    ``obj`` reaches (not the standard library, not installed packages, not
    hypernodes) are pickled by value, so the far side needs only the
    installed packages.
    """
    if not by_value:
        return _dumps(obj)
    with _by_value_lock:
        registered: list[types.ModuleType] = []
        try:
            while True:
                found: set[str] = set()
                _ModuleFinder(io.BytesIO(), found).dump(obj)
                new = [
                    sys.modules[name]
                    for name in sorted(found)
                    if _travels_by_value(name) and sys.modules[name] not in registered
                ]
                if not new:
                    return _dumps(obj, frozenset(m.__name__ for m in registered))
                for module in new:
                    cloudpickle.register_pickle_by_value(module)
                    registered.append(module)
        finally:
            for module in registered:
                cloudpickle.unregister_pickle_by_value(module)


def _travels_by_value(name: str) -> bool:
    from ..caching._code import is_user_module

    module = sys.modules.get(name)
    return (
        module is not None
        and name != "__main__"  # cloudpickle sends __main__'s objects by value anyway
        and getattr(module, "__file__", None) is not None
        and is_user_module(name)
    )


def _dumps(obj: Any, by_value: frozenset[str] = frozenset()) -> bytes:
    buffer = io.BytesIO()
    pickler = _Pickler(buffer, protocol=5)
    pickler.by_value = by_value
    pickler.dump(obj)
    return buffer.getvalue()


def node_reference(node: Node) -> tuple[str, str] | None:
    """``(module, qualname)`` where ``node`` can be imported from, or ``None``."""
    module_name = getattr(node.func, "__module__", None)
    qualname = getattr(node.func, "__qualname__", "")
    if not module_name or module_name == "__main__" or "<locals>" in qualname:
        return None
    found: Any = sys.modules.get(module_name)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    return (module_name, qualname) if found is node else None


def import_attribute(module_name: str, qualname: str) -> Any:
    """The object at ``module_name.qualname`` (a node sent by reference)."""
    import importlib

    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def unpack(data: bytes) -> Any:
    """The object :func:`pack` packed."""
    return cloudpickle.loads(data)


# -- errors that travel ----------------------------------------------------------------


def _rebuild_exception(kind: type[BaseException], args: tuple[Any, ...], state: dict[str, Any]):  # type: ignore[no-untyped-def]
    """An exception of ``kind`` with ``args`` and attributes, without calling its __init__
    (whose signature need not match its args)."""
    exc = kind.__new__(kind)
    object.__setattr__(exc, "args", args)  # past a __setattr__ that refuses (frozen)
    exc.__dict__.update(state)
    return exc


def pack_error(exc: BaseException) -> tuple[bytes | None, str, str, str]:
    """``(the exception as bytes, or None; its type; its message; its traceback text)``.

    The exception is packed as itself when it unpacks again; when its class'
    constructor does not match its args, it is rebuilt without calling the
    constructor; when some of its attributes cannot travel (a lock), it is
    rebuilt without them (a note names them); when even that fails, only the
    description travels.
    """
    kind = type(exc)
    type_name = f"{kind.__module__}.{kind.__qualname__}"
    message = safe_str(exc)
    text = "".join(traceback.format_tb(exc.__traceback__)) + (
        "".join(traceback.format_exception_only(kind, exc)).rstrip()
    )
    state = dict(vars(exc))
    attempts: list[Any] = [exc, (_rebuild_exception, kind, exc.args, state)]
    dropped = [name for name, value in state.items() if not packs(value)]
    if dropped:
        kept = {k: v for k, v in state.items() if k not in dropped}
        notes = [*kept.get("__notes__", [])]
        notes.append(f"hypernodes: attributes that could not be sent back: {', '.join(dropped)}")
        kept["__notes__"] = notes
        attempts.append((_rebuild_exception, kind, exc.args, kept))
    data: bytes | None = None
    for attempt in attempts:
        try:
            candidate = _dumps(attempt)
            loaded = unpack(candidate)
        except Exception:
            continue
        if isinstance(attempt, tuple):
            try:
                loaded[0](*loaded[1:])
            except Exception:
                continue
        data = candidate
        break
    return data, type_name, message, text


def packs(value: Any) -> bool:
    try:
        _dumps(value)
    except Exception:
        return False
    return True


def load_error(data: bytes | None) -> BaseException | None:
    """The exception in ``pack_error``'s bytes (``None`` when it cannot be rebuilt here)."""
    if data is None:
        return None
    loaded = unpack(data)
    exc = loaded[0](*loaded[1:]) if isinstance(loaded, tuple) else loaded
    return exc if isinstance(exc, BaseException) else None


def unpack_error(packed: tuple[bytes | None, str, str, str], where: str) -> BaseException:
    """The exception :func:`pack_error` packed, with the remote traceback as a note."""
    data, type_name, message, text = packed
    exc: BaseException | None = None
    reason = "neither it nor its type could be pickled there"
    try:
        exc = load_error(data)
    except Exception as unpack_exc:
        reason = f"it could not be unpacked here ({type(unpack_exc).__name__}: {unpack_exc})"
    if exc is None:
        exc = RemoteError(
            f"{type_name}: {message} (raised in {where}; the exception could not be sent "
            f"back as itself: {reason})",
            type_name,
            text,
        )
    note(exc, f"raised in {where}; remote traceback (most recent call last):\n{text}")
    return exc
