"""Run a representative subset of the conformance suite on Daft's Ray runner.

Started by test_ray.py in a process of its own (Daft's runner is set once per
process), with a temporary HOME and Ray's telemetry and uv hook off, all set
before Ray is imported. Prints one JSON line: case name -> "ok" or the error.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback

import ray

SUBSET = {
    "diamond",
    "multi_output_and_defaults",
    "nested_map_over",
    "nested_product",
    "map_of_nested_map",
    "async_map",
    "error_in_map_item",
    "error_in_nested_map",
    "map_continue_past_failed_items",
    "nested_map_continue_hands_errors_on",
    "retries_until_success",
    "error_timeout",
    "batch_and_per_item_paths_agree",
    "batch_continue_past_failed_items",
}


def main() -> None:
    ray.init(
        num_cpus=2,
        object_store_memory=80 * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
    )
    from hypernodes import DiskCache, Pipeline, node, stateful
    from hypernodes.executor import DaftExecutor
    from hypernodes.testing import CASES, EventLog, check_case, check_events

    results: dict[str, str] = {}
    folder = tempfile.mkdtemp()

    def attempt(name, check):
        try:
            check()
            results[name] = "ok"
        except BaseException as exc:
            results[name] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"

    for case in CASES:
        if case.name in SUBSET:
            attempt(case.name, lambda case=case: check_case(case, DaftExecutor(runner="ray")))
            attempt(
                f"{case.name} (events, cache)",
                lambda case=case: check_events(
                    case, DaftExecutor(runner="ray"), cache=lambda: DiskCache(f"{folder}/c")
                ),
            )

    class Weird(Exception):
        def __init__(self, code, detail):
            super().__init__(f"code={code}")
            self.code = code

    @node(output_name="y")
    def explode(x):
        if x == 2:
            raise Weird(x, "detail")
        return x

    def error_keeps_type_and_notes():
        pipeline = Pipeline([explode], name="p", executor=DaftExecutor(runner="ray"))
        caught = None
        try:
            pipeline.map({"x": [1, 2, 3]})
        except Weird as exc:
            caught = exc
        assert caught is not None, "no error"
        assert caught.code == 2, caught.code
        notes = "\n".join(caught.__notes__)
        assert "in node 'explode' of pipeline 'p'" in notes, notes
        assert "in map item 1 of pipeline 'p'" in notes, notes
        assert "remote traceback" in notes, notes

    attempt("an error keeps its type, attributes and notes", error_keeps_type_and_notes)

    def a_disk_cache_travels_as_its_path():
        cache = DiskCache(f"{folder}/shared")
        log = EventLog()
        pipeline = Pipeline([explode], executor=DaftExecutor(runner="ray"), cache=cache)
        pipeline.map({"x": [1, 3]})
        pipeline.with_callbacks([log]).map({"x": [1, 3]})
        cached = [e for e in log.events if e[0] == "on_node_cached"]
        assert len(cached) == 2, log.events

    attempt("a DiskCache written on Ray serves the next run", a_disk_cache_travels_as_its_path)

    @stateful
    class CountedModel:
        """Writes one line per construction: the pid of the process that built it."""

        def __init__(self, log):
            with open(log, "a") as file:
                file.write(f"{os.getpid()}\n")

        def predict(self, x):
            return -x

    @node(output_name="prediction")
    def predict(x, model):
        return model.predict(x)

    def a_stateful_model_is_built_once_per_worker_process():
        log = f"{folder}/builds.txt"
        pipeline = Pipeline([predict], executor=DaftExecutor(runner="ray"))
        pipeline.bind(model=CountedModel(log))
        for _ in range(2):  # the second map reuses what the workers built
            assert pipeline.map({"x": list(range(20))}) == {"prediction": [-x for x in range(20)]}
        with open(log) as file:
            pids = file.read().split()
        assert pids, "never built"
        assert len(pids) == len(set(pids)), pids
        assert str(os.getpid()) not in pids, "built in the driver"

    attempt(
        "a @stateful model is built once per Ray worker",
        a_stateful_model_is_built_once_per_worker_process,
    )
    print(json.dumps(results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
