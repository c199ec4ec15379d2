"""HyperNodes 0.4 spellings: those accepted with a warning, and pointers for the rest.

hypernodes 0.5 succeeds HyperNodes 0.4.x under the same name; docs/migration.md
maps every public 0.4 name. This module is where code written for 0.4 meets it:

- **Accepted**, with a ``DeprecationWarning`` naming the new spelling and
  pointing at the user's line: ``Pipeline(engine=...)``, ``with_engine(...)``
  and ``pipeline.engine = ...`` (a 0.4 engine is an executor plus a cache and
  callbacks, which are pipeline settings now), ``with_name(...)``,
  ``as_node(cache=True)`` (0.4's default), ``SeqEngine``, and names that only
  moved (``hypernodes.CycleError`` is ``hypernodes.errors.CycleError``).
- **Refused** with a :class:`RemovedNameError` (an ``ImportError``) that names
  the replacement and the guide's section: ``DualNode``, ``DaftEngine``,
  ``DaskEngine``, ``GraphvizTheme`` and the other names in :data:`OLD_NAMES`
  without a stand-in.
- **0.4 modules** (``hypernodes.engines``, ``hypernodes.cache``, ...) import as
  stand-ins whose attributes follow the same rules, so
  ``from hypernodes.engines import SeqEngine`` warns and works and
  ``from hypernodes.engines import DaftEngine`` says what replaced it. Their
  finder sits at the end of ``sys.meta_path``: it is asked only about names no
  real module has, and answers only for the names in :data:`OLD_MODULES`.

Nothing here is on the path of a run: ``import hypernodes`` only appends the
finder, and the hooks in ``Pipeline`` and in the package ``__getattr__`` call
in only when a 0.4 spelling is used.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast

from .. import errors
from .._warnings import warn_at_user
from .config import UNSET

if TYPE_CHECKING:
    from importlib.abc import Loader

    from ..caching._base import Cache
    from ..callbacks._hooks import PipelineCallback
    from .config import CacheLike, CallbacksLike, ExecutorLike
    from .pipeline import Pipeline

__all__ = [
    "GUIDE",
    "OLD_MODULES",
    "OLD_NAMES",
    "RemovedNameError",
    "SeqEngine",
    "check_as_node",
    "check_with_name",
    "install_old_module_finder",
    "old_attribute",
    "pipeline_engine_error",
    "use_engine",
    "warn_renamed",
]

GUIDE = "docs/migration.md"


class RemovedNameError(errors.HyperNodesError, ImportError):
    """A HyperNodes 0.4 name with no stand-in; the message names what replaced it."""


class SeqEngine:
    """HyperNodes 0.4's sequential engine, kept as what it described.

    It runs nothing: ``Pipeline(engine=SeqEngine(cache=c, callbacks=cbs))``
    becomes ``Pipeline(executor=SequentialNodeExecutor(), cache=c,
    callbacks=cbs)``. A cache or callbacks left out stay unset, so the
    pipeline inherits them as any pipeline does.
    """

    def __init__(
        self, cache: Cache | None = None, callbacks: list[PipelineCallback] | None = None
    ) -> None:
        self.cache = cache
        self.callbacks = list(callbacks or [])

    def settings(self) -> dict[str, Any]:
        """The pipeline settings this engine stands for."""
        from ..executor import SequentialNodeExecutor

        settings: dict[str, Any] = {"executor": SequentialNodeExecutor()}
        if self.cache is not None:
            settings["cache"] = self.cache
        if self.callbacks:
            settings["callbacks"] = self.callbacks
        return settings

    def __repr__(self) -> str:
        return f"SeqEngine(cache={self.cache!r}, callbacks={self.callbacks!r})"


class _Old:
    """What became of a 0.4 name: its replacement, the guide's section, and a stand-in."""

    __slots__ = ("now", "section", "stand_in")

    def __init__(self, now: str, section: str, stand_in: Callable[[], Any] | None = None) -> None:
        self.now = now
        self.section = section
        self.stand_in = stand_in


#: 0.4 names that are not (or not under that name) in hypernodes 0.5. Those
#: with a stand-in are handed out with a warning; the others raise.
OLD_NAMES: dict[str, _Old] = {
    "SeqEngine": _Old(
        "SequentialNodeExecutor from hypernodes.executor; the engine's cache and callbacks "
        "are pipeline settings: Pipeline(nodes, executor=SequentialNodeExecutor(), "
        "cache=..., callbacks=...)",
        "seqengine",
        lambda: SeqEngine,
    ),
    "DaskEngine": _Old(
        "an executor whose map pool runs the items: executor='threads' or 'processes', or "
        "SequentialNodeExecutor(map_executor=client.get_executor()) for a Dask cluster",
        "daskengine",
    ),
    "DaftEngine": _Old(
        "DaftExecutor from hypernodes.executor (pip install 'hypernodes[daft]'): "
        "Pipeline(nodes, executor=DaftExecutor())",
        "daftengine",
    ),
    "Engine": _Old(
        "an executor strategy (hypernodes.executor.ExecutorStrategy) for how a pipeline "
        "runs, or a backend (hypernodes.Backend) for where",
        "your-own-engine",
    ),
    "DualNode": _Old(
        "one node with a batch implementation: @node(output_name=...) on the one-item "
        "function, then @that_node.batch on the version taking lists",
        "dualnode",
    ),
    "BatchAdapter": _Old("@that_node.batch on a node", "dualnode"),
    "batch_optimized": _Old("@that_node.batch on a node", "dualnode"),
    "HyperNode": _Old("Node | PipelineNode, both importable from hypernodes", "nodes"),
    "Cache": _Old(
        "hypernodes.Cache, whose get() returns (hit, value) and whose has() is contains()",
        "caching",
    ),
    "GraphvizTheme": _Old(
        "pipeline.visualize(direction=..., depth=...) with its one built-in look, or "
        "pipeline.to_dot() to style the DOT text yourself",
        "visualisation",
    ),
    "DESIGN_STYLES": _Old(
        "pipeline.visualize(direction=..., depth=...) with its one built-in look, or "
        "pipeline.to_dot() to style the DOT text yourself",
        "visualisation",
    ),
    "CycleError": _Old("hypernodes.errors.CycleError", "errors", lambda: errors.CycleError),
    "DependencyError": _Old(
        "hypernodes.errors.DuplicateOutputError (0.4 raised DependencyError only for two "
        "nodes producing one output)",
        "errors",
        lambda: errors.DuplicateOutputError,
    ),
    "ExecutionError": _Old(
        "the node's own exception type: a node's exception propagates as itself, with "
        "notes naming the node (0.4 never raised ExecutionError either)",
        "errors",
    ),
}

#: 0.4 modules that are gone -> the module that holds what they had, if one does.
OLD_MODULES: dict[str, str | None] = {
    "hypernodes.engines": "hypernodes.executor",
    "hypernodes.sequential_engine": "hypernodes.executor",
    "hypernodes.integrations": None,
    "hypernodes.integrations.daft": None,
    "hypernodes.integrations.dask": None,
    "hypernodes.protocols": None,
    "hypernodes.node": "hypernodes",
    "hypernodes.pipeline": "hypernodes",
    "hypernodes.pipeline_node": "hypernodes",
    "hypernodes.hypernode": None,
    "hypernodes.dual_node": None,
    "hypernodes.decorators": "hypernodes",
    "hypernodes.batch_adapter": None,
    "hypernodes.cache": "hypernodes",
    "hypernodes.exceptions": "hypernodes.errors",
    "hypernodes.viz": None,
}

_OLD_PACKAGES = frozenset({"hypernodes.integrations"})


def old_attribute(module: str, name: str) -> Any:
    """Resolve ``module.name`` for a 0.4 name: warn and hand out its stand-in, or raise."""
    old = OLD_NAMES.get(name)
    if old is not None:
        where = f"{module}.{name}" if module != "hypernodes" else name
        see = f"See the migration guide: {GUIDE}#{old.section}"
        if old.stand_in is None:
            msg = f"{where} was HyperNodes 0.4 API, not in hypernodes 0.5; use {old.now}. {see}"
            raise RemovedNameError(msg, name=name)
        warn_renamed(f"{where} is HyperNodes 0.4's spelling; use {old.now}. {see}")
        return old.stand_in()
    home = OLD_MODULES.get(module)
    if home is not None and not name.startswith("_"):
        try:
            found = getattr(importlib.import_module(home), name)
        except AttributeError:
            pass
        else:
            warn_renamed(
                f"{module} is a HyperNodes 0.4 module; import {name} from {home}. "
                f"See the migration guide: {GUIDE}#old-modules"
            )
            return found
    if name.startswith("__"):  # asked by the import system and by tools, not by users
        msg = f"module {module!r} has no attribute {name!r}"
        raise AttributeError(msg)
    msg = (
        f"{module} was a HyperNodes 0.4 module, and hypernodes 0.5 has no {name} "
        f"{f'in {home}' if home else 'in its place'}. The migration guide says what each 0.4 "
        f"module became: {GUIDE}#old-modules"
    )
    raise RemovedNameError(msg, name=name)


def warn_renamed(message: str) -> None:
    """A ``DeprecationWarning`` for a 0.4 spelling, located at the user's line."""
    warn_at_user(message, DeprecationWarning)


# -- Pipeline ----------------------------------------------------------------------


def use_engine(
    pipeline: Pipeline,
    engine: object,
    spelling: str,
    executor: ExecutorLike = UNSET,
    cache: CacheLike = UNSET,
    callbacks: CallbacksLike = UNSET,
) -> None:
    """Apply a 0.4 engine to ``pipeline`` as executor, cache and callbacks, with a warning.

    ``executor``, ``cache`` and ``callbacks`` are what the same call gave
    explicitly: an engine carrying one of them as well is ambiguous.
    """
    settings = _engine_settings(engine, spelling)
    given = {"executor": executor, "cache": cache, "callbacks": callbacks}
    clash = [key for key in settings if given[key] is not UNSET]
    if clash:
        both = " and ".join(f"{key}=" for key in clash)
        msg = (
            f"Pipeline() got engine= (the HyperNodes 0.4 spelling) and {both}, which the "
            f"engine sets too: drop engine= and give executor=, cache= and callbacks= "
            f"alone. See the migration guide: {GUIDE}#engines"
        )
        raise TypeError(msg)
    if settings:
        rewrite = ", ".join(f"{key}={_shown(value)}" for key, value in settings.items())
        instead = (
            f"configure the pipeline instead: Pipeline(nodes, {rewrite}), or "
            "pipeline.with_executor(...) and the other with_* setters"
        )
    else:
        instead = "an engine of None was 0.4's default: leave it out"
    warn_renamed(
        f"{spelling} is HyperNodes 0.4's spelling; {instead}. "
        f"See the migration guide: {GUIDE}#engines"
    )
    if "executor" in settings:
        pipeline.with_executor(settings["executor"])
    if "cache" in settings:
        pipeline.with_cache(settings["cache"])
    if "callbacks" in settings:
        pipeline.with_callbacks(settings["callbacks"])


def _engine_settings(engine: object, spelling: str) -> dict[str, Any]:
    from ..executor import ExecutorStrategy

    if engine is None:  # 0.4's default, SeqEngine(): nothing to set
        return {}
    if isinstance(engine, type) and issubclass(engine, SeqEngine):
        engine = engine()
    if isinstance(engine, SeqEngine):
        return engine.settings()
    if isinstance(engine, str | ExecutorStrategy) or (
        isinstance(engine, type) and issubclass(engine, ExecutorStrategy)
    ):
        return {"executor": engine}
    msg = (
        f"{spelling} got {engine!r}, which is not an engine hypernodes 0.5 can stand in "
        "for. A HyperNodes 0.4 engine is now an executor (how a pipeline runs: "
        "hypernodes.executor) plus the pipeline's cache and callbacks; DaskEngine and "
        f"DaftEngine have their own replacements. See the migration guide: {GUIDE}#engines"
    )
    raise TypeError(msg)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "[" + ", ".join(f"{type(v).__name__}(...)" for v in value) + "]"
    return repr(value)


def pipeline_engine_error() -> AttributeError:
    """The error for reading ``pipeline.engine``, which 0.4 had and 0.5 does not."""
    msg = (
        "Pipeline.engine was HyperNodes 0.4 API: a pipeline now has an executor, a "
        "backend, a cache and callbacks of its own; read effective_executor, "
        "effective_backend, effective_cache or effective_callbacks. "
        f"See the migration guide: {GUIDE}#engines"
    )
    return AttributeError(msg)


def check_with_name(name: object) -> str:
    """Warn about 0.4's ``with_name(name)``; return the name if it is one."""
    if not isinstance(name, str) or not name:
        msg = f"with_name() takes a non-empty string, got {name!r}."
        raise TypeError(msg)
    warn_renamed(
        f"with_name() is HyperNodes 0.4's spelling; use Pipeline(nodes, name={name!r}). "
        f"See the migration guide: {GUIDE}#pipelines"
    )
    return name


def check_as_node(name: object, cache: Any) -> Any:
    """Refuse 0.4's positional ``as_node(input_mapping)``; accept 0.4's ``cache=True``.

    Returns the cache setting to use (``UNSET``, "inherit", for ``True``).
    """
    if isinstance(name, Mapping):
        msg = (
            f"as_node() got a mapping, {dict(name)!r}, as its name: in HyperNodes 0.4 the "
            "first positional argument was input_mapping; pass it by keyword, "
            f"as_node(input_mapping=...). See the migration guide: {GUIDE}#nesting"
        )
        raise TypeError(msg)
    if cache is True:
        warn_renamed(
            "as_node(cache=True) is HyperNodes 0.4's default; leave cache out to use the "
            "cache this pipeline inherits (as_node(cache=None) turns caching off, "
            f"as_node(cache=DiskCache(...)) sets one). See the migration guide: {GUIDE}#nesting"
        )
        return UNSET
    return cache


# -- the 0.4 modules ------------------------------------------------------------------


class _OldModules:
    """Finds 0.4 module names once every real finder has failed, and makes stand-ins."""

    @classmethod
    def find_spec(
        cls, fullname: str, path: object = None, target: object = None
    ) -> ModuleSpec | None:
        if fullname not in OLD_MODULES:
            return None
        return ModuleSpec(fullname, cast("Loader", cls), is_package=fullname in _OLD_PACKAGES)

    @staticmethod
    def create_module(spec: ModuleSpec) -> None:
        return None  # the default module object

    @staticmethod
    def exec_module(module: ModuleType) -> None:
        name = module.__name__
        module.__doc__ = f"Stand-in for HyperNodes 0.4's {name}; see {GUIDE}#old-modules."

        def __getattr__(attribute: str) -> Any:
            return old_attribute(name, attribute)

        module.__dict__["__getattr__"] = __getattr__


def install_old_module_finder() -> None:
    """Put the finder of 0.4 modules last on ``sys.meta_path`` (once)."""
    if not any(getattr(f, "__name__", None) == "_OldModules" for f in sys.meta_path):
        sys.meta_path.append(_OldModules)
