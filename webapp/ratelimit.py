"""A per-client limit on questions: a sliding window of each address's recent requests.

A client (the peer address of the connection: waitress serves it directly, so no
``X-Forwarded-For`` is trusted) may ask ``web_ask_rate`` questions in any
``web_ask_rate_window`` seconds; past that it gets 429 with ``Retry-After``, the whole
seconds until its oldest request leaves the window. Refused requests are not counted,
so a client that waits as told is served.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, request

from webapp.config import setting
from webapp.errors import TooManyRequests

EXTENSION = "policyqa.ask_rate"


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds for each key; thread-safe.

    Memory is bounded: at most ``max_keys`` keys of at most ``limit`` times each. When
    the table is full, keys whose window has emptied are dropped first, then the oldest.
    """

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = 10_000):
        self.limit = limit
        self.window = window
        self.clock = clock
        self.max_keys = max_keys
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.limit > 0 and self.window > 0

    def acquire(self, key: str) -> float:
        """Count one event for ``key`` and return 0, or return the seconds to wait."""
        if not self.enabled:
            return 0.0
        now = self.clock()
        with self._lock:
            events = self._events.get(key)
            if events is None:
                if len(self._events) >= self.max_keys:
                    self._make_room(now)
                events = self._events[key] = deque()
            while events and events[0] <= now - self.window:
                events.popleft()
            if len(events) >= self.limit:
                return events[0] + self.window - now
            events.append(now)
            return 0.0

    def _make_room(self, now: float) -> None:
        for key in [k for k, times in self._events.items()
                    if not times or times[-1] <= now - self.window]:
            del self._events[key]
        while len(self._events) >= self.max_keys:
            del self._events[next(iter(self._events))]


def init_app(app: Flask) -> SlidingWindow:
    """Register the question limiter configured by ``web_ask_rate`` and its window."""
    limiter = SlidingWindow(setting(app, "web_ask_rate"), setting(app, "web_ask_rate_window"))
    app.extensions[EXTENSION] = limiter
    return limiter


def limit_asks(view: Callable[..., Any]) -> Callable[..., Any]:
    """Refuse the view with 429 when the client has used up its questions."""

    @functools.wraps(view)
    def limited(*args: Any, **kwargs: Any) -> Any:
        limiter: SlidingWindow = current_app.extensions[EXTENSION]
        wait = limiter.acquire(request.remote_addr or "unknown")
        if wait > 0:
            seconds = max(1, math.ceil(wait))
            raise TooManyRequests(
                f"too many questions from your address: at most {limiter.limit} every "
                f"{limiter.window:g} seconds; try again in {seconds} s",
                headers={"Retry-After": str(seconds)})
        return view(*args, **kwargs)

    return limited
