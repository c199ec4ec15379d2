"""hypernodes: pipelines of plain Python functions.

Write one function per step for one item, name its output, and let hypernodes
wire the steps by parameter name, run them, map them over many items, nest
pipelines, cache every step, and move the same code to other executors and
backends without touching the functions.
"""

from __future__ import annotations

from typing import Any

from ._backend import Backend, LocalBackend
from ._cache import Cache
from ._callbacks import CallbackContext, PipelineCallback
from ._config import get_default_config, reset_default_config, set_default_config
from ._node import Node, node
from ._pipeline import Pipeline
from ._pipeline_node import PipelineNode
from ._plugins.hookspecs import hookimpl
from .errors import HyperNodesError

__version__ = "0.1.0"

__all__ = [
    "Backend",
    "Cache",
    "CallbackContext",
    "HyperNodesError",
    "LocalBackend",
    "Node",
    "Pipeline",
    "PipelineCallback",
    "PipelineNode",
    "get_default_config",
    "hookimpl",
    "node",
    "reset_default_config",
    "set_default_config",
]


def __getattr__(name: str) -> Any:
    from ._plugins import provided_attribute

    return provided_attribute(__name__, name)


def __dir__() -> list[str]:
    from ._plugins import provided_names

    return sorted({*globals(), *provided_names(__name__)})
