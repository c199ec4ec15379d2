"""The entry point: registers ``executor="daft"`` and ``backend="daft"``. Imports nothing heavy."""

from __future__ import annotations

from hypernodes import hookimpl


@hookimpl
def register_executors(register):  # type: ignore[no-untyped-def]
    register("daft", "hypernodes_daft._executor:DaftExecutor")


@hookimpl
def register_backends(register):  # type: ignore[no-untyped-def]
    register("daft", "hypernodes_daft._executor:DaftBackend")
