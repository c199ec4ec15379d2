"""``hypernodes run``: run or map a pipeline and print its outputs as JSON.

Only the JSON goes to stdout; whatever the nodes print goes to stderr, with
the progress display and the notes. Values JSON cannot hold (a set, an
object, NaN) are printed as their ``repr()`` string and listed in a note on
stderr; tuples become JSON arrays.

Exit codes: 0 success; 1 the run failed (the node, the map item and the
traceback go to stderr); 2 bad usage (missing or unknown inputs with their
names, an unknown output, executor or callback name, bad ``map_over``).
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import sys
import traceback
from typing import TYPE_CHECKING, Any

from .loading import UsageError, load_pipeline, read_inputs

if TYPE_CHECKING:
    import argparse

    from .._model.pipeline import Pipeline

__all__ = ["run", "to_json"]

NOTE_PREFIX = "hypernodes: "


def run(args: argparse.Namespace) -> int:
    """Carry out ``hypernodes run``; return the exit code."""
    from ..errors import (
        InputError,
        MissingInputsError,
        MissingPluginError,
        PluginError,
        UnknownNameError,
    )

    pipeline = load_pipeline(args.target)
    inputs = read_inputs(args)
    if args.map_mode is not None and not args.map_over:
        msg = "--map-mode needs --map-over NAME ... (the inputs holding the items)."
        raise UsageError(msg)
    try:
        _configure(pipeline, args)
    except (UnknownNameError, PluginError, MissingPluginError, TypeError) as exc:
        raise UsageError(str(exc)) from exc
    try:
        with contextlib.redirect_stdout(sys.stderr):  # stdout holds only the JSON
            if args.map_over:
                result: dict[str, Any] = pipeline.map(
                    inputs,
                    map_over=args.map_over,
                    map_mode=args.map_mode or "zip",
                    output_name=args.output_name,
                )
            else:
                result = pipeline.run(inputs, output_name=args.output_name)
    except Exception as exc:
        notes = [n[len(NOTE_PREFIX) :] for n in getattr(exc, "__notes__", []) if _ours(n)]
        usage = (InputError, UnknownNameError, PluginError, MissingPluginError)
        if isinstance(exc, usage) and not notes:  # raised before any node ran
            hint = ""
            if isinstance(exc, MissingInputsError):
                hint = " Give them with --inputs '{\"name\": ...}' or --set name=value."
            raise UsageError(f"{exc}{hint}") from exc
        _report_failure(exc, notes)
        return 1
    not_json: list[str] = []
    shown = to_json(result, "", not_json)
    print(_dumps(shown))
    if not_json:
        more = f", and {len(not_json) - 5} more" if len(not_json) > 5 else ""
        print(
            "hypernodes run: note: not JSON, shown as repr() strings: "
            + ", ".join(not_json[:5])
            + more,
            file=sys.stderr,
        )
    return 0


def _ours(note: object) -> bool:
    return isinstance(note, str) and note.startswith(NOTE_PREFIX)


def _configure(pipeline: Pipeline, args: argparse.Namespace) -> None:
    if args.executor is not None:
        pipeline.with_executor(args.executor)
    if args.cache is not None:
        from ..caching._disk import DiskCache

        pipeline.with_cache(DiskCache(args.cache))
    if args.progress:
        from .._plugins.registry import registry

        progress = registry().factory("callback", "progress")
        callbacks = pipeline.effective_callbacks
        if not any(isinstance(cb, progress) for cb in callbacks):
            pipeline.with_callbacks([*callbacks, "progress"])


def _report_failure(exc: BaseException, notes: list[str]) -> None:
    """The traceback (with the notes naming node and item), then a short summary last."""
    traceback.print_exception(exc, file=sys.stderr)
    where = "".join(f"\n  {note}" for note in notes)
    print(
        f"\nhypernodes run: failed: {type(exc).__name__}: {exc}{where}",
        file=sys.stderr,
    )


def _dumps(outputs: dict[str, Any]) -> str:
    """A JSON object with one output a line: readable, and still one JSON document."""
    if not outputs:
        return "{}"
    lines = [
        f"  {json.dumps(name)}: {json.dumps(value, ensure_ascii=False)}"
        for name, value in outputs.items()
    ]
    return "{\n" + ",\n".join(lines) + "\n}"


def to_json(value: Any, path: str, not_json: list[str]) -> Any:
    """``value`` as JSON data; what JSON cannot hold becomes its repr, and its path is noted."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return float(value)
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return {k: to_json(v, f"{path}.{k}" if path else k, not_json) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, f"{path}[{i}]", not_json) for i, v in enumerate(value)]
    not_json.append(f"{path or '(output)'} ({type(value).__name__})")
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} with a failing repr>"
