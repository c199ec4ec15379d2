"""The plugin contract: four hooks, one per kind of swappable part.

A plugin is a module named by an entry point in the ``hypernodes`` group. It
imports nothing heavy and implements any of these hooks with
``from hypernodes import hookimpl``. Each hook is called once, the first time
a name is looked up or plugins are listed, and receives ``register``::

    register(name: str, factory) -> None

``factory`` is a class, a callable returning an instance, or a lazy
``"package.module:attribute"`` string imported only when the name is used.
The hooks return nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["HookSpecs", "Register", "hookimpl", "hookspec"]

PROJECT = "hypernodes"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: ``register(name, factory)``: factory is a class, a callable or a ``"module:attr"`` string.
Register = Callable[[str, Any], None]


class HookSpecs:
    """Hook specifications of the ``hypernodes`` plugin project."""

    @hookspec
    def register_executors(self, register: Register) -> None:
        """Register executor strategies (``Pipeline(executor="name")``).

        :param register: ``register(name, factory)``; the factory must produce an
            ``ExecutorStrategy`` when called with no arguments.
        """

    @hookspec
    def register_backends(self, register: Register) -> None:
        """Register backends (``Pipeline(backend="name")``).

        :param register: ``register(name, factory)``; the factory must produce a
            ``Backend`` when called with no arguments.
        """

    @hookspec
    def register_caches(self, register: Register) -> None:
        """Register caches (``Pipeline(cache="name")``).

        :param register: ``register(name, factory)``; the factory must produce a
            ``Cache`` when called with no arguments (with a sensible default location).
        """

    @hookspec
    def register_callbacks(self, register: Register) -> None:
        """Register callbacks (``Pipeline(callbacks=["name"])``).

        :param register: ``register(name, factory)``; the factory must produce a
            ``PipelineCallback`` when called with no arguments.
        """
