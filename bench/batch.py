"""A numpy-vectorised batch implementation against its per-item twin, over 100,000 items.

The node normalises a 16-dimensional vector (divide by its norm). The per-item
function does it one vector at a time; the batch implementation
(``@normalize.batch``) does a whole chunk with one numpy call. Both run
through ``Pipeline.map`` with the sequential executor, so the figures are
what a user gets, framework overhead included. Output: ``name: value us``.

Usage: python bench/batch.py [--items N] [--size N] [--repeats N]
"""

from __future__ import annotations

import argparse
import platform

import numpy as np
from hypernodes import Pipeline, node
from workloads import best


@node(output_name="unit")
def normalize(vector: np.ndarray) -> np.ndarray:
    return vector / np.linalg.norm(vector)


def per_item_pipeline() -> Pipeline:
    twin = node(normalize.func, output_name="unit", name="normalize")  # no batch attached
    return Pipeline([twin], name="per_item")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=4_096)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    @normalize.batch(size=args.size)
    def normalize_batch(vector: list[np.ndarray]) -> list[np.ndarray]:
        stacked = np.stack(vector)
        return list(stacked / np.linalg.norm(stacked, axis=1, keepdims=True))

    print(f"# hypernodes batch, Python {platform.python_version()}, {args.items} items")
    vectors = list(np.random.default_rng(0).normal(size=(args.items, 16)))
    batched = Pipeline([normalize], name="batched")
    per_item = per_item_pipeline()
    a = batched.map({"vector": vectors})["unit"]
    b = per_item.map({"vector": vectors})["unit"]
    assert all(np.allclose(x, y) for x, y in zip(a[:1000], b[:1000], strict=True))

    item_seconds = best(lambda: per_item.map({"vector": vectors}), args.repeats)
    batch_seconds = best(lambda: batched.map({"vector": vectors}), args.repeats)
    print(f"per_item_per_item: {item_seconds / args.items * 1e6:.3f} us")
    print(f"batch_per_item: {batch_seconds / args.items * 1e6:.3f} us")
    print(f"speedup: {item_seconds / batch_seconds:.1f}x")


if __name__ == "__main__":
    main()
