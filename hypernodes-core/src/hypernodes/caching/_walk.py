"""The walk that turns code and values into cache keys.

A :class:`Walk` feeds values into BLAKE2b hashers unambiguously: every part
carries a type tag and a length, containers are walked in an order that does
not depend on the hash seed, and cycles feed a back-reference. Plain values and
containers are handled here; code in ``_reach``; other objects in ``_objects``.

Two modes: a **strict** walk (an input) raises :class:`UnhashableInput` at
anything it cannot key; a **lenient** walk (what a node reaches) keys such a
part by its type only, records it in ``notes``, and keys the rest by value,
within a budget per reached value so a large global is never hashed at length
at every run.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import marshal
import types
from collections.abc import Callable, Mapping
from typing import Any

from .._model.node import Node
from ._code import is_user_module, qualified_name
from ._objects import feed_object, is_wrapper
from ._reach import (
    feed_class,
    feed_descriptor,
    feed_function,
    feed_method,
    feed_partial,
    feed_routine,
    is_user_function,
)

__all__ = ["KeyPart", "UnhashableInput", "Walk", "how_counted", "scalar_token"]

_SCALAR_TAGS: dict[type, bytes] = {
    type(None): b"n",
    bool: b"b",
    int: b"i",
    float: b"f",
    str: b"s",
    bytes: b"y",
}
_MARSHAL_SCALARS = frozenset(_SCALAR_TAGS)  # marshal (version 2) writes these alike everywhere
_SORTABLE = frozenset({int, str, bytes})  # one of these alone sorts alike everywhere
_MAX_DEPTH = 100
_BUDGET = 32 * 2**20  # what a reached value may cost, per run, before it counts by type only
_OBJECT_COST = 1024  # one object walked costs ~1,000 times what a byte hashed costs


class UnhashableInput(Exception):
    """A value that cannot be turned into a cache key."""

    def __init__(self, value: object, reason: str) -> None:
        super().__init__(reason)
        self.value_type = type(value).__name__
        self.reason = reason


@dataclasses.dataclass(frozen=True)
class KeyPart:
    """One part of a node's cache key and how it counts.

    ``where`` names it (``"global MODEL"``, ``"global helper → global TABLE"``,
    ``"closure log"``, ``"input x"``; empty for the node's own code); ``how``
    is one of ``"code"`` (followed by code), ``"name"`` (library code or a
    module, by qualified name), ``"value"``, ``"__cache_key__"``, ``"type
    only"`` or ``"not keyable"`` (an input: the call is not cached);
    ``detail`` says what it is and, for the last two, why.
    """

    where: str
    how: str
    detail: str = ""

    def __str__(self) -> str:
        return f"{self.where or 'code of the node'}: {self.how}  {self.detail}".rstrip()


class _TooLarge(Exception):
    """A reached value went over its budget: it counts by type only."""


class Walk:
    """One traversal of code and values into BLAKE2b hashers.

    ``classes`` memoises class digests for one run (see ``_reach``); ``parts``,
    when a list, records every part (for ``explain_key``); ``notes`` lists the
    parts keyed by type only.
    """

    __slots__ = ("_active", "_budget", "classes", "classes_open", "notes", "parts", "seen")

    def __init__(
        self, classes: dict[type, bytes] | None = None, parts: list[KeyPart] | None = None
    ) -> None:
        self.classes = classes if classes is not None else {}
        self.parts = parts
        self.notes: list[KeyPart] = []
        self.seen: set[Any] = set()  # functions and (module, attribute) pairs already fed
        self.classes_open: set[type] = set()  # classes whose digest is being computed
        self._active: dict[int, int] = {}  # containers and objects on the current path
        self._budget = _BUDGET

    # -- entry points ------------------------------------------------------------------

    def fingerprint(self, func: Any) -> str:
        """The digest of a node's function and everything it reaches."""
        h = hashlib.blake2b(digest_size=16)
        self.reached(h, func, "")
        return h.hexdigest()

    def token(self, value: Any) -> str:
        """The key of an input value; raises :class:`UnhashableInput`."""
        return scalar_token(value) or "h" + self._digest(value)

    def _digest(self, value: Any) -> str:
        h = hashlib.blake2b(digest_size=16)
        try:
            self.value(h, value, "", 0, True)
        except UnhashableInput:
            raise
        except RecursionError as exc:
            raise UnhashableInput(value, "it is nested too deeply") from exc
        except Exception as exc:  # user code ran (__cache_key__, __reduce__, __getstate__...)
            msg = f"computing its key raised {type(exc).__name__}: {exc}"
            raise UnhashableInput(value, msg) from exc
        return h.hexdigest()

    def reached(self, h: Any, value: Any, where: str) -> None:
        """A value some code reaches: by code or value; by type only where it must be."""
        kind = type(value)
        if kind in _SCALAR_TAGS:
            _feed_scalar(h, value, kind)
            self.part(where, "value", kind.__name__)
            return
        notes = len(self.notes)
        first = len(self.parts) if self.parts is not None else 0
        budget = self._budget
        self._budget = _BUDGET
        sub = hashlib.blake2b(digest_size=16)  # over budget: nothing of it is fed
        try:
            self.value(sub, value, where, 0, False)
        except _TooLarge:
            self.note(where, value, "it is too large to key by value at every run")
            h.update(b"type:" + qualified_name(kind).encode())
            return
        finally:
            self._budget = budget
        h.update(b"v:" + sub.digest())
        if self.parts is not None and not any(n.where == where for n in self.notes[notes:]):
            self.parts.insert(first, KeyPart(where, *how_counted(value)))  # before its parts

    # -- values --------------------------------------------------------------------------

    def value(self, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
        """Feed ``value`` into ``h``."""
        kind = type(value)
        if kind in _SCALAR_TAGS:
            if not strict and (kind is str or kind is bytes):
                self._spend(len(value))
            _feed_scalar(h, value, kind)
            return
        if depth > _MAX_DEPTH:
            self.unkeyable(h, value, where, "it is nested too deeply", strict)
            return
        if not strict:
            self._spend(_OBJECT_COST)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, h, value, where, depth, strict)
        elif isinstance(value, type):
            feed_class(self, h, value, where)
        elif strict:
            feed_object(self, h, value, where, depth, strict)
        else:
            sub = hashlib.blake2b(digest_size=16)  # a failure leaves nothing half-fed
            try:
                feed_object(self, sub, value, where, depth, strict)
            except _TooLarge:
                raise
            except Exception as exc:  # its __reduce_ex__, __cache_key__... raised
                self.unkeyable(h, value, where, f"{type(exc).__name__}: {exc}", strict)
                return
            h.update(sub.digest())

    def attributes(
        self, h: Any, state: Mapping[Any, Any], where: str, depth: int, strict: bool
    ) -> None:
        """An object's attributes by name (a dict walked with readable places)."""
        names = sorted(k for k in state if type(k) is str)
        h.update(b"attrs:%d:" % len(names))
        for name in names:
            h.update(name.encode() + b"=")
            self.value(h, state[name], f"{where}.{name}", depth + 1, strict)

    def visit(self, h: Any, value: Any, depth: int) -> _Visit:
        """Guard a container or an object on the current path against cycles."""
        return _Visit(self._active, h, id(value), depth)

    # -- what cannot be keyed by value ----------------------------------------------------

    def _spend(self, cost: int) -> None:
        self._budget -= cost
        if self._budget < 0:
            raise _TooLarge

    def fits(self, h: Any, value: Any, where: str, size: int, strict: bool) -> bool:
        """Whether a part of ``size`` bytes fits the budget; if not it counts by type only."""
        if strict or size <= self._budget:
            if not strict:
                self._budget -= size
            return True
        self.note(where, value, f"it is too large ({size:,} bytes) to key by value at every run")
        h.update(b"type:" + qualified_name(type(value)).encode())
        return False

    def unkeyable(self, h: Any, value: Any, where: str, reason: str, strict: bool) -> None:
        """A part that cannot be keyed: an error for an input, its type for a reached value."""
        if strict:
            raise UnhashableInput(value, reason)
        self.note(where, value, reason)
        h.update(b"type:" + qualified_name(type(value)).encode())

    def note(self, where: str, value: Any, reason: str) -> None:
        """Record a part keyed by type only."""
        self.notes.append(KeyPart(where, "type only", f"{qualified_name(type(value))}: {reason}"))
        if self.parts is not None:
            self.parts.append(self.notes[-1])

    def part(self, where: str, how: str, detail: str = "") -> None:
        """Record a part (only when explaining a key)."""
        if self.parts is not None:
            self.parts.append(KeyPart(where, how, detail))

    # -- containers ------------------------------------------------------------------------

    def _sequence(self, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
        tag = type(value).__name__.encode()
        if not self.fits(h, value, where, 9 * len(value), strict):
            return
        if set(map(type, value)) <= _MARSHAL_SCALARS:  # the fast path: C speed, no hash()
            data = marshal.dumps(value, 2)
            h.update(b"%s~%d:" % (tag, len(data)))
            h.update(data)
            return
        h.update(b"%s:%d:" % (tag, len(value)))
        with self.visit(h, value, depth) as fresh:
            if fresh:
                for index, item in enumerate(value):
                    self.value(h, item, f"{where}[{index}]", depth + 1, strict)

    def _dict(self, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
        if not self.fits(h, value, where, 18 * len(value), strict):
            return
        key_types = set(map(type, value))
        if (
            len(key_types) == 1
            and key_types <= _SORTABLE
            and set(map(type, value.values())) <= _MARSHAL_SCALARS
        ):
            data = marshal.dumps(sorted(value.items()), 2)
            h.update(b"dict~%d:" % len(data))
            h.update(data)
            return
        with self.visit(h, value, depth) as fresh:
            if fresh:
                pairs = sorted(
                    (
                        self._element(k, where, depth, strict),
                        self._element(v, f"{where}[{_label(k)}]", depth, strict),
                    )
                    for k, v in value.items()
                )
                _feed_sorted(h, b"dict", pairs)

    def _set(self, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
        tag = type(value).__name__.encode()
        if not self.fits(h, value, where, 9 * len(value), strict):
            return
        kinds = set(map(type, value))
        if len(kinds) == 1 and kinds <= _SORTABLE:
            data = marshal.dumps(sorted(value), 2)
            h.update(b"%s~%d:" % (tag, len(data)))
            h.update(data)
            return
        _feed_sorted(h, tag, sorted(self._element(v, where, depth, strict) for v in value))

    def _element(self, value: Any, where: str, depth: int, strict: bool) -> str:
        """The key of an element of a dict or a set, to sort them alike in every process."""
        kind = type(value)
        if kind is float or kind is bool or value is None:
            return f"{kind.__name__}:{value!r}"
        if kind is int and -(2**64) < value < 2**64:
            return f"int:{value!r}"
        h = hashlib.blake2b(digest_size=16)
        self.value(h, value, where, depth + 1, strict)
        return h.hexdigest()


def _feed_function(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    feed_function(walk, h, value, where)


def _feed_module(walk: Walk, h: Any, value: Any, where: str, depth: int, strict: bool) -> None:
    h.update(b"module:" + value.__name__.encode())


_Handler = Callable[[Walk, Any, Any, str, int, bool], None]
_HANDLERS: dict[type, _Handler] = {
    list: Walk._sequence,
    tuple: Walk._sequence,
    dict: Walk._dict,
    set: Walk._set,
    frozenset: Walk._set,
    types.FunctionType: _feed_function,
    types.MethodType: feed_method,
    types.BuiltinFunctionType: feed_routine,
    functools.partial: feed_partial,
    types.ModuleType: _feed_module,
    staticmethod: feed_descriptor,
    classmethod: feed_descriptor,
    property: feed_descriptor,
    functools.cached_property: feed_descriptor,
}


class _Visit:
    """A container or an object on the current path: met again, it feeds a back-reference."""

    __slots__ = ("active", "depth", "h", "key")

    def __init__(self, active: dict[int, int], h: Any, key: int, depth: int) -> None:
        self.active, self.h, self.key, self.depth = active, h, key, depth

    def __enter__(self) -> bool:
        found = self.active.get(self.key)
        if found is not None:
            self.h.update(b"cycle:%d" % (self.depth - found))
            self.key = -1
            return False
        self.active[self.key] = self.depth
        return True

    def __exit__(self, *exc: object) -> None:
        if self.key != -1:
            del self.active[self.key]


def scalar_token(value: Any) -> str | None:
    """The key of a small plain scalar, without a walk (``None``: not one)."""
    kind = type(value)
    if kind is int:
        return "i" + repr(value) if -(2**64) < value < 2**64 else None
    if kind is str:  # repr() escapes control characters: a token never holds a NUL
        return "s" + repr(value) if len(value) <= 40 else None
    if kind is float:
        return "f" + repr(value)
    if kind is bool:
        return "b1" if value else "b0"
    if value is None:
        return "n"
    return None


def _feed_scalar(h: Any, value: Any, kind: type) -> None:
    if kind is str:
        data = value.encode("utf-8", "surrogatepass")
    elif kind is bytes:
        data = value
    elif kind is int:  # not repr(): Python refuses str() of ints above 4300 digits
        data = value.to_bytes((value.bit_length() + 8) // 8, "little", signed=True)
    else:
        data = repr(value).encode()
    h.update(b"%s%d:" % (_SCALAR_TAGS[kind], len(data)))
    h.update(data)


def _feed_sorted(h: Any, tag: bytes, tokens: list[Any]) -> None:
    h.update(b"%s:%d:" % (tag, len(tokens)))
    h.update(repr(tokens).encode())


def _label(key: Any) -> str:
    return repr(key) if type(key) in _SCALAR_TAGS else f"<{type(key).__name__}>"


def how_counted(value: Any) -> tuple[str, str]:
    """``(how, detail)`` of a reached value, for a :class:`KeyPart`."""
    kind = type(value)
    if isinstance(value, types.ModuleType):
        return "name", f"module {value.__name__}"
    if isinstance(value, Node):
        value = value.func
    if isinstance(value, types.MethodType | staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, types.FunctionType):
        return ("code" if is_user_function(value) else "name"), qualified_name(value)
    if isinstance(value, type):
        return ("code" if is_user_module(value.__module__) else "name"), qualified_name(value)
    if is_wrapper(value):
        return "code", qualified_name(vars(value)["__wrapped__"])
    if isinstance(value, functools.partial):
        return "code", f"partial of {qualified_name(value.func)}"
    if isinstance(value, types.BuiltinFunctionType):
        return "name", qualified_name(value)
    if callable(getattr(kind, "__cache_key__", None)):
        return "__cache_key__", qualified_name(kind)
    return "value", qualified_name(kind)
