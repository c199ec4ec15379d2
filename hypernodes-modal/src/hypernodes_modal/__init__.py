"""hypernodes-modal: run hypernodes pipelines in Modal containers (GPUs, volumes, secrets).

``from hypernodes import ModalBackend`` (or ``backend="modal"``) once this
distribution is installed. Loading the plugin imports neither modal nor the
backend; modal is imported when the Modal objects are first built.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ModalBackend"]


def __getattr__(name: str) -> Any:
    if name == "ModalBackend":
        from .backend import ModalBackend

        return ModalBackend
    msg = f"module 'hypernodes_modal' has no attribute {name!r}"
    raise AttributeError(msg)
