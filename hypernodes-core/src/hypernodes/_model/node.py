"""``Node``: a plain function that names its output(s)."""

from __future__ import annotations

import copyreg
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, Protocol, overload

from ..errors import PipelineDefinitionError
from .config import UNSET
from .retries import to_retries, to_timeout

if TYPE_CHECKING:
    # Defaults (PEP 696) let annotations say plain ``Node`` for "any node"; at run time
    # the typing module's own ParamSpec/TypeVar do (no typing_extensions import).
    from typing_extensions import ParamSpec, TypeVar

    P = ParamSpec("P", default=...)
    R = TypeVar("R", default=Any)

    from .retries import Retries, RetriesLike, TimeoutLike
else:
    from typing import ParamSpec, TypeVar

    P = ParamSpec("P")
    R = TypeVar("R")

F = ParamSpec("F")
T = TypeVar("T")

__all__ = ["Node", "node"]


class Node(Generic[P, R]):
    """A function plus the name(s) of what it returns.

    Its parameters are wired by name to pipeline inputs or to other nodes'
    outputs; a parameter with a default is an optional input. A ``Node`` stays
    callable as the plain function, so it can be unit-tested directly, and type
    checkers see its signature (``Node`` is generic over the function's
    parameters and return type)::

        @node(output_name="doubled")
        def double(x: int) -> int:
            return 2 * x

        assert double(3) == 6  # double("3") is an error for mypy and pyright
    """

    def __init__(
        self,
        func: Callable[P, R],
        output_name: str | tuple[str, ...] | list[str] | None = None,
        *,
        cache: bool = True,
        name: str | None = None,
        retries: RetriesLike = UNSET,
        timeout: TimeoutLike = UNSET,
    ) -> None:
        if isinstance(func, Node):
            func = func.func
        if not callable(func):
            msg = f"node() needs a function, got {type(func).__name__} {func!r}."
            raise TypeError(msg)
        self.func: Callable[P, R] = func
        self.name: str = name or getattr(func, "__name__", None) or type(func).__name__
        if output_name is None:
            if not self.name.isidentifier():
                msg = (
                    f"node() cannot name the output of {self.name}: give it one, "
                    "e.g. node(lambda x: x + 1, output_name='y')."
                )
                raise PipelineDefinitionError(msg)
            output_name = self.name
        self.output_name: str | tuple[str, ...] = _check_output_name(output_name, self.name)
        self.output_names: tuple[str, ...] = (
            self.output_name if isinstance(self.output_name, tuple) else (self.output_name,)
        )
        if name is None and not self.name.isidentifier():  # a lambda: named by its output
            self.name = "_".join(self.output_names)
        self.cache = bool(cache)
        #: This node's own retries and timeout (``UNSET``: the pipeline's apply).
        self.retries: Retries | None = UNSET
        self.timeout: float | None = UNSET
        if retries is not UNSET:
            self.retries = to_retries(retries, f"Node {self.name!r}: retries")
        if timeout is not UNSET:
            self.timeout = to_timeout(timeout, f"Node {self.name!r}: timeout")
        self.is_async = _is_coroutine_function(func)
        self.parameters, self.defaults, self.keyword_only = _read_signature(func, self.name)
        #: The batch implementation (see :meth:`batch`) and how many items it takes at once.
        self.batch_func: Callable[..., Any] | None = None
        self.batch_size: int | None = None
        functools.update_wrapper(self, func, updated=())

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.func(*args, **kwargs)

    @overload
    def batch(self, func: Callable[..., T], /) -> Callable[..., T]: ...

    @overload
    def batch(
        self, func: None = None, /, *, size: int | None = None
    ) -> Callable[[Callable[..., T]], Callable[..., T]]: ...

    def batch(self, func: Callable[..., Any] | None = None, /, *, size: int | None = None) -> Any:
        """Give this node a batch implementation, which ``map`` calls on chunks of items.

        The batch function takes the node's parameter names; for an input that
        varies across items it receives a list (one value per item), for an
        input shared by every item of the map the single value. It returns a
        list with one result per item (a tuple of such lists for several
        outputs). ``size`` caps the items per call (default: all the items a
        map, or a pool worker's chunk of it, has to compute)::

            @node(output_name="embedding")
            def embed(text: str, model: Model) -> list[float]:
                return model.encode([text])[0]

            @embed.batch(size=64)
            def embed_batch(text: list[str], model: Model) -> list[list[float]]:
                return model.encode(text)

        ``run`` calls the per-item function; ``map`` calls the batch function,
        leaving out the items served from the cache. The batch function is
        returned unchanged, so it stays callable and testable.
        """
        if size is not None and (isinstance(size, bool) or not isinstance(size, int) or size < 1):
            msg = f"Node {self.name!r}: batch(size=...) must be a positive number, got {size!r}."
            raise ValueError(msg)

        def attach(batch_func: Callable[..., Any]) -> Callable[..., Any]:
            if not callable(batch_func):
                msg = f"Node {self.name!r}: .batch needs a function, got {batch_func!r}."
                raise TypeError(msg)
            params, _, _ = _read_signature(batch_func, self.name)
            if set(params) != set(self.parameters):
                msg = (
                    f"Node {self.name!r}: its batch function takes {list(params)}, but the node "
                    f"takes {list(self.parameters)}. Give the batch function the same "
                    "parameter names (lists for the inputs that vary across items)."
                )
                raise PipelineDefinitionError(msg)
            self.batch_func = batch_func
            self.batch_size = size
            return batch_func

        return attach(func) if func is not None else attach

    def __reduce__(self) -> Any:
        # Importable: by reference (pickle would look its function up by name and find
        # this node instead). Otherwise by its state (cloudpickle sends the function).
        from ..engine._pack import import_attribute, node_reference

        found = node_reference(self)
        if found is not None:
            return (import_attribute, found)
        return self.reduce_by_state()

    def reduce_by_state(self) -> tuple[Any, ...]:
        """How this node pickles with its function (by value, with cloudpickle)."""
        return (copyreg.__newobj__, (type(self),), self.__dict__.copy())  # type: ignore[attr-defined]

    def __repr__(self) -> str:
        return f"Node({self.name!r}, output_name={self.output_name!r})"


def _check_output_name(
    output_name: str | tuple[str, ...] | list[str], node_name: str
) -> str | tuple[str, ...]:
    if isinstance(output_name, str):
        names: tuple[str, ...] = (output_name,)
    elif isinstance(output_name, tuple | list):
        names = tuple(output_name)
    else:
        msg = (
            f"Node {node_name!r}: output_name must be a string or a tuple of strings, "
            f"got {type(output_name).__name__} {output_name!r}."
        )
        raise TypeError(msg)
    if not names or not all(isinstance(n, str) and n.isidentifier() for n in names):
        msg = (
            f"Node {node_name!r}: output_name {output_name!r} must hold one or more "
            "valid Python identifiers (they become parameter names of later nodes)."
        )
        raise PipelineDefinitionError(msg)
    if isinstance(output_name, tuple | list) and len(names) == 1:
        msg = (
            f"Node {node_name!r}: output_name={output_name!r} names one output as a "
            f"sequence; write output_name={names[0]!r} (a node with one output returns its "
            "value as it is, a tuple included)."
        )
        raise PipelineDefinitionError(msg)
    if len(set(names)) != len(names):
        msg = f"Node {node_name!r}: output_name {output_name!r} repeats a name."
        raise PipelineDefinitionError(msg)
    return output_name if isinstance(output_name, str) else names


def _is_coroutine_function(func: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(func)


def _read_signature(
    func: Callable[..., Any], node_name: str
) -> tuple[tuple[str, ...], dict[str, Any], frozenset[str]]:
    import inspect  # deferred: it costs more than the rest of `import hypernodes`

    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        msg = f"Node {node_name!r}: cannot read the parameters of {func!r} ({exc})."
        raise TypeError(msg) from exc
    names: list[str] = []
    defaults: dict[str, Any] = {}
    keyword_only: set[str] = set()
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            msg = (
                f"Node {node_name!r}: parameter {param} cannot be wired by name. "
                "Give the function one named parameter per input."
            )
            raise PipelineDefinitionError(msg)
        names.append(param.name)
        if param.default is not param.empty:
            defaults[param.name] = param.default
        if param.kind is param.KEYWORD_ONLY:
            keyword_only.add(param.name)
    return tuple(names), defaults, frozenset(keyword_only)


class NodeDecorator(Protocol):
    """What ``@node(...)`` with arguments returns: it turns a function into a typed node."""

    def __call__(self, func: Callable[F, T], /) -> Node[F, T]: ...


@overload
def node(func: Callable[F, T], /) -> Node[F, T]: ...


@overload
def node(
    func: None = None,
    /,
    *,
    output_name: str | tuple[str, ...] | list[str] | None = None,
    cache: bool = True,
    name: str | None = None,
    retries: RetriesLike = UNSET,
    timeout: TimeoutLike = UNSET,
) -> NodeDecorator: ...


def node(
    func: Callable[..., Any] | None = None,
    /,
    *,
    output_name: str | tuple[str, ...] | list[str] | None = None,
    cache: bool = True,
    name: str | None = None,
    retries: RetriesLike = UNSET,
    timeout: TimeoutLike = UNSET,
) -> Node | NodeDecorator:
    """Turn a function into a :class:`Node`.

    ``@node`` names the output after the function; ``@node(output_name="y")``
    names it ``y``; a tuple names each value of a returned tuple.
    ``cache=False`` keeps the node out of any cache. ``retries`` (a count or
    a :class:`~hypernodes.Retries`) and ``timeout`` (seconds per call) apply to
    this node whatever the pipeline says. ``async def`` functions are nodes
    too::

        @node(output_name=("mean", "std"))
        def stats(values: list[float]) -> tuple[float, float]: ...
    """
    if isinstance(func, str | tuple | list):
        msg = f"Write @node(output_name={func!r}): the output name is a keyword argument."
        raise TypeError(msg)
    options: dict[str, Any] = {"cache": cache, "name": name, "retries": retries, "timeout": timeout}
    if func is not None:
        return Node(func, output_name, **options)

    def decorate(f: Callable[F, T], /) -> Node[F, T]:
        return Node(f, output_name, **options)

    return decorate
