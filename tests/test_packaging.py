"""What a user installs: one version everywhere, bounded core ranges, a README and LICENSE each."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
from importlib import metadata
from pathlib import Path

import hypernodes
import pytest

ROOT = Path(__file__).resolve().parents[1]
MEMBERS = ["hypernodes-core", "hypernodes-rich", "hypernodes-modal", "hypernodes-daft"]
DISTRIBUTIONS = {"hypernodes": ROOT, **{name: ROOT / name for name in MEMBERS}}


def _project(folder: Path) -> dict:
    return tomllib.loads((folder / "pyproject.toml").read_text())["project"]


def test_every_distribution_has_one_version_and_hypernodes_reports_it():
    versions = {name: _project(folder)["version"] for name, folder in DISTRIBUTIONS.items()}
    assert set(versions.values()) == {hypernodes.__version__}, versions
    assert metadata.version("hypernodes-core") == hypernodes.__version__


def test_the_meta_distribution_and_the_plugins_depend_on_the_current_minor_of_each_other():
    major, minor, _ = (int(part) for part in hypernodes.__version__.split("."))
    bound = f">={major}.{minor},<{major}.{minor + 1}"
    requirements = []
    for name, folder in DISTRIBUTIONS.items():
        project = _project(folder)
        extras = project.get("optional-dependencies", {}).values()
        for requirement in [*project["dependencies"], *(r for extra in extras for r in extra)]:
            if requirement.startswith("hypernodes"):
                requirements.append((name, requirement))
    pairs = set()
    for name, requirement in requirements:
        found = re.fullmatch(r"(hypernodes-\w+)(\[[\w,]+\])?(.*)", requirement)
        assert found is not None, (name, requirement)
        assert found.group(3) == bound, (name, requirement)
        pairs.add((name, found.group(1)))
    plugins = [m for m in MEMBERS if m != "hypernodes-core"]
    assert {("hypernodes", m) for m in MEMBERS} <= pairs  # the meta reaches every member
    assert {(p, "hypernodes-core") for p in plugins} <= pairs  # each plugin depends on core


@pytest.mark.parametrize("name", list(DISTRIBUTIONS))
def test_each_distribution_has_a_readme_and_the_mit_license_it_declares(name):
    folder = DISTRIBUTIONS[name]
    project = _project(folder)
    assert project["readme"] == "README.md"
    assert (folder / "README.md").read_text().startswith(f"# {name}\n")
    assert project["license"] == "MIT"
    assert project["license-files"] == ["LICENSE"]
    assert (folder / "LICENSE").read_text().startswith("MIT License\n")
    assert any(
        c.startswith("Programming Language :: Python :: 3.11") for c in project["classifiers"]
    )


@pytest.mark.parametrize("name", ["hypernodes-core", "hypernodes-rich"])
def test_a_member_readme_example_gives_the_result_it_shows(name):
    text = (DISTRIBUTIONS[name] / "README.md").read_text()
    [block] = re.findall(r"```python\n(.*?)```", text, re.S)
    *source, expression, shown = block.rstrip("\n").splitlines()
    assert shown.startswith("# ")
    namespace: dict[str, object] = {}
    exec("\n".join(source), namespace)
    assert repr(eval(expression.split("  #")[0], namespace)) == shown[2:]


def test_the_meta_sdist_ships_only_metadata_readme_and_license(tmp_path):
    uv = shutil.which("uv")
    command = [uv] if uv else [sys.executable, "-m", "uv"]
    done = subprocess.run(
        [*command, "build", "--sdist", "--out-dir", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 and "No module named uv" in done.stderr:
        pytest.skip("uv is not installed")
    assert done.returncode == 0, done.stderr
    [archive] = tmp_path.glob("hypernodes-*.tar.gz")
    with tarfile.open(archive) as sdist:
        names = sorted(name.split("/", 1)[1] for name in sdist.getnames() if "/" in name)
    assert names == [".gitignore", "LICENSE", "PKG-INFO", "README.md", "pyproject.toml"]
