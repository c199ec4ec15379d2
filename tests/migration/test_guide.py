"""docs/migration.md: its blocks say which version they are, and it covers every HyperNodes 0.4 name.

Blocks start with ``# HyperNodes 0.4`` (old code, never run) or
``# hypernodes 0.5``. The 0.5 blocks run in page order and give the values
they show, like every page's (tests/test_docs.py; the conventions, among them
``<!-- needs: X -->``, are in tests/docblocks.py).
"""

from __future__ import annotations

from hypernodes._model import compat

from ..docblocks import OLD, PENDING, blocks
from .guide import GUIDE, ROOT

NEW = "# hypernodes 0.5"

#: HyperNodes 0.4.8's ``hypernodes.__all__`` (plus DaftEngine, exported when daft was installed).
OLD_TOP_LEVEL = (
    "node",
    "stateful",
    "DualNode",
    "HyperNode",
    "Node",
    "Pipeline",
    "SeqEngine",
    "DiskCache",
    "PipelineCallback",
    "CallbackContext",
    "GraphvizTheme",
    "DESIGN_STYLES",
    "HyperNodesError",
    "CycleError",
    "DependencyError",
    "ExecutionError",
    "DaftEngine",
)
#: Public 0.4 methods and properties of Pipeline and Node, and names of its documented modules.
OLD_MEMBERS = (
    "run",
    "map",
    "as_node",
    "visualize",
    "with_engine",
    "with_name",
    "bind",
    "unbind",
    "bound_inputs",
    "unfulfilled_args",
    "root_args",
    "code_hash",
    "DaskEngine",
    "ProgressCallback",
    "TelemetryCallback",
    "get_waterfall_chart",
    "Engine",
)


def python_blocks() -> list[tuple[str | None, str]]:
    """Every python block of the guide with the ``needs:`` tag before it, if any."""
    return [
        (block.tag[1] if block.tag else None, block.code)
        for block in blocks(GUIDE)
        if block.language == "python"
    ]


def test_every_block_says_which_version_it_is_and_needs_only_known_things():
    for needs, code in python_blocks():
        assert code.startswith((OLD, NEW)), code[:60]
        assert needs in {None, "graphviz", *PENDING}, needs


def test_most_blocks_are_05_code_that_runs_here():
    running = [block for block in blocks(GUIDE) if block.skip_reason() is None]
    assert all(block.code.startswith(NEW) for block in running)
    assert len(running) >= 15


def test_the_blocks_waiting_for_features_are_tagged_with_them():
    waiting = {needs for needs, code in python_blocks() if needs in PENDING}
    assert waiting == PENDING


def test_every_public_04_name_is_in_the_guide():
    text = GUIDE.read_text()
    for name in (*OLD_TOP_LEVEL, *OLD_MEMBERS, *compat.OLD_NAMES):
        assert any(f"{mark}{name}" in text for mark in "`.@"), name
    for module in compat.OLD_MODULES:
        assert f"`{module}" in text, module


def test_docs_index_mkdocs_and_readme_link_the_guide():
    assert "migration.md" in (ROOT / "mkdocs.yml").read_text()
    assert "(migration.md)" in (ROOT / "docs" / "index.md").read_text()
    assert "(docs/migration.md)" in (ROOT / "README.md").read_text()
