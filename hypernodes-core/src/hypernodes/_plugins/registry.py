"""The plugin registry: names of executors, backends, caches and callbacks, found lazily.

Loading happens once, at the first name lookup or listing, never at import:

1. the core's built-ins (``hypernodes._plugins.builtin``) are registered first;
2. then, in order of distribution name, unless
   ``HYPERNODES_DISABLE_PLUGIN_AUTOLOAD=1``, each entry point of the
   ``hypernodes`` group is loaded (only those named in ``HYPERNODES_PLUGINS=a,b``
   when that is set; a name there that matches no installed plugin is a
   warning); a plugin that fails to import or to register (any exception,
   ``sys.exit()`` included; only ``KeyboardInterrupt`` gets through) becomes
   one warning and a BROKEN row, and the others keep working;
3. each plugin's hooks are called with a ``register`` that records who
   registered what. The core's own names (``sequential``, ``eager``,
   ``threads``, ``processes``, ``local``, ``memory``, ``disk``) are reserved:
   a plugin claiming one is refused with a warning and the core's keeps
   working. Any other name claimed twice is an error naming both
   distributions when it is used.

Every warning points at the user's line that triggered loading, not at this module.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import threading
from importlib import metadata
from typing import Any

import pluggy

from .._warnings import warn_at_user
from ..errors import MissingPluginError, PluginError, PluginWarning, UnknownNameError, suggest
from . import builtin
from .hookspecs import PROJECT, HookSpecs

__all__ = ["FIRST_PARTY", "PluginInfo", "Registry", "registry"]

ENTRY_POINT_GROUP = "hypernodes"
HOOKS = {
    "executor": "register_executors",
    "backend": "register_backends",
    "cache": "register_caches",
    "callback": "register_callbacks",
}

#: Names provided by first-party distributions: kind -> name -> (distribution, extra).
FIRST_PARTY: dict[str, dict[str, tuple[str, str]]] = {
    "executor": {"daft": ("hypernodes-daft", "daft")},
    "backend": {"modal": ("hypernodes-modal", "modal"), "daft": ("hypernodes-daft", "daft")},
    "cache": {},
    "callback": {"progress": ("hypernodes-rich", "rich")},
}

#: Classes that core modules re-export from plugins: module -> attribute -> (kind, name).
PROVIDED_ATTRIBUTES: dict[str, dict[str, tuple[str, str]]] = {
    "hypernodes": {
        "ModalBackend": ("backend", "modal"),
        "DaftBackend": ("backend", "daft"),
        "ProgressCallback": ("callback", "progress"),
    },
    "hypernodes.executor": {"DaftExecutor": ("executor", "daft")},
    "hypernodes.telemetry": {"ProgressCallback": ("callback", "progress")},
}


class Entry:
    """One registered name: its factory and the plugin that registered it."""

    __slots__ = ("factory", "plugin")

    def __init__(self, factory: Any, plugin: PluginInfo) -> None:
        self.factory = factory
        self.plugin = plugin


class PluginInfo:
    """One row of ``hypernodes plugins``."""

    def __init__(self, name: str, distribution: str, version: str) -> None:
        self.name = name
        self.distribution = distribution
        self.version = version
        self.names: dict[str, list[str]] = {kind: [] for kind in HOOKS}
        self.refused: list[str] = []  # "executor 'sequential'": core names it tried to take
        self.error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            **{f"{kind}s": names for kind, names in self.names.items()},
            "refused": self.refused,
            "status": "ok" if self.error is None else "BROKEN",
            "error": self.error,
        }


class Registry:
    """Every registered name, per kind, loaded on first use."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._loaded = False
        self.plugins: list[PluginInfo] = []
        self._entries: dict[str, dict[str, Entry]] = {kind: {} for kind in HOOKS}
        self._conflicts: dict[tuple[str, str], list[PluginInfo]] = {}
        self._skipped: list[tuple[str | None, str]] = []  # (distribution, or None for all; why)
        self._core: PluginInfo | None = None

    # -- loading -----------------------------------------------------------------

    def load(self) -> Registry:
        """Load the built-ins and the entry points (once)."""
        if self._loaded:
            return self
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
        return self

    def _load(self) -> None:
        manager = pluggy.PluginManager(PROJECT)
        manager.add_hookspecs(HookSpecs)
        self._core = PluginInfo("builtin", "hypernodes-core", _version("hypernodes-core"))
        self._add(manager, builtin, self._core)
        if os.environ.get("HYPERNODES_DISABLE_PLUGIN_AUTOLOAD", "").strip() not in ("", "0"):
            self._skipped.append(
                (None, "every entry point (HYPERNODES_DISABLE_PLUGIN_AUTOLOAD is set)")
            )
            return
        only = {
            _canonical(n) for n in os.environ.get("HYPERNODES_PLUGINS", "").split(",") if n.strip()
        }
        seen: set[tuple[str, str]] = set()
        found = metadata.entry_points(group=ENTRY_POINT_GROUP)
        for ep in sorted(found, key=lambda ep: (ep.dist.name if ep.dist else "", ep.name)):
            dist = ep.dist.name if ep.dist is not None else "?"
            if (ep.name, dist) in seen:
                continue  # the same distribution found twice on sys.path
            seen.add((ep.name, dist))
            if only and _canonical(ep.name) not in only and _canonical(dist) not in only:
                self._skipped.append((dist, f"{ep.name} ({dist}): not in HYPERNODES_PLUGINS"))
                continue
            version = ep.dist.version if ep.dist is not None else "?"
            info = PluginInfo(ep.name, dist, version)
            try:
                module = ep.load()
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a plugin calling sys.exit() is broken, not fatal
                self._broken(info, f"import of {ep.value!r} failed: {_describe(exc)}")
                continue
            self._add(manager, module, info)
        if only:
            self._warn_unmatched(only, seen)

    def _warn_unmatched(self, only: set[str], seen: set[tuple[str, str]]) -> None:
        """Warn about each name in ``HYPERNODES_PLUGINS`` that matches no installed plugin."""
        installed = sorted({name for pair in seen for name in pair})
        known = {_canonical(n) for n in installed} | {"builtin", "hypernodes-core"}
        for wanted in sorted(only - known):
            warn_at_user(
                f"HYPERNODES_PLUGINS names {wanted!r}, but no installed plugin or distribution "
                f"has that name{suggest(wanted, installed)}; it is ignored. Installed: "
                f"{', '.join(installed) or '(none)'} (`hypernodes plugins` lists them).",
                PluginWarning,
            )

    def _add(self, manager: pluggy.PluginManager, plugin: object, info: PluginInfo) -> None:
        self.plugins.append(info)
        try:
            manager.register(plugin, name=f"{info.distribution}:{info.name}")
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            self._broken(info, _describe(exc))
            return
        for kind, hook_name in HOOKS.items():
            hook = getattr(manager.hook, hook_name)
            for impl in hook.get_hookimpls():
                if impl.plugin is not plugin:
                    continue
                try:
                    impl.function(register=self._register_for(kind, info))
                except KeyboardInterrupt:
                    raise
                except BaseException as exc:
                    self._broken(info, f"{hook_name} failed: {_describe(exc)}")
                    return

    def _broken(self, info: PluginInfo, error: str) -> None:
        info.error = error
        if info not in self.plugins:
            self.plugins.append(info)
        for kind, names in info.names.items():
            for name in names:
                entry = self._entries[kind].get(name)
                if entry is not None and entry.plugin is info:
                    del self._entries[kind][name]
        warn_at_user(
            f"hypernodes plugin {info.name!r} from {info.distribution} is skipped: {error}",
            PluginWarning,
        )

    def _register_for(self, kind: str, info: PluginInfo) -> Any:
        def register(name: str, factory: Any) -> None:
            if not isinstance(name, str) or not name:
                msg = f"register() needs a non-empty name string, got {name!r}."
                raise TypeError(msg)
            if not (callable(factory) or (isinstance(factory, str) and ":" in factory)):
                msg = (
                    f"register({name!r}, ...) needs a class, a callable or a "
                    f"'module:attribute' string, got {factory!r}."
                )
                raise TypeError(msg)
            existing = self._entries[kind].get(name)
            if existing is not None and existing.plugin is self._core:
                info.refused.append(f"{kind} {name!r}")
                warn_at_user(
                    f"hypernodes plugin {info.name!r} from {info.distribution} registers the "
                    f"{kind} name {name!r}, which is reserved for hypernodes-core's own {kind}: "
                    f"it is refused, and {name!r} keeps meaning the core's. The plugin must "
                    "register it under another name.",
                    PluginWarning,
                )
                return
            info.names[kind].append(name)
            if existing is not None:
                claimants = self._conflicts.setdefault((kind, name), [existing.plugin])
                claimants.append(info)
                return
            self._entries[kind][name] = Entry(factory, info)

        return register

    # -- lookups -----------------------------------------------------------------

    def names(self, kind: str) -> list[str]:
        """The registered names of one kind, in registration order."""
        return list(self.load()._entries[kind])

    def factory(self, kind: str, name: str) -> Any:
        """The resolved factory for ``name`` (a lazy string is imported now)."""
        self.load()
        conflict = self._conflicts.get((kind, name))
        if conflict:
            who = " and ".join(f"{p.distribution} (plugin {p.name!r})" for p in conflict)
            msg = (
                f"The {kind} name {name!r} is registered by both {who}. Uninstall one of "
                "them, or load only one with HYPERNODES_PLUGINS=..."
            )
            raise PluginError(msg)
        entry = self._entries[kind].get(name)
        if entry is None:
            raise UnknownNameError(self._unknown_message(kind, name))
        factory = entry.factory
        if isinstance(factory, str):
            factory = _import_factory(factory, kind, name, entry.plugin)
            entry.factory = factory
        return factory

    def create(self, kind: str, name: str) -> Any:
        """An instance for ``name``: the factory called with no arguments.

        A factory that fails to import what it needs is explained like a
        module that fails to import: which distribution, and how to repair it.
        """
        factory = self.factory(kind, name)
        try:
            return factory()
        except ImportError as exc:
            plugin = self._entries[kind][name].plugin
            raise PluginError(_import_failure(kind, name, plugin, str(exc))) from exc

    def _unknown_message(self, kind: str, name: str) -> str:
        available = list(self._entries[kind])
        msg = f"No {kind} is registered under {name!r}"
        first_party = FIRST_PARTY[kind].get(name)
        broken = next((p for p in self.plugins if p.error and name in p.names[kind]), None)
        if first_party is not None:
            msg += ". " + self._first_party_status(*first_party)
        elif broken is not None:
            msg += (
                f". The plugin {broken.name!r} from {broken.distribution} registers it but "
                f"failed to load: {broken.error}."
            )
        else:
            msg += f"{suggest(name, [*available, *FIRST_PARTY[kind]])}."
        msg += f" Available {kind}s: {', '.join(available) or '(none)'}."
        return msg

    def _first_party_status(self, dist: str, extra: str) -> str:
        """Why a name that ``dist`` provides is missing, and what to do about it."""
        version = _version(dist)
        if version == "?":
            install = f"pip install 'hypernodes[{extra}]'"
            return f"It is provided by {dist}, which is not installed: {install}."
        mine = _canonical(dist)
        broken = next(
            (p for p in self.plugins if p.error and _canonical(p.distribution) == mine), None
        )
        if broken is not None:
            return (
                f"It is provided by {dist} {version}, which is installed but failed to load "
                f"({broken.error}). Repair it: pip install --force-reinstall '{dist}=={version}'."
            )
        skipped = [why for who, why in self._skipped if who is None or _canonical(who) == mine]
        if skipped:
            return f"It is provided by {dist}, installed but not loaded: {'; '.join(skipped)}."
        return (
            f"It is provided by {dist}, but the installed {dist} {version} does not register "
            "it (`hypernodes plugins` lists what each plugin registers). Upgrade it: "
            f"pip install -U 'hypernodes[{extra}]'."
        )

    # -- listing -------------------------------------------------------------------

    def listing(self) -> list[dict[str, Any]]:
        """One dict per plugin: name, distribution, version, names per kind, status."""
        return [p.as_dict() for p in self.load().plugins]

    def render(self, as_json: bool = False) -> str:
        """What ``hypernodes plugins`` prints."""
        rows = self.listing()
        if as_json:
            return json.dumps(rows, indent=2)
        lines = []
        shipped = [f"{row['distribution']} {row['version']}" for row in rows]
        names_width = max((len(row["name"]) for row in rows), default=0)
        shipped_width = max(map(len, shipped), default=0)
        for row, where in zip(rows, shipped, strict=True):
            kinds = ", ".join(
                f"{kind}s: {' '.join(row[f'{kind}s'])}" for kind in HOOKS if row[f"{kind}s"]
            )
            status = "ok" if row["error"] is None else f"BROKEN: {row['error']}"
            lines.append(
                f"{row['name']:<{names_width}}  {where:<{shipped_width}}  "
                f"{kinds or '(registers nothing)'}  [{status}]"
            )
        for (kind, name), claimants in self._conflicts.items():
            who = " and ".join(p.distribution for p in claimants)
            lines.append(f"CONFLICT: {kind} {name!r} is registered by {who}")
        for plugin in self.plugins:
            for refused in plugin.refused:
                lines.append(
                    f"REFUSED: {refused} from {plugin.distribution} (reserved for hypernodes-core)"
                )
        for _, note in self._skipped:
            lines.append(f"skipped: {note}")
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """One line per BROKEN plugin and per name in CONFLICT; empty when all is well.

        ``hypernodes plugins`` exits non-zero when this is not empty, so CI can catch it.
        """
        self.load()
        found = [
            f"BROKEN: plugin {p.name!r} from {p.distribution}: {p.error}"
            for p in self.plugins
            if p.error is not None
        ]
        for (kind, name), claimants in self._conflicts.items():
            who = " and ".join(p.distribution for p in claimants)
            found.append(f"CONFLICT: {kind} {name!r} is registered by {who}")
        return found


def _import_failure(kind: str, name: str, plugin: PluginInfo, detail: str) -> str:
    msg = (
        f"The {kind} {name!r} from {plugin.distribution} is installed, but {detail}. "
        "Reinstall it with its dependencies"
    )
    first_party = FIRST_PARTY[kind].get(name)
    return msg + (f" (pip install 'hypernodes[{first_party[1]}]')." if first_party else ".")


def _import_factory(path: str, kind: str, name: str, plugin: PluginInfo) -> Any:
    module_name, _, attribute = path.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        detail = f"importing {module_name!r} failed: {exc}"
        raise PluginError(_import_failure(kind, name, plugin, detail)) from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        msg = (
            f"The {kind} {name!r} from {plugin.distribution} names {path!r}, which does not exist."
        )
        raise PluginError(msg) from exc


def _describe(exc: BaseException) -> str:
    """A plugin's failure in words (``SystemExit: 3`` would not tell a user what happened)."""
    if isinstance(exc, SystemExit):
        return f"it called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


def _canonical(name: str) -> str:
    """A plugin or distribution name as packaging compares them (``Foo_Bar`` is ``foo-bar``)."""
    return re.sub(r"[-_.]+", "-", name.strip()).lower()


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "?"


_registry: Registry | None = None


def registry() -> Registry:
    """The process-wide registry (loaded on first use)."""
    global _registry
    if _registry is None:
        _registry = Registry()
    return _registry


def provided_attribute(module: str, attribute: str) -> Any:
    """Resolve ``module.attribute`` provided by a plugin, for module ``__getattr__``."""
    provided = PROVIDED_ATTRIBUTES.get(module, {})
    if attribute not in provided:
        msg = f"module {module!r} has no attribute {attribute!r}"
        raise AttributeError(msg)
    kind, name = provided[attribute]
    reg = registry()
    try:
        return reg.factory(kind, name)
    except UnknownNameError:
        status = reg._first_party_status(*FIRST_PARTY[kind][name])
        msg = f"{module}.{attribute} is not available. {status}"
        raise MissingPluginError(msg, name=attribute) from None


def provided_names(module: str) -> list[str]:
    """Attribute names a core module re-exports from plugins (for ``dir()``)."""
    return list(PROVIDED_ATTRIBUTES.get(module, {}))
