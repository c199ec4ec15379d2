"""The container's side: the body of the Modal function every ModalBackend deploys.

:func:`serve` takes a request (see ``_wire``), runs its job with
:func:`hypernodes.engine.run_job` and returns the response. Around the job:

- the Modal Volumes of the function are reloaded before it (to see what other
  containers committed) and committed after it (so a ``DiskCache`` kept on a
  volume persists); only inside a Modal container, where they are mounted. A
  failed reload or commit is a warning: the results still come back;
- CUDA tensors in the results are moved to the CPU while they are pickled, so
  a client without a GPU can unpickle them. This applies only when ``torch``
  is loaded here; hypernodes never imports torch itself;
- a job that cannot even be unpacked here (a module missing from the image,
  another Python version) becomes a response that explains it, instead of an
  unpickling error deep inside Modal.
"""

from __future__ import annotations

import copyreg
import gc
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from hypernodes.engine import pack, run_job, unpack

from . import _wire

__all__ = ["entry", "serve"]


def entry(volumes: Sequence[Any]) -> Callable[[bytes], bytes]:
    """The function Modal deploys (serialized with the volumes it must reload and commit)."""

    def hypernodes_run(request: bytes) -> bytes:
        return serve(request, volumes)

    return hypernodes_run


def serve(request: bytes, volumes: Sequence[Any] = ()) -> bytes:
    """Run the job ``request`` carries; return the response bytes. Never raises for the work."""
    try:
        header, payload, chunk = _wire.read_request(request)
    except Exception as exc:
        return _wire.failure(exc, None)
    mounted = [v for v in volumes if hasattr(v, "reload")] if _in_container() else []
    for volume in mounted:
        _reload(volume)
    try:
        with _TensorsToCpu() as tensors:
            result = tensors.fix(run_job(payload, chunk))
    except Exception as exc:  # run_job raises only outside the nodes: unpacking, mostly
        return _wire.failure(exc, header.get("versions"))
    finally:
        for volume in mounted:
            try:
                volume.commit()
            except Exception as exc:  # the results still go back; say what did not persist
                warnings.warn(f"Committing Modal volume {volume!r} failed: {exc}", stacklevel=1)
    return _wire.success(result)


def _reload(volume: Any) -> None:
    """See what other containers committed. Modal refuses while files of the volume are
    open, as a cache of an earlier call in this warm container may still hold them."""
    try:
        volume.reload()
        return
    except Exception:
        gc.collect()  # closes the files of caches no longer referenced
    try:
        volume.reload()
    except Exception as exc:  # the call still runs, on what this container sees
        warnings.warn(
            f"Reloading Modal volume {volume!r} failed ({exc}); this call sees the volume "
            "as this container last saw it.",
            stacklevel=1,
        )


def _in_container() -> bool:
    modal = sys.modules.get("modal")
    return modal is not None and not modal.is_local()


class _TensorsToCpu:
    """While active, torch tensors pickle as CPU tensors (when torch is loaded at all)."""

    def __init__(self) -> None:
        self.saved: dict[type, Any] = {}

    def __enter__(self) -> _TensorsToCpu:
        self._register()
        return self

    def _register(self) -> bool:
        torch = sys.modules.get("torch")
        if torch is None or self.saved:
            return False
        table = copyreg.dispatch_table
        for kind, reducer in ((torch.Tensor, _tensor_on_cpu), (torch.nn.Parameter, _param_on_cpu)):
            self.saved[kind] = table.get(kind)
            table[kind] = reducer
        return True

    def fix(self, result: bytes) -> bytes:
        """``result`` again, pickled with CPU tensors, when torch was first loaded by the job
        itself and CUDA is in use (the results were pickled before the reducers were set)."""
        torch = sys.modules.get("torch")
        if torch is None or self.saved or not torch.cuda.is_initialized():
            return result
        self._register()
        return pack(unpack(result))

    def __exit__(self, *exc_info: object) -> None:
        table = copyreg.dispatch_table
        for kind, previous in self.saved.items():
            if previous is None:
                table.pop(kind, None)
            else:
                table[kind] = previous


def _tensor_on_cpu(tensor: Any) -> Any:
    if tensor.device.type != "cpu":
        tensor = tensor.cpu()
    return tensor.__reduce_ex__(4)


def _param_on_cpu(param: Any) -> Any:
    return (type(param), (param.data, param.requires_grad))
