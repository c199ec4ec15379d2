"""The README's demo: a per-document pipeline, nested and mapped over a small corpus.

Each step is written for ONE document. The inner pipeline cleans a document and
scores it against a query; the outer pipeline maps it over every document and
ranks the results. It runs twice with a cache and a progress display (on
stderr): the second time every node is served from the cache.
"""

from __future__ import annotations

import tempfile

from hypernodes import DiskCache, Pipeline, node


@node(output_name="tokens")
def tokenize(document: str) -> list[str]:
    return [word.strip(".,!?").lower() for word in document.split()]


@node(output_name="score")
def overlap(tokens: list[str], query: str) -> float:
    wanted = set(query.lower().split())
    return len(wanted & set(tokens)) / len(wanted)


@node(output_name="length")
def count(tokens: list[str]) -> int:
    return len(tokens)


per_document = Pipeline([tokenize, overlap, count], name="per_document")


@node(output_name="ranking")
def rank(documents: list[str], scores: list[float], lengths: list[int]) -> list[tuple]:
    rows = zip(scores, lengths, documents, strict=True)
    return sorted(rows, key=lambda row: (-row[0], row[1]))


corpus = Pipeline(
    [
        per_document.as_node(
            name="score_each",
            input_mapping={"documents": "document"},
            output_mapping={"score": "scores", "length": "lengths"},
            map_over="documents",
        ),
        rank,
    ],
    name="corpus",
)


def main() -> None:
    documents = [
        "Pipelines of plain functions are easy to test.",
        "A cat sat on the mat.",
        "Plain Python functions, wired by name, make pipelines.",
        "Caching every step makes pipelines fast to rerun.",
    ]
    queries = ["plain functions pipelines", "cat"]
    with tempfile.TemporaryDirectory() as cache_dir:
        corpus.with_cache(DiskCache(cache_dir)).with_callbacks(["progress"])
        # The outer pipeline is itself mapped: once per query.
        for _ in range(2):
            results = corpus.map({"documents": documents, "query": queries}, map_over="query")
    for query, ranking in zip(queries, results["ranking"], strict=True):
        print(f"query: {query!r}")
        for score, length, document in ranking:
            print(f"  {score:4.2f}  ({length:2d} words)  {document}")


if __name__ == "__main__":
    main()
