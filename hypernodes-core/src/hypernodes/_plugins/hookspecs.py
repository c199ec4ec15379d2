"""The plugin contract: four hooks, one per kind of swappable part.

A plugin is a module named by an entry point in the ``hypernodes`` group. It
imports nothing heavy and implements any of these hooks with
``from hypernodes import hookimpl``. Each hook is called once, the first time
a name is looked up or plugins are listed, and receives ``register``::

    register(name: str, factory) -> None

``factory`` is a class, a callable returning an instance, or a lazy
``"package.module:attribute"`` string imported only when the name is used.
The hooks return nothing. The core's names (``sequential``, ``eager``,
``threads``, ``processes``, ``local``, ``memory``, ``disk``) are reserved:
registering one is refused with a warning.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pluggy

__all__ = ["HookSpecs", "Register", "hookimpl", "hookspec"]

PROJECT = "hypernodes"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

#: The type of ``register`` in a hook implementation (``from hypernodes import Register``):
#: ``register(name, factory)``, factory a class, a callable or a ``"module:attr"`` string.
Register = Callable[[str, Any], None]


class HookSpecs:
    """Hook specifications of the ``hypernodes`` plugin project.

    Every hook is called once per process, for each plugin in turn (the core's
    built-ins first, then entry points in order of distribution name), the
    first time a name of any kind is looked up or plugins are listed. A hook
    that raises makes its plugin BROKEN (one warning) without touching the
    others.
    """

    @hookspec
    def register_executors(self, register: Register) -> None:
        """Register executor strategies, usable as ``Pipeline(executor="name")``.

        :param register: ``register(name, factory)``. ``factory`` is an
            ``ExecutorStrategy`` subclass, a callable returning an instance, or a
            lazy ``"module:attr"`` string imported only when the name is used.
            Called with no arguments when a user names the executor.

        Called once, at the first name lookup or listing. Returns nothing.
        """

    @hookspec
    def register_backends(self, register: Register) -> None:
        """Register backends, usable as ``Pipeline(backend="name")``.

        :param register: ``register(name, factory)``; the factory produces a
            ``Backend`` when called with no arguments (class, callable or
            ``"module:attr"``).

        Called once, at the first name lookup or listing. Returns nothing.
        """

    @hookspec
    def register_caches(self, register: Register) -> None:
        """Register caches, usable as ``Pipeline(cache="name")``.

        :param register: ``register(name, factory)``; the factory produces a
            ``Cache`` when called with no arguments, so it must pick a sensible
            default location or size.

        Called once, at the first name lookup or listing. Returns nothing.
        """

    @hookspec
    def register_callbacks(self, register: Register) -> None:
        """Register callbacks, usable as ``Pipeline(callbacks=["name"])``.

        :param register: ``register(name, factory)``; the factory produces a
            ``PipelineCallback`` when called with no arguments.

        Called once, at the first name lookup or listing. Returns nothing.
        """
