"""A per-client limit on questions, kept by Flask-Limiter in a storage every worker shares.

A client (the peer address of the connection: the server is reached directly, so no
``X-Forwarded-For`` is trusted) may ask ``web_ask_rate`` questions in any
``web_ask_rate_window`` seconds (a moving window, in whole seconds); past that it gets 429
with ``Retry-After``, the whole seconds until its oldest counted question leaves the
window. Refused requests are not counted, so a client that waits as told is served.
``/ask`` and ``/api/ask`` share one allowance.

The counts live where ``web_rate_limit_storage`` says: ``memory://`` in the process (with
several workers each counts on its own, so a client gets up to one allowance per worker)
or a Redis URI, shared by every worker and host that names it. When Redis does not answer,
a worker counts in its own memory (logged) until Redis answers again.
"""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request
from flask_limiter import Limiter, RateLimitExceeded

from webapp.config import setting
from webapp.errors import TooManyRequests

log = logging.getLogger(__name__)

EXTENSION = "policyqa.ask_rate"
SCOPE = "ask"  # the one allowance /ask and /api/ask share
KEY_PREFIX = "policyqa"  # keys in a shared Redis: LIMITER/policyqa/<address>/ask/...


def client_address() -> str:
    """Whom a question is counted for: the connection's peer address."""
    return request.remote_addr or "unknown"


class AskLimit:
    """The question allowance of one app: its Flask-Limiter and the limit of the ask views."""

    def __init__(self, app: Flask):
        self.limit = setting(app, "web_ask_rate")
        self.window = max(1, math.ceil(setting(app, "web_ask_rate_window")))
        self.storage_uri = setting(app, "web_rate_limit_storage")
        self.enabled = self.limit > 0 and setting(app, "web_ask_rate_window") > 0
        self.limiter: Limiter | None = None
        self._guarded: dict[Callable[..., Any], Callable[..., Any]] = {}
        self._lock = threading.Lock()
        if self.enabled:
            self.limiter = Limiter(client_address, app=app, storage_uri=self.storage_uri,
                                   strategy="moving-window", key_prefix=KEY_PREFIX,
                                   in_memory_fallback_enabled=True, headers_enabled=False)
            self._rule = self.limiter.shared_limit(f"{self.limit} per {self.window} second",
                                                   scope=SCOPE)

    @property
    def shared(self) -> bool:
        """True when the counts are kept outside the process (every worker sees them)."""
        return not self.storage_uri.startswith("memory://")

    def reachable(self) -> bool:
        """Whether the storage answers now (memory always does)."""
        return self.limiter is None or bool(self.limiter.storage.check())

    def guarded(self, view: Callable[..., Any]) -> Callable[..., Any]:
        """``view`` behind this app's limit (made once per view)."""
        guarded = self._guarded.get(view)
        if guarded is None:
            with self._lock:
                guarded = self._guarded.setdefault(view, self._rule(view))
        return guarded

    def refusal(self) -> TooManyRequests:
        """The 429 for the request just refused, with the seconds until it may ask again."""
        breached = self.limiter.current_limit if self.limiter else None
        wait = breached.window.reset_time - time.time() if breached else self.window
        seconds = min(self.window, max(1, math.ceil(wait)))
        return TooManyRequests(
            f"too many questions from your address: at most {self.limit} every "
            f"{self.window:g} seconds; try again in {seconds} s",
            headers={"Retry-After": str(seconds)})


def init_app(app: Flask) -> AskLimit:
    """Register the question limit configured by ``web_ask_rate``, its window and storage."""
    asks = AskLimit(app)
    app.extensions[EXTENSION] = asks
    return asks


def limit_asks(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the view with 429 when the client has used up its questions."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        asks: AskLimit = current_app.extensions[EXTENSION]
        if not asks.enabled:
            return view(*args, **kwargs)
        try:
            return asks.guarded(view)(*args, **kwargs)
        except RateLimitExceeded:
            raise asks.refusal() from None

    return limited
