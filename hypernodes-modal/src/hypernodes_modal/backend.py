"""ModalBackend: run a pipeline, or a map, in a Modal container.

What travels, and how (the engine's run-elsewhere protocol, ``hypernodes.engine.Job``):

- ``run`` is one remote call; ``map`` is one remote call in which the
  executor's own map strategy (its thread or process pool included) runs,
  or, with ``distribute_map=True``, chunks of items fanned out over
  containers with Modal's function map, results in input order.
- The call carries bytes WE pickled (cloudpickle, the user's own modules by
  value, callbacks as stand-ins), never Python objects: Modal pickles
  arguments with its own vendored cloudpickle, which knows nothing of the
  by-value registrations. The results and the events recorded there come
  back the same way and reach the callbacks here.
- Inside the shipped work this backend pickles as an :class:`InPlaceBackend`
  (see ``_inplace``): pipelines nested in it run in the same container, and
  none of this backend's configuration (secrets, environment) is in the payload.
- A distributed map is ``_fanout``.
- A transport carries the bytes (see :mod:`hypernodes_modal.testing`);
  the default one is the real Modal call.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hypernodes.engine import Backend, Job

from . import _settings, _wire
from ._gpu import check_gpu
from ._inplace import InPlaceBackend, reduce_shipped, shipping
from .errors import ModalSettingsError

if TYPE_CHECKING:
    from hypernodes import Pipeline
    from hypernodes.engine import RunContext
    from hypernodes.executor import ExecutorStrategy

    from ._deploy import Deployment

__all__ = ["InPlaceBackend", "ModalBackend"]

Transport = Callable[[bytes], bytes]


class ModalBackend(Backend):
    """Run pipelines in a Modal container (a GPU, more memory, volumes, secrets).

    ::

        from hypernodes import ModalBackend, Pipeline
        import modal

        gpu = ModalBackend(
            gpu="A100",
            image=modal.Image.debian_slim().pip_install("torch"),
            timeout=600,
        )
        embed = Pipeline([load_model, embed_text], backend=gpu)
        pipeline = Pipeline([clean, embed.as_node(map_over="texts"), summarize])
        pipeline.run({"texts": [...]})   # only `embed` runs on Modal

    Settings (checked here by the rules Modal applies only at a run; read when the
    Modal objects are first built, at the first run):

    - ``image``: a ``modal.Image`` holding what the nodes import (torch, ...);
      hypernodes itself is added on top. Default: Debian slim with this
      process' Python version. See :attr:`image_recipe`.
    - ``gpu`` (``"A100"``, ``"h100:2"``, a list to fall back on; checked here),
      ``cpu``, ``memory`` (MiB), ``volumes`` (mount path -> ``modal.Volume``),
      ``secrets`` (``modal.Secret`` list), ``env`` (environment variables of
      the container), ``max_containers``: Modal's function options.
    - ``timeout`` (seconds) bounds ONE remote call: a run, a whole map, or
      one chunk of a distributed map. ``retries`` (a count, a
      ``modal.Retries``, or a :class:`hypernodes.Retries`, mapped onto
      ``modal.Retries``) reruns a call whose container failed (preempted,
      out of memory); an exception raised by a node is not a container
      failure and is not retried by Modal.
    - ``app_name``: the Modal app the function belongs to.
    - ``distribute_map``: fan map items out over containers (see :meth:`map`).
    - ``transport``: what carries the bytes (default: the real Modal call).

    Nothing connects to Modal before a run; the backend and a pipeline
    holding it pickle.
    """

    def __init__(
        self,
        image: Any = None,
        gpu: str | Sequence[str] | None = None,
        cpu: float | tuple[float, float] | None = None,
        memory: int | tuple[int, int] | None = None,
        volumes: Mapping[str, Any] | None = None,
        secrets: Sequence[Any] | None = None,
        timeout: int = 300,
        retries: Any = None,
        max_containers: int | None = None,
        app_name: str = "hypernodes",
        distribute_map: bool = False,
        env: Mapping[str, str | None] | None = None,
        transport: Transport | None = None,
    ) -> None:
        gpu = check_gpu(gpu)
        problems = _settings.problems(
            {
                "image": image,
                "cpu": cpu,
                "memory": memory,
                "volumes": volumes,
                "secrets": secrets,
                "timeout": timeout,
                "retries": retries,
                "max_containers": max_containers,
                "app_name": app_name,
                "env": env,
                "transport": transport,
            }
        )
        if problems:
            msg = "ModalBackend: " + "; ".join(problems) + "."
            raise ModalSettingsError(msg)
        self.image = image
        self.gpu = gpu
        self.cpu = cpu
        self.memory = memory
        self.volumes = dict(volumes or {})
        self.secrets = list(secrets or [])
        self.timeout = timeout
        self.retries = retries
        self.max_containers = max_containers
        self.app_name = app_name
        self.distribute_map = distribute_map
        self.env = dict(env) if env else None
        self.transport = transport
        self._token = os.urandom(8).hex()  # which backend shipped a job, across pickling
        self._transient()

    def _transient(self) -> None:
        self._lock = threading.Lock()
        self._recipe: dict[str, Any] | None = None
        self._built: Deployment | None = None
        self._channel: Any = None

    # -- what it would deploy ------------------------------------------------------

    @property
    def function_options(self) -> dict[str, Any]:
        """The keyword arguments of ``modal.App.function`` for the function this backend
        deploys (the image aside: see :attr:`image_recipe` and :attr:`modal_image`)."""
        from ._deploy import FUNCTION_NAME

        return {
            "gpu": self.gpu,
            "cpu": self.cpu,
            "memory": self.memory,
            "volumes": dict(self.volumes),
            "secrets": list(self.secrets),
            "env": dict(self.env) if self.env else None,
            "timeout": self.timeout,
            "retries": self.retries,
            "max_containers": self.max_containers,
            "serialized": True,
            "name": FUNCTION_NAME,
        }

    @property
    def image_recipe(self) -> dict[str, Any]:
        """What the image gets besides ``image``: ``python_version`` (of the default
        base), ``pip`` (pinned to this process' versions) and ``local_packages``
        (hypernodes packages installed from a source folder, added as source).
        Read from this process once, when first asked or at the first run."""
        with self._lock:
            if self._recipe is None:
                from ._image import runtime_recipe

                self._recipe = runtime_recipe()
            return dict(self._recipe)

    @property
    def modal_app(self) -> Any:
        """The ``modal.App`` (built on first use, offline)."""
        return self._deployment().app

    @property
    def modal_image(self) -> Any:
        """The ``modal.Image`` the function runs in (built on first use, offline)."""
        return self._deployment().image

    @property
    def modal_function(self) -> Any:
        """The Modal function that runs the work (built on first use, offline)."""
        return self._deployment().function

    def _deployment(self) -> Deployment:
        recipe = self.image_recipe
        with self._lock:
            if self._built is None:
                from ._deploy import Deployment

                self._built = Deployment(self, recipe)
            return self._built

    @contextlib.contextmanager
    def running(self) -> Iterator[ModalBackend]:
        """Keep one Modal app (and its warm containers) for every run inside the block.

        Without it each run (or map) starts and stops an ephemeral app of its
        own, which costs a few seconds; a pipeline that reaches this backend
        many times (a nested pipeline in a local map) wants the block::

            with backend.running():
                outer.map({"doc": docs})
        """
        if self.transport is not None:
            yield self
            return
        from ._deploy import require_credentials

        require_credentials()
        with self._deployment().session():
            yield self

    # -- running -----------------------------------------------------------------

    @property
    def where(self) -> str:
        """How error notes name the far side."""
        from ._deploy import FUNCTION_NAME

        return f"Modal function {FUNCTION_NAME!r} of app {self.app_name!r}"

    def _ready(self, executor: ExecutorStrategy) -> Any:
        """The transport to call, after the checks that must pass before anything is sent."""
        if executor.holistic:
            msg = (
                f"ModalBackend runs task executors (SequentialNodeExecutor, EagerNodeExecutor, "
                f"with their map pools) in the container; {type(executor).__name__} translates "
                "the whole pipeline and runs on a backend of its own. Use a task executor for "
                "the pipeline that runs on Modal."
            )
            raise TypeError(msg)
        if self.transport is None:
            from ._deploy import require_credentials

            require_credentials()  # cheap, and before any work is packed or sent
        with self._lock:
            if self._channel is not None:
                return self._channel
        if self.transport is None:
            channel: Any = self._deployment()
        else:
            bind = getattr(self.transport, "bind", None)
            channel = bind(self) if bind is not None else self.transport
        with self._lock:
            if self._channel is None:
                self._channel = channel
            return self._channel

    @property
    def carrier(self) -> str:
        """How errors name what carries the bytes (the transport, or the Modal call)."""
        if self.transport is None:
            return f"the Modal call of {self.where}"
        return f"transport {self.transport!r}"

    def _call(self, channel: Any, payload: bytes, chunk: bytes | None = None) -> bytes:
        response = channel(_wire.request(payload, chunk))
        return _wire.read_response(response, self.where, self.carrier)

    def run(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, Any]:
        """Run ``pipeline`` once in a Modal container: one remote call."""
        channel = self._ready(executor)
        with shipping(self):
            job = Job.run(
                pipeline, inputs, executor, ctx, output_name, by_value=True, where=self.where
            )
        result: dict[str, Any] = job.receive(self._call(channel, job.payload))
        return result

    def map(
        self,
        pipeline: Pipeline,
        inputs: dict[str, Any] | Any,
        executor: ExecutorStrategy,
        ctx: RunContext,
        *,
        map_over: tuple[str, ...],
        map_mode: str,
        output_name: tuple[str, ...] | None = None,
    ) -> dict[str, list[Any]]:
        """Run ``pipeline`` once per item on Modal.

        By default the whole map is one remote call, and the executor's own map
        strategy runs in the container (give the executor a thread or process
        pool to use the container's cores). With ``distribute_map=True`` the
        items travel in chunks, one remote call each, over up to
        ``max_containers`` containers; results keep input order, and a failing
        item is named by its index.
        """
        channel = self._ready(executor)
        if self.distribute_map:
            from ._fanout import Fanout

            return Fanout(self, channel).map(
                pipeline,
                inputs,
                executor,
                ctx,
                map_over=map_over,
                map_mode=map_mode,
                output_name=output_name,
            )
        with shipping(self):
            job = Job.map(
                pipeline,
                inputs,
                executor,
                ctx,
                map_over=map_over,
                map_mode=map_mode,
                output_name=output_name,
                by_value=True,
                where=self.where,
            )
        result: dict[str, list[Any]] = job.receive(self._call(channel, job.payload))
        return result

    # -- pickling ------------------------------------------------------------------

    def __reduce_ex__(self, protocol: Any) -> Any:
        # Inside work being shipped it is there already: see _inplace.
        return reduce_shipped(self) or super().__reduce_ex__(protocol)

    def __getstate__(self) -> dict[str, Any]:
        import cloudpickle

        state = {k: v for k, v in self.__dict__.items() if k not in _TRANSIENT}
        # Modal's objects (and a lambda transport) pickle only with cloudpickle.
        live = {name: state.pop(name) for name in _CLOUDPICKLED}
        state["_cloudpickled"] = cloudpickle.dumps(live)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        import cloudpickle

        live = cloudpickle.loads(state.pop("_cloudpickled"))
        self.__dict__.update(state, **live)
        self._transient()

    def __repr__(self) -> str:
        shown = [
            f"{name}={getattr(self, name)!r}"
            for name, default in _DEFAULTS.items()
            if getattr(self, name) != default
        ]
        return f"ModalBackend({', '.join(shown)})"


_TRANSIENT = ("_lock", "_recipe", "_built", "_channel")
_CLOUDPICKLED = ("image", "volumes", "secrets", "transport")
_DEFAULTS: dict[str, Any] = {
    "image": None,
    "gpu": None,
    "cpu": None,
    "memory": None,
    "volumes": {},
    "secrets": [],
    "timeout": 300,
    "retries": None,
    "max_containers": None,
    "app_name": "hypernodes",
    "distribute_map": False,
    "env": None,
    "transport": None,
}
