"""The entry point: registers ``backend="modal"``. Imports nothing heavy (not even modal)."""

from __future__ import annotations

from hypernodes import hookimpl


@hookimpl
def register_backends(register):  # type: ignore[no-untyped-def]
    register("modal", "hypernodes_modal.backend:ModalBackend")
