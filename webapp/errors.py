"""Typed errors and the one place that turns any error into a response.

Every error becomes ``{"ok": false, "error": "<one sentence>", "status": N}`` for the
JSON API and the one error page (``error.html``) for a browser, with the same status.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PolicyQAError,
    TooManyRequests,
    Unauthorized,
    Unavailable,
    UnsupportedMedia,
)

# The error classes the views raise; the family lives in indexer.errors.
__all__ = ["BadRequest", "Conflict", "NotFound", "PolicyQAError", "TooManyRequests",
           "Unauthorized", "Unavailable", "UnsupportedMedia", "register"]

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


# What both servers answer, before the app sees the request, to an address with bytes outside
# ASCII (curl sends 中文 as raw UTF-8): HTTP wants them percent-encoded, and quoting the
# request line back would show the characters garbled.
NON_ASCII_ADDRESS = ("the address holds characters outside ASCII: percent-encode them (a "
                     "browser does; with curl, use -G and --data-urlencode 'q=...')")


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

    @app.errorhandler(PolicyQAError)
    def known_error(exc: PolicyQAError):
        if exc.status >= 500 or exc.public_message:
            log.error("%s on %s %s: %s", exc.__class__.__name__, request.method, request.path,
                      exc.message)
        return error_response(exc.public_message or exc.message, exc.status, exc.headers)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        # A 405 keeps its Allow header: it says which methods the address takes.
        allowed = getattr(exc, "valid_methods", None)
        headers = {"Allow": ", ".join(allowed)} if allowed else None
        return error_response(_status_message(exc), exc.code or 500, headers)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("something went wrong on the server; the error is logged", 500)
