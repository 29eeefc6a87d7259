"""The query side every request shares: one Engine, created on first use.

Each public method returns the plain data that the JSON API serves as-is and the
pages render, so the two cannot drift. Ids are only ever looked up in the catalog of
the live generation; nothing here opens a file named by a request.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

from indexer.retrieve.hits import Filters
from indexer.serialize import (
    answer_dict,
    build_dict,
    comparison_dict,
    document_dict,
    document_summary,
    passage_dict,
    reference_dict,
    search_dict,
)
from webapp.errors import BadRequest, Conflict, NotFound, Unavailable

if TYPE_CHECKING:
    from indexer.retrieve.engine import Engine, Generation
    from indexer.store.build import BuildReport
    from webapp.uploads import Incoming, Job

log = logging.getLogger(__name__)

EXTENSION = "policyqa"
WEB_UPDATE_LOCK = "web-update.lock"  # flock'd while a web request changes the corpus


class PolicyQA:
    """The engine of one app, opened lazily and shared across requests and threads."""

    def __init__(self, index_dir: Path, engine: Engine | None = None):
        self.index_dir = Path(index_dir)
        self._engine = engine
        self._lock = threading.Lock()
        self._updating = threading.Lock()
        # With warm-up on (``warm``), each generation a worker opens is warmed in the
        # background: the first questions after an update do not read its vocabulary.
        self._warming = False
        self._warmed: Generation | None = None
        self._warm_thread: threading.Thread | None = None

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
        """The live generation (raises IndexNotReady when there is none); with warm-up
        on, one newly opened is warmed in a background thread."""
        generation = self.engine.generation()
        if self._warming and generation is not self._warmed:
            with self._lock:
                if generation is not self._warmed:
                    self._warmed = generation
                    self._warm_thread = threading.Thread(
                        target=self._warm_generation, args=(generation,), daemon=True,
                        name=f"warm {generation.name}")
                    self._warm_thread.start()
        return generation

    def warm(self) -> None:
        """Open the index, load the jieba dictionary, the longest posting lists, the
        index's vocabulary (typo and pinyin help: seconds at 100k passages) and the
        embedding model now; from then on warm every generation an update publishes."""
        self.engine.search("教育", k=1)
        generation = self.engine.generation()
        _warm_keyword(generation)
        if generation.has_vectors:
            self.engine.embedder().embed_query("教育")
        self._warmed, self._warming = generation, True

    @staticmethod
    def _warm_generation(generation: Generation) -> None:
        try:
            _warm_keyword(generation)
            log.info("warmed index generation %s", generation.name)
        except Exception:  # a warm-up that fails costs speed, never a request
            log.exception("warming index generation %s failed", generation.name)

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
        document = catalog.documents[passage.doc_id]
        return {"ok": True, "passage": passage_dict(passage),
                "document": document_summary(document),
                "url": citation_url(passage.doc_id, passage.passage_id, passage.start,
                                    passage.end),
                "reference": reference_dict(document)}

    def compare(self, question: str, by: str, mode: str | None = None) -> dict[str, Any]:
        """One answer per document, region or year (as ``indexer compare --json``), each
        citation with its url."""
        from indexer.answer.compare import compare

        generation = self.generation()
        data = comparison_dict(compare(self.engine, question, by, mode, generation),
                               generation.catalog)
        for group in data["groups"]:
            for citation in group["citations"]:
                citation["url"] = citation_url(citation["doc_id"], citation["passage_id"],
                                               citation["start"], citation["end"])
        return data

    def cite(self, doc_id: str, style: str) -> tuple[str, str]:
        """A document's reference in ``style`` (gbt7714, bibtex or ris) and its media type."""
        from indexer.references import FORMATS, MEDIA_TYPES

        if style not in FORMATS:
            raise BadRequest(f"format must be one of {', '.join(FORMATS)}")
        document = self.generation().catalog.documents.get(doc_id)
        if document is None:
            raise NotFound(f"there is no document with id {doc_id!r} in the index")
        return reference_dict(document)[style], MEDIA_TYPES[style]

    def update(self, corpus_dir: Path) -> dict[str, Any]:
        """Re-index what changed in ``corpus_dir``; the engine picks up the new generation.

        Raises Conflict while another update (in this process or any other) is writing.
        """
        with self.updating(corpus_dir):
            report = self.rebuild(corpus_dir)
        data = build_dict(report)  # as `indexer update --json`, without server paths
        data["skipped"] = [{**s, "source": Path(s["source"]).name} for s in data["skipped"]]
        return data

    @contextmanager
    def updating(self, corpus_dir: Path) -> Iterator[None]:
        """Hold this process's update lock; Conflict (409) when an update is running here
        or a build holds the index's writer lock in another process."""
        import fcntl

        from indexer.store import generations

        if not Path(corpus_dir).is_dir():
            raise Unavailable(f"the corpus folder {corpus_dir} does not exist: set corpus_dir")
        if not self._updating.acquire(blocking=False):
            raise Conflict("an index update is already running; try again when it is done")
        try:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            # Every worker process of this index: one change (files and update) at a time.
            with open(self.index_dir / WEB_UPDATE_LOCK, "a") as held:
                try:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise Conflict("an index update is already running; try again when it "
                                   "is done") from None
                with generations.writer_lock(self.index_dir):  # a build elsewhere: 409
                    pass
                yield
        finally:
            self._updating.release()

    def rebuild(self, corpus_dir: Path, stage=None) -> BuildReport:
        """Update the index from ``corpus_dir`` (the caller holds :meth:`updating`)."""
        from indexer import settings
        from indexer.store.build import build

        embedder = self.engine.embedder() if settings.get("vectors_enabled") else None
        report = build(Path(corpus_dir), self.index_dir, incremental=True, embedder=embedder,
                       stage=stage)
        log.info("index update: generation %s, %d added, %d changed, %d removed (%.1f s)",
                 report.generation, len(report.added), len(report.changed),
                 len(report.removed), report.seconds)
        return report

    def add_documents(self, items: list[Incoming], corpus_dir: Path, job: Job,
                      max_bytes: int, max_unpacked: int) -> dict[str, Any]:
        """Judge, store and index uploaded files (see :mod:`webapp.uploads`).

        Each file ends up added, unchanged (its bytes are already in the corpus) or skipped
        with a reason; if the update fails, the files stored for it are removed again.
        Raises TooLarge (413), UnsupportedMedia (415) or Conflict (409) before storing any.
        """
        from webapp import editing

        return editing.add(self, items, Path(corpus_dir), job, max_bytes, max_unpacked)

    def remove_document(self, doc_id: str, corpus_dir: Path) -> dict[str, Any]:
        """Delete the one file ``doc_id`` came from and update the index; the file is
        restored if the update fails. Conflict (409) for a document that does not come
        alone from a file inside ``corpus_dir`` (e.g. one line of a bulk file)."""
        from webapp import editing

        return editing.remove(self, doc_id, Path(corpus_dir))

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


def _warm_keyword(generation: Generation) -> None:
    """Read a generation's longest posting lists and its vocabulary, with both lookup
    tables of typo and pinyin help, and the everyday words a question's typo may stand for."""
    from indexer.text.suggest import everyday_words

    keyword = generation.retriever("keyword")
    keyword.warm()
    vocabulary = keyword.vocabulary()
    if vocabulary is not None:
        vocabulary.prepare()
        everyday_words()
