"""The entry point: registers ``callbacks=["progress"]``. Imports nothing heavy."""

from __future__ import annotations

from hypernodes import hookimpl


@hookimpl
def register_callbacks(register):  # type: ignore[no-untyped-def]
    register("progress", "hypernodes_rich.progress:ProgressCallback")
