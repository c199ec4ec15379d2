"""What the command line reads: the pipeline named ``MODULE:PIPELINE``, and the inputs.

``MODULE`` is a dotted module importable from the current directory (which is
put on ``sys.path``), or a path to a ``.py`` file (its folder is put on
``sys.path``, so it can import its neighbours). Inputs come from
``--inputs-file`` (JSON, or YAML when the suffix is ``.yaml``/``.yml`` and
PyYAML is importable), then ``--inputs`` (a JSON object), then each
``--set name=value`` (the value read as JSON, or else taken as a string);
a later source wins for the same name.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse
    from types import ModuleType

    from .._model.pipeline import Pipeline

__all__ = ["UsageError", "load_pipeline", "read_inputs"]


class UsageError(Exception):
    """The command line was used wrongly; the message says what to do. Exit code 2."""


def load_pipeline(target: str) -> Pipeline:
    """The pipeline named ``MODULE:PIPELINE``."""
    from .._model.pipeline import Pipeline
    from ..errors import suggest

    module_part, sep, attribute = target.rpartition(":")
    if not sep or not module_part:
        module = _import(target)
        found = _pipelines_in(module)
        example = f"{target}:{found[0]}" if found else f"{target}:my_pipeline"
        msg = (
            f"{target!r} names no pipeline: write MODULE:PIPELINE, e.g. {example}. "
            f"Pipelines in {module.__name__}: {', '.join(found) or '(none)'}."
        )
        raise UsageError(msg)
    module = _import(module_part)
    value: Any = module
    for part in attribute.split("."):
        if not hasattr(value, part):
            found = _pipelines_in(module)
            msg = (
                f"Module {module.__name__!r} has no {attribute!r}{suggest(attribute, found)}. "
                f"Pipelines in it: {', '.join(found) or '(none)'}."
            )
            raise UsageError(msg)
        value = getattr(value, part)
    if not isinstance(value, Pipeline):
        msg = f"{target!r} is a {type(value).__name__}, not a Pipeline."
        raise UsageError(msg)
    return value


def _pipelines_in(module: ModuleType) -> list[str]:
    from .._model.pipeline import Pipeline

    return [name for name, value in vars(module).items() if isinstance(value, Pipeline)]


def _import(module_part: str) -> ModuleType:
    is_path = module_part.endswith(".py") or "/" in module_part or os.sep in module_part
    try:
        return _import_file(Path(module_part)) if is_path else _import_module(module_part)
    except UsageError:
        raise
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        shown = "".join(traceback.format_exception(exc)).rstrip()
        msg = f"Importing {module_part!r} failed:\n{shown}"
        raise UsageError(msg) from exc


def _import_module(name: str) -> ModuleType:
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if name != missing and not name.startswith(missing + "."):
            raise  # the module exists but imports something missing
        msg = (
            f"No module named {name!r} importable from {cwd}. MODULE is a dotted module name "
            "importable from the current directory, or a path to a .py file."
        )
        raise UsageError(msg) from None


def _import_file(path: Path) -> ModuleType:
    if not path.is_file():
        msg = f"No file {str(path)!r}. MODULE is a path to a .py file or a dotted module name."
        raise UsageError(msg)
    folder = str(path.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = path.stem
    if not name.isidentifier() or name in sys.modules:
        name = "_hypernodes_cli_" + "".join(c if c.isalnum() else "_" for c in path.stem)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        msg = f"Cannot import {str(path)!r} as a Python module."
        raise UsageError(msg)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # so process pools and pickling find it by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def read_inputs(args: argparse.Namespace) -> dict[str, Any]:
    """The inputs from ``--inputs-file``, ``--inputs`` and ``--set``, later ones winning."""
    inputs: dict[str, Any] = {}
    if args.inputs_file is not None:
        inputs.update(_read_file(Path(args.inputs_file)))
    if args.inputs is not None:
        inputs.update(_json_object(args.inputs, "--inputs"))
    for item in args.set:
        name, eq, raw = item.partition("=")
        if not eq or not name:
            msg = f"--set takes NAME=VALUE, got {item!r}."
            raise UsageError(msg)
        try:
            inputs[name] = json.loads(raw)
        except ValueError:
            inputs[name] = raw  # not JSON: the text itself
    return inputs


def _json_object(text: str, source: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as exc:
        msg = f"{source} is not valid JSON: {exc}."
        raise UsageError(msg) from None
    return _check_object(value, source)


def _check_object(value: Any, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        msg = (
            f"{source} must hold an object of input name -> value, like "
            f'{{"x": 1}}; got {type(value).__name__}.'
        )
        raise UsageError(msg)
    return value


def _read_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        msg = f"Cannot read --inputs-file {str(path)!r}: {exc.strerror or exc}."
        raise UsageError(msg) from None
    except UnicodeDecodeError as exc:
        msg = (
            f"--inputs-file {str(path)!r} is not UTF-8 text (byte {exc.start}: "
            f"{exc.object[exc.start : exc.start + 1]!r}); save it as UTF-8."
        )
        raise UsageError(msg) from None
    if path.suffix.lower() not in (".yaml", ".yml"):
        return _json_object(text, f"--inputs-file {str(path)!r}")
    try:
        import yaml
    except ImportError:
        msg = (
            f"--inputs-file {str(path)!r} is YAML, which needs PyYAML: pip install pyyaml "
            "(or give the inputs as JSON)."
        )
        raise UsageError(msg) from None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        msg = f"--inputs-file {str(path)!r} is not valid YAML: {exc}"
        raise UsageError(msg) from None
    return _check_object(value, f"--inputs-file {str(path)!r}")
