"""README.md and docs/: every block runs as pasted and shows what its code gives.

How blocks are read (shown values, ``<!-- needs: X -->``, ``<!-- no-run: reason -->``,
``# HyperNodes 0.4``) is written once, in tests/docblocks.py. Each page runs in a
Python process of its own, in a fresh temporary directory, so a page that sets
global defaults, configures logging or starts a cluster changes nothing else.
The shell commands the docs show are checked here too: ``hypernodes`` commands
run (their shown output is compared), the extras of ``pip install`` exist, and
the other programs and files exist.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from . import docblocks
from .docblocks import ROOT, Block, ShownValueError, blocks, pages, run_page, tags

BIN = Path(sys.executable).parent


def waiting(block: Block) -> bool:
    """A python block tagged ``needs:`` that does not run here (an unknown need fails below)."""
    if block.language != "python" or block.tag is None or block.tag[0] != "needs":
        return False
    try:
        return block.skip_reason() is not None
    except ValueError:
        return False


PYTHON_PAGES = [page for page in pages() if any(b.language == "python" for b in blocks(page))]
WAITING = [block for page in pages() for block in blocks(page) if waiting(block)]


def page_id(page: Path) -> str:
    return str(page.relative_to(ROOT))


@pytest.mark.parametrize("page", PYTHON_PAGES, ids=page_id)
def test_page_runs_in_order_and_gives_the_values_it_shows(page: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "HYPERNODES_CACHE_DIR": str(tmp_path / "default-cache"),  # DiskCache() without a path
    }
    done = subprocess.run(
        [sys.executable, "-c", "from tests.docblocks import main; main()", str(page)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:  # the traceback names the page's line (the page is its file name)
        pytest.fail(f"{page_id(page)} failed:\n{done.stderr[-6000:]}", pytrace=False)
    counts = re.fullmatch(r"ran (\d+) blocks, checked \d+ values", done.stdout.splitlines()[-1])
    assert counts is not None, done.stdout[-3000:]
    runnable = [block for block in blocks(page) if block.skip_reason() is None]
    assert int(counts.group(1)) == len(runnable)


@pytest.mark.parametrize("block", WAITING, ids=lambda block: block.where)
def test_block_waiting_for_something_this_checkout_lacks(block: Block) -> None:
    pytest.skip(f"{block.where}: {block.skip_reason()}")


def test_tags_stand_right_before_a_python_block_and_say_why() -> None:
    for page in pages():
        tagged = {block.line - 2: block for block in blocks(page) if block.tag is not None}
        for number, line in tags(page):
            block = tagged.get(number)
            assert block is not None, f"{page_id(page)}:{number}: no block right after {line}"
            assert block.language == "python", f"{block.where}: tagged, but not python"
            assert block.tag is not None
            assert block.tag[1].strip(), f"{block.where}: {line} gives no reason"
            block.skip_reason()  # an unknown `needs:` raises


# -- the checker itself --------------------------------------------------------------


def write_page(tmp_path: Path, text: str) -> Path:
    page = tmp_path / "page.md"
    page.write_text(text)
    return page


def test_a_wrong_shown_value_fails_and_names_its_line(tmp_path: Path) -> None:
    page = write_page(tmp_path, "Text.\n\n```python\nx = 2\nx + 1\n# 4\n```\n")
    with pytest.raises(ShownValueError, match=r"page\.md:5 shows\n4\nbut the code gives\n3"):
        run_page(page)


def test_shown_values_are_reprs_or_printed_lines_and_later_blocks_see_earlier_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = write_page(
        tmp_path,
        "```python\nname = 'a'  # prose\n{'k': name}\n# {'k': 'a'}\n```\n\n"
        "```python\nprint(name, 1)\nprint('two\\nlines')\n# two\n# lines\n```\n",
    )
    assert run_page(page) == (2, 2)
    assert capsys.readouterr().out == "a 1\ntwo\nlines\n"


def test_blocks_run_as_a_reader_runs_them_not_as_this_module_is_compiled(tmp_path: Path) -> None:
    # tests/docblocks.py has `from __future__ import annotations`; the docs must not inherit it.
    page = write_page(
        tmp_path,
        "```python\ndef f(x: int): ...\n\n\nf.__annotations__\n# {'x': <class 'int'>}\n```\n",
    )
    assert run_page(page) == (1, 1)


def test_old_code_and_no_run_blocks_never_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docblocks, "PENDING", {"teleport"})
    page = write_page(
        tmp_path,
        "```python\n# HyperNodes 0.4\nraise SystemExit\n```\n\n"
        "<!-- no-run: needs a cluster -->\n```python\nraise SystemExit\n```\n\n"
        "<!-- needs: teleport -->\n```python\nraise SystemExit\n```\n\n"
        "```bash\nexit 1\n```\n",
    )
    assert run_page(page) == (0, 0)
    reasons = [block.skip_reason() for block in blocks(page)]
    assert reasons == [
        "HyperNodes 0.4 code, shown for comparison",
        "cannot run here: needs a cluster",
        "needs teleport, a feature still being built",
        "a bash block",
    ]


def test_an_unknown_need_is_an_error(tmp_path: Path) -> None:
    page = write_page(tmp_path, "<!-- needs: gpu -->\n```python\npass\n```\n")
    with pytest.raises(ValueError, match="unknown `needs: gpu`"):
        run_page(page)


# -- shell commands -------------------------------------------------------------------


def commands(block: Block) -> list[tuple[list[str], list[str]]]:
    """Each command of a bash or console block as argv, with the output shown after it.

    Each block is a session of its own, started at the repository's root.
    In a console block (or one with ``$ `` prompts), commands follow ``$ `` and
    other lines are their output; otherwise every line is a command. ``\\`` continues a line,
    ``&&`` chains commands, ``#`` starts a comment.
    """
    found: list[tuple[list[str], list[str]]] = []
    lines = block.code.splitlines()
    console = block.language == "console" or any(line.startswith("$ ") for line in lines)
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if console and not line.startswith("$ "):
            if found:
                found[-1][1].append(line)
            continue
        text = line.removeprefix("$ ")
        while text.endswith("\\") and index < len(lines):
            text = text[:-1] + lines[index]
            index += 1
        argv: list[str] = []
        for token in [*shlex.split(text, comments=True), "&&"]:
            if token == "&&":
                found.append((argv, []))
                argv = []
            else:
                argv.append(token)
    return [(argv, output) for argv, output in found if argv]


SHELL_BLOCKS = [
    block for page in pages() for block in blocks(page) if block.language in {"bash", "console"}
]
EXTRAS = set(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
)


def check_requirement(requirement: str) -> None:
    name, _, extras = requirement.partition("[")
    assert name in {"hypernodes", "uv"}, requirement
    unknown = set(extras.rstrip("]").split(",")) - EXTRAS - {""}
    assert not unknown, f"{requirement}: no extra {unknown} (have {sorted(EXTRAS)})"


def check_shown_output(argv: list[str], shown: list[str], stdout: str) -> None:
    """Each shown line is a line of the real output when the real output has a line
    starting with the same word (so a plugin installed only in the example is not
    checked); the Python version line depends on the interpreter."""
    real = stdout.splitlines()
    first_words = {line.split()[0] for line in real if line.split()}
    for line in shown:
        if not line.split() or line.startswith("Python ") or line.split()[0] not in first_words:
            continue
        assert line in real, f"`{shlex.join(argv)}` shows\n{line}\nbut prints\n{stdout}"


@pytest.mark.parametrize("block", SHELL_BLOCKS, ids=lambda block: block.where)
def test_shell_commands_exist_and_print_what_they_show(block: Block, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    (tmp_path / "docs" / "images").mkdir(parents=True)
    cwd = tmp_path
    for argv, shown in commands(block):
        program, args = argv[0], argv[1:]
        if program in {"python", "python3"} and args[:1] == ["-m"]:
            program, args = args[1], args[2:]
        if program == "cd":
            cwd = cwd / args[0]
            assert cwd.is_dir(), f"{block.where}: no folder {args[0]}"
        elif program == "hypernodes":
            if "--svg" in args and shutil.which("dot") is None:
                continue  # drawing needs Graphviz; tests/cli covers the message without it
            done = subprocess.run(
                [BIN / "hypernodes", *args], cwd=cwd, capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, f"{block.where}: {shlex.join(argv)}\n{done.stderr}"
            check_shown_output(argv, shown, done.stdout)
        elif program == "pip":
            assert args[0] == "install", argv
            for requirement in args[1:]:
                if not requirement.startswith("-"):
                    check_requirement(requirement)
        elif program == "uv":
            assert args[0] == "run", argv
            command = [arg for arg in args[1:] if not arg.startswith("--")]
            if command[0] == "python":
                assert (ROOT / command[1]).is_file(), f"{block.where}: no file {command[1]}"
            else:
                assert (BIN / command[0]).is_file(), f"{block.where}: no program {command[0]}"
        elif program == "modal":
            done = subprocess.run(
                [BIN / "modal", *args, "--help"], capture_output=True, text=True, timeout=60
            )
            assert done.returncode == 0, f"{block.where}: {shlex.join(argv)}\n{done.stderr}"
        else:
            pytest.fail(f"{block.where}: `{shlex.join(argv)}`: teach this test to check it")
