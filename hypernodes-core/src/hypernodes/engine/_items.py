"""Turning ``map`` inputs into items: which inputs are mapped, zip or product, in order."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import MapInputError, ZipLengthError, suggest

MAP_MODES = ("zip", "product")

__all__ = ["MAP_MODES", "MapItems", "check_zip_lengths", "is_item_list", "normalize_map_over"]

_NOT_ITEM_LISTS = (str, bytes, bytearray, Mapping, set, frozenset)


def is_item_list(value: object) -> bool:
    """True for values ``map_over`` can iterate in order: lists, tuples, ranges, arrays."""
    if isinstance(value, _NOT_ITEM_LISTS):
        return False
    return hasattr(value, "__len__") and hasattr(value, "__iter__")


def normalize_map_over(
    inputs: Mapping[str, Any], map_over: str | Iterable[str] | None, pipeline_name: str
) -> tuple[str, ...]:
    """The names to map over, checked against ``inputs``.

    Left out, ``map_over`` is every input whose value is a ``list``.
    """
    if map_over is None:
        names = tuple(k for k, v in inputs.items() if isinstance(v, list))
        if not names:
            msg = (
                f"Pipeline {pipeline_name!r}.map() found no list among its inputs to map "
                "over. Pass lists of items, or name them with map_over=..."
            )
            raise MapInputError(msg)
        return names
    names = (map_over,) if isinstance(map_over, str) else tuple(map_over)
    if not names:
        msg = "map_over is empty: name at least one input to map over."
        raise MapInputError(msg)
    for name in names:
        if name not in inputs:
            msg = (
                f"map_over names {name!r}, which is not among the inputs given"
                f"{suggest(name, inputs)}. Give it a list of items in inputs."
            )
            raise MapInputError(msg)
        value = inputs[name]
        if not is_item_list(value):
            msg = (
                f"map_over names {name!r}, but its value is a {type(value).__name__}, not a "
                "list of items. Pass a list (one entry per item), or leave it out of "
                "map_over to give every item the same value."
            )
            raise MapInputError(msg)
    return names


def check_zip_lengths(names: tuple[str, ...], lengths: list[int]) -> None:
    """Raise a ZipLengthError naming each length when they differ."""
    if len(set(lengths)) > 1:
        pairs = zip(names, lengths, strict=True)
        detail = ", ".join(f"{n}={length}" for n, length in pairs)
        msg = (
            f"map_mode='zip' needs lists of one length, got {detail}. Make them "
            "equal, or use map_mode='product' for every combination."
        )
        raise ZipLengthError(msg)


class MapItems:
    """The items of one map: shared inputs plus one row of mapped values per item.

    Iterating yields one complete input dict per item, in ``itertools.product``
    order for ``"product"``.
    """

    __slots__ = ("count", "mode", "names", "shared", "sources")

    def __init__(self, inputs: Mapping[str, Any], names: tuple[str, ...], mode: str) -> None:
        self.names = names
        self.mode = mode
        self.shared = {k: v for k, v in inputs.items() if k not in names}
        self.sources = [inputs[n] for n in names]
        lengths = [len(s) for s in self.sources]
        if mode == "zip":
            if len(set(lengths)) > 1:
                detail = ", ".join(
                    f"{n}={length}" for n, length in zip(names, lengths, strict=True)
                )
                msg = (
                    f"map_mode='zip' needs lists of one length, got {detail}. Make them "
                    "equal, or use map_mode='product' for every combination."
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
        """The mapped values of each item, in order."""
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
