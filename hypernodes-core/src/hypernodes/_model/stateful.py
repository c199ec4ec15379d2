"""``@stateful``: an expensive resource (a model, a client, a tokenizer) built once per process.

``@stateful`` on a class makes constructing it cheap: ``Model("small")``
returns at once a handle that remembers its constructor arguments. The real
object is built on first use (the first attribute or call), at most once per
process that uses the handle — the caller, each pool worker, each Dask worker,
each Modal container — and every copy of one handle in a process shares it.
A handle pickles as its class and arguments, never as the built object, and
its cache key is its class's code plus those arguments, so a node taking a
model still caches and is never keyed on weights.
"""

from __future__ import annotations

import os
import threading
from typing import Any, TypeVar

__all__ = ["Stateful", "stateful"]

T = TypeVar("T")

_built: dict[str, Any] = {}  # token -> the object built in this process
_locks: dict[str, threading.Lock] = {}
_registry_lock = threading.Lock()


def _forget_in_child() -> None:
    """A forked child builds its own objects (a model on a GPU does not survive fork)."""
    global _registry_lock
    _built.clear()
    _locks.clear()
    _registry_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_in_child)


class Stateful:
    """A handle on a resource declared with :func:`stateful`; see the module docstring.

    Attribute access and calls go to the built object; :attr:`instance` gives
    it directly (building it if needed) and :attr:`built` says whether this
    process has built it yet.
    """

    __slots__ = ("_hn_args", "_hn_kwargs", "_hn_token")

    _hn_class: type  # the decorated class, set on each generated subclass

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        object.__setattr__(self, "_hn_args", args)
        object.__setattr__(self, "_hn_kwargs", kwargs)
        object.__setattr__(self, "_hn_token", os.urandom(16).hex())

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
                    found = self._hn_class(*self._hn_args, **self._hn_kwargs)
                except Exception as exc:  # not remembered: the next use tries again
                    exc.add_note(f"hypernodes: while building the stateful resource {self!r}")
                    raise
                _built[token] = found
        return found

    @property
    def built(self) -> bool:
        """Whether this process has built the object already."""
        return self._hn_token in _built

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_hn_"):
            raise AttributeError(name)
        return getattr(self.instance, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.instance, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.instance(*args, **kwargs)

    def __cache_key__(self) -> tuple[Any, ...]:
        """The class (by its code) and the constructor arguments: never the built state."""
        return (self._hn_class, self._hn_args, self._hn_kwargs)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self._hn_args, self._hn_kwargs, self._hn_token))

    def __repr__(self) -> str:
        parts = [repr(a) for a in self._hn_args]
        parts += [f"{k}={v!r}" for k, v in self._hn_kwargs.items()]
        return f"{self._hn_class.__name__}({', '.join(parts)})"


def _rebuild(
    kind: type[Stateful], args: tuple[Any, ...], kwargs: dict[str, Any], token: str
) -> Stateful:
    handle = object.__new__(kind)
    object.__setattr__(handle, "_hn_args", args)
    object.__setattr__(handle, "_hn_kwargs", kwargs)
    object.__setattr__(handle, "_hn_token", token)
    return handle


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
    naming the resource, and is tried again at the next use.
    """
    if not isinstance(cls, type):
        msg = f"@stateful decorates a class, got {type(cls).__name__} {cls!r}."
        raise TypeError(msg)
    handle = type(
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
    return handle
