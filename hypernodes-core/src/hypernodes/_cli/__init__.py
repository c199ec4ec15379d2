"""The ``hypernodes`` command line (also ``python -m hypernodes``).

::

    hypernodes run MODULE:PIPELINE [--inputs JSON] [--inputs-file FILE] [--set NAME=VALUE ...]
                   [--map-over NAME ...] [--map-mode zip|product] [--output-name NAME ...]
                   [--executor NAME] [--cache PATH] [--progress]
    hypernodes show MODULE:PIPELINE [--dot | --mermaid | --svg FILE] [--depth N|all]
                   [--output-name NAME ...] [--direction LR|TB]
    hypernodes plugins [--json]
    hypernodes --version

Exit codes: 0 success; 1 the work failed (a node raised, a plugin is BROKEN
or in CONFLICT, Graphviz is missing for ``--svg``); 2 bad usage (unknown
module or pipeline, missing or unknown inputs, bad JSON, unknown names).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .loading import UsageError

__all__ = ["main"]

EPILOG = """exit codes: 0 success; 1 the work failed (a node raised, a plugin is BROKEN or in
CONFLICT); 2 bad usage (unknown module or pipeline, missing inputs, bad JSON)"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "run":
            from .running import run

            return run(args)
        if args.command == "show":
            return _show(args)
        return _plugins(args)
    except UsageError as exc:
        print(f"hypernodes {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # the reader went away (`hypernodes show ... | head`): fine
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no flush error at exit
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hypernodes",
        description="Run, inspect and draw hypernodes pipelines; list plugins.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--version",
        action=_Version,
        help="print the versions of hypernodes-core and of the installed plugins",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    target_help = (
        "MODULE:PIPELINE, where MODULE is a dotted module importable from the current "
        "directory or a path to a .py file, and PIPELINE the name of a Pipeline in it"
    )

    run = commands.add_parser(
        "run",
        help="run a pipeline and print its outputs as JSON",
        description="Run a pipeline (or map it) and print its outputs as JSON on stdout. "
        "Inputs come from --inputs-file, then --inputs, then --set (later ones win).",
        epilog=EPILOG,
    )
    run.add_argument("target", metavar="MODULE:PIPELINE", help=target_help)
    run.add_argument("--inputs", metavar="JSON", help="inputs as a JSON object: '{\"x\": 1}'")
    run.add_argument(
        "--inputs-file", metavar="FILE", help="inputs from a JSON file (or YAML: .yaml/.yml)"
    )
    run.add_argument(
        "--set",
        metavar="NAME=VALUE",
        action="append",
        default=[],
        help="one input; VALUE is read as JSON, or else taken as a string (repeatable)",
    )
    run.add_argument(
        "--map-over",
        metavar="NAME",
        nargs="+",
        action="extend",
        help="map instead of run: run once per item of these list inputs (repeatable)",
    )
    run.add_argument(
        "--map-mode",
        choices=("zip", "product"),
        help="with --map-over: pair items (zip, the default) or take every combination",
    )
    run.add_argument(
        "--output-name",
        metavar="NAME",
        nargs="+",
        action="extend",
        help="compute and print only these outputs (repeatable)",
    )
    run.add_argument("--executor", metavar="NAME", help="a registered executor (sequential, ...)")
    run.add_argument("--cache", metavar="PATH", help="cache node results in this directory")
    run.add_argument("--progress", action="store_true", help="show progress on stderr")

    show = commands.add_parser(
        "show",
        help="print a pipeline's summary, or its graph as DOT, Mermaid or SVG",
        description="Print a readable summary of a pipeline (the default), or its graph.",
    )
    show.add_argument("target", metavar="MODULE:PIPELINE", help=target_help)
    form = show.add_mutually_exclusive_group()
    form.add_argument("--dot", action="store_true", help="print the graph as Graphviz DOT")
    form.add_argument("--mermaid", action="store_true", help="print the graph as Mermaid")
    form.add_argument(
        "--svg", metavar="FILE", help="draw the graph into FILE (needs hypernodes[viz])"
    )
    show.add_argument(
        "--depth",
        type=_depth,
        help="levels of nested pipelines to open: a number >= 1, or 'all' "
        "(default: all in the summary, 1 in a graph)",
    )
    show.add_argument(
        "--output-name",
        metavar="NAME",
        nargs="+",
        action="extend",
        help="with a graph: highlight what computing these runs (repeatable)",
    )
    show.add_argument(
        "--direction", choices=("LR", "TB"), default="LR", help="graph layout direction"
    )

    plugins = commands.add_parser(
        "plugins",
        help="list installed plugins and the names each registers",
        description="List plugins; exit 1 when one is BROKEN or two claim one name.",
    )
    plugins.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


def _depth(text: str) -> int | str:
    if text == "all":
        return text
    try:
        depth = int(text)
    except ValueError:
        depth = 0
    if depth < 1:
        msg = f"expected a number >= 1 or 'all', got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return depth


def _show(args: argparse.Namespace) -> int:
    from ..errors import InputError, MissingDependencyError
    from .loading import load_pipeline

    graph = args.dot or args.mermaid or args.svg
    if args.output_name and not graph:
        msg = "--output-name highlights a graph: give it with --dot, --mermaid or --svg FILE."
        raise UsageError(msg)
    if args.svg:
        _check_svg_target(Path(args.svg))
    pipeline = load_pipeline(args.target)
    if args.depth is None:  # not given: the default of the view
        depth = 1 if graph else None
    else:
        depth = None if args.depth == "all" else args.depth
    options: dict[str, Any] = {
        "depth": depth,
        "output_name": args.output_name,
        "direction": args.direction,
    }
    try:
        if args.dot:
            print(pipeline.to_dot(**options), end="")
        elif args.mermaid:
            print(pipeline.to_mermaid(**options), end="")
        elif args.svg:
            drawing = pipeline.visualize(**options)
            try:
                drawing.save(args.svg)
            except OSError as exc:
                msg = f"Cannot write --svg {args.svg!r}: {exc.strerror or exc}."
                raise UsageError(msg) from None
            print(f"wrote {args.svg}", file=sys.stderr)
        else:
            print(pipeline.describe(depth))
    except InputError as exc:  # an unknown --output-name
        raise UsageError(str(exc)) from exc
    except MissingDependencyError as exc:
        print(f"hypernodes show: {exc}", file=sys.stderr)
        return 1
    return 0


def _check_svg_target(path: Path) -> None:
    """Refuse, before drawing, a FILE with no image suffix or in a missing folder."""
    from .._view.render import FORMATS

    if path.suffix.lower().lstrip(".") not in FORMATS:
        msg = (
            f"--svg {str(path)!r}: the suffix picks the image format; use one of "
            f"{', '.join('.' + f for f in FORMATS)}."
        )
        raise UsageError(msg)
    if not path.parent.is_dir():
        msg = f"--svg {str(path)!r}: no folder {str(path.parent)!r} to write it in."
        raise UsageError(msg)


def _plugins(args: argparse.Namespace) -> int:
    from .._plugins.registry import registry

    reg = registry()
    print(reg.render(as_json=args.json))
    problems = reg.problems()
    if problems:
        print(
            f"hypernodes plugins: {len(problems)} problem(s):\n  " + "\n  ".join(problems),
            file=sys.stderr,
        )
        return 1
    return 0


class _Version(argparse.Action):
    """``--version``: hypernodes-core, the meta-distribution, each plugin distribution, Python."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> None:
        print("\n".join(versions()))
        parser.exit()


def versions() -> list[str]:
    """One line per distribution: core first, then the plugins (from entry points), then Python."""
    import platform
    from importlib import metadata

    def version(dist: str) -> str | None:
        try:
            return metadata.version(dist)
        except metadata.PackageNotFoundError:
            return None

    lines = [f"hypernodes-core {version('hypernodes-core') or '(not installed)'}"]
    meta = version("hypernodes")
    if meta is not None:
        lines.append(f"hypernodes {meta}")
    plugins: dict[tuple[str, str], list[str]] = {}
    for ep in metadata.entry_points(group="hypernodes"):
        if ep.dist is not None:
            names = plugins.setdefault((ep.dist.name, ep.dist.version), [])
            if ep.name not in names:
                names.append(ep.name)
    for (dist, dist_version), names in sorted(plugins.items()):
        lines.append(f"{dist} {dist_version} (plugin {', '.join(names)})")
    lines.append(f"Python {platform.python_version()}")
    return lines


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
