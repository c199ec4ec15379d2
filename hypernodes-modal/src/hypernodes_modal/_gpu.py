"""GPU requests, checked here because Modal's client accepts any string.

Modal's client upper-cases a GPU string and sends it on: ``"NOPE"`` or
``"H100:16"`` fail only when the server refuses them, after the image was
built. :func:`check_gpu` accepts what Modal documents — a type, optionally
``:N`` GPUs per container, in any case, or a list of them as fallbacks — and
returns it in Modal's spelling (``"h100:2"`` -> ``"H100:2"``).
"""

from __future__ import annotations

from typing import Any

from hypernodes.errors import suggest

from .errors import ModalSettingsError

__all__ = ["GPU_TYPES", "check_gpu"]

#: GPU types Modal documents, with the most of each one container may have.
GPU_TYPES: dict[str, int] = {
    "T4": 8,
    "L4": 8,
    "A10": 4,
    "A10G": 4,  # the former name of A10, still accepted
    "L40S": 8,
    "A100": 8,
    "A100-40GB": 8,
    "A100-80GB": 8,
    "RTX-PRO-6000": 8,
    "H100": 8,
    "H100!": 8,  # an H100 that is never upgraded to an H200
    "H200": 8,
    "B200": 8,
    "B200+": 8,  # a B200 or better, at the B200 price
}


def check_gpu(gpu: Any) -> str | list[str] | None:
    """``gpu`` in Modal's spelling, or an :class:`ModalSettingsError` listing the valid ones."""
    if gpu is None:
        return None
    if isinstance(gpu, list | tuple):
        if not gpu:
            msg = "gpu=[] asks for no GPU: pass gpu=None, or list GPU types to fall back on."
            raise ModalSettingsError(msg)
        return [_check_one(g) for g in gpu]
    return _check_one(gpu)


def _check_one(gpu: Any) -> str:
    if not isinstance(gpu, str):
        msg = (
            f"gpu must be a string such as 'A100' or 'H100:2' (or a list of them), got "
            f"{type(gpu).__name__} {gpu!r}. {_valid()}"
        )
        raise ModalSettingsError(msg)
    kind, colon, count_text = gpu.strip().partition(":")
    name = kind.strip().upper()
    most = GPU_TYPES.get(name)
    if most is None:
        msg = f"Unknown GPU type {kind!r} in gpu={gpu!r}{suggest(name, GPU_TYPES)}. {_valid()}"
        raise ModalSettingsError(msg)
    if not colon:
        return name
    try:
        count = int(count_text)
    except ValueError:
        count = 0
    if not 1 <= count <= most:
        msg = (
            f"gpu={gpu!r}: the count after ':' must be a whole number from 1 to {most} for "
            f"{name} (GPUs per container), got {count_text!r}."
        )
        raise ModalSettingsError(msg)
    return f"{name}:{count}"


def _valid() -> str:
    return (
        f"Valid types (any case, ':N' for N GPUs per container): {', '.join(GPU_TYPES)}. "
        "See https://modal.com/docs/guide/gpu."
    )
