"""Cache keys: what the key of a node call covers, exactly.

The key of one node call is a BLAKE2b digest of:

1. **The node's code** — bytecode, constants (nested functions and lambdas
   included, recursively), names and argument layout of its function. Line
   numbers are not included, so moving a function does not invalidate it; a
   changed docstring does. A ``functools.partial`` counts as its function plus
   its bound arguments; a bound method as its function plus its object; a
   callable object as its class's ``__call__`` plus the object itself (the
   arguments and objects by the rules for globals below).
2. **The helper functions it reaches**, transitively, when they live in the
   user's own modules: every global name the code uses that refers to a
   function (or a node, or a class whose methods are then covered the same
   way), and attributes used on a user module (``helpers.clean(...)``).
   Functions of the standard library and of installed packages
   (site-packages, and hypernodes itself) count by their qualified name only.
3. **The globals and closure values it reaches**, read at every run:
   functions by code (as above); constants — ``None``, ``bool``, ``int``,
   ``float``, ``str``, ``bytes`` and tuples / frozensets of them — by value;
   objects defining ``__cache_key__()`` by that key; modules by name; objects
   whose attributes are all constants (settings objects, frozen dataclasses of
   numbers and strings) by their type and attributes; any other object by its
   type only, so a node appending to a log list in its closure still hits and
   a large model is never pickled to compute a key.
4. **Its defaults**, by value, when an input is left out and the default is used.
5. **Its inputs**, by type and value: ``1``, ``"1"``, ``1.0`` and ``True``
   differ; ``[1]`` and ``(1,)`` differ; dicts are order-insensitive; sets and
   frozensets too; dataclasses by type and fields; pydantic models by type and
   ``model_dump()``; NumPy arrays by dtype, shape and bytes; pandas objects by
   content (``hash_pandas_object``), index, columns and dtypes; objects with
   ``__cache_key__()`` by that key; anything else by a pickle of it (or, when
   it cannot be pickled, by its type and attributes). An input
   produced by another cached node is identified by that node's key (its
   value is not hashed again); an input produced by an uncached node is
   hashed by value.

Code hashes are memoised per code object; the values of the globals a node
reaches are looked up at every run (once per ``run``, once per ``map``), so
changing a module constant or rebinding a helper invalidates.

**Not covered**: files or databases a node reads, random state, the network,
the clock, environment variables, and the versions of installed packages. A
node that depends on them should take them as inputs (a file's modification
time, a seed), or opt out with ``@node(cache=False)``.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import pickle
import sys
import sysconfig
import types
from collections.abc import Callable
from typing import Any

from .._model.node import Node

__all__ = ["UnhashableInput", "function_fingerprint", "value_token"]

_CONSTANT_TYPES = (type(None), bool, int, float, str, bytes)


class UnhashableInput(Exception):
    """A value that cannot be turned into a cache key."""

    def __init__(self, value: object, reason: str) -> None:
        super().__init__(reason)
        self.value_type = type(value).__name__
        self.reason = reason


# -- values ------------------------------------------------------------------------


def value_token(value: Any) -> str:
    """A short string identifying ``value`` by type and content."""
    kind = type(value)
    if kind is int:
        text = repr(value)
        return "i" + text if len(text) <= 40 else "I" + _digest(text.encode())
    if kind is str:  # repr() escapes control characters: a token never holds a NUL
        if len(value) <= 40:
            return "s" + repr(value)
        return "S" + _digest(value.encode("utf-8", "surrogatepass"))
    if kind is float:
        return "f" + repr(value)
    if kind is bool:
        return "b" + ("1" if value else "0")
    if value is None:
        return "n"
    hasher = hashlib.blake2b(digest_size=16)
    _feed(hasher, value, 0)
    return "h" + hasher.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _feed(h: Any, value: Any, depth: int) -> None:
    """Feed ``value`` into hasher ``h`` unambiguously (type tags and lengths)."""
    if depth > 200:
        raise UnhashableInput(value, "nested more than 200 levels deep")
    kind = type(value)
    if kind in _CONSTANT_TYPES:
        data = value if kind is bytes else repr(value).encode("utf-8", "surrogatepass")
        h.update(b"%s:%d:" % (kind.__name__.encode(), len(data)))
        h.update(data)
        return
    custom = getattr(value, "__cache_key__", None)
    if custom is not None and callable(custom) and not isinstance(value, type):
        h.update(b"key:" + _qualname(kind).encode() + b":")
        _feed(h, custom(), depth + 1)
        return
    if kind is list or kind is tuple:
        h.update(b"%s:%d:" % (kind.__name__.encode(), len(value)))
        for item in value:
            _feed(h, item, depth + 1)
        return
    if kind is dict:
        _feed_unordered(h, b"dict", [(value_token(k), value_token(v)) for k, v in value.items()])
        return
    if kind is set or kind is frozenset:
        _feed_unordered(h, kind.__name__.encode(), [value_token(v) for v in value])
        return
    module = kind.__module__
    if module == "numpy" and hasattr(value, "dtype"):
        _feed_numpy(h, value)
        return
    if module.startswith("pandas"):
        _feed_pandas(h, value, kind)
        return
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        h.update(b"dataclass:" + _qualname(kind).encode() + b":")
        for field in dataclasses.fields(value):
            h.update(field.name.encode() + b"=")
            _feed(h, getattr(value, field.name), depth + 1)
        return
    if hasattr(kind, "model_fields") and hasattr(value, "model_dump"):  # pydantic v2
        h.update(b"pydantic:" + _qualname(kind).encode() + b":")
        _feed(h, value.model_dump(), depth + 1)
        return
    if isinstance(value, (_CONSTANT_TYPES, list | tuple | dict)):
        # subclasses (IntEnum, NamedTuple, OrderedDict...): their type, then their content
        h.update(b"sub:" + _qualname(kind).encode() + b":")
        _feed(h, _plain(value), depth + 1)
        return
    _feed_pickle(h, value, depth)


def _plain(value: Any) -> Any:
    bases: tuple[Any, ...] = (bool, int, float, str, bytes, tuple, list, dict)
    for base in bases:
        if isinstance(value, base):
            return base(value)
    return value  # pragma: no cover - only called for the bases above


def _feed_unordered(h: Any, tag: bytes, tokens: list[Any]) -> None:
    tokens.sort()
    h.update(b"%s:%d:" % (tag, len(tokens)))
    h.update(repr(tokens).encode())


def _feed_numpy(h: Any, value: Any) -> None:
    if getattr(value, "dtype", None) is not None and value.dtype.hasobject:
        _feed_pickle(h, value)
        return
    h.update(
        b"numpy:" + str(value.dtype).encode() + b":" + repr(getattr(value, "shape", ())).encode()
    )
    h.update(value.tobytes())


def _feed_pandas(h: Any, value: Any, kind: type) -> None:
    import pandas as pd

    h.update(b"pandas:" + _qualname(kind).encode() + b":")
    if isinstance(value, pd.DataFrame | pd.Series | pd.Index):
        h.update(pd.util.hash_pandas_object(value, index=True).values.tobytes())
        if isinstance(value, pd.DataFrame):
            h.update(repr(list(value.columns)).encode() + repr(list(value.dtypes)).encode())
        else:
            h.update(repr(value.dtype).encode() + repr(getattr(value, "name", None)).encode())
        return
    _feed_pickle(h, value)


def _feed_pickle(h: Any, value: Any, depth: int = 0) -> None:
    try:
        data = pickle.dumps(value, protocol=4)
    except Exception as exc:
        state = getattr(value, "__dict__", None)
        if isinstance(state, dict):  # e.g. a class defined in a notebook cell: its attributes
            h.update(b"object:" + _qualname(type(value)).encode() + b":")
            _feed(h, state, depth + 1)
            return
        raise UnhashableInput(value, f"it cannot be pickled ({exc})") from exc
    h.update(b"pickle:%d:" % len(data))
    h.update(data)


def _qualname(kind: type) -> str:
    return f"{kind.__module__}.{kind.__qualname__}"


# -- code ------------------------------------------------------------------------------


_code_hashes: dict[types.CodeType, tuple[str, tuple[str, ...]]] = {}
_library_modules: dict[str, bool] = {}


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.update(p for p in sys.path if "site-packages" in p or "dist-packages" in p)
    return tuple(sorted(roots))


_ROOTS: tuple[str, ...] | None = None


def is_user_module(module_name: str | None) -> bool:
    """Whether functions of this module are the user's own (hashed by code)."""
    if module_name is None or module_name == "__main__":
        return True
    known = _library_modules.get(module_name)
    if known is not None:
        return not known
    global _ROOTS
    if _ROOTS is None:
        _ROOTS = _library_roots()
    top = module_name.partition(".")[0]
    module = sys.modules.get(module_name)
    path = getattr(module, "__file__", None)
    library = (
        top in sys.builtin_module_names
        or top in sys.stdlib_module_names
        or top.startswith("hypernodes")
        or (module is not None and path is None)  # built into the interpreter
        or (path is not None and path.startswith(_ROOTS))
    )
    _library_modules[module_name] = library
    return not library


def _code_hash(code: types.CodeType) -> tuple[str, tuple[str, ...]]:
    """(digest of the code, the global names it and its nested code use); memoised."""
    found = _code_hashes.get(code)
    if found is not None:
        return found
    h = hashlib.blake2b(digest_size=16)
    names: dict[str, None] = {}
    _feed_code(h, code, names)
    found = _code_hashes[code] = (h.hexdigest(), tuple(names))
    return found


def _feed_code(h: Any, code: types.CodeType, names: dict[str, None]) -> None:
    h.update(code.co_code)
    h.update(
        repr((code.co_argcount, code.co_kwonlyargcount, code.co_varnames, code.co_names)).encode()
    )
    names.update(dict.fromkeys(code.co_names))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(h, const, names)
        else:
            h.update(repr(const).encode("utf-8", "surrogatepass"))


def function_fingerprint(func: Callable[..., Any]) -> str:
    """The code of ``func`` and everything it reaches, with current global values."""
    h = hashlib.blake2b(digest_size=16)
    _feed_function(h, func, set())
    return h.hexdigest()


def _feed_function(h: Any, func: Any, seen: set[int]) -> None:
    func = getattr(func, "func", func) if _is_node(func) else func
    if id(func) in seen:
        h.update(b"recursion")
        return
    seen.add(id(func))
    if isinstance(func, types.MethodType):  # a bound method: its function and its object
        h.update(b"method:")
        _feed_function(h, func.__func__, seen)
        _feed_settings(h, func.__self__, seen)
        return
    code = getattr(func, "__code__", None)
    if code is None:
        _feed_callable(h, func, seen)
        return
    digest, names = _code_hash(code)
    h.update(digest.encode())
    namespace = getattr(func, "__globals__", {})
    for name in names:
        if name in namespace:
            h.update(b"|g:" + name.encode() + b"=")
            value = namespace[name]
            _feed_reached(h, value, seen)
            if isinstance(value, types.ModuleType) and is_user_module(value.__name__):
                _feed_module_attributes(h, value, names, seen)
    if func.__closure__:
        for name, cell in zip(code.co_freevars, func.__closure__, strict=True):
            h.update(b"|c:" + name.encode() + b"=")
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell
                h.update(b"empty")
                continue
            _feed_reached(h, contents, seen)
    for default in (func.__defaults__ or ()) + tuple((func.__kwdefaults__ or {}).values()):
        h.update(b"|d=")
        try:
            h.update(value_token(default).encode())
        except UnhashableInput:
            h.update(b"type:" + _qualname(type(default)).encode())


def _feed_callable(h: Any, func: Any, seen: set[int]) -> None:
    """A callable without code of its own: a partial, a callable object, a builtin."""
    if isinstance(func, functools.partial):
        h.update(b"partial:")
        _feed_function(h, func.func, seen)
        _feed_settings(h, func.args, seen)
        _feed_settings(h, func.keywords, seen)
        return
    call = getattr(type(func), "__call__", None)  # noqa: B004 - the method, not callability
    if isinstance(call, types.FunctionType):  # an instance of a class with __call__
        h.update(b"callable:" + _qualname(type(func)).encode())
        _feed_function(h, call, seen)
        _feed_settings(h, func, seen)
        return
    _feed_reached(h, func, seen)


def _feed_settings(h: Any, value: Any, seen: set[int]) -> None:
    """The state a partial or a callable object carries, by the rules for globals."""
    if isinstance(value, tuple | list):
        for item in value:
            _feed_reached(h, item, seen)
    elif isinstance(value, dict):
        for key in sorted(value):
            h.update(b"|k:" + str(key).encode() + b"=")
            _feed_reached(h, value[key], seen)
    else:
        _feed_reached(h, value, seen)


def _feed_module_attributes(
    h: Any, module: types.ModuleType, names: tuple[str, ...], seen: set[int]
) -> None:
    for attribute in names:
        value = module.__dict__.get(attribute)
        if value is not None and (callable(value) or isinstance(value, _CONSTANT_TYPES)):
            h.update(b"|a:" + attribute.encode() + b"=")
            _feed_reached(h, value, seen)


def _feed_reached(h: Any, value: Any, seen: set[int]) -> None:
    """Feed a global or closure value: functions by code, constants by value, others by type."""
    if isinstance(value, _CONSTANT_TYPES) or _is_constant_collection(value):
        h.update(value_token(value).encode())
        return
    if _is_node(value):
        _feed_function(h, value.func, seen)
        return
    if isinstance(value, types.FunctionType):
        if is_user_module(value.__module__):
            _feed_function(h, value, seen)
        else:
            h.update(b"fn:" + f"{value.__module__}.{value.__qualname__}".encode())
        return
    if isinstance(value, types.MethodType):
        _feed_function(h, value, seen)
        return
    if isinstance(value, types.BuiltinFunctionType):
        h.update(b"builtin:" + f"{value.__module__}.{value.__qualname__}".encode())
        return
    if isinstance(value, types.ModuleType):
        h.update(b"module:" + value.__name__.encode())
        return
    if isinstance(value, type):
        h.update(b"class:" + _qualname(value).encode())
        if is_user_module(value.__module__) and id(value) not in seen:
            seen.add(id(value))
            for attribute, member in sorted(vars(value).items()):
                inner = getattr(member, "__func__", member)
                if isinstance(inner, types.FunctionType):
                    h.update(b"|m:" + attribute.encode() + b"=")
                    _feed_function(h, inner, seen)
        return
    custom = getattr(value, "__cache_key__", None)
    if custom is not None and callable(custom):
        h.update(b"key:")
        try:
            h.update(value_token(custom()).encode())
        except UnhashableInput:
            h.update(b"unhashable")
        return
    state = getattr(value, "__dict__", None)
    if type(state) is dict and state and all(_is_constant(v) for v in state.values()):
        # A settings object (every attribute a constant): by value, cheaply.
        h.update(b"settings:" + _qualname(type(value)).encode() + value_token(state).encode())
        return
    h.update(b"type:" + _qualname(type(value)).encode())


def _is_constant(value: Any) -> bool:
    return isinstance(value, _CONSTANT_TYPES) or _is_constant_collection(value)


def _is_constant_collection(value: Any) -> bool:
    kind = type(value)
    if kind is tuple or kind is frozenset:
        return all(isinstance(v, _CONSTANT_TYPES) or _is_constant_collection(v) for v in value)
    return False


def _is_node(value: Any) -> bool:
    return isinstance(value, Node)
