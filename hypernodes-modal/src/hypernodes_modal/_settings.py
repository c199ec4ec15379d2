"""ModalBackend's settings, checked at construction by the rules Modal's client applies late.

Modal's client checks most function options only while it loads the function
in a running app (``modal/_resources.py``, ``modal/_utils/mount_utils.py``,
``modal/_utils/function_utils.py``, ``modal.Secret.from_dict``), i.e. after
connecting and building the image; some it never checks (a string image, a
boolean count). :func:`problems` applies the same rules here, with no import
of ``modal``: an object given as a Modal object was made with ``modal``
already imported, so when ``modal`` is not imported nothing is one.
"""

from __future__ import annotations

import math
import posixpath
import sys
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

__all__ = ["problems"]

#: Mount paths Modal refuses besides "/" (``modal/_utils/mount_utils.py``).
_RESERVED_MOUNTS = ("/", "/root", "/tmp")


def _modal_class(name: str) -> type | None:
    """``modal.<name>`` when ``modal`` is imported, else None (nothing can be one)."""
    modal = sys.modules.get("modal")
    found = getattr(modal, name, None) if modal is not None else None
    return found if isinstance(found, type) else None


def _is_modal(value: Any, *names: str) -> bool:
    kinds = tuple(k for k in map(_modal_class, names) if k is not None)
    return bool(kinds) and isinstance(value, kinds)


def _described(value: Any) -> str:
    return f"{type(value).__name__} {value!r:.80}"


def problems(settings: Mapping[str, Any]) -> list[str]:
    """What is wrong with the raw ``ModalBackend(...)`` arguments, one sentence each."""
    found: list[str] = []
    checks = (_image, _timeout, _cpu, _memory, _max_containers, _retries)
    for check in (*checks, _volumes, _secrets, _env, _app_name, _transport):
        found.extend(check(settings))
    return found


def _image(s: Mapping[str, Any]) -> list[str]:
    image = s["image"]
    if image is None or _is_modal(image, "Image"):
        return []
    hint = (
        f' (for a registry image: image=modal.Image.from_registry("{image}"))'
        if isinstance(image, str)
        else ""
    )
    return [
        f"image must be a modal.Image, e.g. modal.Image.debian_slim().pip_install(...), "
        f"or None for the default; got {_described(image)}{hint}"
    ]


def _timeout(s: Mapping[str, Any]) -> list[str]:
    timeout = s["timeout"]
    if isinstance(timeout, bool) or not isinstance(timeout, int):
        return [f"timeout must be whole seconds (an int), got {timeout!r}"]
    if not 1 <= timeout <= 24 * 3600:
        return [f"timeout must be 1 to 86400 seconds (24 h), got {timeout}"]
    return []


def _number(value: Any, kinds: tuple[type, ...]) -> bool:
    """A finite number > 0 of ``kinds`` (not a bool)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not isinstance(value, kinds)
    ):
        return False
    number = float(value)
    return math.isfinite(number) and number > 0


def _pair_or_one(value: Any, kinds: tuple[type, ...]) -> tuple[Any, ...] | None:
    """``value`` as (request,) or (request, limit), or None when it is not one of those."""
    values = value if isinstance(value, tuple) and len(value) == 2 else (value,)
    return values if all(_number(v, kinds) for v in values) else None


def _cpu(s: Mapping[str, Any]) -> list[str]:
    cpu = s["cpu"]
    if cpu is None:
        return []
    values = _pair_or_one(cpu, (int, float))
    if values is None:
        return [
            f"cpu must be cores (a finite number > 0) or a (request, limit) pair of them, "
            f"got {cpu!r}"
        ]
    # Modal compares milli-cores (modal/_resources.py).
    if len(values) == 2 and int(1000 * values[1]) < int(1000 * values[0]):
        return [f"cpu=(request, limit) needs a limit at least the request, got {cpu!r}"]
    return []


def _memory(s: Mapping[str, Any]) -> list[str]:
    memory = s["memory"]
    if memory is None:
        return []
    values = _pair_or_one(memory, (int,))
    if values is None:
        return [f"memory must be MiB (an int > 0) or a (request, limit) pair, got {memory!r}"]
    if len(values) == 2 and values[1] < values[0]:
        return [f"memory=(request, limit) needs a limit at least the request, got {memory!r}"]
    return []


def _max_containers(s: Mapping[str, Any]) -> list[str]:
    most = s["max_containers"]
    if most is None or (isinstance(most, int) and not isinstance(most, bool) and most >= 1):
        return []
    return [f"max_containers must be an int >= 1 (or None), got {most!r}"]


def _retries(s: Mapping[str, Any]) -> list[str]:
    from hypernodes import Retries

    retries = s["retries"]
    if retries is None or isinstance(retries, Retries) or _is_modal(retries, "Retries"):
        return []
    if isinstance(retries, int) and not isinstance(retries, bool):
        return [] if retries >= 0 else [f"retries must be >= 0, got {retries}"]
    return [
        f"retries must be a count (an int >= 0), a modal.Retries(...) or a "
        f"hypernodes.Retries(...), got {_described(retries)}"
    ]


def _volumes(s: Mapping[str, Any]) -> list[str]:
    volumes = s["volumes"]
    if volumes is None:
        return []
    if not isinstance(volumes, Mapping):
        return [
            f"volumes must map mount paths to volumes, e.g. "
            f'{{"/data": modal.Volume.from_name("my-volume")}}, got {_described(volumes)}'
        ]
    found = []
    mounted: dict[int, list[str]] = {}
    for path, volume in volumes.items():
        if not isinstance(path, str | PurePath):
            found.append(f"volumes maps absolute mount paths (str) to volumes; got key {path!r}")
            continue
        posix = PurePath(path).as_posix()  # as modal/_utils/mount_utils.py reads it
        if posix != posixpath.abspath(posix):
            found.append(
                f"volumes: mount path {str(path)!r} must be a canonical, absolute path "
                f"(starting with '/', without '.' or '..' parts), such as '/data'"
            )
        elif posix in _RESERVED_MOUNTS:
            found.append(
                f"volumes: Modal does not mount a volume at {posix!r} "
                f"({', '.join(map(repr, _RESERVED_MOUNTS))} are reserved); use one such as '/data'"
            )
        if _is_modal(volume, "Volume"):
            mounted.setdefault(id(volume), []).append(posix)
        elif not _is_modal(volume, "CloudBucketMount"):
            hint = (
                f' (a volume by name: modal.Volume.from_name("{volume}"))'
                if isinstance(volume, str)
                else ""
            )
            found.append(
                f"volumes[{str(path)!r}] must be a modal.Volume or a modal.CloudBucketMount, "
                f"got {_described(volume)}{hint}"
            )
    for paths in mounted.values():
        if len(paths) > 1:
            found.append(
                f"volumes: Modal mounts a Volume at one path per function, and one is at "
                f"{', '.join(paths)}"
            )
    return found


def _secrets(s: Mapping[str, Any]) -> list[str]:
    secrets = s["secrets"]
    if secrets is None:
        return []
    # Modal's own rule (modal/app.py check_sequence): a list or tuple of modal.Secret.
    if isinstance(secrets, list | tuple):
        wrong = [_described(x) for x in secrets if not _is_modal(x, "Secret")]
        if not wrong:
            return []
        return [f"secrets must be a list or tuple of modal.Secret objects; got {', '.join(wrong)}"]
    hint = ": wrap it in a list, secrets=[secret]" if _is_modal(secrets, "Secret") else ""
    return [
        f"secrets must be a list or tuple of modal.Secret objects, got {_described(secrets)}{hint}"
    ]


def _env(s: Mapping[str, Any]) -> list[str]:
    env = s["env"]
    if env is None:
        return []
    # Modal's own rule (modal.Secret.from_dict): str keys, str values (None skips a key).
    if not isinstance(env, Mapping):
        example = '{"MODE": "test"}'
        return [f"env must map variable names to values, e.g. {example}, got {_described(env)}"]
    wrong = [
        f"{key!r}: {_described(value)}"
        for key, value in env.items()
        if not isinstance(key, str) or not (value is None or isinstance(value, str))
    ]
    if not wrong:
        return []
    return [
        "env must map names (str) to values (str, or None to leave a name unset); "
        f"convert these: {', '.join(wrong)}"
    ]


def _app_name(s: Mapping[str, Any]) -> list[str]:
    name = s["app_name"]
    if isinstance(name, str) and name:
        return []
    return [f"app_name must be a non-empty string, got {name!r}"]


def _transport(s: Mapping[str, Any]) -> list[str]:
    transport = s["transport"]
    if transport is None or callable(transport):
        return []
    return [
        f"transport must be a callable from payload bytes to result bytes, got "
        f"{type(transport).__name__}"
    ]
