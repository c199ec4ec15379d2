"""A warm DiskCache gives what a fresh one gives, after editing files between processes.

One small project is written to disk (a scenarios module, helper modules, a
package), then run in fresh interpreters with different ``PYTHONHASHSEED``
values, every scenario on its own DiskCache:

1. version A, cold cache;
2. version A again in a new process and hash seed: every call is a hit;
3. the files edited to version B, on the warm cache;
4. version B on a fresh cache.

Run 3 must give exactly what run 4 gives, and differ from run 1 (the edit
mattered). Every run also prints the keys of inputs holding sets in many
forms, which must be the same in all four. Each run is one subprocess for all
scenarios, to stay fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("numpy")

SCENARIOS = """
import dataclasses
import enum
import functools

import numpy as np
import pkg.sub
from hypernodes import Pipeline, node

import helpers
from shapes import Base


@node(output_name="y")
def inside_import(x):
    from cleaning import clean  # imported nowhere else

    return clean(x)


@node(output_name="y")
def package_path(x):
    return pkg.sub.clean(x)


class Child(Base):
    pass


@node(output_name="y")
def inherited(x):
    return [Child.twice(x), Child.make(x)]


class Cfg:
    FACTOR = {factor}


@node(output_name="y")
def class_attribute(x):
    return x * Cfg.FACTOR


@functools.lru_cache(maxsize=None)
def cached(x):
    return x {op} 2


def _scaled(x, k):
    return x {op} k


scaled = functools.partial(_scaled, k=3)


class Traced:
    def __init__(self, f):
        self.f = f

    def __call__(self, *args):
        return self.f(*args)


@Traced
def traced(x):
    return x {op} 4


@node(output_name="y")
def lru_cached(x):
    return cached(x)


@node(output_name="y")
def partial_helper(x):
    return scaled(x)


@node(output_name="y")
def decorated(x):
    return traced(x)


class Model:
    def helper(self, x):
        return x {op} 5

    def predict(self, x):
        return self.helper(x)

    def __call__(self, x):
        return self.helper(x)


def default_helper(x):
    return x {op} 6


@node(output_name="y")
def default_function(x, fn=default_helper):
    return fn(x)


@node(output_name="w")
def inner_step(v):
    return v {op} 7


INNER = Pipeline([inner_step])


@node(output_name="y")
def global_pipeline(x):
    return INNER.run({{"v": x}})["w"]


class Mode(enum.Enum):
    A = 2
    B = 3


MODE = Mode.{mode}


@node(output_name="y")
def enum_member(x):
    return x * MODE.value


TABLE = {{"a": [1, {last}], "b": ({last},)}}


@node(output_name="y")
def containers(x):
    return sum(TABLE["a"]) + x


WEIGHTS = np.array([1.0, {last}.0])


@node(output_name="y")
def numpy_global(x):
    return float(WEIGHTS.sum()) + x


@dataclasses.dataclass
class Inner:
    k: int


@dataclasses.dataclass
class Outer:
    inner: Inner
    tags: list


CFG = Outer(Inner({last}), ["a"])


@node(output_name="y")
def dataclass_global(x):
    return x * CFG.inner.k


class Settings:
    def __init__(self):
        self.weights = [1, {last}]
        self.name = "fixed"


SETTINGS = Settings()


@node(output_name="y")
def settings_list(x):
    return x + sum(SETTINGS.weights)


@node(output_name="y")
def set_literal(x):
    return x in {{"a", "b", "{letter}"}}


@node(output_name="y")
def apply(fn, x):
    return fn(x)


class Tokenizer:
    SEP = "{sep}"

    def split(self, text):
        return text.split(self.SEP)


@node(output_name="y")
def use_class(cls, x):
    return cls().split(x)


class Tagged:
    def __init__(self, tags):
        self.tags = tags


@node(output_name="y")
def tagged(obj, x):
    return sorted(obj.tags) + [x]


class Color(enum.Enum):
    RED = "r"
    GREEN = "g"
    BLUE = "b"


class Point:
    def __init__(self, x):
        self.x = x


class Holder:
    __slots__ = ("pairs", "tags")

    def __init__(self):
        self.tags = {{"alpha", "beta", "gamma"}}
        self.pairs = frozenset({{("a", "b"), ("c", "d")}})


@dataclasses.dataclass
class Names:
    names: set


@node(output_name="y")
def identity(value):
    return value


# Inputs holding sets in many forms: one key in every process and hash seed.
SET_INPUTS = {{
    "set of str": {{"alpha", "beta", "gamma", "delta"}},
    "frozenset of tuples": frozenset({{("a", "b"), ("c", "d"), ("e", "f")}}),
    "dict of sets": {{"k": {{"u", "v", "w"}}, "j": frozenset({{"x", "y"}})}},
    "list of sets": [{{"a", "b"}}, {{"c", "d", "e"}}],
    "set of enum members": {{Color.RED, Color.GREEN, Color.BLUE}},
    "set of objects": {{Point("a"), Point("b"), Point("c")}},
    "dataclass with a set": Names({{"m", "n", "o"}}),
    "object with set slots": Holder(),
    "numpy object array of sets": np.array([{{"a", "b"}}, {{"c", "d"}}], dtype=object),
}}


SCENARIOS = {{
    "import inside the body": (inside_import, {{"x": " Ab "}}),
    "package path": (package_path, {{"x": " Ab "}}),
    "inherited static and class methods": (inherited, {{"x": 3}}),
    "class attribute": (class_attribute, {{"x": 3}}),
    "lru_cache helper": (lru_cached, {{"x": 3}}),
    "partial helper": (partial_helper, {{"x": 3}}),
    "decorator returning an object": (decorated, {{"x": 3}}),
    "self.helper in a bound method": (node(Model().predict, output_name="y"), {{"x": 3}}),
    "self.helper in a callable object": (node(Model(), output_name="y"), {{"x": 3}}),
    "function as a default": (default_function, {{"x": 3}}),
    "global pipeline": (global_pipeline, {{"x": 3}}),
    "enum member": (enum_member, {{"x": 3}}),
    "containers": (containers, {{"x": 3}}),
    "numpy array": (numpy_global, {{"x": 3}}),
    "nested dataclass": (dataclass_global, {{"x": 3}}),
    "settings with a list": (settings_list, {{"x": 3}}),
    "set literal": (set_literal, {{"x": "c"}}),
    "function input": (apply, {{"fn": helpers.scale, "x": 3}}),
    "class input": (use_class, {{"cls": Tokenizer, "x": "a,b;c"}}),
    "input holding a set": (tagged, {{"obj": Tagged({{"red", "green", "blue"}}), "x": 1}}),
}}
"""

HELPERS = """
def scale(x):
    return x {op} 10
"""

CLEANING = """
def clean(x):
    return x.strip().{case}()
"""

SUB = """
def clean(x):
    return x.{case}().strip()
"""

SHAPES = """
class Base:
    @staticmethod
    def twice(x):
        return x {op} 8

    @classmethod
    def make(cls, x):
        return x {op} 9
"""

DRIVER = """
import json
import sys

from hypernodes import DiskCache, Pipeline, PipelineCallback
from hypernodes.caching import explain_key

import scenarios


class Computed(PipelineCallback):
    def __init__(self):
        self.count = 0

    def on_node_start(self, node, ctx):
        self.count += 1


out = {}
for name, (step, inputs) in scenarios.SCENARIOS.items():
    computed = Computed()
    cache = DiskCache(f"{sys.argv[1]}/{len(out)}")
    result = Pipeline([step], cache=cache, callbacks=[computed]).run(inputs)["y"]
    out[name] = {"y": result, "computed": computed.count}
keys = {k: explain_key(scenarios.identity, value=v).key for k, v in scenarios.SET_INPUTS.items()}
print(json.dumps({"scenarios": out, "keys": keys}))
"""

VERSION_A = {"op": "+", "factor": 2, "mode": "A", "last": 2, "letter": "c", "sep": ","}
VERSION_B = {"op": "*", "factor": 3, "mode": "B", "last": 5, "letter": "d", "sep": ";"}
CASE = {"+": "lower", "*": "upper"}
NOT_EDITED = {"input holding a set"}  # an input, not a file: run 2 checks its key


def _write(project: Path, version: dict[str, Any]) -> None:
    values = {**version, "case": CASE[version["op"]]}
    (project / "pkg").mkdir(parents=True, exist_ok=True)
    (project / "pkg" / "__init__.py").write_text("")
    for path, template in [
        ("scenarios.py", SCENARIOS),
        ("helpers.py", HELPERS),
        ("cleaning.py", CLEANING),
        ("pkg/sub.py", SUB),
        ("shapes.py", SHAPES),
    ]:
        (project / path).write_text(textwrap.dedent(template).format(**values))
    (project / "driver.py").write_text(DRIVER)


def _run(project: Path, cache: Path, seed: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "PYTHONPATH": str(project),
        "PYTHONHASHSEED": str(seed),
        "PYTHONDONTWRITEBYTECODE": "1",  # an edit of the same size in the same second
    }
    done = subprocess.run(
        [sys.executable, str(project / "driver.py"), str(cache)],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    root = tmp_path_factory.mktemp("stale")
    project = root / "project"
    _write(project, VERSION_A)
    cold = _run(project, root / "warm", seed=1)
    again = _run(project, root / "warm", seed=2)
    _write(project, VERSION_B)
    warm = _run(project, root / "warm", seed=3)
    fresh = _run(project, root / "fresh", seed=4)
    assert list(cold["scenarios"]) == SCENARIO_NAMES  # every scenario defined is checked
    return {"cold": cold, "again": again, "warm": warm, "fresh": fresh}


@pytest.fixture(scope="module")
def runs(outputs: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    return {run: output["scenarios"] for run, output in outputs.items()}


SCENARIO_NAMES = [
    "import inside the body",
    "package path",
    "inherited static and class methods",
    "class attribute",
    "lru_cache helper",
    "partial helper",
    "decorator returning an object",
    "self.helper in a bound method",
    "self.helper in a callable object",
    "function as a default",
    "global pipeline",
    "enum member",
    "containers",
    "numpy array",
    "nested dataclass",
    "settings with a list",
    "set literal",
    "function input",
    "class input",
    "input holding a set",
]


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_a_new_process_with_another_hash_seed_hits_the_cache(runs, scenario):
    assert runs["cold"][scenario]["computed"] == 1
    assert runs["again"][scenario] == {"y": runs["cold"][scenario]["y"], "computed": 0}


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_after_an_edit_a_warm_cache_gives_what_a_fresh_cache_gives(runs, scenario):
    assert runs["warm"][scenario]["y"] == runs["fresh"][scenario]["y"]
    if scenario not in NOT_EDITED:
        assert runs["warm"][scenario]["y"] != runs["cold"][scenario]["y"]  # the edit mattered


def test_inputs_holding_sets_have_one_key_in_every_process_and_hash_seed(outputs):
    keys = [output["keys"] for output in outputs.values()]
    assert len(keys[0]) == 9
    assert None not in keys[0].values()
    assert all(k == keys[0] for k in keys[1:])
