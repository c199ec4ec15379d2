"""Every exception hypernodes raises on its own account.

All of them derive from :class:`HyperNodesError`, and each also derives from
the built-in exception a Python user would expect (``ValueError`` for bad
values, ``TypeError`` for a wrong kind of object, ``LookupError`` for a name
that is not there), so ``except ValueError`` keeps working.

An exception raised *by a node* is never wrapped: it propagates with its own
type and traceback, and hypernodes adds notes (PEP 678) naming the node, the
map item and the enclosing pipelines.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CacheWarning",
    "CallbackWarning",
    "CycleError",
    "DuplicateOutputError",
    "HyperNodesError",
    "InputError",
    "MapInputError",
    "MissingDependencyError",
    "MissingInputsError",
    "MissingPluginError",
    "NodeTimeoutError",
    "NotANodeError",
    "OutputCountError",
    "PipelineDefinitionError",
    "PluginError",
    "PluginWarning",
    "RemoteError",
    "UnknownInputsError",
    "UnknownNameError",
    "UnknownOutputError",
    "WorkerLostError",
    "ZipLengthError",
    "suggest",
]


class HyperNodesError(Exception):
    """Base class of every hypernodes exception."""


class PipelineDefinitionError(HyperNodesError, ValueError):
    """A pipeline cannot be built from the nodes it was given."""


class DuplicateOutputError(PipelineDefinitionError):
    """Two nodes produce the same output name."""


class CycleError(PipelineDefinitionError):
    """The nodes depend on each other in a circle; ``cycle`` lists the path."""

    def __init__(self, message: str, cycle: list[str]) -> None:
        super().__init__(message)
        self.cycle = cycle


class NotANodeError(HyperNodesError, TypeError):
    """Something that is not a node, pipeline or ``PipelineNode`` was given as a node."""


class InputError(HyperNodesError, ValueError):
    """The inputs given to ``run`` or ``map`` do not fit the pipeline."""


class MissingInputsError(InputError):
    """Required inputs were not given; ``missing`` maps each to the nodes needing it."""

    def __init__(self, message: str, missing: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.missing = missing


class UnknownInputsError(InputError):
    """Inputs were given that no node takes."""

    def __init__(self, message: str, unknown: list[str]) -> None:
        super().__init__(message)
        self.unknown = unknown


class UnknownOutputError(InputError):
    """``output_name`` names something the pipeline does not produce."""


class MapInputError(InputError):
    """``map_over`` or ``map_mode`` does not fit the inputs given to ``map``."""


class ZipLengthError(MapInputError):
    """``map_mode="zip"`` was given lists of different lengths."""


class OutputCountError(HyperNodesError, ValueError):
    """A node with several output names returned a different number of values."""


class PluginError(HyperNodesError):
    """A plugin could not be loaded or two plugins claim one name."""


class UnknownNameError(HyperNodesError, LookupError):
    """A name given for an executor, backend, cache or callback is not registered."""


class MissingPluginError(HyperNodesError, ImportError):
    """A class provided by a plugin (``ModalBackend``, ``ProgressCallback``) is not available."""


class MissingDependencyError(HyperNodesError, ImportError):
    """An optional package or program (Graphviz) is missing; the message says what to install."""


class PluginWarning(UserWarning):
    """A plugin failed to load and was skipped; the others keep working."""


class WorkerLostError(HyperNodesError, RuntimeError):
    """A pool worker died while running map items; the message names the items in flight.

    ``lost`` lists their indices and ``results`` holds what every other item gave
    (``None`` where lost): a map that goes on past failures keeps them.
    """

    lost: list[int]
    results: list[object]


class NodeTimeoutError(HyperNodesError, TimeoutError):
    """A node call took longer than its ``timeout``; names the node, the item and the limit."""

    def __init__(
        self, message: str, node: str, item_path: tuple[int, ...] = (), timeout: float = 0.0
    ) -> None:
        super().__init__(message)
        self.node = node
        self.item_path = item_path
        self.timeout = timeout

    def __reduce__(self) -> tuple[object, ...]:
        # The attributes travel too: notes, and whether callbacks were told of it already.
        args = (str(self), self.node, self.item_path, self.timeout)
        return (NodeTimeoutError, args, self.__dict__)


class RemoteError(HyperNodesError, RuntimeError):
    """An exception raised elsewhere (a pool worker, a container) that could not come back
    as itself; ``type_name`` and ``remote_traceback`` say what it was and where."""

    def __init__(self, message: str, type_name: str, remote_traceback: str) -> None:
        super().__init__(message)
        self.type_name = type_name
        self.remote_traceback = remote_traceback


class CacheWarning(UserWarning):
    """A node call was not cached (or a cache entry was unreadable); the run goes on."""


class CallbackWarning(UserWarning):
    """A callback raised; it was switched off for the rest of the run."""


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A ' (did you mean ...?)' hint, or an empty string.

    Never suggests ``name`` itself nor one candidate twice: when the name typed
    is among the candidates, something other than spelling is wrong, and the
    caller says what.
    """
    import difflib

    others = [c for c in dict.fromkeys(candidates) if c != name]
    close = difflib.get_close_matches(name, others, n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"
