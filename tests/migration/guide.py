"""The migration guide as the tests read it: its anchors, and messages that point into it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "docs" / "migration.md"


def anchors() -> set[str]:
    """The anchors mkdocs gives the guide's headings (lower case, words joined by '-')."""
    slugs = set()
    for heading in re.findall(r"^#+ (.+)$", GUIDE.read_text(), re.M):
        words = re.sub(r"[^\w\s-]", "", heading.lower()).split()
        slugs.add("-".join(words))
    return slugs


def assert_points_at_guide(message: str) -> None:
    """``message`` names the guide and a section of it that exists."""
    found = re.search(r"docs/migration\.md#([\w-]+)", message)
    assert found is not None, message
    assert found.group(1) in anchors(), message
