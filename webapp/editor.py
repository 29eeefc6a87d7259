"""Who may add and remove documents: a bearer token, or an editor signed in with it.

An API client sends ``Authorization: Bearer <web_admin_token>``. A browser signs in once
on ``/documents`` with the same token and then holds a session cookie (HttpOnly,
SameSite=Strict, Secure on https or with ``web_cookie_secure``) signed with a key derived
from the token, so every worker process accepts it and changing the token signs everyone
out. Every form post and every change made with the cookie carries the session's CSRF
token (the ``csrf_token`` field or the ``X-CSRF-Token`` header); the sign-in form carries
one too, from a cookie set when the form is shown. With no token set none of this exists:
the addresses answer 404.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from flask import Response, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from indexer.errors import PolicyQAError
from webapp.config import setting
from webapp.errors import NotFound, Unauthorized

COOKIE = "policyqa_editor"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# A browser's anonymous state (before sign-in) lives for the visit, a signed-in one this long.
ANONYMOUS_SECONDS = 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(PolicyQAError):
    """A change sent with the session cookie but without its CSRF token."""

    status = 403
    exit_code = 2


class FailedSignIns:
    """Wrong tokens per client address in a sliding window (in this process), so that
    guessing the token is slow; at most ``max_keys`` addresses are remembered."""

    def __init__(self, limit: int = 10, window: float = 300.0, max_keys: int = 10_000):
        self.limit, self.window, self.max_keys = limit, window, max_keys
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def wait(self, address: str) -> float:
        """Seconds until ``address`` may try again (0: it may now)."""
        now = time.monotonic()
        with self._lock:
            times = self._seen.get(address, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            return times[0] + self.window - now if len(times) >= self.limit else 0.0

    def failed(self, address: str) -> None:
        """Count one wrong token from ``address``."""
        with self._lock:
            if address not in self._seen and len(self._seen) >= self.max_keys:
                self._seen.pop(next(iter(self._seen)))
            self._seen.setdefault(address, deque()).append(time.monotonic())


def enabled() -> bool:
    """Whether documents may be changed at all (``web_admin_token`` is set)."""
    return bool(setting(current_app, "web_admin_token"))


def _signer() -> URLSafeTimedSerializer:
    token = setting(current_app, "web_admin_token").encode("utf-8", "surrogateescape")
    key = hmac.new(token, b"policyqa editor session v1", hashlib.sha256).digest()
    return URLSafeTimedSerializer(key, salt="policyqa-editor")


def _lifetime() -> int:
    return max(60, int(setting(current_app, "web_session_hours") * 3600))


def state() -> dict[str, Any]:
    """This browser's session: ``{"csrf": token, "editor": bool}`` (new when it has none)."""
    if "policyqa_editor" in g:
        return g.policyqa_editor
    found = None
    raw = request.cookies.get(COOKIE)
    if raw and enabled():
        try:
            data = _signer().loads(raw, max_age=_lifetime())
        except BadSignature:  # also expired: SignatureExpired is a BadSignature
            data = None
        if isinstance(data, dict) and isinstance(data.get("csrf"), str):
            found = {"csrf": data["csrf"], "editor": data.get("editor") is True}
    if found is None:
        found = {"csrf": secrets.token_urlsafe(32), "editor": False, "new": True}
    g.policyqa_editor = found
    return found


def signed_in() -> bool:
    """True for a browser holding a valid editor session."""
    return enabled() and bool(request.cookies.get(COOKIE)) and state()["editor"]


def csrf_token() -> str:
    """The CSRF token a page's forms carry (a new anonymous session sets its cookie)."""
    data = state()
    g.policyqa_editor_shown = True
    return data["csrf"]


def start(editor: bool) -> None:
    """Begin a new session (a fresh CSRF token): signed in, or anonymous after sign-out."""
    g.policyqa_editor = {"csrf": secrets.token_urlsafe(32), "editor": editor, "new": True}


def check_csrf() -> None:
    """Raise CsrfRefused unless the request carries this session's CSRF token."""
    given = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD) or ""
    expected = state()["csrf"] if request.cookies.get(COOKIE) else ""
    if not expected or not hmac.compare_digest(given.encode("utf-8", "surrogateescape"),
                                               expected.encode()):
        raise CsrfRefused("this form has expired or did not come from this site: reload "
                          "the page and try again")


def token_matches(header: str) -> bool:
    """True if ``header`` is ``Bearer <web_admin_token>``, compared in constant time."""
    token = setting(current_app, "web_admin_token")
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"),
                               token.encode("utf-8", "surrogateescape"))


def unauthorized() -> Unauthorized:
    return Unauthorized("this endpoint needs the admin token: send Authorization: Bearer "
                        "<web_admin_token> (or sign in on /documents)",
                        headers={"WWW-Authenticate": 'Bearer realm="policyqa admin"'})


def require(view: Callable[..., Any]) -> Callable[..., Any]:
    """Let a request through with the bearer token or an editor session (changes made
    with the session also need its CSRF token); 404 when no token is configured."""

    @functools.wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if not enabled():
            raise NotFound(f"there is nothing at {request.path}: check the address")
        header = request.headers.get("Authorization")
        if header is not None:
            if not token_matches(header):
                raise unauthorized()
        elif signed_in():
            if request.method not in SAFE_METHODS:
                check_csrf()
        else:
            raise unauthorized()
        return view(*args, **kwargs)

    return guarded


def save(response: Response) -> Response:
    """Set the session cookie when this request began or used a session; pages that show
    a CSRF token are private to their browser (``no-store``)."""
    data = g.get("policyqa_editor")
    if data is not None and data.get("new") and (g.get("policyqa_editor_shown")
                                                  or data["editor"] or g.get("signing_out")):
        if g.get("signing_out"):
            response.delete_cookie(COOKIE, path="/", secure=_secure(), httponly=True,
                                   samesite="Strict")
        else:
            value = _signer().dumps({"csrf": data["csrf"], "editor": data["editor"]})
            response.set_cookie(COOKIE, value, max_age=_lifetime() if data["editor"]
                                else ANONYMOUS_SECONDS, path="/", secure=_secure(),
                                httponly=True, samesite="Strict")
    if g.get("policyqa_editor_shown") or data is not None:
        response.headers["Cache-Control"] = "no-store"
        response.vary.add("Cookie")
    return response


def _secure() -> bool:
    return request.is_secure or bool(setting(current_app, "web_cookie_secure"))
