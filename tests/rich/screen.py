"""Replay what a program wrote to a terminal and return the screen a person is left with.

Handles what rich's live display writes: text, ``\\r``, ``\\n``, cursor up
(``ESC[nA``) and erase line (``ESC[2K``); other escape sequences (colours,
cursor visibility) are dropped. Lines are not wrapped, so a line longer than
the terminal shows up as longer, which is what the tests look for.
"""

from __future__ import annotations

import os
import re
import select
import struct
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the child imports tests.rich...
_TOKEN = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\r|\n|[^\x1b\r\n]+")


def final_screen(raw: str) -> list[str]:
    """The screen's lines after replaying ``raw``, trailing blank lines removed."""
    lines = [""]
    row = col = 0
    for match in _TOKEN.finditer(raw):
        token = match.group()
        if token == "\r":
            col = 0
        elif token == "\n":
            row, col = row + 1, 0
            if row == len(lines):
                lines.append("")
        elif token.startswith("\x1b["):
            if token.endswith("A"):
                row = max(0, row - int(token[2:-1] or 1))
            elif token.endswith("K"):
                lines[row] = lines[row][:col] if token[2:-1] in ("", "0") else ""
        elif not token.startswith("\x1b"):
            line = lines[row].ljust(col)
            lines[row] = line[:col] + token + line[col + len(token) :]
            col += len(token)
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def run_in_terminal(code: str, columns: int, rows: int = 40, timeout: float = 60) -> str:
    """Run ``python -c code`` attached to a pseudo-terminal of the given size; its output."""
    import fcntl  # POSIX only, like the rest of this function
    import pty
    import termios

    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=child, stdout=child, stderr=child, env=env, cwd=ROOT
    )
    os.close(child)
    chunks = []
    while True:
        ready, _, _ = select.select([main], [], [], timeout)
        if not ready:
            process.kill()
            raise TimeoutError(f"no output for {timeout} s")
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(main)
    process.wait(timeout)
    return b"".join(chunks).decode("utf-8", "replace")
