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
import inspect
import json
import math
import numbers
import os
import re
import sys
import traceback
from typing import TYPE_CHECKING, Any

from .loading import UsageError, load_pipeline, read_inputs

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

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
        with _stdout_to_stderr():  # stdout holds only the JSON
            if args.map_over:
                result: dict[str, Any] = pipeline.map(
                    inputs,
                    map_over=args.map_over,
                    map_mode=args.map_mode or "zip",
                    output_name=args.output_name,
                )
            else:
                result = pipeline.run(inputs, output_name=args.output_name)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # SystemExit from a node too: a failure, not the CLI's exit
        notes = [n[len(NOTE_PREFIX) :] for n in getattr(exc, "__notes__", []) if _ours(n)]
        usage = (InputError, UnknownNameError, PluginError, MissingPluginError)
        if isinstance(exc, usage) and not notes:  # raised before any node ran
            hint = ""
            if isinstance(exc, MissingInputsError):
                hint = " Give them with --inputs '{\"name\": ...}' or --set name=value."
            raise UsageError(f"{exc}{hint}") from exc
        if not any(note.startswith("in node ") for note in notes):
            notes[:0] = _node_raising(exc, pipeline)  # e.g. sys.exit(), which gets no note
        _report_failure(exc, notes)
        return 1
    not_json: list[str] = []
    shown: dict[str, Any] = {}
    for name, value in result.items():
        try:
            shown[name] = to_json(value, name, not_json)
        except (ValueError, RecursionError) as exc:  # a value holding itself, or too deep
            why = exc if isinstance(exc, ValueError) else "it is nested too deeply"
            print(
                f"hypernodes run: failed: cannot write output {name!r} as JSON: {why}.",
                file=sys.stderr,
            )
            return 1
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


@contextlib.contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send everything written to stdout to stderr while the pipeline runs.

    Swapping ``sys.stdout`` is not enough: a subprocess a node starts, a worker
    process of a pool, or ``os.write(1, ...)`` write to file descriptor 1. So fd 1
    is pointed at stderr's file for the run (children inherit that) and restored after.
    """
    with contextlib.redirect_stdout(sys.stderr):
        try:
            out_fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
            err_fd = sys.stderr.fileno()
            saved = os.dup(out_fd)
        except (AttributeError, OSError, ValueError):  # no real stdout or stderr
            yield
            return
        _flush(sys.__stdout__)
        try:
            os.dup2(err_fd, out_fd)
            yield
        finally:
            _flush(sys.__stdout__)
            _flush(sys.stderr)
            os.dup2(saved, out_fd)
            os.close(saved)


def _flush(stream: Any) -> None:
    with contextlib.suppress(Exception):
        stream.flush()


def _node_raising(exc: BaseException, pipeline: Pipeline) -> list[str]:
    """``["in node 'f' of pipeline 'p'"]`` for the innermost node function in the traceback.

    For failures the run did not annotate (``SystemExit`` is not an ``Exception``):
    the frames of the traceback, or the traceback text a worker process sent, are
    matched against the functions of the pipeline's nodes, nested ones included.
    """
    functions: dict[tuple[str, str], tuple[str, str]] = {}
    _node_functions(pipeline, functions, set())
    where: tuple[str, str] | None = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        where = functions.get((code.co_filename, code.co_name), where)
        tb = tb.tb_next
    if where is None:  # raised in a worker: only the text of its traceback came back
        for note in getattr(exc, "__notes__", []):
            for match in re.finditer(r'File "(.+)", line \d+, in (\S+)', str(note)):
                where = functions.get((match[1], match[2]), where)
    if where is None:
        return []
    return [f"in node {where[0]!r} of pipeline {where[1]!r}"]


def _node_functions(
    pipeline: Pipeline, found: dict[tuple[str, str], tuple[str, str]], seen: set[int]
) -> None:
    """(file, function name) -> (node name, pipeline name), for every function node."""
    if id(pipeline) in seen:
        return
    seen.add(id(pipeline))
    for node in pipeline.graph.order:
        inner = getattr(node, "pipeline", None)
        if inner is not None:
            _node_functions(inner, found, seen)
            continue
        try:
            code = inspect.unwrap(node.func).__code__  # type: ignore[union-attr]
        except (AttributeError, ValueError):  # a callable object, a builtin
            continue
        found[(code.co_filename, code.co_name)] = (node.name, pipeline.name)


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
    # first lines only: a worker's note goes on with the whole remote traceback
    where = "".join(f"\n  {note.splitlines()[0]}" for note in notes if note)
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


def to_json(value: Any, path: str, not_json: list[str], _open: dict[int, str] | None = None) -> Any:
    """``value`` as JSON data; what JSON cannot hold becomes its repr, and its path is noted.

    A list or dict that contains itself raises ``ValueError`` naming both places;
    ``RecursionError`` is left to the caller for values nested too deeply.
    """
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real) and math.isfinite(value):
        return float(value)
    is_object = isinstance(value, dict) and all(isinstance(k, str) for k in value)
    if is_object or isinstance(value, list | tuple):
        opened = {} if _open is None else _open
        if id(value) in opened:
            msg = f"{path} is {opened[id(value)]} itself (the value contains itself)"
            raise ValueError(msg)
        opened[id(value)] = path
        try:
            if is_object:
                return {
                    k: to_json(v, f"{path}.{k}" if path else k, not_json, opened)
                    for k, v in value.items()
                }
            return [to_json(v, f"{path}[{i}]", not_json, opened) for i, v in enumerate(value)]
        finally:
            del opened[id(value)]
    not_json.append(f"{path or '(output)'} ({type(value).__name__})")
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} with a failing repr>"
