"""What a cache key covers: code, helpers, globals, closures, defaults, inputs."""

from __future__ import annotations

import dataclasses
import math
import threading
import types
from collections import OrderedDict

import pytest
from hypernodes.caching._keys import (
    UnhashableInput,
    _code_hashes,
    function_fingerprint,
    value_token,
)


def _module(source: str, name: str = "user_module") -> types.ModuleType:
    """A user module made from source, as if imported from the user's project."""
    module = types.ModuleType(name)
    module.__file__ = f"/home/user/project/{name}.py"
    exec(source, module.__dict__)
    return module


# -- inputs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("left", "right"),
    [
        (1, "1"),
        (1, 1.0),
        (1, True),
        (0, False),
        (None, "None"),
        ([1], (1,)),
        ([1, 2], [2, 1]),
        ({"a": 1}, {"a": "1"}),
        ({1, 2}, frozenset({1, 2})),
        (b"x", "x"),
        ("a" * 100, "a" * 99 + "b"),
        (10**100, 10**100 + 1),
        (["a|b"], ["a", "b"]),
    ],
)
def test_different_values_or_types_give_different_tokens(left, right):
    assert value_token(left) != value_token(right)


@pytest.mark.parametrize(
    "value",
    [1, "text", 2.5, None, [1, (2, 3)], {"b": 1, "a": [2]}, {3, 1, 2}, b"bytes", 10**80],
)
def test_equal_values_give_equal_tokens(value):
    import copy

    assert value_token(value) == value_token(copy.deepcopy(value))


def test_dicts_are_order_insensitive():
    assert value_token({"a": 1, "b": 2}) == value_token({"b": 2, "a": 1})


def test_sets_do_not_depend_on_iteration_order():
    assert value_token({"x", "y", "z"}) == value_token({"z", "y", "x"})


def test_dict_subclasses_are_told_apart_from_dicts():
    assert value_token(OrderedDict(a=1)) != value_token({"a": 1})


@dataclasses.dataclass
class Point:
    x: int
    y: int


@dataclasses.dataclass
class Other:
    x: int
    y: int


def test_dataclasses_by_type_and_fields():
    assert value_token(Point(1, 2)) == value_token(Point(1, 2))
    assert value_token(Point(1, 2)) != value_token(Point(2, 1))
    assert value_token(Point(1, 2)) != value_token(Other(1, 2))


def test_pydantic_models_by_type_and_content():
    pydantic = pytest.importorskip("pydantic")

    class Config(pydantic.BaseModel):
        lr: float
        layers: list[int]

    assert value_token(Config(lr=0.1, layers=[1])) == value_token(Config(lr=0.1, layers=[1]))
    assert value_token(Config(lr=0.1, layers=[1])) != value_token(Config(lr=0.2, layers=[1]))


def test_numpy_arrays_by_content_dtype_and_shape():
    np = pytest.importorskip("numpy")
    a = np.arange(6)
    assert value_token(a) == value_token(np.arange(6))
    assert value_token(a) != value_token(a.astype("float64"))
    assert value_token(a) != value_token(a.reshape(2, 3))
    changed = a.copy()
    changed[3] = 99
    assert value_token(a) != value_token(changed)


def test_pandas_objects_by_content():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    assert value_token(frame) == value_token(frame.copy())
    assert value_token(frame) != value_token(frame.assign(a=[1, 3]))
    assert value_token(frame) != value_token(frame.rename(columns={"b": "c"}))
    assert value_token(frame["a"]) != value_token(frame["a"].astype("float64"))


class Model:
    def __init__(self, name: str, weights: list[float]) -> None:
        self.name = name
        self.weights = weights

    def __cache_key__(self) -> str:
        return self.name


def test_objects_with_cache_key_are_hashed_by_it():
    assert value_token(Model("m1", [1.0])) == value_token(Model("m1", [2.0]))
    assert value_token(Model("m1", [1.0])) != value_token(Model("m2", [1.0]))


class Plain:
    def __init__(self, value: int) -> None:
        self.value = value


def test_other_objects_by_a_pickle_of_them():
    assert value_token(Plain(1)) == value_token(Plain(1))
    assert value_token(Plain(1)) != value_token(Plain(2))


def test_values_that_cannot_be_pickled_are_unhashable():
    with pytest.raises(UnhashableInput) as info:
        value_token(threading.Lock())
    assert info.value.value_type == "lock"


# -- code ------------------------------------------------------------------------------


def test_a_change_in_code_changes_the_fingerprint():
    one = _module("def f(x):\n    return x + 1\n")
    two = _module("def f(x):\n    return x + 2\n")
    same = _module("\n\n\ndef f(x):\n    return x + 1\n")  # moved down: same code
    assert function_fingerprint(one.f) != function_fingerprint(two.f)
    assert function_fingerprint(one.f) == function_fingerprint(same.f)


def test_a_change_in_a_helper_changes_the_fingerprint_transitively():
    module = _module(
        "def leaf(x):\n    return x * 2\n"
        "def helper(x):\n    return leaf(x) + 1\n"
        "def f(x):\n    return helper(x)\n"
    )
    before = function_fingerprint(module.f)
    exec("def leaf(x):\n    return x * 3\n", module.__dict__)  # rebinding a helper's helper
    assert function_fingerprint(module.f) != before


def test_helpers_reached_as_module_attributes_count():
    helpers = _module("def clean(x):\n    return x.strip()\n", "helpers_mod")
    user = _module("def f(x):\n    return helpers.clean(x)\n", "user_mod")
    user.helpers = helpers
    before = function_fingerprint(user.f)
    exec("def clean(x):\n    return x.lower()\n", helpers.__dict__)
    assert function_fingerprint(user.f) != before


def test_a_module_constant_counts_by_value_at_every_read():
    module = _module("SCALE = 2\ndef f(x):\n    return x * SCALE\n")
    before = function_fingerprint(module.f)
    module.SCALE = 3
    assert function_fingerprint(module.f) != before
    module.SCALE = 2
    assert function_fingerprint(module.f) == before


def test_closure_values_count_constants_by_value_and_other_objects_by_type():
    def make(factor, log):
        def f(x):
            log.append(x)
            return x * factor

        return f

    log: list[int] = []
    base = function_fingerprint(make(2, log))
    assert function_fingerprint(make(3, log)) != base
    log.append(99)  # a node appending to a log in its closure still hits
    assert function_fingerprint(make(2, log)) == base
    assert function_fingerprint(make(2, [1, 2, 3])) == base


def test_globals_with_cache_key_count_by_that_key():
    module = _module("def f(x):\n    return MODEL.name + x\n")
    module.MODEL = Model("m1", [1.0])
    before = function_fingerprint(module.f)
    module.MODEL = Model("m1", [5.0])
    assert function_fingerprint(module.f) == before
    module.MODEL = Model("m2", [1.0])
    assert function_fingerprint(module.f) != before


def test_defaults_count_by_value():
    one = _module("def f(x, k=1):\n    return x + k\n")
    two = _module("def f(x, k=2):\n    return x + k\n")
    assert function_fingerprint(one.f) != function_fingerprint(two.f)


def test_methods_of_a_user_class_it_uses_count():
    module = _module(
        "class Tok:\n    def split(self, x):\n        return x.split()\n"
        "def f(x):\n    return Tok().split(x)\n"
    )
    before = function_fingerprint(module.f)
    exec("class Tok:\n    def split(self, x):\n        return x.split(',')\n", module.__dict__)
    assert function_fingerprint(module.f) != before


def test_library_functions_count_by_name_not_code():
    module = _module("def f(x):\n    return sqrt(x) + floor(x)\n")
    module.sqrt = math.sqrt
    module.floor = math.floor
    before = function_fingerprint(module.f)
    module.sqrt = math.exp
    assert function_fingerprint(module.f) != before


def test_recursive_helpers_terminate():
    module = _module("def f(x):\n    return f(x - 1) if x else 0\n")
    assert len(function_fingerprint(module.f)) == 32


def test_code_hashes_are_memoised_per_code_object():
    module = _module("def f(x):\n    return x - 7\n")
    function_fingerprint(module.f)
    memo = _code_hashes[module.f.__code__]
    function_fingerprint(module.f)
    assert _code_hashes[module.f.__code__] is memo


def test_a_partial_counts_its_function_and_bound_arguments():
    import functools

    module = _module("def scale(x, factor):\n    return x * factor\n")
    two = functools.partial(module.scale, factor=2)
    assert function_fingerprint(two) == function_fingerprint(
        functools.partial(module.scale, factor=2)
    )
    assert function_fingerprint(two) != function_fingerprint(
        functools.partial(module.scale, factor=3)
    )
    exec("def scale(x, factor):\n    return x * factor + 1\n", module.__dict__)
    assert function_fingerprint(two) != function_fingerprint(
        functools.partial(module.scale, factor=2)
    )


def test_a_callable_object_counts_its_call_code_and_its_state():
    module = _module(
        "class Scaler:\n"
        "    def __init__(self, factor):\n        self.factor = factor\n"
        "    def __call__(self, x):\n        return x * self.factor\n"
    )
    first = function_fingerprint(module.Scaler(2))
    assert function_fingerprint(module.Scaler(2)) == first
    assert function_fingerprint(module.Scaler(3)) != first
    exec(
        "class Scaler:\n"
        "    def __init__(self, factor):\n        self.factor = factor\n"
        "    def __call__(self, x):\n        return x * self.factor - 1\n",
        module.__dict__,
    )
    assert function_fingerprint(module.Scaler(2)) != first


def test_a_bound_method_counts_its_object():
    module = _module(
        "class Model:\n"
        "    def __init__(self, bias):\n        self.bias = bias\n"
        "    def predict(self, x):\n        return x + self.bias\n"
    )
    assert function_fingerprint(module.Model(1).predict) == function_fingerprint(
        module.Model(1).predict
    )
    assert function_fingerprint(module.Model(1).predict) != function_fingerprint(
        module.Model(2).predict
    )


def test_a_global_settings_object_counts_by_value_and_a_heavy_object_by_type():
    module = _module(
        "class Settings:\n    def __init__(self, lr, name):\n        self.lr = lr\n        self.name = name\n"
        "class Model:\n    def __init__(self, weights):\n        self.weights = weights\n"
        "def f(x):\n    return MODEL.weights[0] * SETTINGS.lr + x\n"
    )
    module.SETTINGS = module.Settings(0.1, "a")
    module.MODEL = module.Model([1.0] * 1000)
    before = function_fingerprint(module.f)
    module.MODEL = module.Model([2.0] * 1000)  # by type only: never pickled for a key
    assert function_fingerprint(module.f) == before
    module.SETTINGS = module.Settings(0.2, "a")
    assert function_fingerprint(module.f) != before
