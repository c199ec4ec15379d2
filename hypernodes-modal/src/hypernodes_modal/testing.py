"""Transports for running ModalBackend without Modal: tests, CI, and checking a payload.

A transport is a callable from request bytes to response bytes::

    ModalBackend(gpu="A100", transport=SubprocessTransport())

Two optional methods refine it:

- ``bind(backend)`` returns the callable to use for that backend (called once,
  before its first call): for a transport that needs the backend's Modal
  function;
- ``map(requests)`` returns an iterable of responses, or of the exception a
  call raised, in request order: a distributed map then uses it; without it
  the calls run on threads, ``max_containers`` at a time.

The default transport (``transport=None``) is the real Modal call.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import ModalBackend

__all__ = ["InProcessTransport", "SubprocessTransport"]


class InProcessTransport:
    """Calls the backend's real Modal function through its local path (``Function.local``)
    in this process: the function and its body as Modal built them, without a container.
    Volumes are not mounted (Modal warns about it)."""

    def bind(self, backend: ModalBackend) -> Any:
        return backend.modal_function.local

    def __call__(self, request: bytes) -> bytes:
        msg = "InProcessTransport calls the backend's Modal function: use it as a transport."
        raise TypeError(msg)

    def __repr__(self) -> str:
        return "InProcessTransport()"


_RUNNER = (
    "import sys\n"
    "from hypernodes_modal._remote import serve\n"
    "with open(sys.argv[1], 'rb') as file:\n"
    "    request = file.read()\n"
    "response = serve(request)\n"
    "with open(sys.argv[2], 'wb') as file:\n"
    "    file.write(response)\n"
)


class SubprocessTransport:
    """Runs each call in a clean Python process, as a container would see the payload.

    ``python -I`` (no user site, no environment variables of Python, no
    current directory on ``sys.path``), started in an empty temporary folder:
    only installed packages can be imported there, so a payload that works
    here is self-contained. The response comes back through a file (the
    nodes may print). ``python`` is the interpreter to use; ``timeout`` bounds
    one call, in seconds: a call that takes longer is killed and raises a
    :class:`TimeoutError`.
    """

    def __init__(self, python: str | None = None, timeout: float | None = None) -> None:
        self.python = python or sys.executable
        self.timeout = timeout

    def __call__(self, request: bytes) -> bytes:
        with tempfile.TemporaryDirectory(prefix="hypernodes-modal-") as folder:
            source, result = os.path.join(folder, "request"), os.path.join(folder, "response")
            with open(source, "wb") as file:
                file.write(request)
            try:
                done = subprocess.run(
                    [self.python, "-I", "-c", _RUNNER, source, result],
                    cwd=folder,
                    timeout=self.timeout,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                # Not chained: TimeoutExpired's message is the whole runner script.
                msg = (
                    f"The clean subprocess ({self.python} -I) did not answer within "
                    f"SubprocessTransport(timeout={self.timeout}) seconds and was killed; "
                    "its output is above. Give a larger timeout for slower work."
                )
                raise TimeoutError(msg) from None
            if done.returncode != 0 or not os.path.exists(result):
                msg = (
                    f"The clean subprocess ({self.python} -I) exited with code "
                    f"{done.returncode} before answering; its output is above."
                )
                raise RuntimeError(msg)
            with open(result, "rb") as file:
                return file.read()

    def __repr__(self) -> str:
        shown = f", timeout={self.timeout!r}" if self.timeout is not None else ""
        return f"SubprocessTransport(python={self.python!r}{shown})"
