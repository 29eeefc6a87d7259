"""The OpenAPI 3.1 description served at ``/openapi.json``; tests check responses against it."""

from __future__ import annotations

import logging
from typing import Any

from flask import current_app

from webapp.config import setting
from webapp.params import MAX_FILTER_CHARS, MAX_JSON_DEPTH

log = logging.getLogger(__name__)

NULLABLE_STRING = {"type": ["string", "null"]}


def _object(required: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema whose listed properties are all required."""
    return {"type": "object", "required": list(required), "properties": required, **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def schemas() -> dict[str, Any]:
    """The response shapes, one per serialiser in :mod:`indexer.serialize` and the app."""
    from indexer.answer.extract import REFUSALS
    from webapp import documents_spec

    summary = {name: NULLABLE_STRING for name in
               ("title", "issuer", "region", "year", "kind", "published")}
    summary = {"doc_id": {"type": "string"}, **summary, "source": {
        "type": "string", "description": "the web address the report came from, else its "
                                          "path in the corpus folder"}}
    span = {"start": {"type": "integer", "description": "offset of the first character in "
                      "the document text"},
            "end": {"type": "integer", "description": "offset after the last character"}}
    return {
        "Error": _object({"ok": {"const": False},
                          "error": {"type": "string", "description": "one sentence"},
                          "status": {"type": "integer"}}),
        "Hit": _object({
            "passage_id": {"type": "string"}, "doc_id": {"type": "string"},
            "title": NULLABLE_STRING,
            "section": {"type": "string", "description": "section path joined by ' › '"},
            "paragraph_no": {"type": "integer", "description": "1-based, as the document "
                             "view numbers non-empty lines"},
            **span,
            "text": {"type": "string", "description": "the passage in its original script"},
            "highlight": {"type": ["string", "null"],
                          "description": "HTML-escaped passage with matches in <mark>"},
            "score": {"type": "number"}, "rank": {"type": "integer"},
            "scores": {"type": "object", "description": "score parts (keyword and vector "
                       "rank and score, fused score; for semantic and hybrid hits "
                       "re-ranked by the answer model, retrieval_rank and answer_score)"},
        }),
        "SearchResponse": _object({
            "ok": {"const": True}, "query": {"type": "string"},
            "mode": {"enum": ["keyword", "semantic", "hybrid"]},
            "total": {"type": "integer"}, "page": {"type": "integer"},
            "k": {"type": "integer"},
            "fallback": {"type": ["string", "null"],
                         "description": "\"or\" when no passage had every word"},
            "message": NULLABLE_STRING,
            "hits": {"type": "array", "items": _ref("Hit")},
            "facets": _object({name: {"type": "object",
                                      "additionalProperties": {"type": "integer"}}
                               for name in ("doc", "year", "region")}),
        }),
        "DocumentSummary": _object(summary),
        "DocumentListItem": _object({**summary, "passages": {"type": "integer"}}),
        "DocumentList": _object({"ok": {"const": True},
                                 "documents": {"type": "array",
                                               "items": _ref("DocumentListItem")}}),
        "Passage": _object({
            "passage_id": {"type": "string"}, "doc_id": {"type": "string"},
            "section": {"type": "string"},
            "section_path": {"type": "array", "items": {"type": "string"}},
            "paragraph_no": {"type": "integer"}, **span, "text": {"type": "string"},
            "garbled": {"type": "boolean"},
        }),
        "Document": _object({
            **summary, "text": {"type": "string"},
            "repairs": {"type": "object", "additionalProperties": {"type": "integer"}},
            "garbled_spans": {"type": "array", "items": {
                "type": "array", "items": {"type": "integer"}}},
            "paragraphs": {"type": "integer"},
            "passages": {"type": "array", "items": _ref("Passage")},
        }),
        "OutlineEntry": _object({"title": {"type": "string"}, "depth": {"type": "integer"},
                                 "paragraph_no": {"type": "integer"}}),
        "DocumentResponse": _object({
            "ok": {"const": True}, "document": _ref("Document"),
            "outline": {"type": "array", "items": _ref("OutlineEntry")}}),
        "PassageResponse": _object({
            "ok": {"const": True}, "passage": _ref("Passage"),
            "document": _ref("DocumentSummary"),
            "url": {"type": "string", "description": "the document view, passage highlighted"},
            "reference": _ref("Reference"),
        }),
        "Citation": _object({
            "n": {"type": "integer", "description": "the marker [n] in the answer"},
            "passage_id": {"type": "string"}, "doc_id": {"type": "string"},
            "title": NULLABLE_STRING, "section": {"type": "string"},
            "paragraph_no": {"type": "integer"},
            "quote": {"type": "string", "description": "document.text[start:end]"},
            **span,
            "url": {"type": "string", "description": "the document view, quote highlighted"},
            "reference": _ref("Reference"),
        }),
        **documents_spec.reference_schemas(),
        "AskResponse": _object({
            "ok": {"const": True}, "question": {"type": "string"},
            "answerable": {"type": "boolean"},
            "answer": {"type": "string", "description": "sentences with [n] markers, or "
                       "the sentence saying no reliable answer was found"},
            "citations": {"type": "array", "items": _ref("Citation")},
            "passages": {"type": "array", "items": _ref("Hit"),
                         "description": "the passages the answer was taken from"},
            "generated": {"type": "boolean"},
            "flags": {"type": "array", "items": {"type": "string"}},
            "read_as": {"type": ["string", "null"],
                        "description": "the question as answered when a mistyped word was "
                                       "corrected (flag typo_corrected), else null"},
            "confidence": {"type": ["number", "null"],
                           "description": "the answer model's answerability of the best "
                                          "sentence (0-1), null when nothing was scored"},
            "tentative": {"type": "boolean",
                          "description": "answered below the model's sure threshold: "
                                         "check the citations first"},
            "refused_because": {"enum": [*REFUSALS, None],
                                "description": "why the question was refused (null: it "
                                               "was answered): nothing found, nothing to "
                                               "score, not sure enough, or the closest "
                                               "sentence gives no figure asked for, another "
                                               "year, the other side"},
            "mode": {"enum": ["keyword", "semantic", "hybrid"]},
        }),
        "AskRequest": {"type": "object", "required": ["q"], "additionalProperties": True,
                       "description": f"other properties are ignored; the body may nest at "
                                      f"most {MAX_JSON_DEPTH} levels deep", "properties": {
            "q": {"type": "string", "minLength": 1,
                  "maxLength": setting(current_app, "web_max_query_chars")}, "mode": {
                "enum": ["keyword", "semantic", "hybrid", "", None],
                "description": "absent, empty or null: hybrid when the index has vectors, "
                               "else keyword"}}},
        "UpdateReport": _object({
            "ok": {"const": True},
            "generation": {"type": ["string", "null"], "description": "the live generation"},
            "up_to_date": {"type": "boolean", "description": "nothing had changed"},
            "documents": {"type": "integer"}, "passages": {"type": "integer"},
            **{name: {"type": "array", "items": {"type": "string"},
                      "description": f"ids of the documents {name}"}
               for name in ("added", "changed", "removed")},
            "unchanged": {"type": "integer"},
            "indexed_passages": {"type": "integer"},
            "embedded_passages": {"type": "integer"},
            "skipped": {"type": "array", "items": _object({
                "source": {"type": "string"}, "reason": {"type": "string"}})},
            "seconds": {"type": "number"},
        }),
        "Health": _object({
            "ok": {"const": True}, "generation": {"type": "string"},
            "built_at": NULLABLE_STRING, "documents": {"type": "integer"},
            "passages": {"type": "integer"}, "model": NULLABLE_STRING,
            "vectors": {"type": "boolean"}, "dimension": {"type": ["integer", "null"]},
            "analyzer_version": NULLABLE_STRING, "corpus_fingerprint": NULLABLE_STRING,
        }),
    }


def _response(description: str, schema: str) -> dict[str, Any]:
    return {"description": description,
            "content": {"application/json": {"schema": _ref(schema)}}}


# Headers that come with an error status, and must.
ERROR_HEADERS = {
    401: {"WWW-Authenticate": {"required": True, "schema": {"type": "string"},
                               "description": "the Bearer scheme"}},
    429: {"Retry-After": {"required": True, "schema": {"type": "integer", "minimum": 1},
                          "description": "seconds until the client may ask again"}},
}


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {400: "bad argument: an empty or too long query, or one with nothing to "
                    "search; a bad mode, k or page; a parameter given twice; more filter "
                    "values than web_max_filter_values; text that is not UTF-8 or holds a "
                    "lone surrogate; a JSON body nested too deeply",
               401: "missing or wrong admin token",
               404: "unknown id", 409: "another build or update is writing the index",
               413: "the body is larger than web_max_body_bytes",
               415: "the body is not JSON",
               429: "too many questions from this address (web_ask_rate per "
                    "web_ask_rate_window seconds)",
               503: "no index built yet (run `python -m indexer build`), no embedding "
                    "model, or no corpus folder to update from"}
    responses = {}
    for status in statuses:
        responses[str(status)] = _response(reasons[status], "Error")
        if status in ERROR_HEADERS:
            responses[str(status)]["headers"] = ERROR_HEADERS[status]
    return responses


def _parameter(name: str, schema: dict[str, Any], description: str,
               required: bool = False) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema,
                 "description": description}
    if "default" in schema or "enum" in schema:  # ``mode=``, as a form sends it: the default
        parameter["allowEmptyValue"] = True
    return parameter


def search_parameters() -> list[dict[str, Any]]:
    """The query parameters of ``/api/search`` with this app's limits."""
    app = current_app
    cap = setting(app, "web_max_filter_values")
    filters = [_parameter(name, {"type": "array", "maxItems": cap,
                                 "items": {"type": "string", "maxLength": MAX_FILTER_CHARS}},
                          f"only passages whose {what} (repeat for several; at most {cap} "
                          f"doc, year, region and kind values together)")
               | {"style": "form", "explode": True}
               for name, what in (("doc", "document id is this"), ("year", "report covers "
                                  "this year"), ("region", "region contains this"),
                                  ("kind", "kind of report contains this"))]
    return [
        _parameter("q", {"type": "string", "minLength": 1,
                         "maxLength": setting(app, "web_max_query_chars")},
                   "the query: words (AND), OR, -word, \"phrase\", year:/region:/doc:",
                   required=True),
        _parameter("mode", {"enum": ["keyword", "semantic", "hybrid"],
                            "default": "keyword"}, "how to rank"),
        _parameter("k", {"type": "integer", "minimum": 1,
                         "maximum": setting(app, "web_max_k"),
                         "default": setting(app, "web_page_size")}, "hits per page"),
        _parameter("page", {"type": "integer", "minimum": 1,
                            "maximum": setting(app, "web_max_page"), "default": 1},
                   "which page of hits"),
        *filters,
    ]


def ask_parameters() -> list[dict[str, Any]]:
    """The query parameters of ``GET /api/ask``."""
    return [
        _parameter("q", {"type": "string", "minLength": 1,
                         "maxLength": setting(current_app, "web_max_query_chars")},
                   "the question", required=True),
        _parameter("mode", {"enum": ["keyword", "semantic", "hybrid"]},
                   "how passages are retrieved (default: hybrid when the index has "
                   "vectors, else keyword)"),
    ]


def _live_ids() -> tuple[str | None, str | None]:
    """A document id and a passage id of the live index, as examples (None without one)."""
    from webapp.services import service

    try:
        catalog = service().generation().catalog
    except Exception as exc:  # the description is served even when no index can be opened
        log.debug("no example ids for the API description: %s", exc)
        return None, None
    passage = next(iter(catalog.passages.values()), None)
    return (passage.doc_id, passage.passage_id) if passage else (None, None)


def _id_parameter(name: str, example: str | None) -> dict[str, Any]:
    parameter = {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
    return parameter | ({"example": example} if example else {})


def spec() -> dict[str, Any]:
    """The whole OpenAPI document for the current app."""
    from webapp import documents_spec
    doc_id, passage_id = _live_ids()
    paths: dict[str, Any] = {
        "/api/search": {"get": {
            "summary": "Ranked passages for a query (the JSON of `indexer search --json`)",
            "parameters": search_parameters(),
            "responses": {"200": _response("a page of hits", "SearchResponse"),
                          **_errors(400, 503)}}},
        "/api/ask": {
            "get": {
                "summary": "An extractive answer with citations, or no answer and the "
                           "closest passages",
                "parameters": ask_parameters(),
                "responses": {"200": _response("the answer", "AskResponse"),
                              **_errors(400, 429, 503)}},
            "post": {
                "summary": "The same, with the question as a JSON body",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("AskRequest")}}},
                "responses": {"200": _response("the answer", "AskResponse"),
                              **_errors(400, 413, 415, 429, 503)}}},
        "/api/documents": {"get": {
            "summary": "Every indexed document's metadata",
            "responses": {"200": _response("the documents", "DocumentList"),
                          **_errors(503)}}},
        "/api/documents/{doc_id}": {"get": {
            "summary": "One document: metadata, cleaned text, passages and outline",
            "parameters": [_id_parameter("doc_id", doc_id)],
            "responses": {"200": _response("the document", "DocumentResponse"),
                          **_errors(404, 503)}}},
        "/api/passages/{passage_id}": {"get": {
            "summary": "One passage, its document's metadata and its address",
            "parameters": [_id_parameter("passage_id", passage_id)],
            "responses": {"200": _response("the passage", "PassageResponse"),
                          **_errors(404, 503)}}},
        "/api/health": {"get": {
            "summary": "What the live index holds and what built it",
            "responses": {"200": _response("the live index", "Health"), **_errors(503)}}},
    }
    paths.update(documents_spec.reading_paths(doc_id))
    components: dict[str, Any] = {"schemas": schemas()}
    if setting(current_app, "web_admin_token"):  # the endpoint exists only with a token
        for path, operations in documents_spec.changing_paths(doc_id).items():
            paths.setdefault(path, {}).update(operations)
        paths["/api/admin/update"] = {"post": {
            "summary": "Re-index the added, changed and removed files of the corpus folder",
            "security": [{"adminToken": []}],
            "responses": {"200": _response("what the update did", "UpdateReport"),
                          **_errors(401, 409, 503)}}}
        components["securitySchemes"] = {"adminToken": {
            "type": "http", "scheme": "bearer",
            "description": "the web_admin_token setting"}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "政策文档检索问答 API", "version": "1",
                 "description": "Search Chinese policy and work reports and read the cited "
                                "source. Every error is {\"ok\": false, \"error\", "
                                "\"status\"}."},
        "paths": paths,
        "components": components,
    }

