"""docs/migration.md: its 0.5 blocks run as pasted, and it covers every HyperNodes 0.4 name.

Blocks start with ``# HyperNodes 0.4`` (old code, never run) or
``# hypernodes 0.5`` (run in page order, in one namespace). A ``# <literal>``
line after an expression states that expression's value. A block preceded by
``<!-- needs: X -->`` waits for something this checkout may lack: a feature
still being built (listed in ``PENDING``; the integrator removes a tag from it
when the feature lands, and the block then runs here), or ``graphviz`` (run
when the ``dot`` program is installed).
"""

from __future__ import annotations

import ast
import re
import shutil
import warnings

from hypernodes import Pipeline
from hypernodes._model import compat

from .guide import GUIDE, ROOT

#: Features the guide writes against before they exist (DESIGN.md spellings).
PENDING = {"daft"}

OLD = "# HyperNodes 0.4"
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


def blocks() -> list[tuple[str | None, str]]:
    """Every python block of the guide with the ``needs:`` tag before it, if any."""
    found = re.findall(r"(?:<!-- needs: (\w+) -->\n)?```python\n(.*?)```", GUIDE.read_text(), re.S)
    return [(needs or None, code) for needs, code in found]


def test_every_block_says_which_version_it_is_and_needs_only_known_things():
    for needs, code in blocks():
        assert code.startswith((OLD, NEW)), code[:60]
        assert needs in {None, "graphviz", *PENDING}, needs


def run_checked(code: str, namespace: dict[str, object]) -> int:
    """Run ``code``; check each ``# <literal>`` line against the expression above it."""
    checked = 0
    source: list[str] = []
    for line in code.splitlines():
        stated = line[2:] if line.startswith("# ") else None
        try:
            expected = ast.literal_eval(stated) if stated is not None else None
        except (ValueError, SyntaxError):
            stated = None
        if stated is None or not source:
            source.append(line)
            continue
        expression = source.pop()
        exec("\n".join(source), namespace)
        source = []
        assert eval(expression.split("  #")[0], namespace) == expected, expression
        checked += 1
    exec("\n".join(source), namespace)
    return checked


def test_the_05_blocks_run_in_page_order_and_give_what_they_show(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the blocks write a cache directory and a drawing
    namespace: dict[str, object] = {"__name__": "migration_guide"}
    checked = ran = 0
    with warnings.catch_warnings():
        # The 0.5 blocks show the new spellings: none may need a compat shim.
        warnings.filterwarnings("error", message=".*migration", category=DeprecationWarning)
        for needs, code in blocks():
            if not code.startswith(NEW) or needs in PENDING:
                continue
            if needs == "graphviz" and shutil.which("dot") is None:
                continue
            checked += run_checked(code, namespace)
            ran += 1
    for value in namespace.values():  # write what a cache used only by a nested pipeline holds
        if isinstance(value, Pipeline) and value.effective_cache is not None:
            value.effective_cache.flush()  # here, not at exit in another working directory
    assert ran >= 15
    assert checked >= 15


def test_the_blocks_waiting_for_features_are_tagged_with_them():
    waiting = {needs for needs, code in blocks() if needs in PENDING}
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
