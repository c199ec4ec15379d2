"""What a cache key covers: code, helpers, globals, closures, defaults, inputs."""

from __future__ import annotations

import dataclasses
import math
import sys
import threading
import types
from collections import OrderedDict

import pytest
from hypernodes.caching._keys import (
    UnhashableInput,
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


def test_closure_values_count_by_value():
    def make(factor, table):
        def f(x):
            return x * factor + table[x]

        return f

    base = function_fingerprint(make(2, [1, 2]))
    assert function_fingerprint(make(2, [1, 2])) == base
    assert function_fingerprint(make(3, [1, 2])) != base
    assert function_fingerprint(make(2, [1, 3])) != base


def test_a_closure_list_the_code_only_appends_to_does_not_count():
    def make(factor, log):
        def f(x):
            log.append(x)
            return x * factor

        return f

    log: list[int] = []
    base = function_fingerprint(make(2, log))
    log.append(99)  # a log the node writes: its content cannot change the result
    assert function_fingerprint(make(2, log)) == base
    assert function_fingerprint(make(3, log)) != base


def test_a_closure_list_the_code_also_reads_counts_by_value():
    def make(log):
        def f(x):
            log.append(x)
            return len(log)

        return f

    log: list[int] = []
    base = function_fingerprint(make(log))
    log.append(99)
    assert function_fingerprint(make(log)) != base


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


def test_a_global_settings_object_counts_every_attribute_by_value():
    module = _module(
        "class Settings:\n    def __init__(self, lr, layers):\n"
        "        self.lr = lr\n        self.layers = layers\n"
        "def f(x):\n    return SETTINGS.layers[0] * SETTINGS.lr + x\n"
    )
    module.SETTINGS = module.Settings(0.1, [1, 2])
    before = function_fingerprint(module.f)
    module.SETTINGS = module.Settings(0.1, [1, 3])
    assert function_fingerprint(module.f) != before
    module.SETTINGS = module.Settings(0.1, [1, 2])
    assert function_fingerprint(module.f) == before


def test_an_object_holding_a_lock_counts_its_other_attributes_by_value():
    module = _module(
        "import threading\n"
        "class Client:\n    def __init__(self, url):\n"
        "        self.url = url\n        self.lock = threading.Lock()\n"
        "def f(x):\n    return CLIENT.url + x\n"
    )
    module.CLIENT = module.Client("a")
    before = function_fingerprint(module.f)
    module.CLIENT = module.Client("a")  # a new lock: the lock counts by its type only
    assert function_fingerprint(module.f) == before
    module.CLIENT = module.Client("b")
    assert function_fingerprint(module.f) != before


def test_an_object_of_an_installed_package_counts_by_type_only():
    import pluggy  # a plain object of an installed package stands for a model or a client

    module = _module("def f(x):\n    return MARKER.project_name + x\n")
    module.MARKER = pluggy.HookimplMarker("a")
    before = function_fingerprint(module.f)
    module.MARKER = pluggy.HookimplMarker("b")
    assert function_fingerprint(module.f) == before


def test_an_object_of_the_standard_library_counts_by_value():
    module = _module("def f(x):\n    return len(CONFIG.tokens) + x\n")
    module.CONFIG = types.SimpleNamespace(tokens=[1])
    before = function_fingerprint(module.f)
    module.CONFIG = types.SimpleNamespace(tokens=[1, 2])
    assert function_fingerprint(module.f) != before


# -- globals that are data count by value ------------------------------------------------


def test_containers_reached_as_globals_count_by_value():
    module = _module("def f(x):\n    return TABLE['a'][x] in ALLOWED\n")
    module.TABLE = {"a": [1, 2], "b": (3,)}
    module.ALLOWED = {"x", "y"}
    before = function_fingerprint(module.f)
    module.TABLE["a"].append(3)  # mutated in place: read again at the next run
    assert function_fingerprint(module.f) != before
    module.TABLE["a"].pop()
    assert function_fingerprint(module.f) == before
    module.ALLOWED = {"x", "z"}
    assert function_fingerprint(module.f) != before


def test_enum_members_count_by_class_name_and_value():
    import enum

    class Mode(enum.Enum):
        FAST = 1
        SLOW = 2

    class Other(enum.Enum):
        FAST = 1

    assert value_token(Mode.FAST) == value_token(Mode.FAST)
    assert value_token(Mode.FAST) != value_token(Mode.SLOW)
    assert value_token(Mode.FAST) != value_token(Other.FAST)
    module = _module("def f(x):\n    return x * MODE.value\n")
    module.MODE = Mode.FAST
    before = function_fingerprint(module.f)
    module.MODE = Mode.SLOW
    assert function_fingerprint(module.f) != before


@dataclasses.dataclass
class Inner:
    k: int


@dataclasses.dataclass
class Outer:
    inner: Inner
    tags: list[str]


def test_nested_mutable_dataclasses_reached_count_by_value():
    module = _module("def f(x):\n    return x * CFG.inner.k\n")
    module.CFG = Outer(Inner(2), ["a"])
    before = function_fingerprint(module.f)
    module.CFG.inner.k = 3
    assert function_fingerprint(module.f) != before
    module.CFG.inner.k = 2
    module.CFG.tags.append("b")
    assert function_fingerprint(module.f) != before


def test_numpy_arrays_reached_count_by_content():
    np = pytest.importorskip("numpy")
    module = _module("def f(x):\n    return WEIGHTS @ x\n")
    module.WEIGHTS = np.array([1.0, 2.0])
    before = function_fingerprint(module.f)
    module.WEIGHTS[1] = 5.0
    assert function_fingerprint(module.f) != before


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_a_numpy_matrix_and_an_array_with_equal_bytes_differ():
    np = pytest.importorskip("numpy")
    array = np.arange(4.0).reshape(2, 2)
    assert value_token(array) != value_token(np.asmatrix(array))
    assert value_token(np.float64(1.0)) != value_token(np.array(1.0))


def test_a_global_with_a_cache_key_that_raises_counts_by_type_and_never_fails():
    class Broken:
        def __cache_key__(self):
            raise ValueError("no key today")

    module = _module("def f(x):\n    return KEY.n + x\n")
    module.KEY = Broken()
    assert function_fingerprint(module.f) == function_fingerprint(module.f)


# -- code reached other than as a plain module-level function ----------------------------


def test_class_attributes_count_by_value_at_every_read():
    module = _module("class Cfg:\n    FACTOR = 2\ndef f(x):\n    return x * Cfg.FACTOR\n")
    before = function_fingerprint(module.f)
    module.Cfg.FACTOR = 3
    assert function_fingerprint(module.f) != before


def test_inherited_static_and_class_methods_count():
    module = _module(
        "class Base:\n"
        "    @staticmethod\n    def clean(x):\n        return x.strip()\n"
        "    @classmethod\n    def make(cls, x):\n        return x\n"
        "class Child(Base):\n    pass\n"
        "def f(x):\n    return Child.make(Child.clean(x))\n"
    )
    before = function_fingerprint(module.f)
    exec(
        "class Base:\n"
        "    @staticmethod\n    def clean(x):\n        return x.lower()\n"
        "    @classmethod\n    def make(cls, x):\n        return x\n",
        module.__dict__,
    )
    exec("class Child(Base):\n    pass\n", module.__dict__)
    assert function_fingerprint(module.f) != before


def test_helpers_wrapped_by_lru_cache_partial_or_a_callable_object_count_by_code():
    template = (
        "import functools\n"
        "class Traced:\n    def __init__(self, f):\n        self.f = f\n"
        "    def __call__(self, *a):\n        return self.f(*a)\n"
        "@functools.lru_cache(maxsize=None)\ndef cached(x):\n    return x {op} 1\n"
        "def _scale(x, k):\n    return x {op} k\n"
        "scaled = functools.partial(_scale, k=2)\n"
        "@Traced\ndef traced(x):\n    return x {op} 3\n"
        "def f(x):\n    return cached(x) + scaled(x) + traced(x)\n"
    )
    plus = _module(template.format(op="+"))
    times = _module(template.format(op="*"))
    same = _module(template.format(op="+"))
    assert function_fingerprint(plus.f) == function_fingerprint(same.f)
    for name in ("cached", "scaled", "traced"):
        mixed = _module(template.format(op="+"))
        setattr(mixed, name, getattr(times, name))
        assert function_fingerprint(mixed.f) != function_fingerprint(plus.f), name


def test_self_helpers_of_a_bound_method_or_callable_object_count():
    template = (
        "class Model:\n"
        "    def helper(self, x):\n        return x {op} 1\n"
        "    def predict(self, x):\n        return self.helper(x)\n"
        "    def __call__(self, x):\n        return self.helper(x)\n"
    )
    one = _module(template.format(op="+"))
    two = _module(template.format(op="*"))
    assert function_fingerprint(one.Model().predict) != function_fingerprint(two.Model().predict)
    assert function_fingerprint(one.Model()) != function_fingerprint(two.Model())


def test_a_function_given_as_a_default_counts_by_code():
    one = _module("def helper(x):\n    return x + 1\ndef f(x, fn=helper):\n    return fn(x)\n")
    two = _module("def helper(x):\n    return x * 2\ndef f(x, fn=helper):\n    return fn(x)\n")
    assert function_fingerprint(one.f) != function_fingerprint(two.f)


def test_a_global_pipeline_counts_by_its_nodes_code():
    from hypernodes import Pipeline, node

    template = "def step(v):\n    return v {op} 1\n"
    source = "def f(x):\n    return INNER.run({'v': x})['w']\n"
    outer = _module(source)
    outer.INNER = Pipeline([node(_module(template.format(op="+")).step, output_name="w")])
    before = function_fingerprint(outer.f)
    outer.INNER = Pipeline([node(_module(template.format(op="*")).step, output_name="w")])
    assert function_fingerprint(outer.f) != before


# -- inputs that are functions ----------------------------------------------------------


def test_lambda_inputs_count_by_code_closure_and_defaults():
    def closure(k):
        return lambda v: v + k

    assert value_token(lambda v: v + 1) != value_token(lambda v: v * 100)
    assert value_token(closure(1)) != value_token(closure(2))
    assert value_token(closure(1)) == value_token(closure(1))
    assert value_token(lambda v, k=1: v + k) != value_token(lambda v, k=2: v + k)


def test_module_level_functions_and_classes_as_inputs_count_by_code():
    one = _module("def scale(x):\n    return x * 2\nclass Tok:\n    SEP = ','\n")
    two = _module("def scale(x):\n    return x * 3\nclass Tok:\n    SEP = ';'\n")
    assert value_token(one.scale) != value_token(two.scale)
    assert value_token(one.Tok) != value_token(two.Tok)


def test_functions_inside_input_objects_count_by_code():
    assert value_token(Plain(lambda v: v + 1)) != value_token(Plain(lambda v: v * 2))
    assert value_token(Plain([len, lambda v: v])) != value_token(Plain([len, lambda v: -v]))


# -- keys never fail a run, and stay cheap ------------------------------------------------


def test_an_input_whose_cache_key_raises_is_unhashable():
    class Broken:
        def __cache_key__(self):
            raise ValueError("no key today")

    with pytest.raises(UnhashableInput, match="no key today"):
        value_token(Broken())


def test_a_large_list_of_scalars_is_keyed_about_as_fast_as_pickling_it():
    import pickle
    import time

    values = list(range(3_000_000))
    start = time.perf_counter()
    pickle.dumps(values)
    pickling = time.perf_counter() - start
    start = time.perf_counter()
    value_token(values)
    keying = time.perf_counter() - start
    assert keying < 10 * pickling + 0.05  # hashing element by element took 35 times as long


@pytest.mark.parametrize(
    ("left", "right"),
    [
        ([1, 2], [1, 2.0]),
        ([True], [1]),
        ([b"a"], ["a"]),
        (["ab", "c"], ["a", "bc"]),
        ({"a": 1}, {"a": True}),
        ({1, 2}, {1, 2.0 + 1}),
        ([[1], [2]], [[1, 2]]),
    ],
)
def test_the_fast_path_for_plain_containers_stays_unambiguous(left, right):
    assert value_token(left) != value_token(right)


def test_pandas_objects_holding_unhashable_cells_are_keyed_by_content():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"tags": [{"a", "b"}, {"c"}], "rows": [[1], [2, 3]]})
    assert value_token(frame) == value_token(frame.copy())
    assert value_token(frame) != value_token(frame.assign(rows=[[1], [2, 4]]))


def test_objects_of_the_standard_library_that_refuse_pickling_are_unhashable():
    with open(__file__) as handle, pytest.raises(UnhashableInput):
        value_token(handle)  # not keyed by its few attributes: two files would collide


def test_modules_imported_inside_the_body_count_including_relative_imports(tmp_path, monkeypatch):
    import importlib

    package = tmp_path / "nodepkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "cleaning.py").write_text("def clean(x):\n    return x.strip()\n")
    (package / "steps.py").write_text(
        "def absolute(x):\n    from nodepkg.cleaning import clean\n    return clean(x)\n"
        "def relative(x):\n    from .cleaning import clean\n    return clean(x)\n"
        "def dotted(x):\n    import nodepkg.cleaning\n    return nodepkg.cleaning.clean(x)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        steps = importlib.import_module("nodepkg.steps")
        names = ("absolute", "relative", "dotted")
        before = {name: function_fingerprint(getattr(steps, name)) for name in names}
        cleaning = sys.modules["nodepkg.cleaning"]  # imported to compute the keys above
        exec("def clean(x):\n    return x.lower()\n", cleaning.__dict__)
        for name, fingerprint in before.items():
            assert function_fingerprint(getattr(steps, name)) != fingerprint, name
    finally:
        for module in ("nodepkg.steps", "nodepkg.cleaning", "nodepkg"):
            sys.modules.pop(module, None)


def test_a_singledispatch_helpers_registered_implementations_count():
    from functools import singledispatch

    from hypernodes import MemoryCache, Pipeline, node

    @singledispatch
    def to_cents(v):
        raise TypeError(v)

    @to_cents.register
    def _(v: float):
        return int(v * 10)  # a bug

    @node(output_name="cents")
    def price(v: float) -> int:
        return to_cents(v)

    cache = MemoryCache()
    assert Pipeline([price], cache=cache).run({"v": 1.5}) == {"cents": 15}

    @to_cents.register
    def _(v: float):
        return int(v * 100)  # fixed

    assert Pipeline([price], cache=cache).run({"v": 1.5}) == {"cents": 150}


def test_a_users_module_named_like_hypernodes_is_the_users_own(tmp_path, monkeypatch):
    import importlib

    from hypernodes import MemoryCache, Pipeline, node

    package = tmp_path / "hypernodes_shop"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "prices.py").write_text("def to_cents(v):\n    return int(v * 10)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    prices = importlib.import_module("hypernodes_shop.prices")

    @node(output_name="cents")
    def price(v: float) -> int:
        return prices.to_cents(v)

    cache = MemoryCache()
    assert Pipeline([price], cache=cache).run({"v": 1.5}) == {"cents": 15}
    (package / "prices.py").write_text("def to_cents(v):\n    return int(v * 100)\n")
    importlib.reload(prices)
    assert Pipeline([price], cache=cache).run({"v": 1.5}) == {"cents": 150}
