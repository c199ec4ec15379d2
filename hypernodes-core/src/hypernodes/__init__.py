"""hypernodes: pipelines of plain Python functions.

Write one function per step for one item, name its output, and let hypernodes
wire the steps by parameter name, run them, map them over many items, nest
pipelines, cache every step, and move the same code to other executors and
backends without touching the functions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._model import compat as _compat
from ._model.config import get_default_config, reset_default_config, set_default_config
from ._model.failures import ErrorSnapshot, ItemError, MapResult, error_snapshot
from ._model.node import Node, node
from ._model.pipeline import Pipeline
from ._model.pipeline_node import PipelineNode
from ._model.retries import Retries
from ._model.stateful import Stateful, stateful
from .caching._base import Cache, MemoryCache
from .caching._disk import DiskCache
from .callbacks._hooks import CallbackContext, PipelineCallback
from .engine._backend import Backend, LocalBackend
from .errors import HyperNodesError

if TYPE_CHECKING:
    from ._plugins.hookspecs import Register, hookimpl

_compat.install_old_module_finder()  # `import hypernodes.engines` (0.4) says what became of it

__version__ = "0.5.0"  # every distribution moves together; tests/test_packaging.py checks

__all__ = [
    "Backend",
    "Cache",
    "CallbackContext",
    "DiskCache",
    "ErrorSnapshot",
    "HyperNodesError",
    "ItemError",
    "LocalBackend",
    "MapResult",
    "MemoryCache",
    "Node",
    "Pipeline",
    "PipelineCallback",
    "PipelineNode",
    "Register",
    "Retries",
    "Stateful",
    "error_snapshot",
    "get_default_config",
    "hookimpl",
    "node",
    "reset_default_config",
    "set_default_config",
    "stateful",
]


def __getattr__(name: str) -> Any:
    if name in ("hookimpl", "Register"):  # pluggy: imported by plugin authors, not every user
        from ._plugins import hookspecs

        return getattr(hookspecs, name)
    if name in _compat.OLD_NAMES:  # HyperNodes 0.4: a warning and a stand-in, or an error
        return _compat.old_attribute(__name__, name)
    from ._plugins.registry import provided_attribute

    return provided_attribute(__name__, name)


def __dir__() -> list[str]:
    from ._plugins.registry import provided_names

    return sorted({*__all__, *provided_names(__name__)})
