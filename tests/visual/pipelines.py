"""The pipeline the drawing and summary tests look at: a small corpus ranker, nested and mapped."""

from __future__ import annotations

from hypernodes import Pipeline, node


@node(output_name="tokens")
def tokenize(document: str, lower: bool = True) -> list[str]:
    return document.lower().split() if lower else document.split()


@node(output_name="score")
def overlap(tokens: list[str], query: str) -> float:
    return len(set(query.split()) & set(tokens)) / len(query.split())


@node(output_name="length")
def count(tokens: list[str]) -> int:
    return len(tokens)


@node(output_name="ranking")
def rank(documents: list[str], scores: list[float], lengths: list[int]) -> list[tuple]:
    return sorted(zip(scores, lengths, documents), reverse=True)


def corpus() -> Pipeline:
    per_document = Pipeline([tokenize, overlap, count], name="per_document")
    return Pipeline(
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


def mapped_with_default() -> Pipeline:
    """An outer pipeline mapping a nested one over ``x``, an input the inner node defaults."""

    @node(output_name="y")
    def f(x: int = 7) -> int:
        return x * 2

    inner = Pipeline([f], name="inner")
    return Pipeline([inner.as_node(map_over="x", output_mapping={"y": "ys"})], name="outer")
