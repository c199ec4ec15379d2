"""Objects in cache keys: anything that is neither a plain value, a container nor code.

In order, an object counts:

- a hypernodes node by its function; a pipeline by its nodes (and bound
  inputs); a pipeline node by its pipeline and mappings;
- by its ``__cache_key__()`` (looked up on its class, so an instance
  ``__getattr__`` is never asked);
- NumPy arrays and scalars by type, dtype, shape and bytes; pandas objects by
  type and content (columns pandas would hash through ``str()`` are walked);
- enum members by class, name and value; dataclasses and pydantic models by
  class and fields; subclasses of built-in scalars and containers by class and
  content; a library wrapper (``functools.lru_cache``) by what it wraps;
- an input (strict): by a pickle of it, streamed into the hasher, in which
  sets are replaced by their order-free key and functions, classes and
  modules by their code or name; when it cannot be pickled, by its reduced
  state, walked;
- a reached value (lenient): the user's and the standard library's objects by
  their reduced state (``__reduce_ex__``), walked; other mappings by items;
  any other object of an installed package by its type only.
"""

from __future__ import annotations

import copyreg
import dataclasses
import enum
import functools
import hashlib
import pickle
import sys
import types
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from .._model.node import Node
from ._code import is_user_module, qualified_name
from ._reach import class_digest, feed_class

if TYPE_CHECKING:
    from ._walk import Walk

__all__ = ["feed_object", "is_wrapper"]

_LRU_WRAPPER = type(functools.lru_cache(maxsize=None)(len))
# Replaced by their key inside a pickle: sets (hash order) and code (pickled by name).
_REPLACED_KINDS = (
    set,
    frozenset,
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.ModuleType,
    functools.partial,
    staticmethod,
    classmethod,
    property,
    functools.cached_property,
    type,
)
_PICKLED_AS_IS = frozenset({type(None), bool, int, float, str, bytes, list, dict, tuple})
_BUILTIN_BASES = (int, float, str, bytes, tuple, list, dict, set, frozenset)


def feed_object(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """Feed an object by the rules in this module's docstring."""
    kind = type(value)
    route = _routes.get(kind)
    if route is None:
        route = _route(kind)
        if len(_routes) > 10_000:  # classes made on the fly: forget them now and then
            _routes.clear()
        _routes[kind] = route
    route(walk, h, value, where, depth, strict)


_Route = Callable[["Walk", Any, Any, str, int, bool], None]
_routes: dict[type, _Route] = {}  # what decides is the type: decided once per type


def _route(kind: type) -> _Route:
    module = kind.__module__
    if issubclass(kind, Node):
        return _feed_node
    if module.startswith("hypernodes."):
        return _feed_hypernodes
    if callable(getattr(kind, "__cache_key__", None)):
        return _feed_custom
    if module == "numpy" and hasattr(kind, "dtype"):
        return _feed_numpy
    if module.partition(".")[0] == "pandas":
        return _feed_pandas
    if issubclass(kind, enum.Enum):
        return _feed_enum
    if dataclasses.is_dataclass(kind):
        return _feed_dataclass
    if hasattr(kind, "model_fields") and hasattr(kind, "model_dump"):  # pydantic v2
        return _feed_pydantic
    if issubclass(kind, _BUILTIN_BASES):  # NamedTuple, OrderedDict, Counter, str subclasses
        return _feed_subclass
    return _feed_other


def _feed_node(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    h.update(b"node:")
    walk.value(h, value.func, where, depth + 1, strict)


def _feed_custom(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    kind = type(value)
    custom = getattr(kind, "__cache_key__", None)
    if not callable(custom):  # removed from the class since: by value
        _feed_other(walk, h, value, where, depth, strict)
        return
    h.update(b"key:" + qualified_name(kind).encode() + b":")
    walk.value(h, custom(value), f"{where}.__cache_key__()", depth + 1, strict)


def _feed_enum(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    h.update(b"enum:")
    feed_class(walk, h, type(value), where)
    walk.value(h, value._name_, where, depth + 1, strict)
    walk.value(h, value._value_, f"{where}.value", depth + 1, strict)


def _feed_dataclass(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    h.update(b"dataclass:")
    feed_class(walk, h, type(value), where)
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    walk.attributes(h, fields, where, depth, strict)


def _feed_pydantic(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    h.update(b"pydantic:")
    feed_class(walk, h, type(value), where)
    walk.value(h, value.model_dump(), where, depth + 1, strict)


def _feed_subclass(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    h.update(b"sub:")
    feed_class(walk, h, type(value), where)
    base = next(b for b in _BUILTIN_BASES if isinstance(value, b))
    walk.value(h, _plain(value, base), where, depth + 1, strict)
    state = getattr(value, "__dict__", None)
    if state:
        walk.attributes(h, state, where, depth, strict)


def _feed_other(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """Wrappers by what they wrap; inputs pickled; reached values walked or by type."""
    kind = type(value)
    if callable(getattr(kind, "__cache_key__", None)):  # given to the class since its route
        _feed_custom(walk, h, value, where, depth, strict)
        return
    if is_wrapper(value):
        h.update(b"wrapped:" + qualified_name(kind).encode())
        walk.value(h, vars(value)["__wrapped__"], where, depth + 1, strict)
        return
    if strict:
        _feed_pickled(walk, h, value, where, depth)
        return
    module = kind.__module__
    top = module.partition(".")[0]
    if is_user_module(module) or top in sys.stdlib_module_names or top == "builtins":
        _feed_reduced(walk, h, value, where, depth, strict)
    elif isinstance(value, Mapping):
        h.update(b"mapping:" + qualified_name(kind).encode())
        walk.value(h, dict(value.items()), where, depth + 1, strict)
    else:
        reason = (
            f"an object of the installed package {top!r} is counted by its type only "
            "(it may be a model, a client or a connection)"
        )
        walk.unkeyable(h, value, where, reason, strict)


def _feed_reduced(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """An object by the state it pickles as, walked (sets sorted, functions by code)."""
    with walk.visit(h, value, depth) as fresh:
        if not fresh:
            return
        kind = type(value)
        reducer = copyreg.dispatch_table.get(kind)
        try:
            reduced = reducer(value) if reducer is not None else value.__reduce_ex__(4)
        except Exception:
            state = getattr(value, "__dict__", None)
            if type(state) is not dict or not is_user_module(kind.__module__):
                raise  # a file, a thread-local: its attributes are not what it holds
            h.update(b"object:")  # one of the user's classes that refuses to pickle
            feed_class(walk, h, kind, where)
            walk.attributes(h, state, where, depth, strict)
            return
        if isinstance(reduced, str):  # a module-level singleton, by its name
            h.update(b"global:" + reduced.encode())
            return
        func, args, *rest = reduced
        h.update(b"reduce:%d:" % len(reduced))
        walk.value(h, func, where, depth + 1, strict)
        h.update(b"args:%d:" % len(args))
        for arg in args:  # usually the class first: counted by code
            walk.value(h, arg, where, depth + 1, strict)
        state = rest[0] if rest else None
        if type(state) is tuple and len(state) == 2 and type(state[1]) is dict:
            h.update(b"slots:")  # (__dict__ or None, {slot: value})
            walk.attributes(h, state[1], where, depth, strict)
            state = state[0]
        if type(state) is dict:
            walk.attributes(h, state, where, depth, strict)
        else:
            walk.value(h, state, where, depth + 1, strict)
        for extra, convert in zip(rest[1:3], (list, dict), strict=False):
            walk.value(h, None if extra is None else convert(extra), where, depth + 1, strict)


def _feed_pickled(walk: Walk, h: Any, value: Any, where: str, depth: int) -> None:
    """An input object by a pickle of it (sets order-free, functions and classes by code)."""
    sub = hashlib.blake2b(digest_size=16)
    try:
        _KeyPickler(_Sink(sub), walk).dump(value)
    except Exception:  # not picklable: walk the state it reduces to (or its __dict__)
        _feed_reduced(walk, h, value, where, depth, True)
        return
    h.update(b"pickle:" + sub.digest())


class _Sink:
    """A file for the pickler that feeds a hasher: the pickle is never held in memory."""

    __slots__ = ("write",)

    def __init__(self, h: Any) -> None:
        self.write = h.update


class _KeyPickler(pickle.Pickler):
    """Pickles an input with sets by their order-free key and code by its digest.

    ``persistent_id`` sees every object the pickle holds: a set (whose pickle
    follows its hash order, so the hash seed), a function or a class (pickled
    by name, so an edit would not show) is replaced by its key.
    """

    def __init__(self, file: _Sink, walk: Walk) -> None:
        super().__init__(file, protocol=4)
        self._walk = walk

    def persistent_id(self, obj: Any) -> str | None:
        kind = type(obj)
        if kind in _PICKLED_AS_IS or kind.__module__ == "numpy":
            return None
        if isinstance(obj, type):  # every object's class: the quick way to its key
            digest = class_digest(self._walk, obj, "")
            return f"class:{qualified_name(obj)}:{digest.hex() if digest else ''}"
        if (
            isinstance(obj, _REPLACED_KINDS)
            or callable(getattr(kind, "__cache_key__", None))
            or is_wrapper(obj)
        ):
            return self._walk.token(obj)
        return None


def _feed_numpy(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    import numpy as np

    array = np.asarray(value)
    dtype = array.dtype
    layout = f"{dtype.str}{dtype.descr if dtype.fields else ''}{array.shape}"
    h.update(b"numpy:" + qualified_name(type(value)).encode() + b":" + layout.encode() + b":")
    if dtype.hasobject:
        walk.value(h, array.ravel().tolist(), where, depth + 1, strict)
        return
    if not walk.fits(h, value, where, array.nbytes, strict):
        return
    flat = np.ascontiguousarray(array).reshape(-1)
    try:
        h.update(flat.view(np.uint8))
    except (TypeError, ValueError, BufferError):  # dtypes without a buffer (datetime)
        h.update(flat.tobytes())


def _feed_pandas(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    import pandas as pd

    h.update(b"pandas:" + qualified_name(type(value)).encode() + b":")
    if not isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        if strict:
            _feed_pickled(walk, h, value, where, depth)
        else:
            _feed_reduced(walk, h, value, where, depth, strict)
        return
    usage = value.memory_usage(deep=False)
    if not walk.fits(h, value, where, int(usage.sum() if hasattr(usage, "sum") else usage), strict):
        return
    frame = value if isinstance(value, pd.DataFrame) else value.to_frame()
    h.update(repr([(str(c), str(t)) for c, t in frame.dtypes.items()]).encode())
    if frame.columns.is_unique and all(_hashable_column(frame[c]) for c in frame.columns):
        walk.value(h, [str(c) for c in frame.columns], where, depth + 1, strict)
        h.update(pd.util.hash_pandas_object(value, index=True).to_numpy().tobytes())
    else:  # objects pandas would hash by str(): walk them instead
        walk.value(h, frame.to_dict(orient="split"), where, depth + 1, strict)


def _hashable_column(column: Any) -> bool:
    """A column pandas hashes exactly (not through ``str()`` of its objects)."""
    if column.dtype != object:
        return True
    import pandas as pd

    return pd.api.types.infer_dtype(column, skipna=False) in ("string", "empty", "bytes")


def _feed_hypernodes(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """A pipeline (by its nodes and bound inputs) or a pipeline node (pipeline and mappings).

    Duck-typed on hypernodes' own classes, so keys need no import of them.
    """
    nodes = getattr(value, "nodes", None)
    if isinstance(nodes, tuple):
        h.update(b"pipeline:")
        walk.value(h, list(nodes), f"{where}.nodes", depth + 1, strict)
        bound = getattr(value, "bound_inputs", None)
        if isinstance(bound, Mapping):
            walk.value(h, dict(bound), f"{where}.bound_inputs", depth + 1, strict)
        return
    inner = getattr(value, "pipeline", None)
    if inner is not None and hasattr(value, "input_mapping"):
        h.update(b"pipeline-node:")
        walk.value(h, inner, where, depth + 1, strict)
        settings = [
            dict(value.input_mapping),
            dict(value.output_mapping),
            value.map_over,
            value.map_mode,
        ]
        walk.value(h, settings, where, depth + 1, strict)
        return
    _feed_other(walk, h, value, where, depth, strict)  # a cache, an executor...


def is_wrapper(value: Any) -> bool:
    """A library callable wrapping a function (``functools.lru_cache``, ``functools.cache``)."""
    if type(value) is _LRU_WRAPPER:
        return True
    if not callable(value):
        return False
    state = getattr(value, "__dict__", None)
    return (
        type(state) is dict
        and "__wrapped__" in state
        and not is_user_module(type(value).__module__)
    )


def _plain(value: Any, base: type) -> Any:
    """The built-in value inside an instance of a subclass, without calling its overrides."""
    if base is str or base is bytes:
        return base.__getnewargs__(value)[0]
    if base is int:
        return int.__index__(value)
    if base is float:
        return float.__float__(value)
    return base(value)
