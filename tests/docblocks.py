"""The documentation's code blocks as the tests read them: which run, and what they show.

One convention covers README.md and every ``docs/*.md`` page:

- Every ```` ```python ```` block runs, in page order, in ONE namespace per page
  (a block may use what an earlier block of its page defined), in a fresh
  temporary working directory, in a Python process of its own per page. The
  namespace's ``__name__`` is ``"__main__"``, as in a REPL or a notebook.
- A shown value: comment lines (``# ...`` at the start of the line) right
  after a top-level expression state its value. After ``print(...)`` they are
  what it prints (one comment line per printed line); after any other
  expression, its ``repr()``. A comment at the end of a code line is prose and
  is not checked; neither is a comment after a statement that is not an
  expression (an assignment, a ``for``).
- A block whose first line is ``# HyperNodes 0.4`` is the old library's code
  (docs/migration.md), shown for comparison: it never runs.
- ``<!-- needs: X -->`` on the line right before a block: the block needs
  something this checkout may lack. ``X`` is a feature still being built
  (listed in ``PENDING``; the block is skipped with that reason, and the
  integrator removes the tag when the feature lands), or ``graphviz`` (the
  block runs when the ``dot`` program is installed). A block after a skipped
  block still runs, so a later block must not depend on a skipped one.
- ``<!-- no-run: reason -->`` on the line right before a block: it cannot run
  here at all (a real cluster's address, a live Modal account). Use it only
  for that: every other block must run.

Other blocks (```` ```bash ````, ```` ```console ````, ```` ```text ````,
Mermaid, plain ```` ``` ````) are not Python and never run here; the shell
commands they show are checked by tests/test_docs.py.

Run one page by hand, from any directory, with this checkout's interpreter::

    PYTHONPATH=. python -c "from tests.docblocks import main; main()" docs/caching.md
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shutil
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Features the docs write about before they exist (DESIGN.md spellings).
PENDING: set[str] = set()

OLD = "# HyperNodes 0.4"

_FENCE = re.compile(r"^```\s*(\S*)\s*$")
_TAG = re.compile(r"^<!-- (needs|no-run): (.+?) -->$")


def _display(page: Path) -> str:
    return str(page.relative_to(ROOT) if page.is_relative_to(ROOT) else page)


def pages() -> list[Path]:
    """README.md and every page of docs/, in a stable order."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


@dataclass(frozen=True)
class Block:
    """One fenced block of a page: its language, code, first code line and tag."""

    page: Path
    language: str
    line: int  # the page's line number of the block's first code line
    code: str
    tag: tuple[str, str] | None  # ("needs", X) or ("no-run", reason)

    @property
    def where(self) -> str:
        return f"{_display(self.page)}:{self.line}"

    def skip_reason(self) -> str | None:
        """Why this block does not run here, or None when it runs."""
        if self.language != "python":
            return f"a {self.language or 'plain'} block"
        if self.code.startswith(OLD):
            return "HyperNodes 0.4 code, shown for comparison"
        if self.tag is None:
            return None
        kind, value = self.tag
        if kind == "no-run":
            return f"cannot run here: {value}"
        if value in PENDING:
            return f"needs {value}, a feature still being built"
        if value == "graphviz":
            return None if shutil.which("dot") else "needs the Graphviz program `dot`"
        msg = f"{self.where}: unknown `needs: {value}` (known: graphviz, {sorted(PENDING)})"
        raise ValueError(msg)


def blocks(page: Path) -> list[Block]:
    """Every fenced block of ``page``, with the tag on the line right before it."""
    lines = page.read_text(encoding="utf-8").splitlines()
    found: list[Block] = []
    index = 0
    while index < len(lines):
        fence = _FENCE.match(lines[index])
        if fence is None:
            index += 1
            continue
        start = index + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        tag = _TAG.match(lines[index - 1]) if index else None
        code = "\n".join(lines[start:end]) + "\n"
        kind = (tag.group(1), tag.group(2)) if tag else None
        found.append(Block(page, fence.group(1), start + 1, code, kind))
        index = end + 1
    return found


def tags(page: Path) -> list[tuple[int, str]]:
    """Every ``<!-- needs...`` or ``<!-- no-run...`` line of ``page``: its number and text."""
    lines = page.read_text(encoding="utf-8").splitlines()
    marks = ("<!-- needs", "<!-- no-run")
    return [(number, line) for number, line in enumerate(lines, 1) if line.startswith(marks)]


# -- running a page (in a process of its own) ---------------------------------------------


class ShownValueError(AssertionError):
    """A block shows a value its code does not give."""


def _shown(lines: list[str], after: int) -> str | None:
    """The comment lines starting at index ``after``, without their ``# `` (None: none)."""
    shown = []
    while after < len(lines) and (lines[after] == "#" or lines[after].startswith("# ")):
        shown.append(lines[after][2:])
        after += 1
    return "\n".join(shown) if shown else None


def _is_print(expression: ast.expr) -> bool:
    return (
        isinstance(expression, ast.Call)
        and isinstance(expression.func, ast.Name)
        and expression.func.id == "print"
    )


def run_block(block: Block, namespace: dict[str, object]) -> int:
    """Run ``block`` in ``namespace``; check every shown value; return how many it checked.

    Code is compiled with the page as its file name and the page's line
    numbers, so a traceback shows the line of the page that failed, and
    without this module's ``from __future__`` imports, as a reader runs it.
    """
    filename = str(block.page)
    tree = ast.parse(block.code, filename)
    lines = block.code.splitlines()
    ast.increment_lineno(tree, block.line - 1)
    checked = 0
    pending: list[ast.stmt] = []

    def flush() -> None:
        if pending:
            code = compile(ast.Module(pending[:], []), filename, "exec", dont_inherit=True)
            exec(code, namespace)
            pending.clear()

    for statement in tree.body:
        shown = None
        if isinstance(statement, ast.Expr):
            assert statement.end_lineno is not None
            shown = _shown(lines, statement.end_lineno - block.line + 1)
        if shown is None:
            pending.append(statement)
            continue
        flush()
        expression = compile(ast.Expression(statement.value), filename, "eval", dont_inherit=True)
        if _is_print(statement.value):
            printed = io.StringIO()
            with contextlib.redirect_stdout(printed):
                eval(expression, namespace)
            got = printed.getvalue().removesuffix("\n")
            sys.stdout.write(printed.getvalue())
        else:
            got = repr(eval(expression, namespace))
        if got != shown:
            msg = (
                f"{_display(block.page)}:{statement.lineno} shows\n{shown}\n"
                f"but the code gives\n{got}"
            )
            raise ShownValueError(msg)
        checked += 1
    flush()
    return checked


def run_page(page: Path) -> tuple[int, int]:
    """Run every block of ``page`` that runs here, in one namespace; (blocks, values checked)."""
    namespace: dict[str, object] = {"__name__": "__main__"}
    ran = checked = 0
    with warnings.catch_warnings():
        # The docs show today's spellings: none may need a 0.4 compatibility shim.
        warnings.filterwarnings("error", message=".*migration", category=DeprecationWarning)
        for block in blocks(page):
            if block.skip_reason() is None:
                checked += run_block(block, namespace)
                ran += 1
    return ran, checked


def main() -> None:
    """Run the page named on the command line; the last line printed is the counts."""
    ran, checked = run_page(Path(sys.argv[1]).resolve())
    print(f"\nran {ran} blocks, checked {checked} values")


if __name__ == "__main__":
    main()
