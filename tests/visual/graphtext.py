"""Read the DOT and Mermaid that hypernodes writes back into boxes, clusters and edges.

Tests assert on this structure, never on pixels. The DOT reader tokenises the
text (quoted ids, ``<...>`` HTML labels, ``->``, attribute lists) rather than
relying on one statement per line.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field


@dataclass
class Drawn:
    """What a drawing shows: boxes (id -> attributes), clusters, and edges."""

    boxes: dict[str, dict[str, str]] = field(default_factory=dict)
    cluster_of: dict[str, str | None] = field(default_factory=dict)  # box id -> cluster id
    clusters: dict[str, dict[str, str]] = field(default_factory=dict)
    cluster_parent: dict[str, str | None] = field(default_factory=dict)
    edges: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)

    def text(self, box: str) -> str:
        """The visible text of a box's label, tags stripped."""
        return plain(self.boxes[box].get("label", ""))

    def classes(self, box: str) -> set[str]:
        return set(self.boxes[box].get("class", "").split())

    def pairs(self) -> set[tuple[str, str]]:
        return {(a, b) for a, b, _ in self.edges}

    def edge(self, source: str, target: str) -> dict[str, str]:
        (attributes,) = [attrs for a, b, attrs in self.edges if (a, b) == (source, target)]
        return attributes


def plain(label: str) -> str:
    """Label markup to the text a reader sees: tags become spaces, entities are decoded."""
    text = re.sub(r"<br\s*/?>", " ", label, flags=re.I)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"(?<!&)#(\w+);", _mermaid_entity, text)  # one pass, as Mermaid decodes
    return " ".join(html.unescape(text).replace("\\n", " ").split())


def _mermaid_entity(match: re.Match[str]) -> str:
    """Mermaid reads ``#35;`` as a character code and ``#quot;`` as a named entity."""
    code = match[1]
    if code.isdigit():
        return chr(int(code))
    return html.unescape(f"&{code};")


# -- DOT -------------------------------------------------------------------------------

_TOKEN = re.compile(r'\s*(?:(->)|("(?:[^"\\]|\\.)*")|([{}\[\];,=])|(<)|([A-Za-z0-9_.#:/-]+))')


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        assert match, f"cannot read DOT at {text[pos : pos + 40]!r}"
        arrow, quoted, symbol, angle, bare = match.groups()
        if angle:  # an HTML label: up to the matching '>'
            start = match.end() - 1
            depth, i = 0, start
            while True:
                depth += {"<": 1, ">": -1}.get(text[i], 0)
                i += 1
                if depth == 0:
                    break
            out.append(("html", text[start + 1 : i - 1]))
            pos = i
            continue
        if quoted:
            unescaped = re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], quoted[1:-1])
            out.append(("id", unescaped))
        elif arrow:
            out.append(("sym", "->"))
        elif symbol:
            out.append(("sym", symbol))
        else:
            out.append(("id", bare))
        pos = match.end()
    return out


def read_dot(text: str, raw: bool = False) -> Drawn:
    """Boxes, clusters and edges of a ``digraph``.

    The DOT ids are generated (``n0``, ``cluster_c0``); unless ``raw``, boxes and
    clusters are renamed after what they show, for readable tests: ``input:<name>``
    for an input, the path of names (``score_each/tokenize``) for a node, and
    ``cluster_<path>`` for a cluster.
    """
    drawn = _read_dot(text)
    return drawn if raw else _by_name(drawn)


def _shown_name(label: str) -> str:
    match = re.search(r"<B>(.*?)</B>", label)
    assert match, f"no bold name in {label!r}"
    return html.unescape(match[1])


def _by_name(drawn: Drawn) -> Drawn:
    def path(cluster: str | None) -> list[str]:
        names: list[str] = []
        while cluster is not None:
            names.insert(0, _shown_name(drawn.clusters[cluster]["label"]))
            cluster = drawn.cluster_parent[cluster]
        return names

    clusters = {c: "cluster_" + "/".join(path(c)) for c in drawn.clusters}
    boxes = {}
    for box, attributes in drawn.boxes.items():
        name = _shown_name(attributes["label"])
        if "input" in drawn.classes(box):
            boxes[box] = f"input:{name}"
        else:
            boxes[box] = "/".join([*path(drawn.cluster_of[box]), name])
    assert len(set(boxes.values())) == len(boxes), f"names collide: {boxes}; use raw=True"
    assert len(set(clusters.values())) == len(clusters), f"names collide: {clusters}"

    def cluster(c: str | None) -> str | None:
        return None if c is None else clusters[c]

    return Drawn(
        boxes={boxes[b]: a for b, a in drawn.boxes.items()},
        cluster_of={boxes[b]: cluster(c) for b, c in drawn.cluster_of.items()},
        clusters={clusters[c]: a for c, a in drawn.clusters.items()},
        cluster_parent={clusters[c]: cluster(p) for c, p in drawn.cluster_parent.items()},
        edges=[(boxes[a], boxes[b], attrs) for a, b, attrs in drawn.edges],
    )


def _read_dot(text: str) -> Drawn:
    tokens = _tokens(text)
    drawn = Drawn()
    i = 0

    def attributes() -> dict[str, str]:
        nonlocal i
        attrs: dict[str, str] = {}
        assert tokens[i] == ("sym", "[")
        i += 1
        while tokens[i] != ("sym", "]"):
            key = tokens[i][1]
            assert tokens[i + 1] == ("sym", "=")
            attrs[key] = tokens[i + 2][1]
            i += 3
            if tokens[i] in (("sym", ","), ("sym", ";")):
                i += 1
        i += 1
        return attrs

    assert tokens[0] == ("id", "digraph")
    i = 3  # digraph NAME {
    stack: list[str | None] = [None]
    while i < len(tokens):
        kind, value = tokens[i]
        if (kind, value) == ("sym", "}"):
            stack.pop()
            i += 1
        elif (kind, value) == ("sym", ";"):
            i += 1
        elif value == "subgraph":
            name = tokens[i + 1][1]
            drawn.clusters[name] = {}
            drawn.cluster_parent[name] = stack[-1]
            stack.append(name)
            i += 3
        elif value in ("graph", "node", "edge") and tokens[i + 1] == ("sym", "["):
            i += 1
            attributes()
        elif tokens[i + 1] == ("sym", "="):  # a cluster attribute: key=value;
            cluster = stack[-1]
            assert cluster is not None
            drawn.clusters[cluster][value] = tokens[i + 2][1]
            i += 3
        elif tokens[i + 1] == ("sym", "->"):
            target = tokens[i + 2][1]
            i += 3
            drawn.edges.append((value, target, attributes()))
        else:
            i += 1
            drawn.boxes[value] = attributes()
            drawn.cluster_of[value] = stack[-1]
    return drawn


# -- Mermaid ---------------------------------------------------------------------------

_BOX = re.compile(r'^(\w+)(\(\[|\()"(.*)"(\]\)|\)):::(\w+)$')
_EDGE = re.compile(r'^(\w+) (-->|==>)(?:\|"(.*)"\|)? (\w+)$')
_SUBGRAPH = re.compile(r'^subgraph (\w+)\["(.*)"\]$')


def read_mermaid(text: str) -> Drawn:
    """Boxes (label, shape, classes), subgraphs and edges (label, arrow) of a flowchart."""
    lines = [line.strip() for line in text.strip().splitlines()]
    assert re.match(r"^flowchart (LR|TB)$", lines[0]), lines[0]
    drawn = Drawn()
    stack: list[str | None] = [None]
    for line in lines[1:]:
        if line.startswith(("classDef ", "linkStyle ", "style ")):
            continue
        if line == "end":
            stack.pop()
        elif match := _SUBGRAPH.match(line):
            drawn.clusters[match[1]] = {"label": match[2]}
            drawn.cluster_parent[match[1]] = stack[-1]
            stack.append(match[1])
        elif match := _BOX.match(line):
            shape = "stadium" if match[2] == "([" else "rounded"
            drawn.boxes[match[1]] = {"label": match[3], "class": match[5], "shape": shape}
            drawn.cluster_of[match[1]] = stack[-1]
        elif match := _EDGE.match(line):
            drawn.edges.append((match[1], match[4], {"label": match[3] or "", "arrow": match[2]}))
        elif match := re.match(r"^class (\w+) (\w+)$", line):
            drawn.boxes[match[1]]["class"] += " " + match[2]
        else:
            raise AssertionError(f"unexpected Mermaid line: {line!r}")
    return drawn
