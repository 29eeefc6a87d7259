"""The OpenAPI description of comparisons, references, and adding and removing documents
(part of ``/openapi.json``; :mod:`webapp.openapi` assembles it)."""

from __future__ import annotations

from typing import Any

from flask import current_app

from webapp.config import setting
from webapp.openapi import (
    NULLABLE_STRING,
    _errors,
    _id_parameter,
    _object,
    _parameter,
    _ref,
    _response,
    ask_parameters,
)


def reference_schemas() -> dict[str, Any]:
    """The shapes of references, comparisons, uploads and removals."""
    entry = {"doc_id": {"type": "string"}, "title": NULLABLE_STRING,
             "source": {"type": "string", "description": "its path in the corpus folder"},
             "passages": {"type": "integer"},
             "file": {"type": "string", "description": "the file name as sent (shown only)"},
             "status": {"enum": ["added", "unchanged"], "description": "unchanged: the same "
                        "bytes were already in the corpus folder (or sent twice)"}}
    return {
        "Reference": _object({
            "gbt7714": {"type": "string", "description": "GB/T 7714-2015, accessed today; "
                        "no author, date or access path where the report names none"},
            "bibtex": {"type": "string", "description": "a BibTeX @misc entry"},
            "ris": {"type": "string", "description": "an RIS record (TY ELEC)"}}),
        "CompareGroup": _object({
            "key": NULLABLE_STRING | {"description": "document id, region or year; null for "
                                                     "the documents naming none"},
            "label": {"type": "string"},
            "answerable": {"type": "boolean", "description": "false: the group does not "
                           "address the question"},
            "answer": NULLABLE_STRING | {"description": "quoted sentences with [n] markers; "
                                                        "null when not answerable"},
            "citations": {"type": "array", "items": _ref("Citation")}}),
        "CompareResponse": _object({
            "ok": {"const": True}, "question": {"type": "string"},
            "by": {"enum": ["doc", "region", "year"]},
            "mode": {"enum": ["keyword", "semantic", "hybrid"]},
            "groups": {"type": "array", "items": _ref("CompareGroup"),
                       "description": "every document (region, year) of the index, in a "
                                      "stable order"}}),
        "UploadResult": _object({
            "ok": {"const": True}, "generation": {"type": "string"},
            "documents": {"type": "array", "items": _object(entry)},
            "skipped": {"type": "array", "items": _object({
                "source": {"type": "string", "description": "the file name as sent"},
                "reason": {"type": "string"}})}}),
        "RemoveResult": _object({"ok": {"const": True}, "removed": {"type": "string"},
                                 "generation": {"type": "string"}}),
        "UploadProgress": _object({
            "ok": {"const": True}, "job": {"type": "string"},
            "state": {"enum": ["running", "done", "failed"]},
            "stage": {"enum": ["checking", "reading", "indexing", "embedding", "done",
                               "failed"]},
            "done": {"type": "integer"}, "total": {"type": "integer"}}),
    }


def reading_paths(doc_id: str | None) -> dict[str, Any]:
    """``/api/compare`` and ``/api/documents/{doc_id}/cite``."""
    from indexer.references import FORMATS, MEDIA_TYPES

    question = ask_parameters()
    return {
        "/api/compare": {"get": {
            "summary": "One answer per document, region or year (the JSON of `indexer "
                       "compare --json`); a group that does not address the question is "
                       "answerable: false, never given an unrelated sentence",
            "parameters": [*question, _parameter(
                "by", {"enum": ["doc", "region", "year"], "default": "doc"},
                "what a group is")],
            "responses": {"200": _response("the comparison", "CompareResponse"),
                          **_errors(400, 429, 503)}}},
        "/api/documents/{doc_id}/cite": {"get": {
            "summary": "The document's reference as text (accessed today)",
            "parameters": [_id_parameter("doc_id", doc_id), _parameter(
                "format", {"enum": list(FORMATS), "default": "gbt7714"}, "the style")],
            "responses": {"200": {"description": "the reference", "content": {
                media: {"schema": {"type": "string"}}
                for media in dict.fromkeys(MEDIA_TYPES.values())}},
                **_errors(400, 404, 503)}}},
    }


def changing_paths(doc_id: str | None) -> dict[str, Any]:
    """Adding and removing documents: only with ``web_admin_token`` set."""
    app = current_app
    limit, files = (setting(app, "web_max_upload_bytes"),
                    setting(app, "web_max_upload_files"))
    security = [{"adminToken": []}]
    upload_errors = {**_errors(400, 401, 409, 503),
                     "403": _response("sent with an editor's session cookie but without its "
                                      "CSRF token (X-CSRF-Token)", "Error"),
                     "413": _response(f"a file over web_max_upload_bytes ({limit} bytes)",
                                      "Error"),
                     "415": _response("not multipart/form-data, or a file whose content is "
                                      "not a format we read (txt, md, html, pdf, docx, "
                                      "jsonl) or not the format its name says", "Error")}
    return {
        "/api/documents": {"post": {
            "summary": "Add files to the corpus folder (stored under their content hash) and "
                       "index them; unreadable files are skipped with a reason",
            "security": security,
            "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
                "type": "object", "required": ["file"], "properties": {
                    "file": {"type": "array", "maxItems": files, "items": {
                        "type": "string", "contentMediaType": "application/octet-stream"}},
                    "job": {"type": "string", "pattern": "^[0-9a-f]{32}$",
                            "description": "an id to follow the upload at /api/uploads/{job}"}
                }}}}},
            "responses": {"201": _response("at least one document was added", "UploadResult"),
                          "200": _response("nothing new was added", "UploadResult"),
                          **upload_errors}}},
        "/api/documents/{doc_id}": {"delete": {
            "summary": "Delete the file the document came from and update the index",
            "security": security,
            "parameters": [_id_parameter("doc_id", doc_id)],
            "responses": {"200": _response("the document is gone", "RemoveResult"),
                          **_errors(401, 404, 503),
                          "403": upload_errors["403"],
                          "409": _response("an update is running, or the document does "
                                           "not come alone from a file in the corpus folder "
                                           "(a line of a bulk .jsonl file)", "Error")}}},
        "/api/uploads/{job}": {"get": {
            "summary": "The stage and counts of an upload, while it runs and after",
            "security": security,
            "parameters": [{"name": "job", "in": "path", "required": True,
                            "schema": {"type": "string"}}],
            "responses": {"200": _response("the progress", "UploadProgress"),
                          **_errors(401, 404)}}},
    }
