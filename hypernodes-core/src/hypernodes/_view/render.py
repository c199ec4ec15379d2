"""Drawing DOT with Graphviz: the ``graphviz`` Python package runs the ``dot`` program.

Both are optional and looked for on first use only. When either is missing
the error says exactly what to install; ``to_dot()`` and ``to_mermaid()``
never need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import MissingDependencyError

__all__ = ["FORMATS", "Drawing", "render"]

#: File suffixes ``save`` and ``visualize(filename=...)`` write.
FORMATS = ("svg", "png", "pdf", "jpg", "jpeg")

PACKAGE_MISSING = (
    "Drawing a pipeline needs the graphviz Python package: pip install 'hypernodes[viz]' "
    "(or pip install graphviz). pipeline.to_dot() and pipeline.to_mermaid() work without it."
)
PROGRAM_MISSING = (
    "Drawing a pipeline needs the Graphviz program `dot`, which is not on PATH. Install it: "
    "Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install -c conda-forge graphviz; Windows: winget install graphviz "
    "(then open a new terminal). pipeline.to_dot() and pipeline.to_mermaid() work without it."
)


def render(source: str, fmt: str) -> bytes:
    """Run ``dot`` on ``source``; return the image in format ``fmt``."""
    try:
        import graphviz
    except ImportError as exc:
        raise MissingDependencyError(PACKAGE_MISSING) from exc
    try:
        data: bytes = graphviz.Source(source).pipe(format=fmt)
    except graphviz.ExecutableNotFound as exc:
        raise MissingDependencyError(PROGRAM_MISSING) from exc
    return data


class Drawing:
    """A drawn pipeline: shown inline by Jupyter, saved with :meth:`save`.

    ``source`` is the DOT text, ``svg`` the rendered SVG::

        drawing = pipeline.visualize()
        drawing.save("pipeline.png")
    """

    __slots__ = ("name", "source", "svg")

    def __init__(self, name: str, source: str) -> None:
        self.name = name
        self.source = source
        self.svg = render(source, "svg").decode("utf-8")

    def save(self, filename: str | Path) -> Path:
        """Write the drawing; the suffix picks the format (``.svg``, ``.png``, ``.pdf``, ...)."""
        path = Path(filename)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            msg = (
                f"Cannot tell the image format of {str(path)!r} from its suffix: use one of "
                f"{', '.join('.' + f for f in FORMATS)}."
            )
            raise ValueError(msg)
        data = self.svg.encode("utf-8") if fmt == "svg" else render(self.source, fmt)
        path.write_bytes(data)
        return path

    def _repr_svg_(self) -> str:
        return self.svg

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.svg, "text/plain": repr(self)}

    def __repr__(self) -> str:
        return f"<Drawing of pipeline {self.name!r}: .save('file.svg' or '.png'), .svg, .source>"
