"""The query side in one place: open the live generation and search it in any mode.

An :class:`Engine` is cheap to create; the generation (catalog, keyword index) loads on
first use and is swapped when a build makes a new generation live, without a restart.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from indexer import generations, keyword, manifest, settings
from indexer.catalog import Catalog
from indexer.highlight import highlight
from indexer.keyword import expand_years
from indexer.query import BadQuery, NothingToSearch, parse
from indexer.results import Filters, SearchResult

log = logging.getLogger(__name__)

MODES = ("keyword", "semantic", "hybrid")


@dataclass
class Generation:
    """One opened index generation and its searchers."""

    folder: Path
    manifest: dict
    catalog: Catalog
    keyword: keyword.KeywordSearcher
    vector: object | None  # VectorSearcher, when the generation has vectors
    hybrid: object | None  # HybridSearcher over the two, when there are vectors


def open_generation(folder: Path, embedder_factory) -> Generation:
    """Open a generation folder, refusing one built by another analyzer or format."""
    from indexer.analysis import ANALYZER_VERSION

    data = manifest.read(folder)
    manifest.check_analyzer(data, ANALYZER_VERSION)
    catalog = Catalog.load(folder)
    keyword_searcher = keyword.KeywordSearcher(folder / keyword.WHOOSH_DIR, catalog)
    vector = hybrid = None
    if data.get("vectors"):
        from indexer.search import HybridSearcher
        from indexer.vectors import VectorSearcher

        vector = VectorSearcher(folder, catalog, embedder_factory())
        hybrid = HybridSearcher(keyword_searcher, vector)
    return Generation(folder, data, catalog, keyword_searcher, vector, hybrid)


class Engine:
    """Search and read the live index of ``index_dir``."""

    def __init__(self, index_dir: Path, embedder=None):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._generation: Generation | None = None
        self._embedder = embedder

    def embedder(self):
        """The embedding model, shared by every generation (loaded on first use)."""
        if self._embedder is None:
            from indexer.embedding import Embedder

            self._embedder = Embedder()
        return self._embedder

    def generation(self) -> Generation:
        """The live generation, reopened if a build switched CURRENT since last time."""
        live = generations.current_generation(self.index_dir)
        current = self._generation
        if current is not None and current.folder == live:
            return current
        with self._lock:
            if self._generation is None or self._generation.folder != live:
                log.info("opening index generation %s", live.name)
                self._generation = open_generation(live, self.embedder)
            return self._generation

    def search(self, query: str, mode: str = "keyword", k: int = 10, page: int = 1,
               filters: Filters | None = None) -> SearchResult:
        """Rank passages for ``query`` in one of :data:`MODES`."""
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        parsed = parse(query)
        generation = self.generation()
        if mode == "keyword":
            return generation.keyword.search(parsed, k=k, filters=filters, page=page)
        if generation.vector is None:
            raise generations.IndexNotReady(
                f"this index has no vectors, so {mode} search is not available: rebuild it "
                "with vectors enabled (`python -m indexer build`)")
        all_filters = parsed.filters.merged(filters) if filters else parsed.filters
        if mode == "semantic":
            if not parsed.text.strip():
                raise NothingToSearch("nothing to search: the query has no words to look for")
            hits = generation.vector.search(parsed.text, k=k * page, filters=all_filters)
        else:
            hits = generation.hybrid.search(parsed, k=k * page, filters=filters)
        return _page_of_hits(generation, parsed, mode, hits, k, page)

    def ask(self, question: str, mode: str | None = None):
        """Answer a question from the live index: retrieve, extract (or generate), cite.

        Returns the answer and the mode its passages were ranked by: hybrid by default when
        the index has vectors, else keyword (searching the question's content words, any
        of them).
        """
        from indexer.answer import answer, keyword_query
        from indexer.generate import generate

        generation = self.generation()
        mode = mode or ("hybrid" if generation.vector is not None else "keyword")
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        query = keyword_query(question) if mode == "keyword" else question
        hits = self.search(query, mode=mode, k=settings.get("answer_passages")).hits
        embedder = self.embedder() if generation.vector is not None else None
        extractive = answer(question, hits, generation.catalog, embedder)
        return generate(question, hits, generation.catalog, extractive), mode


def _page_of_hits(generation: Generation, parsed, mode: str, hits: list, k: int,
                  page: int) -> SearchResult:
    """A result page from a ranked list: facets over the list, highlights on the page."""
    catalog = generation.catalog
    facets: dict[str, dict[str, int]] = {"doc": {}, "year": {}, "region": {}}
    for hit in hits:
        document = catalog.documents[catalog.passages[hit.passage_id].doc_id]
        for name, values in (("doc", [document.doc_id]), ("year", expand_years(document.year)),
                             ("region", [document.region] if document.region else [])):
            for value in values:
                facets[name][value] = facets[name].get(value, 0) + 1
    page_hits = hits[(page - 1) * k:]
    for hit in page_hits:
        hit.highlight = highlight(catalog.passages[hit.passage_id].text, parsed)
    return SearchResult(query=parsed.raw, mode=mode, hits=page_hits, total=len(hits),
                        page=page, k=k, facets=facets)

