"""The query side every request shares: one Engine, created on first use.

Each public method returns the plain data that the JSON API serves as-is and the
pages render, so the two cannot drift. Ids are only ever looked up in the catalog of
the live generation; nothing here opens a file named by a request.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from indexer.retrieve.hits import Filters
from indexer.serialize import (
    answer_dict,
    build_dict,
    document_dict,
    document_summary,
    passage_dict,
    search_dict,
)
from webapp.errors import Conflict, NotFound, Unavailable

if TYPE_CHECKING:
    from indexer.retrieve.engine import Engine, Generation

log = logging.getLogger(__name__)

EXTENSION = "policyqa"


class PolicyQA:
    """The engine of one app, opened lazily and shared across requests and threads."""

    def __init__(self, index_dir: Path, engine: Engine | None = None):
        self.index_dir = Path(index_dir)
        self._engine = engine
        self._lock = threading.Lock()
        self._updating = threading.Lock()

    @property
    def engine(self) -> Engine:
        """The Engine, created on the first request that needs it."""
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    from indexer.retrieve.engine import Engine

                    self._engine = Engine(self.index_dir)
        return self._engine

    def generation(self) -> Generation:
        """The live generation (raises IndexNotReady when there is none)."""
        return self.engine.generation()

    def warm(self) -> None:
        """Open the index, load the jieba dictionary and the embedding model now."""
        self.engine.search("教育", k=1)
        if self.generation().has_vectors:
            self.engine.embedder().embed_query("教育")

    # -- the data each route serves ---------------------------------------------------
    def health(self) -> dict[str, Any]:
        """What the live index holds and what built it."""
        generation = self.generation()
        data = generation.manifest
        vectors = data.get("vectors") or {}
        model = vectors.get("model")
        return {
            "ok": True,
            "generation": generation.name,
            "built_at": data.get("built_at"),
            "documents": len(generation.catalog.documents),
            "passages": len(generation.catalog.passage_list),
            "model": Path(model).name if model else None,
            "vectors": bool(vectors),
            "dimension": vectors.get("dimension"),
            "analyzer_version": data.get("analyzer_version"),
            "corpus_fingerprint": data.get("corpus_fingerprint"),
        }

    def search(self, query: str, mode: str, k: int, page: int,
               filters: Filters) -> dict[str, Any]:
        """One page of hits: exactly what ``indexer search --json`` prints."""
        generation = self.generation()  # one generation for the hits and their passages
        result = self.engine.search(query, mode=mode, k=k, page=page, filters=filters,
                                    generation=generation)
        return search_dict(result, generation.catalog)

    def ask(self, question: str, mode: str | None = None) -> dict[str, Any]:
        """The ask JSON (as ``indexer ask --json``) plus each citation's url."""
        generation = self.generation()  # one generation for the hits and their passages
        answer, mode = self.engine.ask(question, mode, generation=generation)
        data = answer_dict(answer, generation.catalog, mode)
        for citation in data["citations"]:
            citation["url"] = citation_url(citation["doc_id"], citation["passage_id"],
                                           citation["start"], citation["end"])
        return data

    def documents(self) -> dict[str, Any]:
        """Every document's metadata with its passage count, in catalog order."""
        catalog = self.generation().catalog
        return {"ok": True, "documents": [
            {**document_summary(document), "passages": len(catalog.passages_of(doc_id))}
            for doc_id, document in catalog.documents.items()]}

    def document(self, doc_id: str) -> dict[str, Any]:
        """A document with its text, passages and section outline; NotFound if unknown."""
        catalog = self.generation().catalog
        document = catalog.documents.get(doc_id)
        if document is None:
            raise NotFound(f"there is no document with id {doc_id!r} in the index")
        return {"ok": True, "document": document_dict(document, catalog.passages_of(doc_id)),
                "outline": outline(document.text)}

    def passage(self, passage_id: str) -> dict[str, Any]:
        """A passage, the metadata of its document and the address that shows it."""
        catalog = self.generation().catalog
        passage = catalog.passages.get(passage_id)
        if passage is None:
            raise NotFound(f"there is no passage with id {passage_id!r} in the index")
        return {"ok": True, "passage": passage_dict(passage),
                "document": document_summary(catalog.documents[passage.doc_id]),
                "url": citation_url(passage.doc_id, passage.passage_id, passage.start,
                                    passage.end)}

    def update(self, corpus_dir: Path) -> dict[str, Any]:
        """Re-index what changed in ``corpus_dir``; the engine picks up the new generation.

        Raises Conflict while another update (in this process or any other) is writing.
        """
        from indexer import settings
        from indexer.store.build import build

        if not Path(corpus_dir).is_dir():
            raise Unavailable(f"the corpus folder {corpus_dir} does not exist: set corpus_dir")
        if not self._updating.acquire(blocking=False):
            raise Conflict("an index update is already running; try again when it is done")
        try:
            embedder = self.engine.embedder() if settings.get("vectors_enabled") else None
            report = build(Path(corpus_dir), self.index_dir, incremental=True,
                           embedder=embedder)
        finally:
            self._updating.release()
        log.info("index update: generation %s, %d added, %d changed, %d removed (%.1f s)",
                 report.generation, len(report.added), len(report.changed),
                 len(report.removed), report.seconds)
        data = build_dict(report)  # as `indexer update --json`, without server paths
        data["skipped"] = [{**s, "source": Path(s["source"]).name} for s in data["skipped"]]
        return data

    def title(self, doc_id: str) -> str:
        """A document's title for display, its id when it has none."""
        document = self.generation().catalog.documents.get(doc_id)
        return (document.title if document and document.title else doc_id)


def citation_url(doc_id: str, passage_id: str, start: int, end: int) -> str:
    """The document view with a span highlighted and its passage scrolled into view."""
    from urllib.parse import quote

    return f"/documents/{quote(doc_id, safe='')}?hl={start}-{end}#{quote(passage_id, safe='')}"


def outline(text: str) -> list[dict[str, Any]]:
    """The section headings of a text in reading order, each with its depth and paragraph."""
    from indexer.ingest.segment import paragraphs

    entries: list[dict[str, Any]] = []
    previous: list[str] = []
    for paragraph in paragraphs(text):
        path = paragraph.section_path
        same = 0
        while same < min(len(path), len(previous)) and path[same] == previous[same]:
            same += 1
        for depth in range(same, len(path)):
            entries.append({"title": path[depth], "depth": depth,
                            "paragraph_no": paragraph.number})
        previous = path
    return entries


def init_app(app: Flask) -> PolicyQA:
    """Register the shared service; ``POLICYQA_ENGINE`` in the config injects an Engine."""
    service = PolicyQA(app.config["INDEX_DIR"], app.config.get("POLICYQA_ENGINE"))
    app.extensions[EXTENSION] = service
    return service


def service() -> PolicyQA:
    """The current app's service."""
    return current_app.extensions[EXTENSION]
