"""Plugins are discovered for real, through entry points of installed distributions."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .fakedist import run_json, run_python, write_distribution

# A complete third-party executor plugin: a light plugin module naming a lazy class.
EXECUTOR_PLUGIN = """
from hypernodes import hookimpl

@hookimpl
def register_executors(register):
    register("reversing", "acme_executor_impl:ReversingExecutor")
"""

EXECUTOR_IMPL = """
from hypernodes.executor import SequentialNodeExecutor

class ReversingExecutor(SequentialNodeExecutor):
    '''Runs sequentially and reports map items in reverse (so the test can see it ran).'''
    used = 0

    def run_plan(self, plan, values, ctx):
        type(self).used += 1
        super().run_plan(plan, values, ctx)
"""

PIPELINE = """
from hypernodes import Pipeline, node

@node(output_name="y")
def inc(x):
    return x + 1

pipeline = Pipeline([inc])
"""


@pytest.fixture
def site(tmp_path: Path) -> Path:
    write_distribution(
        tmp_path,
        "acme-executor",
        {"acme": "acme_executor_plugin"},
        {"acme_executor_plugin": EXECUTOR_PLUGIN, "acme_executor_impl": EXECUTOR_IMPL},
        version="2.3",
    )
    return tmp_path


def test_a_third_party_executor_is_used_by_name(site):
    result = run_json(
        site,
        PIPELINE
        + """
import json, acme_executor_impl
out = pipeline.with_executor("reversing").run({"x": 1})
print(json.dumps([out, acme_executor_impl.ReversingExecutor.used,
                  type(pipeline.effective_executor).__name__]))
""",
    )
    assert result == [{"y": 2}, 1, "ReversingExecutor"]


def test_plugin_classes_are_imported_only_when_their_name_is_used(site):
    result = run_json(
        site,
        """
import json, sys
import hypernodes
from hypernodes._plugins.registry import registry
after_import = "acme_executor_plugin" in sys.modules
names = registry().names("executor")
after_listing = ("acme_executor_plugin" in sys.modules, "acme_executor_impl" in sys.modules)
hypernodes.Pipeline([], executor="reversing")
after_use = "acme_executor_impl" in sys.modules
print(json.dumps([after_import, names, after_listing, after_use]))
""",
    )
    after_import, names, after_listing, after_use = result
    assert (after_import, after_listing, after_use) == (False, [True, False], True)
    # The built-ins first, then the plugin's name (installed first-party plugins may add theirs).
    assert names[:4] == ["sequential", "eager", "threads", "processes"]
    assert "reversing" in names


def test_the_json_listing_shows_each_plugin(site):
    done = subprocess.run(
        [sys.executable, "-m", "hypernodes", "plugins", "--json"],
        capture_output=True,
        text=True,
        env={**_env(site)},
        check=True,
    )
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert rows["acme"]["distribution"] == "acme-executor"
    assert rows["acme"]["version"] == "2.3"
    assert rows["acme"]["executors"] == ["reversing"]
    assert rows["acme"]["status"] == "ok"
    assert rows["builtin"]["distribution"] == "hypernodes-core"
    assert "sequential" in rows["builtin"]["executors"]


def test_the_table_listing_and_the_console_script(site):
    done = subprocess.run(
        [str(Path(sys.executable).parent / "hypernodes"), "plugins"],
        capture_output=True,
        text=True,
        env=_env(site),
        check=True,
    )
    line = next(line for line in done.stdout.splitlines() if line.startswith("acme"))
    assert "acme-executor 2.3" in line
    assert "executors: reversing" in line
    assert line.endswith("[ok]")
    # Columns line up: what each plugin registers starts at the same place on every row.
    rows = [row for row in done.stdout.splitlines() if row.endswith("]")]
    starts = {re.match(r"\S+\s+\S+ \S+\s+", row).end() for row in rows}
    assert len(rows) > 1
    assert len(starts) == 1


def test_listing_imports_no_heavy_module(site):
    result = run_json(
        site,
        """
import json, sys
from hypernodes._plugins.registry import registry
registry().render()
heavy = ("modal", "daft", "ray", "rich", "acme_executor_impl")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
""",
    )
    assert result == []


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("raise ImportError('needs libfoo')\n", "needs libfoo"),
        ("import sys\nsys.exit(3)\n", "it called sys.exit(3)"),
        (
            "import sys\nfrom hypernodes import hookimpl\n\n"
            "@hookimpl\ndef register_caches(register):\n    sys.exit('no config file')\n",
            "register_caches failed: it called sys.exit('no config file')",
        ),
    ],
    ids=["import-error", "sys-exit-at-import", "sys-exit-in-a-hook"],
)
def test_a_broken_plugin_is_one_warning_and_a_broken_row_and_the_others_work(site, source, error):
    write_distribution(
        site, "broken-plugin", {"broken": "broken_plugin_module"}, {"broken_plugin_module": source}
    )
    done = run_python(
        site,
        PIPELINE
        + """
import json, warnings
from hypernodes._plugins.registry import registry
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    rows = registry().listing()
    out = pipeline.with_executor("reversing").run({"x": 1})
print(json.dumps([[str(w.message) for w in caught], rows, out]))
""",
    )
    assert done.returncode == 0, done.stderr
    messages, rows, out = json.loads(done.stdout.splitlines()[-1])
    assert out == {"y": 2}
    assert len(messages) == 1
    assert "'broken' from broken-plugin is skipped" in messages[0]
    assert error in messages[0]
    broken = next(r for r in rows if r["name"] == "broken")
    assert broken["status"] == "BROKEN"
    assert error in broken["error"]


def test_a_plugin_whose_hook_raises_is_isolated_too(site):
    write_distribution(
        site,
        "raising-plugin",
        {"raising": "raising_plugin_module"},
        {
            "raising_plugin_module": """
from hypernodes import hookimpl

@hookimpl
def register_executors(register):
    register("half", "x:y")
    raise RuntimeError("oops")
"""
        },
    )
    result = run_json(
        site,
        """
import json, warnings
warnings.simplefilter("ignore")
from hypernodes._plugins.registry import registry
reg = registry()
print(json.dumps([reg.names("executor"), [r["status"] for r in reg.listing()]]))
""",
    )
    names, statuses = result
    assert "half" not in names
    assert "reversing" in names
    assert statuses.count("BROKEN") == 1


def test_two_plugins_claiming_one_name_is_an_error_naming_both_distributions(site):
    write_distribution(
        site,
        "other-executor",
        {"other": "other_executor_plugin"},
        {
            "other_executor_plugin": """
from hypernodes import hookimpl

@hookimpl
def register_executors(register):
    register("reversing", "acme_executor_impl:ReversingExecutor")
"""
        },
    )
    done = run_python(
        site,
        """
from hypernodes import Pipeline
print(Pipeline([], executor="sequential").effective_executor)
Pipeline([], executor="reversing")
""",
    )
    assert "SequentialNodeExecutor" in done.stdout  # other names keep working
    assert "PluginError" in done.stderr
    assert "acme-executor" in done.stderr
    assert "other-executor" in done.stderr


def test_autoload_can_be_disabled_but_builtins_stay(site):
    done = run_python(
        site,
        """
from hypernodes import Pipeline
Pipeline([], executor="sequential")
Pipeline([], executor="reversing")
""",
        HYPERNODES_DISABLE_PLUGIN_AUTOLOAD="1",
    )
    assert "UnknownNameError" in done.stderr
    assert "Available executors: sequential" in done.stderr


def test_hypernodes_plugins_loads_only_the_named_plugins(site):
    write_distribution(
        site,
        "second-plugin",
        {"second": "second_plugin_module"},
        {
            "second_plugin_module": """
from hypernodes import hookimpl

@hookimpl
def register_backends(register):
    register("elsewhere", "hypernodes:LocalBackend")
"""
        },
    )
    code = """
import json
from hypernodes._plugins.registry import registry
print(json.dumps([r["name"] for r in registry().listing()]))
"""
    assert run_json(site, code, HYPERNODES_PLUGINS="second") == ["builtin", "second"]
    assert run_json(site, code, HYPERNODES_PLUGINS="acme,second") == ["builtin", "acme", "second"]
    everything = run_json(site, code)
    assert everything[0] == "builtin"
    assert {"acme", "second"} <= set(everything)


def test_a_lazy_factory_whose_module_fails_names_the_distribution_and_chains_the_error(site):
    write_distribution(
        site,
        "heavy-plugin",
        {"heavy": "heavy_plugin_module"},
        {
            "heavy_plugin_module": """
from hypernodes import hookimpl

@hookimpl
def register_backends(register):
    register("gpu", "heavy_impl:GPUBackend")
""",
            "heavy_impl": "import not_installed_gpu_sdk\n",
        },
    )
    kind, message, cause = _configuration_error(site, 'backend="gpu"')
    assert kind == "PluginError"
    assert "heavy-plugin" in message
    assert "not_installed_gpu_sdk" in message
    assert cause == "ModuleNotFoundError"


def _configuration_error(site: Path, setting: str) -> tuple[str, str, str]:
    """(exception type, message, type of its cause) of ``Pipeline([], <setting>)``."""
    done = run_python(
        site,
        f"""
from hypernodes import Pipeline
try:
    Pipeline([], {setting})
except Exception as exc:
    print(type(exc).__name__, "|", exc, "|", type(exc.__cause__).__name__)
""",
    )
    kind, message, cause = (part.strip() for part in done.stdout.split("|"))
    return kind, message, cause


def _env(site: Path) -> dict[str, str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERNODES_")}
    env["PYTHONPATH"] = str(site)
    return env


def test_a_factory_that_fails_to_import_its_dependency_is_explained(site):
    write_distribution(
        site,
        "lazy-plugin",
        {"lazy": "lazy_plugin_module"},
        {
            "lazy_plugin_module": """
from hypernodes import hookimpl

@hookimpl
def register_caches(register):
    register("cloud", "lazy_impl:make_cache")
""",
            "lazy_impl": """
def make_cache():
    import cloud_storage_sdk  # imported when the cache is created
""",
        },
    )
    kind, message, cause = _configuration_error(site, 'cache="cloud"')
    assert kind == "PluginError"
    assert "lazy-plugin is installed, but No module named 'cloud_storage_sdk'" in message
    assert cause == "ModuleNotFoundError"


CLAIMS_SEQUENTIAL = """
from hypernodes import hookimpl

@hookimpl
def register_executors(register):
    register("sequential", "acme_executor_impl:ReversingExecutor")
    register("fast", "acme_executor_impl:ReversingExecutor")
"""


def test_a_plugin_claiming_a_core_name_is_refused_with_a_warning_and_the_core_keeps_it(site):
    write_distribution(
        site, "squatter", {"squatter": "squatter_module"}, {"squatter_module": CLAIMS_SEQUENTIAL}
    )
    done = run_python(
        site,
        """
import json, warnings
from hypernodes import Pipeline
from hypernodes._plugins.registry import registry
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    core = type(Pipeline([], executor="sequential").effective_executor).__name__
    other = type(Pipeline([], executor="fast").effective_executor).__name__
rows = {r["name"]: r for r in registry().listing()}
print(json.dumps([core, other, [str(w.message) for w in caught], rows["squatter"]]))
""",
    )
    assert done.returncode == 0, done.stderr
    core, other, messages, row = json.loads(done.stdout.splitlines()[-1])
    assert core == "SequentialNodeExecutor"
    assert other == "ReversingExecutor"  # the plugin's other names work
    assert len(messages) == 1
    assert "'squatter' from squatter registers the executor name 'sequential'" in messages[0]
    assert "reserved for hypernodes-core" in messages[0]
    assert row["executors"] == ["fast"]
    assert row["refused"] == ["executor 'sequential'"]
    assert row["status"] == "ok"
    listing = subprocess.run(
        [sys.executable, "-W", "ignore", "-m", "hypernodes", "plugins"],
        capture_output=True,
        text=True,
        env=_env(site),
        check=True,
    ).stdout
    assert "REFUSED: executor 'sequential' from squatter" in listing


def test_hypernodes_plugins_naming_a_plugin_that_does_not_exist_warns(site):
    code = """
import json, warnings
from hypernodes._plugins.registry import registry
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    names = [r["name"] for r in registry().listing()]
print(json.dumps([names, [str(w.message) for w in caught]]))
"""
    names, messages = run_json(site, code, HYPERNODES_PLUGINS="acmee")
    assert names == ["builtin"]
    assert len(messages) == 1
    assert "HYPERNODES_PLUGINS names 'acmee'" in messages[0]
    assert "did you mean 'acme'" in messages[0]
    # names that exist, by plugin or distribution name, in any spelling, warn about nothing
    names, messages = run_json(site, code, HYPERNODES_PLUGINS="acme_executor, builtin")
    assert names == ["builtin", "acme"]
    assert messages == []


def test_a_plugin_warning_points_at_the_users_line(site):
    write_distribution(
        site,
        "broken-plugin",
        {"broken": "broken_plugin_module"},
        {"broken_plugin_module": "raise ImportError('needs libfoo')\n"},
    )
    script = site / "user_script.py"
    script.write_text(
        "import warnings\n"
        "from hypernodes import Pipeline\n"
        "warnings.simplefilter('always')\n"
        "pipeline = Pipeline([], executor='reversing')\n"
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, env=_env(site), check=True
    )
    assert f"{script}:4: PluginWarning: hypernodes plugin 'broken'" in done.stderr
