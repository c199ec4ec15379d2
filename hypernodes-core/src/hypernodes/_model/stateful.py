"""``@stateful``: an expensive resource (a model, a client, a tokenizer) built once per process.

``@stateful`` on a class makes constructing it cheap: ``Model("small")``
returns at once a handle that remembers its constructor arguments. The real
object is built on first use (the first attribute, call, ``len``, index...),
at most once per process that uses the handle — the caller, each pool worker,
each Dask worker, each Modal container — and every copy of one handle in a
process shares it; it is freed when the last copy there is gone. A handle
pickles as its class and arguments, never as the built object, and its cache
key is its class's code plus those arguments (plus the class's own
``__cache_key__()``, if it defines one), so a node taking a model still
caches and is never keyed on weights.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any, TypeVar

__all__ = ["Stateful", "stateful"]

T = TypeVar("T")

_built: dict[str, Any] = {}  # token -> the object built in this process
_locks: dict[str, threading.Lock] = {}
_handles: dict[str, int] = {}  # token -> how many handles with it exist in this process
_registry_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked child builds its own objects (a model on a GPU does not survive fork)."""
    global _registry_lock
    _built.clear()
    _locks.clear()
    _registry_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class _StatefulType(type):
    """The class of handle classes: class attributes and ``isinstance`` reach the class."""

    _hn_class: type

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") or name == "_hn_class":
            raise AttributeError(name)
        return getattr(cls._hn_class, name)  # Model.SIZE, Model.from_config(...)

    def __instancecheck__(cls, instance: Any) -> bool:
        target = cls.__dict__.get("_hn_class")
        if target is not None and isinstance(instance, target):
            return True  # the built object is a Model too
        return type.__instancecheck__(cls, instance)


class Stateful(metaclass=_StatefulType):
    """A handle on a resource declared with :func:`stateful`; see the module docstring.

    Attribute access, calls and the container protocols (``len``, indexing,
    iteration, ``in``, ``with``) go to the built object; :attr:`instance`
    gives it directly (building it if needed) and :attr:`built` says whether
    this process has built it yet. A handle is always true: ``if model:``
    builds nothing.
    """

    __slots__ = ("_hn_args", "_hn_kwargs", "_hn_token")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_hn_args", args)
        object.__setattr__(self, "_hn_kwargs", kwargs)
        _register(self, os.urandom(16).hex())

    @property
    def instance(self) -> Any:
        """The built object (built now, once per process, if it was not yet)."""
        token = self._hn_token
        found = _built.get(token)
        if found is not None:
            return found
        with _registry_lock:
            lock = _locks.setdefault(token, threading.Lock())
        with lock:
            found = _built.get(token)
            if found is None:
                try:
                    found = type(self)._hn_class(*self._hn_args, **self._hn_kwargs)
                except Exception as exc:  # not remembered: the next use tries again
                    from ..engine._steps import note

                    note(exc, f"while building the stateful resource {self!r}")
                    raise
                _built[token] = found
        return found

    @property
    def built(self) -> bool:
        """Whether this process has built the object already."""
        return self._hn_token in _built

    def __getattr__(self, name: str) -> Any:
        if name.startswith(("__", "_hn_")):  # protocol lookups build nothing
            raise AttributeError(name)
        return getattr(self.instance, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.instance, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.instance(*args, **kwargs)

    def __len__(self) -> int:
        return len(self.instance)

    def __getitem__(self, key: Any) -> Any:
        return self.instance[key]

    def __iter__(self) -> Any:
        return iter(self.instance)

    def __contains__(self, item: Any) -> bool:
        return item in self.instance

    def __enter__(self) -> Any:
        return self.instance.__enter__()

    def __exit__(self, *exc_info: Any) -> Any:
        return self.instance.__exit__(*exc_info)

    def __bool__(self) -> bool:
        return True

    def __cache_key__(self) -> tuple[Any, ...]:
        """The class (by its code) and the constructor arguments, never the built state;
        plus the class's own ``__cache_key__()`` when it defines one (which builds it)."""
        kind = type(self)._hn_class
        key: tuple[Any, ...] = (kind, self._hn_args, self._hn_kwargs)
        own = getattr(kind, "__cache_key__", None)
        if callable(own):
            key += (own(self.instance),)
        return key

    def __reduce__(self) -> tuple[Any, ...]:
        kind = type(self)
        args = (self._hn_args, self._hn_kwargs, self._hn_token)
        if _importable(kind):
            return (_rebuild, (kind, *args))
        return (_rebuild_of, (kind._hn_class, *args))  # by the decorated class itself

    def __del__(self) -> None:
        token = getattr(self, "_hn_token", None)
        if token is None:
            return
        try:
            with _registry_lock:
                left = _handles.get(token, 1) - 1
                if left > 0:
                    _handles[token] = left
                    return
                _handles.pop(token, None)
                _locks.pop(token, None)
                _built.pop(token, None)  # the last handle here is gone: so is its object
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        parts = [repr(a) for a in self._hn_args]
        parts += [f"{k}={v!r}" for k, v in self._hn_kwargs.items()]
        return f"{type(self)._hn_class.__name__}({', '.join(parts)})"


def _register(handle: Stateful, token: str) -> None:
    object.__setattr__(handle, "_hn_token", token)
    with _registry_lock:
        _handles[token] = _handles.get(token, 0) + 1


def _rebuild(
    kind: type[Stateful], args: tuple[Any, ...], kwargs: dict[str, Any], token: str
) -> Stateful:
    handle = object.__new__(kind)
    object.__setattr__(handle, "_hn_args", args)
    object.__setattr__(handle, "_hn_kwargs", kwargs)
    _register(handle, token)
    return handle


def _rebuild_of(
    original: type, args: tuple[Any, ...], kwargs: dict[str, Any], token: str
) -> Stateful:
    return _rebuild(stateful(original), args, kwargs, token)


def _importable(kind: type) -> bool:
    """Whether pickle can find ``kind`` by its module and name."""
    found: Any = sys.modules.get(kind.__module__)
    for part in kind.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is kind


_handle_classes: dict[type, type] = {}


def stateful(cls: type[T]) -> type[T]:
    """Declare ``cls`` an expensive resource: built lazily, once per process, shipped as its
    constructor arguments, cached by its code and arguments::

        @stateful
        class Embedder:
            def __init__(self, name: str):
                self.model = load_model(name)  # slow: runs on first use, once per process

            def embed(self, text: str) -> list[float]:
                return self.model.encode(text)

        @node(output_name="vector")
        def embed(text: str, embedder: Embedder) -> list[float]:
            return embedder.embed(text)

        pipeline.bind(embedder=Embedder("small")).map({"text": texts})

    ``Embedder("small")`` returns a handle at once; the model loads when a node
    first uses it. Construction is thread-safe (one build per process, however
    many threads ask at once); a constructor that raises raises its own error,
    naming the resource, and is tried again at the next use. Class attributes
    and class methods stay reachable (``Embedder.DIMENSION``), and
    ``isinstance(x, Embedder)`` holds for handles and built objects alike.
    """
    if not isinstance(cls, type):
        msg = f"@stateful decorates a class, got {type(cls).__name__} {cls!r}."
        raise TypeError(msg)
    found = _handle_classes.get(cls)
    if found is None:
        found = _handle_classes[cls] = _StatefulType(
            cls.__name__,
            (Stateful,),
            {
                "__slots__": (),
                "_hn_class": cls,
                "__module__": cls.__module__,
                "__qualname__": cls.__qualname__,
                "__doc__": cls.__doc__,
            },
        )
    return found
