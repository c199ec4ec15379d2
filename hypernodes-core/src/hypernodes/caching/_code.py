"""Code objects for cache keys: a digest per code object, and whose code counts at all.

A code object's digest covers its bytecode, its constants (nested functions
and lambdas recursively, set literals in a fixed order), its names and its
argument layout, never line numbers or file names, so it is the same in every
process and under every ``PYTHONHASHSEED``. It is computed once per code
object. Beside the digest, :func:`code_info` lists the global names the code
(and its nested code) uses and the modules it imports inside its body, which
the key then follows, and the names it only ever writes to: a global or
closure list the code only calls ``append``, ``add``, ``update``... on (a log,
a call counter) cannot change what the code computes.

:func:`is_user_module` decides whose code counts: the user's own modules are
followed by code; the standard library, installed packages and hypernodes
itself count by name only.
"""

from __future__ import annotations

import dis
import hashlib
import importlib.util
import sys
import sysconfig
import types
from typing import Any, NamedTuple

__all__ = [
    "WRITE_METHODS",
    "CodeInfo",
    "Import",
    "code_info",
    "is_user_module",
    "qualified_name",
]


class Import(NamedTuple):
    """An ``import`` statement inside a function body."""

    name: str  # as written: "helpers", "pkg.sub", "" for "from . import x"
    level: int  # leading dots of a relative import
    names: tuple[str, ...] | None  # the names of "from ... import a, b"; None for "import a.b"


class CodeInfo(NamedTuple):
    """What a code object contributes to a key, and where the key looks next."""

    digest: bytes
    names: tuple[str, ...]  # global and attribute names used, nested code included
    globals: tuple[str, ...]  # the names it loads as globals, nested code included
    imports: tuple[Import, ...]
    written_only: frozenset[str]  # globals and free variables only written to


# Methods of list, dict, set and deque that change the container and return None:
# code that only calls these on a value never reads it.
WRITE_METHODS = frozenset(
    {"append", "extend", "insert", "add", "update", "discard", "clear", "appendleft", "extendleft"}
)
_NAME_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_DEREF", "LOAD_CLASSDEREF", "LOAD_NAME"})
_NAME_OTHER_USES = frozenset(
    {"STORE_GLOBAL", "STORE_DEREF", "STORE_NAME", "DELETE_GLOBAL", "DELETE_DEREF", "DELETE_NAME"}
)


class _Scan:
    """What one code object and its nested code use, gathered while hashing them."""

    __slots__ = ("globals", "imports", "names", "read", "written")

    def __init__(self) -> None:
        self.names: dict[str, None] = {}
        self.globals: dict[str, None] = {}
        self.imports: list[Import] = []
        self.written: set[str] = set()
        self.read: set[str] = set()


_infos: dict[types.CodeType, CodeInfo] = {}


def code_info(code: types.CodeType) -> CodeInfo:
    """The digest, names, imports and written-only names of ``code``; memoised per code object."""
    found = _infos.get(code)
    if found is None:
        h = hashlib.blake2b(digest_size=16)
        scan = _Scan()
        _feed_code(h, code, scan)
        found = _infos[code] = CodeInfo(
            h.digest(),
            tuple(scan.names),
            tuple(scan.globals),
            tuple(scan.imports),
            frozenset(scan.written - scan.read),
        )
    return found


def _feed_code(h: Any, code: types.CodeType, scan: _Scan) -> None:
    h.update(code.co_code)
    layout = (
        code.co_argcount,
        code.co_posonlyargcount,
        code.co_kwonlyargcount,
        code.co_flags,
        code.co_varnames,
        code.co_names,
        code.co_freevars,
        code.co_cellvars,
    )
    h.update(repr(layout).encode())
    scan.names.update(dict.fromkeys(code.co_names))
    _scan_instructions(code, scan)
    h.update(b"consts:%d:" % len(code.co_consts))
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            h.update(b"code:")
            _feed_code(h, const, scan)
        else:
            h.update(_const_bytes(const))


def _scan_instructions(code: types.CodeType, scan: _Scan) -> None:
    """Imports in the body, and which names are only written to (``log.append(x)``)."""
    recent: list[Any] = []  # the last constants loaded: an import's level and fromlist
    loaded: str | None = None  # a name just loaded, waiting to see what is done with it
    for instruction in dis.get_instructions(code):
        opname = instruction.opname
        if loaded is not None:
            method = opname in ("LOAD_METHOD", "LOAD_ATTR") and instruction.argval
            (scan.written if method in WRITE_METHODS else scan.read).add(loaded)
            loaded = None
        if opname in _NAME_LOADS:
            loaded = str(instruction.argval)
            if opname != "LOAD_DEREF" and opname != "LOAD_CLASSDEREF":
                scan.globals[loaded] = None
        elif opname in _NAME_OTHER_USES:
            scan.read.add(str(instruction.argval))
        if opname == "LOAD_CONST" or opname == "LOAD_SMALL_INT":  # the latter from 3.14
            recent = [*recent[-1:], instruction.argval]
            continue
        if opname == "IMPORT_NAME":
            level, fromlist = recent if len(recent) == 2 else (0, ())
            level = level if isinstance(level, int) else 0
            names = tuple(fromlist) if isinstance(fromlist, tuple) else None
            scan.imports.append(Import(str(instruction.argval), level, names))
        recent = []
    if loaded is not None:
        scan.read.add(loaded)


def _const_bytes(const: object) -> bytes:
    """A constant as bytes that do not depend on the hash seed (set literals are sorted)."""
    kind = type(const)
    if kind is tuple:
        parts = [_const_bytes(c) for c in const]  # type: ignore[attr-defined]
    elif kind is frozenset:
        parts = sorted(_const_bytes(c) for c in const)  # type: ignore[attr-defined]
    else:
        text = repr(const).encode("utf-8", "surrogatepass")
        return b"%s:%d:%s" % (kind.__name__.encode(), len(text), text)
    return b"%s:%d(%s)" % (kind.__name__.encode(), len(parts), b"".join(parts))


# -- whose code counts -----------------------------------------------------------------


_library_modules: dict[str, bool] = {}
_roots: tuple[str, ...] | None = None


def _library_roots() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    roots = {paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths}
    roots.update(p for p in sys.path if "site-packages" in p or "dist-packages" in p)
    return tuple(sorted(roots))


#: hypernodes' own packages: library code wherever they are installed from (a user's
#: ``hypernodes_shop`` is the user's own).
OUR_PACKAGES = frozenset({"hypernodes", "hypernodes_rich", "hypernodes_modal", "hypernodes_daft"})


def is_user_module(module_name: str | None) -> bool:
    """Whether code of this module is the user's own (followed by code, not by name).

    A module not imported yet is judged by where it would be imported from,
    without importing it.
    """
    if module_name is None or module_name == "__main__":
        return True
    known = _library_modules.get(module_name)
    if known is not None:
        return not known
    global _roots
    if _roots is None:
        _roots = _library_roots()
    top = module_name.partition(".")[0]
    stdlib = top in sys.builtin_module_names or top in sys.stdlib_module_names
    if stdlib or top in OUR_PACKAGES:
        library = True
    else:
        module = sys.modules.get(module_name) or sys.modules.get(top)
        if module is not None:
            path = getattr(module, "__file__", None)
            library = path is None or path.startswith(_roots)
            if path is None and getattr(module, "__path__", None):  # a namespace package
                library = all(p.startswith(_roots) for p in module.__path__)
        else:
            library = _is_library_path(_origin_of(top))
    _library_modules[module_name] = library
    return not library


def _origin_of(top: str) -> str | None:
    """Where a top-level module not imported yet would come from (``None``: nowhere)."""
    try:
        spec = importlib.util.find_spec(top)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin not in (None, "built-in", "frozen", "namespace"):
        return spec.origin
    locations = list(spec.submodule_search_locations or ())
    return locations[0] if locations else spec.origin


def _is_library_path(origin: str | None) -> bool:
    if origin is None:  # not importable: code made in a notebook cell or by exec()
        return False
    if origin in ("built-in", "frozen"):
        return True
    assert _roots is not None
    return origin.startswith(_roots)


def qualified_name(obj: Any) -> str:
    """``module.qualname`` of a function or class (what counts for library code)."""
    module = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    return f"{module}.{name}"
