"""Cache keys: what the key of a node call covers, exactly.

The rule: after any change to code or data a node's result depends on, a warm
cache gives what a fresh cache gives. Only what cannot be keyed by value falls
back to its type, and :func:`hypernodes.caching.explain_key` (or the
``hypernodes.cache`` logger at DEBUG) shows where that happened.

The key of one node call is a BLAKE2b digest of:

1. **The node's code** — bytecode, constants (nested functions and lambdas
   recursively, set literals sorted), names and argument layout; never line
   numbers or file names. A node with a batch implementation (``@node.batch``)
   counts both functions: ``map`` runs the batch one. A ``functools.partial``
   counts as its function plus its arguments, a bound method as its function
   plus its object, a callable object as its class plus its state.
2. **The code it reaches, followed by code** where it is the user's own (any
   module outside the standard library, installed packages and hypernodes),
   transitively (``_reach``):

   - the globals it uses, and the attributes it names on a user module
     (``helpers.clean``, ``pkg.sub.clean``);
   - modules it imports inside its body (``from helpers import clean``,
     ``import pkg.sub``), imported at key time if not imported yet; a module
     of an installed package by its name;
   - functions by code, globals, imports, closure values and defaults;
     ``functools.singledispatch`` functions by every registered implementation;
     ``functools.lru_cache``/``cache``, ``partial``, ``staticmethod``,
     ``classmethod``, ``property``, ``cached_property`` and decorators by what
     they wrap (a decorator returning a function or a callable object is
     followed like any code; a library's wrapper through ``__wrapped__``);
   - classes by every attribute of their ``__dict__`` (methods by code, class
     attributes such as ``Cfg.FACTOR`` by value, pydantic field defaults; not
     the docstring nor Python's own bookkeeping) and by their base classes and
     metaclass the same way;
   - nodes by their function; pipelines by their nodes and bound inputs;
     nested pipeline nodes by their pipeline and mappings.

   Functions and classes of the standard library and installed packages count
   by their qualified name (their version is not covered).
3. **The values it reaches** — globals, closure values, defaults, class
   attributes, the arguments of a partial, the object of a bound method or
   callable object — read at every run (once per ``run``, once per ``map``;
   never memoised with the code), by value (``_walk``, ``_objects``):

   - ``None``, ``bool``, ``int``, ``float``, ``str``, ``bytes`` by type and
     value; lists and tuples in order; dicts, sets and frozensets in an order
     that does not depend on the hash seed;
   - NumPy arrays and scalars by type, dtype, shape and bytes; pandas objects
     by type and content; enum members by class, name and value; dataclasses
     and pydantic models by class and fields; subclasses of built-in scalars
     and containers by class and content; other mappings by type and items;
   - objects defining ``__cache_key__()`` by what it returns;
   - objects of the user's classes and of the standard library's by class and
     the state they pickle as (``__reduce_ex__``: usually ``__dict__`` and
     slots), walked, never pickled.

   **By type only**, the last resort, each part on its own (the parts around
   it still count by value): a part that refuses ``__reduce_ex__`` (a lock, a
   socket, an open file); any other object of an installed package (a loaded
   model, a client, a connection); a part over 32 MiB, or a value of more
   than about 30,000 objects (hashing it at every run would cost more than
   the cache saves); a ``__cache_key__()`` that raises; and a list, dict, set
   or deque the code only writes to (``log.append(x)``, ``seen.add(x)``:
   methods that return nothing of it), whose content cannot change the result.
4. **Its defaults**, as reached values, and, when an input is left out, the
   default used, keyed like an input of that value.
5. **Its inputs**, by type and value: ``1``, ``"1"``, ``1.0`` and ``True``
   differ; ``[1]`` and ``(1,)`` differ; dicts, sets and frozensets regardless
   of order; lists, tuples, dicts and sets of plain scalars through a fast
   path (``marshal``); NumPy, pandas, enums, dataclasses and pydantic models
   as above; functions, lambdas and classes as code (a lambda by its code,
   closure values and defaults); objects with ``__cache_key__()`` by it;
   anything else by a pickle of it streamed into the hasher, in which sets are
   replaced by their order-free key and functions, classes and modules by
   their code or name (or, when it cannot be pickled, by a walk of its reduced
   state). An input that cannot be keyed (a lock, a failing
   ``__cache_key__()``) makes the call uncached, with one ``CacheWarning`` per
   run, node and type. An input produced by another cached node is identified
   by that node's key (its value is not hashed again); an input produced by an
   uncached node is hashed by value at every call.

Keys are the same in every process and under every ``PYTHONHASHSEED``: no
``repr`` or pickle of a set and no ``hash()`` enters them. Code digests are
memoised per code object, class digests per run; values are read at every run.

**Not covered**: files or databases a node reads, random state, the network,
the clock, environment variables, the versions of installed packages, and
the parts counted by type only above. A node that depends on them should take
them as inputs (a file's modification time, a seed), give the object a
``__cache_key__()``, or opt out with ``@node(cache=False)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from typing import Any

from ._walk import KeyPart, UnhashableInput, Walk, scalar_token

__all__ = ["KeyPart", "UnhashableInput", "Walk", "call_key", "function_fingerprint", "value_token"]


def value_token(value: Any, classes: dict[type, bytes] | None = None) -> str:
    """A short string identifying an input ``value`` by type and content (point 5).

    ``classes`` memoises class digests across the calls of one run. Raises
    :class:`UnhashableInput` when the value cannot be keyed.
    """
    return scalar_token(value) or Walk(classes).token(value)


def function_fingerprint(func: Callable[..., Any]) -> str:
    """The code of ``func`` and everything it reaches, with current values (points 1-4)."""
    return Walk().fingerprint(func)


def call_key(fingerprint: str, tokens: Iterable[str]) -> str:
    """The key of one call: the node's fingerprint and its inputs' tokens, in order."""
    h = hashlib.blake2b(fingerprint.encode(), digest_size=16)
    # Tokens never hold a NUL (strings are repr()-escaped), so joining on it is unambiguous.
    h.update("\0".join(tokens).encode("utf-8", "surrogatepass"))
    return h.hexdigest()
