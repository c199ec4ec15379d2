"""Warnings that point at the user's line, not at the hypernodes internals that noticed.

A fixed ``stacklevel`` is wrong for warnings raised from code reached by many
paths (the plugin registry loads on the first name lookup, wherever that
happens), so :func:`warn_at_user` counts the frames inside this package.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import FrameType

__all__ = ["warn_at_user"]

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _is_import_machinery(filename: str) -> bool:
    # warnings.warn itself skips these frames when it counts stacklevel.
    return "importlib" in filename and "_bootstrap" in filename


def warn_at_user(message: str, category: type[Warning]) -> None:
    """Warn with the first frame outside ``hypernodes`` as the location."""
    level = 1  # this function
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not _is_import_machinery(filename):
            level += 1
            if not filename.startswith(_PACKAGE):
                break
        frame = frame.f_back
    warnings.warn(message, category, stacklevel=level)
