"""The OpenAPI 3.1 description served at ``/openapi.json``; tests check responses against it."""

from __future__ import annotations

from typing import Any

from flask import current_app

from webapp.config import setting

NULLABLE_STRING = {"type": ["string", "null"]}


def _object(required: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """An object schema whose listed properties are all required."""
    return {"type": "object", "required": list(required), "properties": required, **extra}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def schemas() -> dict[str, Any]:
    """The response shapes, one per serialiser in :mod:`indexer.serialize` and the app."""
    summary = {name: NULLABLE_STRING for name in
               ("title", "issuer", "region", "year", "kind", "published")}
    summary = {"doc_id": {"type": "string"}, **summary, "source": {"type": "string"}}
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
                       "rank and score, fused score)"},
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
        }),
        "Citation": _object({
            "n": {"type": "integer", "description": "the marker [n] in the answer"},
            "passage_id": {"type": "string"}, "doc_id": {"type": "string"},
            "title": NULLABLE_STRING, "section": {"type": "string"},
            "paragraph_no": {"type": "integer"},
            "quote": {"type": "string", "description": "document.text[start:end]"},
            **span,
            "url": {"type": "string", "description": "the document view, quote highlighted"},
        }),
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
            "mode": {"enum": ["keyword", "semantic", "hybrid"]},
        }),
        "AskRequest": {"type": "object", "required": ["q"], "properties": {
            "q": {"type": "string", "minLength": 1}, "mode": {
                "enum": ["keyword", "semantic", "hybrid"]}}},
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


def _errors(*statuses: int) -> dict[str, Any]:
    reasons = {400: "bad argument (empty or too long query, bad mode, k or page)",
               404: "unknown id", 415: "the body is not JSON",
               503: "no index built yet: run `python -m indexer build`"}
    return {str(status): _response(reasons[status], "Error") for status in statuses}


def _parameter(name: str, schema: dict[str, Any], description: str,
               required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "schema": schema,
            "description": description}


def search_parameters() -> list[dict[str, Any]]:
    """The query parameters of ``/api/search`` with this app's limits."""
    app = current_app
    filters = [_parameter(name, {"type": "array", "items": {"type": "string"}},
                          f"only passages whose {what} (repeat for several)")
               | {"style": "form", "explode": True}
               for name, what in (("doc", "document id is this"), ("year", "report covers "
                                  "this year"), ("region", "region contains this"))]
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


def spec() -> dict[str, Any]:
    """The whole OpenAPI document for the current app."""
    id_param = {"in": "path", "required": True, "schema": {"type": "string"}}
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
                              **_errors(400, 503)}},
            "post": {
                "summary": "The same, with the question as a JSON body",
                "requestBody": {"required": True, "content": {"application/json": {
                    "schema": _ref("AskRequest")}}},
                "responses": {"200": _response("the answer", "AskResponse"),
                              **_errors(400, 415, 503)}}},
        "/api/documents": {"get": {
            "summary": "Every indexed document's metadata",
            "responses": {"200": _response("the documents", "DocumentList"),
                          **_errors(503)}}},
        "/api/documents/{doc_id}": {"get": {
            "summary": "One document: metadata, cleaned text, passages and outline",
            "parameters": [{"name": "doc_id", **id_param}],
            "responses": {"200": _response("the document", "DocumentResponse"),
                          **_errors(404, 503)}}},
        "/api/passages/{passage_id}": {"get": {
            "summary": "One passage, its document's metadata and its address",
            "parameters": [{"name": "passage_id", **id_param}],
            "responses": {"200": _response("the passage", "PassageResponse"),
                          **_errors(404, 503)}}},
        "/api/health": {"get": {
            "summary": "What the live index holds and what built it",
            "responses": {"200": _response("the live index", "Health"), **_errors(503)}}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "政策文档检索问答 API", "version": "1",
                 "description": "Search Chinese policy and work reports and read the cited "
                                "source. Every error is {\"ok\": false, \"error\", "
                                "\"status\"}."},
        "paths": paths,
        "components": {"schemas": schemas()},
    }
