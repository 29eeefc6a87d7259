"""Typed errors and the one place that turns any error into a response.

Every error becomes ``{"ok": false, "error": "<one sentence>", "status": N}`` for the
JSON API and the one error page (``error.html``) for a browser, with the same status.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.store.generations import IndexNotReady
from indexer.text.query import BadQuery

log = logging.getLogger(__name__)

# What the error page says above the message, by status.
TITLES = {
    400: "请求有误",
    401: "需要授权",
    404: "找不到",
    405: "不支持的请求方式",
    409: "正在更新索引",
    413: "请求太大",
    415: "不支持的内容类型",
    429: "请求太频繁",
    500: "服务器出错",
    503: "索引尚未就绪",
}

# A line in Chinese under the heading; the message itself is the API's sentence.
HINTS = {
    400: "请检查输入的内容或地址中的参数。",
    404: "没有这个页面、文档或段落；索引更新后，旧链接可能失效。",
    413: "请缩短输入的内容。",
    429: "提问太频繁，请稍等片刻再试。",
    503: "需要先建立索引：在项目目录运行 python -m indexer build（或 make run）。",
}


class WebError(Exception):
    """An error with an HTTP status and a message meant for the user."""

    status = 500

    def __init__(self, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.headers = headers or {}


class BadRequest(WebError):
    """An argument that cannot be used (empty or too long query, bad k, page or mode)."""

    status = 400


class Unauthorized(WebError):
    """A missing or wrong bearer token on an endpoint that changes the index."""

    status = 401


class NotFound(WebError):
    """An unknown document or passage id, or an unknown address."""

    status = 404


class Conflict(WebError):
    """An index update while another build or update is writing."""

    status = 409


class UnsupportedMedia(WebError):
    """A POST body that is not JSON."""

    status = 415


class TooManyRequests(WebError):
    """A client over its request rate; ``Retry-After`` says when it may ask again."""

    status = 429


class Unavailable(WebError):
    """Something the server needs is missing (the corpus folder of an update)."""

    status = 503


def wants_json() -> bool:
    """True for API requests: they get the JSON error shape, browsers the error page."""
    return request.path.startswith("/api/") or request.path == "/openapi.json"


def error_response(message: str, status: int, headers: dict[str, str] | None = None):
    """The one JSON shape or the one error page, with ``status`` (and ``headers``)."""
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status})
    else:
        response = render_template("error.html", message=message, status=status,
                                   heading=TITLES.get(status, "出错了"),
                                   hint=HINTS.get(status))
    return response, status, headers or {}


def _status_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"there is nothing at {request.path}: check the address"
    if exc.code == 405:
        return f"{request.method} is not allowed at {request.path}"
    if exc.code == 413:
        return (f"the request body is larger than the limit of "
                f"{current_app.config['MAX_CONTENT_LENGTH']} bytes")
    return (exc.description or exc.name).split("\n")[0]


def register(app: Flask) -> None:
    """Install the handlers that map every error to the one shape."""

    @app.errorhandler(WebError)
    def web_error(exc: WebError):
        return error_response(exc.message, exc.status, exc.headers)

    @app.errorhandler(BadQuery)
    def bad_query(exc: BadQuery):
        return error_response(str(exc), exc.status)

    @app.errorhandler(IndexNotReady)
    def index_not_ready(exc: IndexNotReady):
        return error_response(str(exc), 503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # A 405 keeps its Allow header: it says which methods the address takes.
        allowed = getattr(exc, "valid_methods", None)
        headers = {"Allow": ", ".join(allowed)} if allowed else None
        return error_response(_status_message(exc), exc.code or 500, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # The embedding module (numpy) is not imported just for its error class: if it
        # raised, it is loaded.
        embedding = sys.modules.get("indexer.embed.embedder")
        if embedding is not None and isinstance(exc, embedding.ModelNotAvailable):
            log.error("embedding model not available: %s", exc)
            return error_response("the embedding model is not available: run `make model` "
                                  "(or `python -m indexer model`) first", 503)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("something went wrong on the server; the error is logged", 500)
