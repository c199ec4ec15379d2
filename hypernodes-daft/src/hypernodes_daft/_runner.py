"""Daft's runner: process-global, set once; we respect what is set and refuse to change it.

- A runner already set in this process (by us, by the user's own
  ``daft.set_runner_*`` call, or by a query that ran) is used as it is when
  it is the one asked for; asking for another is a :class:`DaftRunnerError`
  that says what to do.
- Nothing set yet: the runner asked for is set. ``runner=None`` asks for
  ``DAFT_RUNNER`` when it is set (Daft's own variable), else the native
  runner.
- Ray: ``set_runner_ray(address)`` starts a local Ray (no address) or joins
  a cluster. Before Ray is imported, ``RAY_ENABLE_UV_RUN_RUNTIME_ENV=0`` is
  set unless the user set it: under ``uv run``, Ray would otherwise start its
  workers with ``uv run`` in the current folder and, without a project
  there, wait for them forever.
"""

from __future__ import annotations

import os
import sys
import threading
from typing import Any

from hypernodes.errors import HyperNodesError

__all__ = ["RUNNERS", "DaftRunnerError", "ensure_runner", "normalize_runner"]

#: Accepted names -> Daft's name.
RUNNERS = {"local": "native", "native": "native", "ray": "ray"}

_lock = threading.Lock()


class DaftRunnerError(HyperNodesError, RuntimeError):
    """Daft's runner is set to another one than the executor asks for."""


def normalize_runner(runner: str | None, ray_address: str | None) -> str | None:
    """Daft's name for ``runner`` (``None``: decided when the first run starts)."""
    if runner is None:
        return "ray" if ray_address is not None else None
    found = RUNNERS.get(str(runner).lower())
    if found is None:
        msg = (
            f"DaftExecutor(runner={runner!r}): the runner is 'local' (Daft's own word: "
            "'native') or 'ray'."
        )
        raise ValueError(msg)
    if found == "native" and ray_address is not None:
        msg = (
            f"DaftExecutor(runner={runner!r}, ray_address={ray_address!r}): an address is for "
            "runner='ray'."
        )
        raise ValueError(msg)
    return found


def _current() -> str | None:
    """The runner set in this process, or ``None`` when none is set yet."""
    from daft.daft import get_runner

    runner: Any = get_runner()
    return None if runner is None else str(runner.name)


def ensure_runner(wanted: str | None, ray_address: str | None) -> str:
    """Make sure Daft runs on ``wanted`` (see the module docstring); return its name."""
    with _lock:
        current = _current()
        if wanted is None:
            if current is not None:
                return current
            env = os.environ.get("DAFT_RUNNER", "").strip().lower()
            wanted = RUNNERS.get(env, "native")
        if current is not None:
            if current != wanted:
                _refuse(current, wanted)
            return current
        env = os.environ.get("DAFT_RUNNER", "").strip().lower()
        if env and RUNNERS.get(env, env) != wanted:
            msg = (
                f"DaftExecutor asks for Daft's {wanted!r} runner but DAFT_RUNNER={env!r} is "
                f"set in this process. Unset DAFT_RUNNER, or use DaftExecutor(runner="
                f"{RUNNERS.get(env, env)!r})."
            )
            raise DaftRunnerError(msg)
        import daft

        if wanted == "ray":
            if "ray" not in sys.modules:
                os.environ.setdefault("RAY_ENABLE_UV_RUN_RUNTIME_ENV", "0")
            timeout = int(os.environ.get("DAFT_RAY_WORKER_STARTUP_TIMEOUT", "120"))
            daft.set_runner_ray(
                address=ray_address, noop_if_initialized=True, worker_startup_timeout=timeout
            )
        else:
            daft.set_runner_native()
        return wanted


def _refuse(current: str, wanted: str) -> None:
    shown = {"native": "'native' (local)", "ray": "'ray'"}
    msg = (
        f"Daft's runner is already {shown[current]} in this process, and DaftExecutor asks "
        f"for {shown[wanted]}. Daft sets its runner once per process and cannot change it. "
        f"Use DaftExecutor(runner={'local' if current == 'native' else 'ray'!r}) here (or "
        "DaftExecutor() to take whatever is set), or run the pipeline that needs the "
        f"{shown[wanted]} runner in another Python process."
    )
    raise DaftRunnerError(msg)
