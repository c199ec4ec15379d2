"""The core's own executors, backends and caches, registered like any plugin."""

from __future__ import annotations

from .hookspecs import Register, hookimpl


@hookimpl
def register_executors(register: Register) -> None:
    register("sequential", "hypernodes.executor:SequentialNodeExecutor")


@hookimpl
def register_backends(register: Register) -> None:
    register("local", "hypernodes._backend:LocalBackend")
