"""Embed texts on a Modal GPU inside a pipeline that runs here.

The outer pipeline cleans the texts and ranks them against a query in this
process; only the inner ``embed`` pipeline runs on Modal, in a container with
an A100 and torch, mapped over the texts in one remote call. Its results are
cached in a Modal Volume, so a second run computes nothing. Callbacks and the
progress display run here.

    pip install 'hypernodes[modal,rich]'
    modal token new                 # or set MODAL_TOKEN_ID and MODAL_TOKEN_SECRET
    python examples/modal_gpu.py    # without credentials: prints what it would deploy
"""

from __future__ import annotations

import math

import modal
from hypernodes import DiskCache, ModalBackend, Pipeline, node
from hypernodes_modal.errors import ModalCredentialsError

# -- runs on Modal ---------------------------------------------------------------------


@node(output_name="embedding")
def embed(cleaned: str, dimensions: int = 64) -> list[float]:
    """A toy embedding computed on the GPU: character trigrams hashed into a vector."""
    import torch  # installed in the image; not needed here

    device = "cuda" if torch.cuda.is_available() else "cpu"
    vector = torch.zeros(dimensions, device=device)
    for start in range(max(1, len(cleaned) - 2)):
        vector[hash(cleaned[start : start + 3]) % dimensions] += 1.0
    vector = torch.nn.functional.normalize(vector, dim=0)
    return vector.tolist()  # a tensor would come back too, moved to the CPU


@node(output_name="device")
def gpu_name(embedding: list[float]) -> str:
    import torch

    return torch.cuda.get_device_name() if torch.cuda.is_available() else "cpu"


gpu = ModalBackend(
    gpu="A100",
    image=modal.Image.debian_slim().pip_install("torch"),
    volumes={"/cache": modal.Volume.from_name("hypernodes-cache", create_if_missing=True)},
    timeout=900,
)
# The cache lives on the volume: the container reloads it before the call and commits after.
embed_texts = Pipeline([embed, gpu_name], name="embed", backend=gpu, cache=DiskCache("/cache"))

# -- runs here ---------------------------------------------------------------------------


@node(output_name="cleaned")
def clean(text: str) -> str:
    return " ".join(text.lower().split())


@node(output_name="ranking")
def rank(texts: list[str], embeddings: list[list[float]], query_embedding: list[float]) -> list:
    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True)) / (
            math.sqrt(sum(x * x for x in a) * sum(y * y for y in b)) or 1.0
        )

    scores = [cosine(e, query_embedding) for e in embeddings]
    return sorted(zip(scores, texts, strict=True), reverse=True)


prepare = Pipeline([clean], name="prepare")
search = Pipeline(
    [
        prepare.as_node(
            name="clean_each",
            input_mapping={"texts": "text"},
            output_mapping={"cleaned": "cleaned_texts"},
            map_over="texts",
        ),
        embed_texts.as_node(
            name="embed_each",
            input_mapping={"cleaned_texts": "cleaned"},
            output_mapping={"embedding": "embeddings", "device": "devices"},
            map_over="cleaned_texts",
        ),
        embed_texts.as_node(
            name="embed_query",
            input_mapping={"query": "cleaned"},
            output_mapping={"embedding": "query_embedding", "device": "query_device"},
        ),
        rank,
    ],
    name="search",
)


def show(backend: ModalBackend) -> str:
    """What the backend would deploy, as text."""
    lines = [f"  {name:<15}{value!r}" for name, value in backend.function_options.items()]
    recipe = backend.image_recipe
    base = (
        "your image"
        if backend.image is not None
        else f"Debian slim, Python {recipe['python_version']}"
    )
    lines.append(f"  {'image':<15}{base}, then pip install {' '.join(recipe['pip'])}")
    if recipe["local_packages"]:
        lines.append(f"  {'':<15}and, as source: {', '.join(recipe['local_packages'])}")
    return "\n".join(lines)


def main() -> None:
    texts = [
        "GPUs make embeddings fast.",
        "A cat sat on the mat.",
        "Modal runs functions in containers with GPUs.",
    ]
    try:
        with gpu.running():  # one Modal app for both remote calls of this run
            result = search.run({"texts": texts, "query": "containers with gpus"})
    except ModalCredentialsError as exc:
        print(f"Not running on Modal: {exc}\n")
        print(f"The pipeline {embed_texts.name!r} would run in this Modal function:")
        print(show(gpu))
        return
    print(f"embedded on: {sorted(set(result['devices']))}")
    for score, text in result["ranking"]:
        print(f"{score:.3f}  {text}")


if __name__ == "__main__":
    main()
