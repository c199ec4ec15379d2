"""The container image: what must be in it for a payload pickled here to unpack there.

A payload unpacks only where the Python minor version, cloudpickle, and
hypernodes (core and the plugins the pipeline uses) match this process. The
runtime recipe lists exactly that, read from this process when the Modal
objects are first built:

- ``python_version``: this interpreter's major.minor (the default image's base);
- ``pip``: ``name==version`` pins of cloudpickle, hypernodes-core, hypernodes-modal
  and every other hypernodes plugin in use (one with a module beyond its
  entry point imported in this process);
- ``local_packages``: a distribution installed from a source folder (an
  editable checkout) is not on the package index at its version: its import
  package is added to the image as source, and its own requirements are
  installed instead of a pin.

``build`` puts that on Debian slim with this Python, or on top of the user's
own image (which must then hold a matching Python).
"""

from __future__ import annotations

import json
import re
import sys
from importlib import metadata
from typing import Any

__all__ = ["build", "runtime_recipe"]

#: Distributions whose requirements are never installed by name: present by other means.
_PROVIDED = ("hypernodes", "modal", "cloudpickle")


def runtime_recipe() -> dict[str, Any]:
    """What the image needs, as a plain mapping (see the module docstring)."""
    import cloudpickle

    pip = [f"cloudpickle=={cloudpickle.__version__}"]
    local: list[str] = []
    for distribution, package in [
        ("hypernodes-core", "hypernodes"),
        ("hypernodes-modal", "hypernodes_modal"),
        *_plugins_in_use(),
    ]:
        dist = metadata.distribution(distribution)
        if _from_source_folder(dist):
            local.append(package)
            pip.extend(r for r in _requirements(dist) if r not in pip)
        else:
            pip.append(f"{distribution}=={dist.version}")
    return {
        "python_version": f"{sys.version_info.major}.{sys.version_info.minor}",
        "pip": pip,
        "local_packages": local,
    }


def build(base: Any, recipe: dict[str, Any]) -> Any:
    """A ``modal.Image``: ``base`` (default: Debian slim, the recipe's Python) and the recipe."""
    import modal

    image = base if base is not None else modal.Image.debian_slim(recipe["python_version"])
    image = image.pip_install(*recipe["pip"])
    if recipe["local_packages"]:  # last: files added at container start, not baked in
        image = image.add_local_python_source(*recipe["local_packages"])
    return image


def _plugins_in_use() -> list[tuple[str, str]]:
    """(distribution, import package) of hypernodes plugins in use in this process."""
    found = []
    for ep in metadata.entry_points(group="hypernodes"):
        if ep.dist is None:
            continue
        distribution = _normalized(ep.dist.name)
        if distribution in ("hypernodes-core", "hypernodes-modal"):
            continue
        module = ep.value.partition(":")[0]
        package = module.partition(".")[0]
        prefix = package + "."
        if any(n.startswith(prefix) and n != module for n in list(sys.modules)):
            found.append((distribution, package))
    return sorted(set(found))


def _from_source_folder(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    return text is not None and "dir_info" in json.loads(text)


def _requirements(dist: metadata.Distribution) -> list[str]:
    """The distribution's unconditional requirements, less those present by other means."""
    kept = []
    for requirement in dist.requires or []:
        if re.search(r"\bextra\s*==", requirement):
            continue
        match = re.match(r"[A-Za-z0-9._-]+", requirement)
        name = _normalized(match.group(0)) if match else ""
        if not name.startswith(_PROVIDED):
            kept.append(requirement.strip())
    return kept


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
