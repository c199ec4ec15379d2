"""The real Modal objects of one ModalBackend, and the real Modal call (the default transport).

Everything here is built on first use and needs no network: ``modal.App``,
the ``modal.Image`` (see ``_image``) and the function (``serialized=True``,
its body ``_remote.entry``). Calls run inside an ephemeral app
(``app.run()``), entered once for every call that overlaps it: concurrent
calls, or every call inside ``with backend.running():``, share one app and
its warm containers.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from . import _image
from ._remote import entry
from .errors import ModalCredentialsError

if TYPE_CHECKING:
    from .backend import ModalBackend

__all__ = ["FUNCTION_NAME", "Deployment", "require_credentials"]

#: The name of the function in the Modal app (what the Modal dashboard shows).
FUNCTION_NAME = "hypernodes_run"

_HOW_TO_AUTHENTICATE = (
    "Run `modal token new` (it opens a browser and saves a token in ~/.modal.toml), or set "
    "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET in the environment (tokens are at "
    "https://modal.com/settings/tokens)."
)


def require_credentials() -> None:
    """Raise :class:`ModalCredentialsError` unless Modal credentials are configured here.

    Reads Modal's own configuration (environment, then ~/.modal.toml), so it costs no
    request; a token Modal refuses is reported when the app starts.
    """
    import modal
    from modal.config import config

    if not modal.is_local():  # inside a Modal container: the runtime is authenticated
        return
    if config.get("token_id") and config.get("token_secret"):
        return
    if config.get("oauth_refresh_token"):
        return
    msg = (
        "ModalBackend found no Modal credentials, so nothing was sent to Modal. "
        + _HOW_TO_AUTHENTICATE
    )
    raise ModalCredentialsError(msg)


class Deployment:
    """The App, Image and Function built from a backend's configuration."""

    def __init__(self, backend: ModalBackend, recipe: dict[str, Any]) -> None:
        import modal

        self.image = _image.build(backend.image, recipe)
        self.app = modal.App(backend.app_name)
        options = backend.function_options
        options["retries"] = modal_retries(options["retries"])
        volumes = list(options["volumes"].values())
        self.function = self.app.function(image=self.image, **options)(entry(volumes))
        self._lock = threading.Lock()
        self._users = 0
        self._running: Any = None

    @contextlib.contextmanager
    def session(self) -> Iterator[None]:
        """Keep the ephemeral app running while the block runs (shared by overlapping calls)."""
        with self._lock:
            if self._users == 0:
                self._running = self._start()
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    running, self._running = self._running, None
                    running.__exit__(None, None, None)

    def _start(self) -> Any:
        from modal.exception import AuthError

        try:
            running = self.app.run()
            running.__enter__()
        except AuthError as exc:
            msg = f"Modal refused the credentials configured here ({exc}). {_HOW_TO_AUTHENTICATE}"
            raise ModalCredentialsError(msg) from exc
        except Exception as exc:
            exc.add_note(f"hypernodes: while starting Modal app {self.app.name!r} for ModalBackend")
            raise
        return running

    def __call__(self, request: bytes) -> bytes:
        with self.session():
            result: bytes = self.function.remote(request)
            return result

    def map(self, requests: Iterable[bytes]) -> Iterator[bytes | BaseException]:
        """Each request's response (or the exception of a failed call), in order."""
        with self.session():
            yield from self.function.map(requests, order_outputs=True, return_exceptions=True)


def modal_retries(retries: Any) -> Any:
    """Modal's retry policy for ``ModalBackend(retries=...)``: a count and a
    ``modal.Retries`` as they are; a :class:`hypernodes.Retries` mapped onto
    ``modal.Retries`` (its count, first delay, doubling and largest delay)."""
    from hypernodes import Retries

    if not isinstance(retries, Retries):
        return retries
    import modal

    first = retries.backoff if not callable(retries.backoff) else 1.0
    return modal.Retries(
        max_retries=retries.max,
        initial_delay=min(60.0, max(0.0, float(first))),
        backoff_coefficient=2.0,
        max_delay=max(1.0, min(retries.max_delay, 60.0)),
    )
