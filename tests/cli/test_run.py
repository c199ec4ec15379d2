"""``hypernodes run MODULE:PIPELINE``: inputs in, outputs out as JSON, honest exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import cli_env


def test_run_prints_every_output_as_json(cli):
    done = cli("run", "pipes:per_doc", "--inputs", '{"text": "  Hello World "}')
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"clean": "hello world", "n_words": 2}
    assert done.stderr == ""


def test_the_console_script_runs_the_same_command(project):
    script = Path(sys.executable).parent / "hypernodes"
    done = subprocess.run(
        [str(script), "run", "pipes:per_doc", "--set", "text=A b"],
        capture_output=True,
        text=True,
        cwd=project,
        env=cli_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"clean": "a b", "n_words": 2}


def test_set_reads_json_values_and_takes_anything_else_as_text(cli):
    done = cli("run", "pipes:division", "--set", "a=1", "--set", "b=4")
    assert json.loads(done.stdout) == {"ratio": 0.25}
    done = cli("run", "pipes:per_doc", "--set", "text=[not json", "--set", 'suffix=" x"')
    assert json.loads(done.stdout)["clean"] == "[not json x"


def test_later_input_sources_win_file_then_inputs_then_set(cli, project):
    (project / "in.json").write_text('{"text": "from file", "suffix": "!"}')
    done = cli("run", "pipes:per_doc", "--inputs-file", "in.json")
    assert json.loads(done.stdout)["clean"] == "from file!"
    done = cli("run", "pipes:per_doc", "--inputs-file", "in.json", "--inputs", '{"text": "inline"}')
    assert json.loads(done.stdout)["clean"] == "inline!"
    done = cli(
        "run",
        "pipes:per_doc",
        "--inputs-file",
        "in.json",
        "--inputs",
        '{"text": "inline"}',
        "--set",
        "text=set",
    )
    assert json.loads(done.stdout)["clean"] == "set!"


def test_inputs_file_may_be_yaml(cli, project):
    pytest.importorskip("yaml")
    (project / "in.yaml").write_text("text: From YAML\nsuffix: '?'\n")
    done = cli("run", "pipes:per_doc", "--inputs-file", "in.yaml")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"clean": "from yaml?", "n_words": 2}


def test_a_yaml_file_without_pyyaml_says_what_to_install(cli, project):
    hidden = project / "hide"
    hidden.mkdir()
    (hidden / "yaml.py").write_text("raise ImportError('PyYAML hidden for this test')\n")
    (project / "in.yaml").write_text("text: x\n")
    done = cli(
        "run", "pipes:per_doc", "--inputs-file", "in.yaml", env=cli_env(PYTHONPATH=str(hidden))
    )
    assert done.returncode == 2
    assert "needs PyYAML: pip install pyyaml" in done.stderr


def test_a_path_to_a_python_file_works_and_it_can_import_its_neighbours(cli, project):
    sub = project / "flows"
    sub.mkdir()
    (sub / "helpers.py").write_text("def twice(x):\n    return 2 * x\n")
    (sub / "flow.py").write_text(
        "from hypernodes import Pipeline, node\n"
        "from helpers import twice\n"
        "doubled = Pipeline([node(twice, output_name='y')], name='doubled')\n"
    )
    done = cli("run", "flows/flow.py:doubled", "--set", "x=21")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"y": 42}


def test_map_over_runs_once_per_item_and_map_mode_product_takes_every_combination(cli):
    done = cli(
        "run", "pipes:division", "--inputs", '{"a": [1, 2], "b": [1, 4]}', "--map-over", "a", "b"
    )
    assert json.loads(done.stdout) == {"ratio": [1.0, 0.5]}
    done = cli(
        "run",
        "pipes:division",
        "--inputs",
        '{"a": [1, 2], "b": [1, 4]}',
        "--map-over",
        "a",
        "b",
        "--map-mode",
        "product",
    )
    assert json.loads(done.stdout) == {"ratio": [1.0, 0.25, 2.0, 0.5]}


def test_output_name_prints_only_those_outputs(cli):
    done = cli("run", "pipes:per_doc", "--set", "text=a b c", "--output-name", "n_words")
    assert json.loads(done.stdout) == {"n_words": 3}


def test_values_json_cannot_hold_are_shown_with_repr_and_a_note(cli):
    done = cli("run", "pipes:odd", "--set", "n=3")
    assert done.returncode == 0, done.stderr
    things = json.loads(done.stdout)["things"]
    assert things == {"a_set": "{3}", "a_tuple": [3, 3], "nan": "nan", "fine": [3]}
    assert "not JSON, shown as repr() strings: things.a_set (set), things.nan (float)" in (
        done.stderr
    )


def test_what_nodes_print_goes_to_stderr_so_stdout_stays_json(cli):
    done = cli("run", "pipes:noisy", "--set", "text=hi")
    assert json.loads(done.stdout) == {"loud": "HI"}
    assert "a node printing hi" in done.stderr


def test_output_of_child_processes_and_fd_1_goes_to_stderr_too(cli, project):
    (project / "children.py").write_text(
        "import os, subprocess, sys\n"
        "from hypernodes import Pipeline, node\n"
        "@node(output_name='y')\n"
        "def loud(x):\n"
        "    subprocess.run([sys.executable, '-c', 'print(\"from a child\")'], check=True)\n"
        "    os.write(1, b'written to fd 1\\n')\n"
        "    print('from a worker', x)\n"
        "    return x\n"
        "pipeline = Pipeline([loud])\n"
    )
    done = cli("run", "children:pipeline", "--set", "x=1")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"y": 1}
    assert "from a child" in done.stderr
    assert "written to fd 1" in done.stderr
    done = cli(
        "run",
        "children:pipeline",
        "--set",
        "x=[1, 2]",
        "--map-over",
        "x",
        "--executor",
        "processes",  # through `python -m hypernodes`: its workers import it again, guarded
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"y": [1, 2]}
    assert "from a worker 2" in done.stderr


def test_repeated_map_over_and_output_name_options_add_up(cli, project):
    (project / "two.py").write_text(
        "from hypernodes import Pipeline, node\n"
        "@node(output_name='s')\n"
        "def add(a, b): return a + b\n"
        "@node(output_name='d')\n"
        "def sub(a, b): return a - b\n"
        "pipeline = Pipeline([add, sub])\n"
    )
    done = cli(
        "run",
        "two:pipeline",
        "--inputs",
        '{"a": [1, 2], "b": [10, 20]}',
        "--map-over",
        "a",
        "--map-over",
        "b",
        "--output-name",
        "s",
        "--output-name",
        "d",
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"s": [11, 22], "d": [-9, -18]}


def test_an_output_that_contains_itself_fails_naming_the_output(cli, project):
    (project / "cyclic.py").write_text(
        "from hypernodes import Pipeline, node\n"
        "@node(output_name='loop')\n"
        "def f(x):\n"
        "    items = [x]\n"
        "    items.append(items)\n"
        "    return items\n"
        "pipeline = Pipeline([f])\n"
    )
    done = cli("run", "cyclic:pipeline", "--set", "x=1")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        "hypernodes run: failed: cannot write output 'loop' as JSON: "
        "loop[1] is loop itself (the value contains itself).\n"
    )


def test_executor_picks_a_registered_executor_by_name(cli, project):
    (project / "where.py").write_text(
        "import threading\n"
        "from hypernodes import Pipeline, node\n"
        "def probe(x):\n"
        "    return threading.current_thread() is threading.main_thread()\n"
        "pipeline = Pipeline([node(probe, output_name='a'), node(probe, output_name='b', name='p')])\n"
    )
    done = cli("run", "where:pipeline", "--set", "x=1")
    assert json.loads(done.stdout) == {"a": True, "b": True}
    done = cli("run", "where:pipeline", "--set", "x=1", "--executor", "eager")
    # eager overlaps independent nodes on threads
    assert json.loads(done.stdout) == {"a": False, "b": False}


def test_cache_keeps_results_in_a_folder_so_a_second_run_computes_nothing(cli, project):
    (project / "counted.py").write_text(
        "from pathlib import Path\n"
        "from hypernodes import Pipeline, node\n"
        "@node(output_name='y')\n"
        "def slow(x):\n"
        "    with Path('calls.txt').open('a') as f:\n"
        "        f.write('call\\n')\n"
        "    return x * 10\n"
        "pipeline = Pipeline([slow])\n"
    )
    for _ in range(2):
        done = cli("run", "counted:pipeline", "--set", "x=4", "--cache", "cache-dir")
        assert json.loads(done.stdout) == {"y": 40}
    assert (project / "calls.txt").read_text() == "call\n"
    assert (project / "cache-dir").is_dir()


def test_progress_is_shown_on_stderr(cli):
    pytest.importorskip("hypernodes_rich")
    done = cli("run", "pipes:per_doc", "--set", "text=a b", "--progress")
    assert json.loads(done.stdout) == {"clean": "a b", "n_words": 2}
    assert "normalize" in done.stderr
    assert "count_words" in done.stderr


# -- exit code 1: a node failed -------------------------------------------------------------


def test_a_failing_node_exits_1_naming_the_node_the_item_and_the_traceback(cli):
    done = cli("run", "pipes:inverted", "--inputs", '{"a": 1, "b": [1, 0, 2]}')
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback (most recent call last)" in done.stderr
    assert "return a / b" in done.stderr
    summary = done.stderr[done.stderr.index("hypernodes run: failed") :]
    first, *where = summary.splitlines()
    assert first.startswith("hypernodes run: failed: ZeroDivisionError:")
    assert where == [
        "  in node 'divide' of pipeline 'division'",
        "  in map item 1 of pipeline 'division'",
        "  in node 'divide_all' of pipeline 'inverted'",
    ]


@pytest.mark.parametrize("executor", ["sequential", "threads", "processes"])
@pytest.mark.parametrize(
    ("code", "shown"), [("0", "SystemExit: 0"), ("'bad x'", "SystemExit: bad x")]
)
def test_a_node_calling_sys_exit_is_a_failed_node(cli, project, executor, code, shown):
    (project / "exits.py").write_text(
        "import sys\n"
        "from hypernodes import Pipeline, node\n"
        "@node(output_name='y')\n"
        "def validate(x):\n"
        f"    sys.exit({code})\n"
        "pipeline = Pipeline([validate], name='checks')\n"
    )
    done = cli(
        "run",
        "exits:pipeline",
        "--set",
        "x=[1]",
        "--map-over",
        "x",
        "--executor",
        executor,
        script=True,
    )
    assert done.returncode == 1, done.stderr
    assert done.stdout == ""
    summary = done.stderr[done.stderr.index("hypernodes run: failed") :]
    first, *where = summary.splitlines()
    assert first == f"hypernodes run: failed: {shown}"
    assert where[0] == "  in node 'validate' of pipeline 'checks'"


# -- exit code 2: bad usage -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "nowhere:pipeline"], "No module named 'nowhere' importable from"),
        (["run", "missing.py:pipeline"], "No file 'missing.py'"),
        (["run", "pipes:per_dcc"], "Module 'pipes' has no 'per_dcc' (did you mean 'per_doc'?)"),
        (
            ["run", "pipes"],
            "write MODULE:PIPELINE, e.g. pipes:per_doc. Pipelines in pipes: per_doc",
        ),
        (["run", "pipes:not_a_pipeline"], "'pipes:not_a_pipeline' is a int, not a Pipeline"),
        (["run", "pipes:per_doc"], "missing required inputs: 'text' (needed by 'normalize')"),
        (
            ["run", "pipes:per_doc", "--set", "txt=a"],
            "unknown inputs: 'txt' (did you mean 'text'?)",
        ),
        (["run", "pipes:per_doc", "--inputs", "{'text': 1}"], "--inputs is not valid JSON"),
        (["run", "pipes:per_doc", "--inputs", "[1]"], "--inputs must hold an object"),
        (["run", "pipes:per_doc", "--set", "text"], "--set takes NAME=VALUE, got 'text'"),
        (["run", "pipes:per_doc", "--inputs-file", "nope.json"], "Cannot read --inputs-file"),
        (
            ["run", "pipes:per_doc", "--inputs-file", "latin1.json"],
            "--inputs-file 'latin1.json' is not UTF-8 text (byte 13: b'\\xe9'); save it as UTF-8.",
        ),
        (
            ["run", "pipes:per_doc", "--set", "text=a", "--output-name", "n_wrds"],
            "has no output 'n_wrds' (did you mean 'n_words'?)",
        ),
        (
            ["run", "pipes:per_doc", "--set", "text=a", "--executor", "eagre"],
            "No executor is registered under 'eagre' (did you mean 'eager'?)",
        ),
        (
            ["run", "pipes:division", "--set", "a=1", "--set", "b=2", "--map-mode", "product"],
            "--map-mode needs --map-over",
        ),
        (
            [
                "run",
                "pipes:division",
                "--inputs",
                '{"a": [1], "b": [1, 2]}',
                "--map-over",
                "a",
                "b",
            ],
            "map_mode='zip' needs lists of one length",
        ),
    ],
)
def test_bad_usage_exits_2_with_a_message_that_says_what_to_do(cli, project, args, message):
    (project / "latin1.json").write_bytes('{"text": "café"}'.encode("latin-1"))
    done = cli(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stdout == ""


def test_missing_inputs_are_named_with_a_hint_how_to_give_them(cli):
    done = cli("run", "pipes:division", "--set", "a=1")
    assert done.returncode == 2
    assert "missing required inputs: 'b' (needed by 'divide')" in done.stderr
    assert "--set name=value" in done.stderr


def test_a_module_that_fails_to_import_exits_2_with_its_traceback(cli, project):
    (project / "broken.py").write_text("import not_installed_anywhere\n")
    done = cli("run", "broken:pipeline")
    assert done.returncode == 2
    assert "Importing 'broken' failed" in done.stderr
    assert "No module named 'not_installed_anywhere'" in done.stderr
