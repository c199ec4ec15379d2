"""Running a coroutine from a Daft UDF.

Retries and timeouts are the engine's: a node's call on one item goes through
``RunContext.execute`` and a batch call through ``hypernodes.engine.call_batch``,
both with the node's retries and timeout exactly as on every executor. Daft's
own ``max_retries`` is not used for them: it runs a whole batch of rows again
(calls that succeeded too, with their side effects), for any exception,
without a delay policy or events, and it would only ever see an exception
that left the UDF, which a node's exception never does (it must come back as
itself).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hypernodes.engine import run_coroutine

if TYPE_CHECKING:
    from collections.abc import Coroutine

__all__ = ["run_async"]


def run_async(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run a coroutine to completion from a UDF and return its result.

    On a loop opened and closed for it, not the engine's loop kept per
    thread: on Daft's threads that loop would be finalized while Daft tears
    its threads down at exit, which crashes the interpreter.
    """
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    return run_coroutine(coroutine)  # a loop runs here already: the engine runs it on a thread
