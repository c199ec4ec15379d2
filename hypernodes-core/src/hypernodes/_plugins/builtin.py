"""The core's own executors, backends and caches, registered like any plugin."""

from __future__ import annotations

from .hookspecs import Register, hookimpl


@hookimpl
def register_executors(register: Register) -> None:
    register("sequential", "hypernodes.executor:SequentialNodeExecutor")
    register("eager", "hypernodes.executor:EagerNodeExecutor")
    register("threads", "hypernodes.executor:threads")
    register("processes", "hypernodes.executor:processes")


@hookimpl
def register_backends(register: Register) -> None:
    register("local", "hypernodes.engine._backend:LocalBackend")


@hookimpl
def register_caches(register: Register) -> None:
    register("memory", "hypernodes.caching._base:MemoryCache")
    register("disk", "hypernodes.caching._disk:DiskCache")
