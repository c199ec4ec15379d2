"""The bytes a transport carries: a request to run a job, and its response.

A request is ``MAGIC``, a JSON header (the versions of this side), the
job's payload and, for a chunk of a distributed map, the chunk::

    MAGIC | len(header) (4 bytes) | header | len(payload) (8 bytes) | payload | chunk

A response is ``MAGIC`` then ``b"R"`` and the bytes :func:`hypernodes.engine.run_job`
returned, or ``b"F"`` and a JSON description of why the work could not be
started there. The description is JSON, not a pickle, so that it reads back
whatever differs between the two sides (that is usually why it failed).
"""

from __future__ import annotations

import json
import sys
import traceback
from typing import Any

from .errors import PayloadError

__all__ = ["failure", "read_request", "read_response", "request", "success", "versions"]

MAGIC = b"hypernodes-modal/1\n"
_OK, _FAILED = b"R", b"F"


def versions() -> dict[str, str]:
    """The versions that must agree for a payload to unpack on the other side."""
    from importlib import metadata

    import cloudpickle

    try:
        core = metadata.version("hypernodes-core")  # as the image recipe pins it
    except metadata.PackageNotFoundError:  # added to the image as source (an editable checkout)
        core = "a source folder, without distribution metadata"
    return {
        "python": ".".join(map(str, sys.version_info[:3])),
        "cloudpickle": cloudpickle.__version__,
        "hypernodes-core": core,
    }


def request(payload: bytes, chunk: bytes | None = None) -> bytes:
    """The request that runs ``payload`` (and ``chunk`` of it) on the other side."""
    header = json.dumps({"versions": versions(), "chunk": chunk is not None}).encode()
    return b"".join(
        (
            MAGIC,
            len(header).to_bytes(4, "big"),
            header,
            len(payload).to_bytes(8, "big"),
            payload,
            chunk or b"",
        )
    )


def read_request(data: bytes) -> tuple[dict[str, Any], bytes, bytes | None]:
    """``(header, payload, chunk or None)`` of a request made by :func:`request`."""
    if not data.startswith(MAGIC):
        msg = (
            "this is not a hypernodes-modal request, or one from a version of hypernodes-modal "
            "that frames requests differently"
        )
        raise ValueError(msg)
    at = len(MAGIC)
    size = int.from_bytes(data[at : at + 4], "big")
    header = json.loads(data[at + 4 : at + 4 + size])
    at += 4 + size
    size = int.from_bytes(data[at : at + 8], "big")
    at += 8
    payload = data[at : at + size]
    chunk = data[at + size :] if header.get("chunk") else None
    return header, payload, chunk


def success(result: bytes) -> bytes:
    """The response carrying what ``run_job`` returned."""
    return MAGIC + _OK + result


def failure(exc: BaseException, client: dict[str, str] | None) -> bytes:
    """The response saying the work could not be started here, and why."""
    described = {
        "type": type(exc).__name__,
        "message": str(exc),
        "module": getattr(exc, "name", None) if isinstance(exc, ImportError) else None,
        "traceback": "".join(traceback.format_exception(exc)),
        "versions": versions(),
        "client": client or {},
    }
    return MAGIC + _FAILED + json.dumps(described).encode()


def read_response(data: bytes, where: str, source: str = "the transport") -> bytes:
    """The bytes for ``Job.receive``, or a :class:`PayloadError` explaining the failure.

    ``source`` names what returned ``data`` (a transport), for a TypeError when it is
    not bytes.
    """
    if not isinstance(data, bytes | bytearray):
        msg = (
            f"{source} returned {type(data).__name__} {data!r:.60} instead of the response "
            "bytes: a transport must return the bytes the request's handler returned "
            "(hypernodes_modal._remote.serve(request))."
        )
        raise TypeError(msg)
    data = bytes(data)
    if not data.startswith(MAGIC):
        msg = (
            f"{where} answered with something that is not a hypernodes-modal response "
            f"({data[:40]!r}...). Is hypernodes-modal in the image the same version as here?"
        )
        raise PayloadError(msg)
    kind, body = data[len(MAGIC) : len(MAGIC) + 1], data[len(MAGIC) + 1 :]
    if kind == _OK:
        return body
    described = json.loads(body)
    error = PayloadError(explain(described, where))
    error.add_note(f"hypernodes: remote traceback from {where}:\n{described['traceback']}")
    raise error


def explain(described: dict[str, Any], where: str) -> str:
    """Why the work described by a failure response could not start, and what to do."""
    here, there = described["client"] or versions(), described["versions"]
    lines = [
        f"The work reached {where} but failed there before or after its nodes ran (most "
        f"likely while unpacking it): {described['type']}: {described['message']}."
    ]
    if _minor(here["python"]) != _minor(there["python"]):
        lines.append(
            f"This process runs Python {here['python']} and the container Python "
            f"{there['python']}; pickled functions do not cross Python minor versions. Build "
            f"the image for Python {_minor(here['python'])}: modal.Image.debian_slim("
            f'python_version="{_minor(here["python"])}") (the default image does).'
        )
    for name in ("cloudpickle", "hypernodes-core"):
        if here.get(name) != there.get(name):
            lines.append(
                f"{name} is {here.get(name)} here and {there.get(name)} in the container: "
                f"install {name}=={here.get(name)} in the image (the default image does)."
            )
    module = described.get("module")
    if module:
        top = module.partition(".")[0]
        lines.append(
            f"Module {module!r} is used by the pipeline but is not installed in the container "
            f'image: add it, e.g. image=modal.Image.debian_slim().pip_install("{top}"). '
            "(Your own modules travel with the pipeline; installed packages must be in the image.)"
        )
    elif described["type"] == "AttributeError":
        lines.append(
            "A function or class the pipeline refers to is missing there: a library probably "
            "has another version in the image than here. Pin it to the local version."
        )
    return " ".join(lines)


def _minor(version: str) -> str:
    return ".".join(version.split(".")[:2])
