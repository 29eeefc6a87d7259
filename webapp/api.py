"""The JSON API: the same service results the pages render, served as they are."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from webapp import params
from webapp.errors import BadRequest, UnsupportedMedia
from webapp.openapi import spec
from webapp.ratelimit import limit_asks
from webapp.services import service

bp = Blueprint("api", __name__)


@bp.get("/api/search")
def search():
    """Ranked passages: exactly the JSON of ``indexer search --json``."""
    args = params.search_args(request.args)
    return jsonify(service().search(args.q, args.mode, args.k, args.page,
                                    args.engine_filters()))


@bp.route("/api/ask", methods=["GET", "POST"])
@limit_asks
def ask():
    """An extractive answer with citations; POST takes ``{"q", "mode"}`` as JSON."""
    if request.method == "POST":
        if not request.is_json:
            raise UnsupportedMedia("send the question as JSON (Content-Type: "
                                   "application/json), e.g. {\"q\": \"...\"}")
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise BadRequest('the body must be a JSON object such as {"q": "..."}')
        args = params.ask_args(body)
    else:
        args = params.ask_args(request.args)
    return jsonify(service().ask(args.q, args.mode))


@bp.get("/api/documents")
def documents():
    """Every indexed document's metadata."""
    return jsonify(service().documents())


@bp.get("/api/documents/<doc_id>")
def document(doc_id: str):
    """One document: metadata, cleaned text, passages and outline."""
    return jsonify(service().document(doc_id))


@bp.get("/api/passages/<passage_id>")
def passage(passage_id: str):
    """One passage with its document's metadata and the address that shows it."""
    return jsonify(service().passage(passage_id))


@bp.get("/api/health")
def health():
    """Documents, passages, model and generation of the live index (503 if none)."""
    return jsonify(service().health())


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(spec())
