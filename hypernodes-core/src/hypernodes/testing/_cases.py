"""The pipelines of the conformance suite and the check that runs one."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import Pipeline, Retries, node
from ..errors import MissingInputsError, NodeTimeoutError, OutputCountError, ZipLengthError

__all__ = ["CASES", "Case", "check_case"]


@dataclass(frozen=True)
class Case:
    """One conformance check: build a pipeline, call it, expect a result or an error type."""

    name: str
    build: Callable[[], Pipeline]
    call: Callable[[Pipeline], Any]
    expected: Any = None
    raises: type[BaseException] | None = None

    def __str__(self) -> str:
        return self.name


def configure(
    pipeline: Pipeline,
    executor: Any = None,
    backend: Any = None,
    cache: Any = None,
    callbacks: Any = None,
) -> Pipeline:
    """Give ``pipeline`` the settings that are not ``None`` (nested pipelines inherit them)."""
    if executor is not None:
        pipeline.with_executor(executor)
    if backend is not None:
        pipeline.with_backend(backend)
    if cache is not None:
        pipeline.with_cache(cache)
    if callbacks is not None:
        pipeline.with_callbacks(callbacks)
    return pipeline


def check_case(
    case: Case,
    executor: Any = None,
    *,
    backend: Any = None,
    cache: Any = None,
    callbacks: Any = None,
) -> None:
    """Run ``case`` with the given settings; assert the expected result or exception type.

    Each setting may be a registered name, a class or an instance; ``None``
    leaves the library default (or ``set_default_config``) in place.
    """
    pipeline = configure(case.build(), executor, backend, cache, callbacks)
    if case.raises is None:
        result = case.call(pipeline)
        assert result == case.expected, f"{case.name}: {result!r} != {case.expected!r}"
        return
    try:
        result = case.call(pipeline)
    except case.raises:
        return
    except BaseException as exc:
        msg = f"{case.name}: expected {case.raises.__name__}, got {type(exc).__name__}: {exc}"
        raise AssertionError(msg) from exc
    msg = f"{case.name}: expected {case.raises.__name__}, got result {result!r}"
    raise AssertionError(msg)


# -- nodes ---------------------------------------------------------------------------


@node(output_name="a")
def add_one(x: int) -> int:
    return x + 1


@node(output_name="b")
def double(a: int) -> int:
    return 2 * a


@node(output_name="c")
def negate(a: int) -> int:
    return -a


@node(output_name="d")
def combine(b: int, c: int) -> int:
    return b * 10 + c


@node(output_name=("quotient", "remainder"))
def divmod_node(x: int, divisor: int = 3) -> tuple[int, int]:
    return divmod(x, divisor)


@node(output_name="scaled")
def scale(a: int, factor: int = 2) -> int:
    return a * factor


@node(output_name="fetched")
async def fetch(x: int) -> int:
    await asyncio.sleep(0)
    return x * 100


@node(output_name="merged")
def merge(fetched: int, a: int) -> int:
    return fetched + a


@node(output_name="inverse")
def invert(x: int) -> float:
    return 1 / x


@node(output_name="checked")
def reject_negative(x: int) -> int:
    if x < 0:
        msg = f"negative: {x}"
        raise ValueError(msg)
    return x


@node(output_name=("one", "two"))
def wrong_count(x: int) -> tuple[int, int, int]:
    return (x, x, x)


@node(output_name="total")
def total(values: list[int]) -> int:
    return sum(values)


@node(output_name="label")
def label(model: str, query: str) -> str:
    return f"{model}/{query}"


_tries: dict[tuple[str, int], int] = {}
_tries_lock = threading.Lock()


@node(output_name="steady", retries=Retries(max=2, backoff=0))
def flaky_twice(x: int, token: str) -> int:
    """Fails the first two calls for each (token, x) in a process, then succeeds."""
    with _tries_lock:
        count = _tries[(token, x)] = _tries.get((token, x), 0) + 1
    if count <= 2:
        msg = f"flaky call {count} for {x}"
        raise OSError(msg)
    return x + 1


@node(output_name="late", timeout=0.2)
def too_slow(x: int) -> int:
    time.sleep(1.0)
    return x


@node(output_name="squared")
def square(a: int, offset: int = 0) -> int:
    return a * a + offset


@square.batch(size=3)
def square_batch(a: list[int], offset: int = 0) -> list[int]:
    return [v * v + offset for v in a]


@node(output_name="checked")
def reject_negative_batched(x: int) -> int:
    if x < 0:
        msg = f"negative: {x}"
        raise ValueError(msg)
    return x


@reject_negative_batched.batch
def _reject_negative_batch(x: list[int]) -> list[int]:
    return [reject_negative_batched.func(v) for v in x]


def _batched() -> Pipeline:
    return Pipeline([add_one, square], name="batched")


def _batch_and_item_paths(p: Pipeline) -> Any:
    """The map (batch implementation) and a loop of runs (per-item function) of one pipeline."""
    xs = [3, 1, 4, 1, 5, 9, 2]
    mapped = p.map({"x": xs, "offset": 10}, map_over="x")
    looped = [p.run({"x": x, "offset": 10}) for x in xs]
    return {"map": mapped, "runs": {k: [r[k] for r in looped] for k in mapped}}


@node(output_name="after")
def after_check(checked: int) -> int:
    return checked * 10


def _summary(result: Any) -> Any:
    """A result with each ItemError as ``"error:<node>:<type>@<index>"`` (comparable)."""
    from .._model.failures import ItemError

    def show(value: Any) -> Any:
        if isinstance(value, ItemError):
            return f"error:{value.node}:{value.error_type.rpartition('.')[2]}@{value.index}"
        if isinstance(value, list):
            return [show(v) for v in value]
        return value

    shown = {name: show(column) for name, column in result.items()}
    failed = getattr(result, "failed", None)
    return {**shown, "failed": failed} if failed is not None else shown


def _continuing() -> Pipeline:
    return Pipeline([reject_negative, add_one, after_check], name="continuing")


def _nested_continuing() -> Pipeline:
    inner = _continuing().as_node(
        name="each",
        input_mapping={"xs": "x"},
        output_mapping={"after": "afters"},
        map_over="xs",
        on_error="continue",
    )
    counted = Pipeline([count_errors]).as_node(name="count")
    return Pipeline([inner, counted], name="outer")


@node(output_name="errors")
def count_errors(afters: list[Any]) -> int:
    from .._model.failures import ItemError

    return sum(isinstance(v, ItemError) for v in afters)


def _chain() -> Pipeline:
    return Pipeline([add_one, double], name="chain")


def _diamond() -> Pipeline:
    return Pipeline([combine, negate, double, add_one], name="diamond")


def _async() -> Pipeline:
    return Pipeline([add_one, fetch, merge], name="async")


def _nested_plain() -> Pipeline:
    return Pipeline([_chain(), negate], name="outer")


def _nested_mapped() -> Pipeline:
    inner = _diamond().as_node(
        name="per_item",
        input_mapping={"xs": "x"},
        output_mapping={"d": "ds", "a": "as_"},
        map_over="xs",
    )
    summed = Pipeline([total]).as_node(input_mapping={"ds": "values"})
    return Pipeline([inner, summed], name="outer")


def _nested_product() -> Pipeline:
    return Pipeline(
        [
            Pipeline([label]).as_node(
                input_mapping={"models": "model", "queries": "query"},
                map_over=["models", "queries"],
                map_mode="product",
            )
        ],
        name="grid",
    )


def _nested_error() -> Pipeline:
    inner = Pipeline([invert]).as_node(input_mapping={"xs": "x"}, map_over="xs")
    return Pipeline([inner], name="outer")


CASES: list[Case] = [
    Case("chain", _chain, lambda p: p.run({"x": 1}), {"a": 2, "b": 4}),
    Case(
        "diamond",
        _diamond,
        lambda p: p.run({"x": 2}),
        {"a": 3, "b": 6, "c": -3, "d": 57},
    ),
    Case("output_name", _diamond, lambda p: p.run({"x": 2}, output_name="c"), {"c": -3}),
    Case(
        "multi_output_and_defaults",
        lambda: Pipeline([divmod_node, add_one, scale]),
        lambda p: [p.run({"x": 7}), p.run({"x": 7, "divisor": 2, "factor": 10})],
        [
            {"quotient": 2, "remainder": 1, "a": 8, "scaled": 16},
            {"quotient": 3, "remainder": 1, "a": 8, "scaled": 80},
        ],
    ),
    Case("async_nodes", _async, lambda p: p.run({"x": 2}), {"a": 3, "fetched": 200, "merged": 203}),
    Case("nested_pipeline", _nested_plain, lambda p: p.run({"x": 1}), {"a": 2, "b": 4, "c": -2}),
    Case(
        "nested_map_over",
        _nested_mapped,
        lambda p: p.run({"xs": [1, 2, 3]}),
        {"as_": [2, 3, 4], "b": [4, 6, 8], "c": [-2, -3, -4], "ds": [38, 57, 76], "total": 171},
    ),
    Case(
        "nested_product",
        _nested_product,
        lambda p: p.run({"models": ["m1", "m2"], "queries": ["q1", "q2", "q3"]}),
        {"label": ["m1/q1", "m1/q2", "m1/q3", "m2/q1", "m2/q2", "m2/q3"]},
    ),
    Case(
        "map_zip",
        _diamond,
        lambda p: p.map({"x": list(range(12))}),
        {
            "a": [x + 1 for x in range(12)],
            "b": [2 * (x + 1) for x in range(12)],
            "c": [-(x + 1) for x in range(12)],
            "d": [19 * (x + 1) for x in range(12)],
        },
    ),
    Case(
        "map_product_with_shared_input",
        lambda: Pipeline([divmod_node, add_one, scale]),
        lambda p: p.map(
            {"x": [10, 11], "divisor": [2, 3], "factor": 5},
            map_over=["x", "divisor"],
            map_mode="product",
        ),
        {
            "quotient": [5, 3, 5, 3],
            "remainder": [0, 1, 1, 2],
            "a": [11, 11, 12, 12],
            "scaled": [55, 55, 60, 60],
        },
    ),
    Case(
        "map_shared_list",
        lambda: Pipeline([total, add_one]),
        lambda p: p.map({"values": [1, 2, 3], "x": [0, 10]}, map_over="x"),
        {"total": [6, 6], "a": [1, 11]},
    ),
    Case("map_empty", _diamond, lambda p: p.map({"x": []}), {"a": [], "b": [], "c": [], "d": []}),
    Case(
        "map_output_name",
        _diamond,
        lambda p: p.map({"x": [1, 2]}, output_name=["d"]),
        {"d": [38, 57]},
    ),
    Case(
        "map_of_nested_map",
        _nested_mapped,
        lambda p: p.map({"xs": [[1], [2, 3]]}, map_over="xs", output_name="total"),
        {"total": [38, 133]},
    ),
    Case(
        "async_map",
        _async,
        lambda p: p.map({"x": [1, 2, 3]}, output_name="merged"),
        {"merged": [102, 203, 304]},
    ),
    Case(
        "map_continue_past_failed_items",
        _continuing,
        lambda p: _summary(p.map({"x": [1, -2, 3, -4]}, on_error="continue")),
        {
            "checked": [
                1,
                "error:reject_negative:ValueError@1",
                3,
                "error:reject_negative:ValueError@3",
            ],
            "a": [2, -1, 4, -3],
            "after": [
                10,
                "error:reject_negative:ValueError@1",
                30,
                "error:reject_negative:ValueError@3",
            ],
            "failed": [1, 3],
        },
    ),
    Case(
        "nested_map_continue_hands_errors_on",
        _nested_continuing,
        lambda p: _summary(p.run({"xs": [5, -1, 7]}, output_name=["afters", "errors"])),
        {"afters": [50, "error:reject_negative:ValueError@1", 70], "errors": 1},
    ),
    Case(
        "retries_until_success",
        lambda: Pipeline([flaky_twice], name="flaky"),
        lambda p: p.map({"x": [1, 2, 3], "token": uuid.uuid4().hex}, map_over="x"),
        {"steady": [2, 3, 4]},
    ),
    Case(
        "error_timeout",
        lambda: Pipeline([too_slow], name="slow"),
        lambda p: p.map({"x": [1, 2]}),
        raises=NodeTimeoutError,
    ),
    Case(
        "batch_and_per_item_paths_agree",
        _batched,
        _batch_and_item_paths,
        {
            "map": {"a": [4, 2, 5, 2, 6, 10, 3], "squared": [26, 14, 35, 14, 46, 110, 19]},
            "runs": {"a": [4, 2, 5, 2, 6, 10, 3], "squared": [26, 14, 35, 14, 46, 110, 19]},
        },
    ),
    Case(
        "nested_map_with_batch",
        lambda: Pipeline(
            [_batched().as_node(name="each", input_mapping={"xs": "x"}, map_over="xs")],
            name="outer",
        ),
        lambda p: p.map({"xs": [[1, 2], [], [3]]}, map_over="xs", output_name="squared"),
        {"squared": [[4, 9], [], [16]]},
    ),
    Case(
        "batch_continue_past_failed_items",
        lambda: Pipeline([reject_negative_batched, after_check], name="continuing_batch"),
        lambda p: _summary(p.map({"x": [1, -2, 3]}, on_error="continue")),
        {
            "checked": [1, "error:reject_negative_batched:ValueError@1", 3],
            "after": [10, "error:reject_negative_batched:ValueError@1", 30],
            "failed": [1],
        },
    ),
    Case(
        "error_in_run",
        lambda: Pipeline([reject_negative]),
        lambda p: p.run({"x": -1}),
        raises=ValueError,
    ),
    Case(
        "error_in_map_item",
        lambda: Pipeline([reject_negative]),
        lambda p: p.map({"x": [1, 2, -3, 4, 5, 6]}),
        raises=ValueError,
    ),
    Case(
        "error_in_nested_map",
        _nested_error,
        lambda p: p.run({"xs": [1, 0]}),
        raises=ZeroDivisionError,
    ),
    Case(
        "error_output_count",
        lambda: Pipeline([wrong_count]),
        lambda p: p.map({"x": [1, 2]}),
        raises=OutputCountError,
    ),
    Case("error_missing_input", _diamond, lambda p: p.run({}), raises=MissingInputsError),
    Case(
        "error_zip_lengths",
        lambda: Pipeline([divmod_node]),
        lambda p: p.map({"x": [1, 2], "divisor": [1]}),
        raises=ZipLengthError,
    ),
]
