"""Map items: which inputs are mapped, checked once, expanded by zip or product, in order.

:class:`MapItems` is the one place ``map`` inputs are validated and expanded:
``Pipeline.map``, a nested ``as_node(map_over=...)``, every executor and
every backend build their items with it, so they all accept and refuse the
same inputs with the same messages.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import MapInputError, ZipLengthError, suggest

__all__ = ["MAP_MODES", "MapItems", "is_item_list", "item_spans"]

#: ``"zip"`` pairs the i-th items; ``"product"`` takes every combination.
MAP_MODES = ("zip", "product")

_NOT_ITEM_LISTS = (str, bytes, bytearray, Mapping, set, frozenset)


def is_item_list(value: object) -> bool:
    """True for values a map can iterate in order: lists, tuples, ranges, arrays, Series."""
    if isinstance(value, _NOT_ITEM_LISTS) or _is_dataframe(value):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__iter__")


def _is_dataframe(value: object) -> bool:
    kind = type(value)
    return kind.__name__ == "DataFrame" and kind.__module__.partition(".")[0] in (
        "pandas",
        "polars",
        "pyarrow",
    )


def _why_not_items(value: object) -> str:
    """What to pass instead of ``value``, which is not a list of items."""
    kind = type(value).__name__
    a = "an" if kind[:1].lower() in "aeiou" else "a"
    if _is_dataframe(value):
        return (
            f"a {type(value).__module__.partition('.')[0]} DataFrame (iterating it gives its "
            "column labels). Map over its rows with df.to_dict('records'), or over a column "
            "with df['column'].tolist()"
        )
    if isinstance(value, Iterator) or (
        not hasattr(value, "__len__") and hasattr(value, "__iter__")
    ):
        return (
            f"{a} {kind}, which has no length and can be consumed only once. Pass a list: list(...)"
        )
    if isinstance(value, str | bytes | bytearray):
        return (
            f"{a} {kind} (mapping over it would give its characters). Pass a list of items, "
            "or leave it out of map_over to give every item the same value"
        )
    if isinstance(value, Mapping | set | frozenset):
        return (
            f"{a} {kind}, which has no item order. Pass a list, e.g. list(value.items()) "
            "or sorted(value)"
        )
    return (
        f"{a} {kind}, not a list of items. Pass a list (one entry per item), or leave it out "
        "of map_over to give every item the same value"
    )


class MapItems:
    """The items of one map: the inputs shared by every item, plus one row of mapped
    values per item. Building one validates the inputs.

    - ``inputs``: every input of the map, mapped or not;
    - ``map_over``: the names of the mapped inputs; ``None`` means every input
      whose value is a ``list``;
    - ``map_mode``: ``"zip"`` (lists of one length, paired) or ``"product"``
      (every combination, in ``itertools.product`` order);
    - ``where``: how to name the map in errors (``"Pipeline 'p'.map()"``).

    Iterating yields one complete input dict per item; :meth:`rows` yields the
    mapped values only. ``names``, ``shared`` and ``len()`` tell the rest::

        items = MapItems({"x": [1, 2], "k": 10}, "x", "zip")
        list(items)   # [{'k': 10, 'x': 1}, {'k': 10, 'x': 2}]
        items.shared  # {'k': 10}
    """

    __slots__ = ("count", "mode", "names", "shared", "sources")

    def __init__(
        self,
        inputs: Mapping[str, Any],
        map_over: str | Iterable[str] | None,
        map_mode: str = "zip",
        *,
        where: str = "map()",
    ) -> None:
        if map_mode not in MAP_MODES:
            msg = f"{where}: map_mode must be 'zip' or 'product', got {map_mode!r}."
            raise MapInputError(msg)
        self.names = names = _names(inputs, map_over, where)
        self.mode = map_mode
        self.shared = {k: v for k, v in inputs.items() if k not in names}
        self.sources = [inputs[n] for n in names]
        lengths = [len(s) for s in self.sources]
        if map_mode == "zip":
            if len(set(lengths)) > 1:
                detail = ", ".join(
                    f"{n}={length}" for n, length in zip(names, lengths, strict=True)
                )
                msg = (
                    f"{where}: map_mode='zip' needs lists of one length, got {detail}. Make "
                    "them equal, or use map_mode='product' for every combination."
                )
                raise ZipLengthError(msg)
            self.count = lengths[0] if lengths else 0
        else:
            self.count = 1
            for length in lengths:
                self.count *= length

    def __len__(self) -> int:
        return self.count

    def rows(self) -> Iterator[tuple[Any, ...]]:
        """The mapped values of each item, in order (one tuple per item, one value per name)."""
        if self.mode == "zip":
            return zip(*self.sources, strict=True)
        return itertools.product(*self.sources)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        shared = self.shared
        if len(self.names) == 1:
            name = self.names[0]
            for value in self.sources[0]:
                values = shared.copy()
                values[name] = value
                yield values
            return
        names = self.names
        for row in self.rows():
            values = shared.copy()
            values.update(zip(names, row, strict=True))
            yield values

    def __repr__(self) -> str:
        return f"MapItems({self.count} items, map_over={self.names!r}, mode={self.mode!r})"


def _names(
    inputs: Mapping[str, Any], map_over: str | Iterable[str] | None, where: str
) -> tuple[str, ...]:
    if map_over is None:
        names = tuple(k for k, v in inputs.items() if isinstance(v, list))
        if not names:
            msg = (
                f"{where} found no list among its inputs to map over. Pass lists of items, "
                "or name them with map_over=..."
            )
            raise MapInputError(msg)
        return names
    names = (map_over,) if isinstance(map_over, str) else tuple(map_over)
    if not names:
        msg = f"{where}: map_over is empty: name at least one input to map over."
        raise MapInputError(msg)
    for name in names:
        if name not in inputs:
            msg = (
                f"{where}: map_over names {name!r}, which is not among the inputs given"
                f"{suggest(name, inputs)}. Give it a list of items in inputs."
            )
            raise MapInputError(msg)
        value = inputs[name]
        if not is_item_list(value):
            msg = f"{where}: map_over input {name!r} is {_why_not_items(value)}."
            raise MapInputError(msg)
    return names


def item_spans(indices: Iterable[int]) -> str:
    """Item indices as ranges: ``0-3, 7`` for [0, 1, 2, 3, 7]."""
    ordered = sorted(indices)
    if not ordered:
        return "(none)"
    parts: list[str] = []
    start = previous = ordered[0]
    for index in [*ordered[1:], None]:
        if index is not None and index == previous + 1:
            previous = index
            continue
        parts.append(f"{start}-{previous}" if previous > start else str(start))
        if index is not None:
            start = previous = index
    return ", ".join(parts)
