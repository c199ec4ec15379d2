"""``explain_key``: what the cache key of one node call covers, part by part."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from .._model.node import Node
from ..errors import suggest
from ._keys import KeyPart, UnhashableInput, Walk, call_key
from ._walk import how_counted

__all__ = ["KeyReport", "explain_key"]


@dataclasses.dataclass(frozen=True)
class KeyReport:
    """The parts of one node call's cache key, each with how it counts.

    ``key`` is the key a pipeline with a cache uses for this call when these
    values are its inputs (``None`` when an input is missing or cannot be
    keyed: the call would not be cached). ``parts`` lists the node's code,
    everything it reaches and each input (see :class:`KeyPart`);
    ``by_type_only`` the parts a change of value would NOT invalidate.
    ``str(report)`` is a readable table.
    """

    node: str
    key: str | None
    parts: tuple[KeyPart, ...]

    @property
    def by_type_only(self) -> tuple[KeyPart, ...]:
        """Parts counted by their type only: give them a ``__cache_key__()`` to count them."""
        return tuple(p for p in self.parts if p.how == "type only")

    def __str__(self) -> str:
        key = self.key or "none (an input is missing or cannot be keyed)"
        head = f"cache key of node {self.node!r}: {key}"
        width = max((len(p.where) for p in self.parts), default=0)
        rows = [
            f"  {(p.where or 'code of the node'):<{width}}  {p.how:<13}  {p.detail}".rstrip()
            for p in self.parts
        ]
        if self.by_type_only:
            rows.append(
                "  a change to a part counted by 'type only' does not invalidate: give the object "
                "holding it a __cache_key__() method returning what identifies it (a version, a "
                "checksum), or pass it to the node as an input."
            )
        return "\n".join([head, *rows])


def explain_key(node: Node | Callable[..., Any], /, **inputs: Any) -> KeyReport:
    """Explain the cache key of calling ``node`` with ``inputs``: what counts, and how.

    ``node`` is a node (``@node``) or a plain function; ``inputs`` its
    arguments by name (left out: the default, as in a pipeline). It reads the
    code and globals as they are now, exactly as the next run would::

        from hypernodes.caching import explain_key

        report = explain_key(predict, text="hello")
        print(report)              # one line per part: code, globals, closure, inputs
        report.by_type_only        # parts whose change would NOT invalidate the cache
        report.key                 # the key a cached run with these inputs uses

    The same parts counted by type only are logged at DEBUG on the
    ``hypernodes.cache`` logger when a pipeline computes the node's key.
    """
    target = node if isinstance(node, Node) else Node(node, output_name="result")
    unknown = [name for name in inputs if name not in target.parameters]
    if unknown:
        msg = (
            f"explain_key: node {target.name!r} has no parameter {unknown[0]!r}"
            f"{suggest(unknown[0], target.parameters)}; it takes {list(target.parameters)}."
        )
        raise TypeError(msg)
    parts: list[KeyPart] = []
    walk = Walk(parts=parts)
    fingerprint = walk.fingerprint(target.func)
    tokens: list[str] | None = []
    for name in target.parameters:
        if name in inputs:
            where, value = f"input {name}", inputs[name]
        elif name in target.defaults:
            where, value = f"input {name} (the default)", target.defaults[name]
        else:
            parts.append(KeyPart(f"input {name}", "not keyable", "missing: pass it to see the key"))
            tokens = None
            continue
        try:
            token = walk.token(value)
        except UnhashableInput as exc:
            parts.append(KeyPart(where, "not keyable", f"{exc.value_type}: {exc.reason}"))
            tokens = None
            continue
        parts.append(KeyPart(where, *how_counted(value)))
        if tokens is not None:
            tokens.append(token)
    key = call_key(fingerprint, tokens) if tokens is not None else None
    return KeyReport(target.name, key, tuple(parts))
