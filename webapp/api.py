"""The JSON API: the same service results the pages render, served as they are."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify, request

from webapp import editing, editor, params
from webapp.comparing import compare_args
from webapp.config import setting
from webapp.errors import UnsupportedMedia
from webapp.openapi import spec
from webapp.presentation import public_sources
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
        args = params.ask_args(params.json_object(request.get_data(cache=False)))
    else:
        args = params.ask_args(request.args)
    return jsonify(service().ask(args.q, args.mode))


@bp.get("/api/documents")
def documents():
    """Every indexed document's metadata."""
    return jsonify(public_sources(service().documents()))


@bp.get("/api/documents/<doc_id>")
def document(doc_id: str):
    """One document: metadata, cleaned text, passages and outline."""
    return jsonify(public_sources(service().document(doc_id)))


@bp.get("/api/documents/<doc_id>/cite")
def cite(doc_id: str):
    """The document's reference as text: GB/T 7714-2015 (default), BibTeX or RIS."""
    params.once(request.args, "format")
    style = params.text(request.args.get("format"), "format") or "gbt7714"
    text, media_type = service().cite(doc_id, style)
    return Response(text, content_type=f"{media_type}; charset=utf-8")


@bp.get("/api/compare")
@limit_asks  # a comparison asks once per group: it shares the question allowance
def compare():
    """One answer per document, region or year: the JSON of ``indexer compare --json``."""
    args = compare_args(request.args)
    response = jsonify(service().compare(args.q, args.by, args.mode))
    response.headers["Cache-Control"] = "no-store"  # answers are never stored, as for ask
    return response


# -- adding and removing documents (admin token or editor session; 404 without a token) --

def add_uploaded_files() -> dict[str, Any]:
    """Store the files uploaded with this request in the corpus folder and index them
    (within the upload limits): what became of each. The upload form without script
    (:func:`webapp.admin.add`) adds the same way."""
    items, job = editing.incoming_files()
    return service().add_documents(items, setting(current_app, "corpus_dir"), job,
                                   setting(current_app, "web_max_upload_bytes"),
                                   setting(current_app, "web_max_unpacked_bytes"))


def remove_from_corpus(doc_id: str) -> dict[str, Any]:
    """Delete the file document ``doc_id`` came from and update the index (for this API
    and the delete button without script, :func:`webapp.admin.delete`)."""
    return service().remove_document(doc_id, setting(current_app, "corpus_dir"))


@bp.post("/api/documents")
@editor.require
def add_documents():
    """Store uploaded files in the corpus folder and index them: 201 when any was added."""
    data = add_uploaded_files()
    added = any(entry["status"] == "added" for entry in data["documents"])
    return jsonify(data), 201 if added else 200


@bp.delete("/api/documents/<doc_id>")
@editor.require
def remove_document(doc_id: str):
    """Delete the file a document came from and update the index."""
    return jsonify(remove_from_corpus(doc_id))


@bp.get("/api/uploads/<job>")
@editor.require
def upload_progress(job: str):
    """The stage and counts of a running (or finished) upload."""
    from webapp.uploads import read_job

    response = jsonify(read_job(current_app.config["INDEX_DIR"], job))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/api/passages/<passage_id>")
def passage(passage_id: str):
    """One passage with its document's metadata and the address that shows it."""
    return jsonify(public_sources(service().passage(passage_id)))


@bp.get("/api/health")
def health():
    """Documents, passages, model and generation of the live index (503 if none)."""
    return jsonify(service().health())


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3 description of this API."""
    return jsonify(spec())
