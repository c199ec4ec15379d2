"""Following code for cache keys: functions, classes, modules and imports a node reaches.

The user's own code counts by code (a digest per code object, see ``_code``)
and leads on to what it reaches: the globals and imports it uses, its closure
values and defaults, the attributes of user modules it names, and for a class
every attribute of its ``__dict__`` and of its bases'. Code of the standard
library and installed packages counts by qualified name (and a library
decorator's wrapper by what it wraps). Every value reached is handed back to
the :class:`~._walk.Walk` (``walk.reached``), which keys it by value.

Each function is followed once per key (``walk.seen``); a class digest is
self-contained, so it is memoised for the whole run (``walk.classes``) and
reused by every node's key that reaches the class.
"""

from __future__ import annotations

import collections
import enum
import functools
import hashlib
import importlib
import importlib.util
import sys
import types
from typing import TYPE_CHECKING, Any

from ._code import WRITE_METHODS, Import, code_info, is_user_module, qualified_name

if TYPE_CHECKING:
    from ._walk import Walk

__all__ = [
    "child",
    "class_digest",
    "feed_class",
    "feed_descriptor",
    "feed_function",
    "feed_method",
    "feed_partial",
    "feed_routine",
    "is_user_function",
]

# Containers whose WRITE_METHODS return None: code only calling those never reads them.
_LOG_TYPES = frozenset({list, dict, set, collections.deque})
_DESCRIPTOR_KINDS = (staticmethod, classmethod, property, functools.cached_property)
_SKIPPED_CLASS_ATTRIBUTES = frozenset(
    {"__dict__", "__doc__", "__module__", "__qualname__", "__slots__", "__weakref__", "_abc_impl"}
)


def child(where: str, label: str) -> str:
    """The place of a part reached from ``where`` (``"global helper → global TABLE"``)."""
    return f"{where} → {label}" if where else label


def is_user_function(func: types.FunctionType) -> bool:
    """By the module whose globals it runs with (``functools.wraps`` copies ``__module__``)."""
    return is_user_module(func.__globals__.get("__name__", func.__module__))


# -- functions ---------------------------------------------------------------------------


def feed_function(walk: Walk, h: Any, func: types.FunctionType, where: str) -> None:
    """A function: the user's by code, globals, imports, closure and defaults."""
    if not is_user_function(func):
        h.update(b"fn:" + qualified_name(func).encode())
        attributes = vars(func)
        wrapped = attributes.get("__wrapped__")  # a library decorator's wrapper
        if wrapped is not None:
            walk.value(h, wrapped, where, 1, False)
        registry = attributes.get("registry")  # functools.singledispatch: every implementation
        if registry is not None and callable(attributes.get("dispatch")):
            for kind, implementation in sorted(
                registry.items(), key=lambda pair: qualified_name(pair[0])
            ):
                h.update(b"|r:" + qualified_name(kind).encode() + b"=")
                walk.value(
                    h, implementation, child(where, f"{kind.__name__} implementation"), 1, False
                )
        return
    if func in walk.seen:
        h.update(b"seen:" + qualified_name(func).encode())
        return
    walk.seen.add(func)
    info = code_info(func.__code__)
    h.update(b"code:" + info.digest)
    namespace = func.__globals__
    for name in info.globals:
        if name in namespace:
            value = namespace[name]
            place = child(where, f"global {name}")
            h.update(b"|g:" + name.encode() + b"=")
            if name in info.written_only and type(value) in _LOG_TYPES:
                _written_only(walk, h, value, place)
                continue
            walk.reached(h, value, place)
            if isinstance(value, types.ModuleType):
                _module_attributes(walk, h, value, info.names, place)
    for statement in info.imports:
        _imported(walk, h, statement, namespace, info.names, where)
    if func.__closure__:
        for name, cell in zip(func.__code__.co_freevars, func.__closure__, strict=True):
            h.update(b"|c:" + name.encode() + b"=")
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell
                h.update(b"empty")
                continue
            place = child(where, f"closure {name}")
            if name in info.written_only and type(contents) in _LOG_TYPES:
                _written_only(walk, h, contents, place)
                continue
            walk.reached(h, contents, place)
            if isinstance(contents, types.ModuleType):  # a module held in a closure, as a global
                _module_attributes(walk, h, contents, info.names, place)
    for index, default in enumerate(func.__defaults__ or ()):
        h.update(b"|d=")
        walk.reached(h, default, child(where, f"default #{index}"))
    for name, default in sorted((func.__kwdefaults__ or {}).items()):
        h.update(b"|k:" + name.encode() + b"=")
        walk.reached(h, default, child(where, f"default {name}"))


def _written_only(walk: Walk, h: Any, value: Any, where: str) -> None:
    """A container the code only appends (adds, updates) to: its content is not read."""
    h.update(b"written:" + type(value).__name__.encode())
    walk.note(where, value, f"the code only writes to it ({', '.join(sorted(WRITE_METHODS))})")


def _module_attributes(
    walk: Walk, h: Any, module: types.ModuleType, names: tuple[str, ...], where: str
) -> None:
    """Attributes of a user module that the code names (``helpers.clean``, ``pkg.sub.f``)."""
    if not is_user_module(module.__name__):
        return
    namespace = vars(module)
    for name in names:
        if name not in namespace or (module, name) in walk.seen:
            continue
        walk.seen.add((module, name))
        value = namespace[name]
        h.update(b"|a:" + name.encode() + b"=")
        walk.reached(h, value, f"{where}.{name}")
        if isinstance(value, types.ModuleType):
            _module_attributes(walk, h, value, names, f"{where}.{name}")


def _imported(
    walk: Walk,
    h: Any,
    statement: Import,
    namespace: dict[str, Any],
    names: tuple[str, ...],
    where: str,
) -> None:
    """A module imported inside a function body, and the names taken from it."""
    try:
        target = _resolve(statement, namespace)
    except (ImportError, ValueError):
        target = statement.name
    h.update(b"|import:" + target.encode() + b"=")
    place = child(where, f"import {target}")
    if not is_user_module(target):
        walk.part(place, "name", target)
        return
    module = _load(target)
    if module is None:
        h.update(b"missing")
        return
    if statement.names is None:  # "import pkg.sub" binds pkg
        top = _load(target.partition(".")[0])
        if top is not None:
            _module_attributes(walk, h, top, names, place)
        return
    for name in statement.names:
        if (module, name) in walk.seen:
            continue
        walk.seen.add((module, name))
        value = vars(module).get(name)
        if value is None:  # "from pkg import sub" of a submodule not imported yet
            value = _load(f"{target}.{name}")
        h.update(b"|from:" + name.encode() + b"=")
        walk.reached(h, value, f"{place}.{name}")
    _module_attributes(walk, h, module, names, place)


def _resolve(statement: Import, namespace: dict[str, Any]) -> str:
    if not statement.level:
        return statement.name
    package = namespace.get("__package__") or namespace.get("__name__", "").rpartition(".")[0]
    return importlib.util.resolve_name("." * statement.level + statement.name, package)


def _load(name: str) -> types.ModuleType | None:
    """The user module ``name``, imported if need be; ``None`` if that fails."""
    module = sys.modules.get(name)
    if module is not None:
        return module
    try:
        return importlib.import_module(name)
    except Exception:  # the node will raise it when it runs; the key need not
        return None


# -- classes -----------------------------------------------------------------------------


def feed_class(walk: Walk, h: Any, cls: type, where: str) -> None:
    """A class: by name; a user class also by its attributes and bases, memoised per run."""
    h.update(b"class:" + qualified_name(cls).encode())
    digest = class_digest(walk, cls, where)
    if digest is not None:
        h.update(digest)


def class_digest(walk: Walk, cls: type, where: str) -> bytes | None:
    """The digest of a user class's body and bases (``None`` for a library class)."""
    if not is_user_module(cls.__module__):
        return None
    digest = walk.classes.get(cls)
    if digest is not None:
        return digest
    if cls in walk.classes_open:  # its own methods use it
        return b"open"
    walk.classes_open.add(cls)
    seen = walk.seen
    walk.seen = set()  # self-contained: the digest is reused by other nodes' keys
    try:
        sub = hashlib.blake2b(digest_size=16)
        _class_body(walk, sub, cls, child(where, f"class {cls.__qualname__}"))
        digest = sub.digest()
    finally:
        walk.classes_open.discard(cls)
        walk.seen = seen
    if not walk.classes_open:  # a digest taken mid-way would miss the open classes
        walk.classes[cls] = digest
    return digest


def _class_body(walk: Walk, h: Any, cls: type, where: str) -> None:
    if type(cls) is not type:
        h.update(b"meta:")
        feed_class(walk, h, type(cls), where)
    for base in cls.__mro__[1:]:
        if base is not object:
            h.update(b"base:")
            feed_class(walk, h, base, where)
    members = sorted((k, v) for k, v in vars(cls).items() if type(k) is str)
    is_enum = isinstance(cls, enum.EnumType)
    for name, member in members:
        if name in _SKIPPED_CLASS_ATTRIBUTES or (is_enum and _is_sunder(name)):
            continue  # an enum's own bookkeeping: its members count one by one
        dunder = name.startswith("__") and name.endswith("__")
        if dunder and not (callable(member) or isinstance(member, _DESCRIPTOR_KINDS)):
            continue
        h.update(b"|a:" + name.encode() + b"=")
        walk.reached(h, member, f"{where}.{name}")
    fields = vars(cls).get("__pydantic_fields__")
    if isinstance(fields, dict):  # pydantic keeps defaults and types out of the class dict
        for name, info in sorted(fields.items()):
            h.update(b"|field:" + name.encode() + repr(info.annotation).encode())
            walk.reached(h, info.default, f"{where}.{name} (default)")
            walk.reached(h, info.default_factory, f"{where}.{name} (default_factory)")


def _is_sunder(name: str) -> bool:
    return len(name) > 2 and name[0] == name[-1] == "_" and name[1] != "_" and name[-2] != "_"


# -- other callables: handlers of the walk, by exact type ---------------------------------


def feed_method(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """A bound method: its function and its object (whose class brings ``self.helper``)."""
    h.update(b"method:")
    walk.value(h, value.__func__, where, depth + 1, strict)
    walk.value(h, value.__self__, f"{where}.__self__", depth + 1, strict)


def feed_routine(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """A built-in function by name; a built-in method also by its object (``{}.get``)."""
    h.update(b"builtin:" + qualified_name(value).encode())
    owner = getattr(value, "__self__", None)
    if owner is not None and not isinstance(owner, types.ModuleType):
        walk.value(h, owner, f"{where}.__self__", depth + 1, strict)


def feed_partial(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """A ``functools.partial``: its function and its arguments."""
    h.update(b"partial:")
    walk.value(h, value.func, where, depth + 1, strict)
    walk.value(h, value.args, f"{where}.args", depth + 1, strict)
    walk.value(h, value.keywords, f"{where}.keywords", depth + 1, strict)


def feed_descriptor(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    """``staticmethod``, ``classmethod``, ``property``, ``cached_property``: what they wrap."""
    h.update(b"descriptor:" + type(value).__name__.encode())
    if isinstance(value, property):
        for accessor in (value.fget, value.fset, value.fdel):
            walk.value(h, accessor, where, depth + 1, strict)
    elif isinstance(value, functools.cached_property):
        walk.value(h, value.func, where, depth + 1, strict)
    else:
        walk.value(h, value.__func__, where, depth + 1, strict)
