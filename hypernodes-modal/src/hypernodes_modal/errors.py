"""What ModalBackend raises on its own account (a node's own exceptions come back as themselves)."""

from __future__ import annotations

from hypernodes.errors import HyperNodesError

__all__ = ["ModalCredentialsError", "ModalSettingsError", "PayloadError"]


class ModalSettingsError(HyperNodesError, ValueError):
    """A ModalBackend setting Modal would refuse (only after building the image)."""


class ModalCredentialsError(HyperNodesError, RuntimeError):
    """No Modal credentials here, or Modal refused them."""


class PayloadError(HyperNodesError, RuntimeError):
    """The work reached the container but could not be started there (it did not unpack).

    The message says why it most likely failed (a module missing from the
    image, a Python or library version that differs from this process).
    """
