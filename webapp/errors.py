"""Typed errors and the one place that turns any error into a response.

Every error becomes ``{"ok": false, "error": "<one sentence>", "status": N}`` for the
JSON API and the one error page (``error.html``) for a browser, with the same status.
"""

from __future__ import annotations

import logging
import sys

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from indexer.generations import IndexNotReady
from indexer.query import BadQuery

log = logging.getLogger(__name__)

# What the error page says above the message, by status.
TITLES = {
    400: "请求有误",
    404: "找不到",
    405: "不支持的请求方式",
    413: "请求太大",
    415: "不支持的内容类型",
    500: "服务器出错",
    503: "索引尚未就绪",
}

# A line in Chinese under the heading; the message itself is the API's sentence.
HINTS = {
    400: "请检查输入的内容或地址中的参数。",
    404: "没有这个页面、文档或段落；索引更新后，旧链接可能失效。",
    503: "需要先建立索引：在项目目录运行 python -m indexer build（或 make run）。",
}


class WebError(Exception):
    """An error with an HTTP status and a message meant for the user."""

    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class BadRequest(WebError):
    """An argument that cannot be used (empty or too long query, bad k, page or mode)."""

    status = 400


class NotFound(WebError):
    """An unknown document or passage id, or an unknown address."""

    status = 404


class UnsupportedMedia(WebError):
    """A POST body that is not JSON."""

    status = 415


def wants_json() -> bool:
    """True for API requests: they get the JSON error shape, browsers the error page."""
    return request.path.startswith("/api/") or request.path == "/openapi.json"


def error_response(message: str, status: int):
    """The one JSON shape or the one error page, with ``status``."""
    if wants_json():
        response = jsonify({"ok": False, "error": message, "status": status})
    else:
        response = render_template("error.html", message=message, status=status,
                                   heading=TITLES.get(status, "出错了"),
                                   hint=HINTS.get(status))
    return response, status


def _status_message(exc: HTTPException) -> str:
    if exc.code == 404:
        return f"there is nothing at {request.path}: check the address"
    if exc.code == 405:
        return f"{request.method} is not allowed at {request.path}"
    return (exc.description or exc.name).split("\n")[0]


def register(app: Flask) -> None:
    """Install the handlers that map every error to the one shape."""

    @app.errorhandler(WebError)
    def web_error(exc: WebError):
        return error_response(exc.message, exc.status)

    @app.errorhandler(BadQuery)
    def bad_query(exc: BadQuery):
        return error_response(str(exc), exc.status)

    @app.errorhandler(IndexNotReady)
    def index_not_ready(exc: IndexNotReady):
        return error_response(str(exc), 503)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return error_response(_status_message(exc), exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        # The embedding module (numpy) is not imported just for its error class: if it
        # raised, it is loaded.
        embedding = sys.modules.get("indexer.embedding")
        if embedding is not None and isinstance(exc, embedding.ModelNotAvailable):
            log.error("embedding model not available: %s", exc)
            return error_response("the embedding model is not available: run `make model` "
                                  "(or `python -m indexer model`) first", 503)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response("something went wrong on the server; the error is logged", 500)
