"""The query side in one place: open the live generation and search it in any mode.

An :class:`Engine` is cheap to create; the generation (catalog, keyword index) is checked
and loaded on first use, and swapped when a build makes a new generation live, without a
restart. A damaged generation is refused with IndexDamaged, never half served.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from indexer import settings
from indexer.retrieve import keyword
from indexer.retrieve.hits import Filters, SearchResult
from indexer.retrieve.keyword import expand_years
from indexer.store import check, generations, manifest
from indexer.store.catalog import Catalog
from indexer.text.highlight import highlight
from indexer.text.query import BadQuery, NothingToSearch, parse

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
    stamp: tuple = ()  # check.signature of the files when opened


def open_generation(folder: Path, embedder_factory, stamp: tuple = ()) -> Generation:
    """Open a generation folder after checking it.

    Raises IndexDamaged naming each missing, truncated or unreadable file, and
    IndexMismatch for one built by another analyzer or format.
    """
    from indexer.text.analysis import ANALYZER_VERSION

    found = check.examine(folder)
    if found.problems:
        raise generations.IndexDamaged(found.problems, Path(folder).parent)
    data, catalog = found.manifest, found.catalog
    manifest.check_analyzer(data, ANALYZER_VERSION)
    keyword_searcher = keyword.KeywordSearcher(folder / keyword.WHOOSH_DIR, catalog)
    vector = hybrid = None
    if data.get("vectors"):
        from indexer.retrieve.hybrid import HybridSearcher
        from indexer.retrieve.vectors import VectorSearcher

        vector = VectorSearcher(folder, catalog, embedder_factory())
        hybrid = HybridSearcher(keyword_searcher, vector)
    return Generation(folder, data, catalog, keyword_searcher, vector, hybrid, stamp)


class Engine:
    """Search and read the live index of ``index_dir``.

    Before each use the engine re-reads CURRENT and lists the generation's files (a few
    system calls): a new generation is opened without a restart, and a generation whose
    files changed on disk is checked again, so damage is reported as IndexDamaged (a 503
    in the web app) and a rebuild is picked up by the next request.
    """

    def __init__(self, index_dir: Path, embedder=None):
        self.index_dir = Path(index_dir)
        self._lock = threading.Lock()
        self._generation: Generation | None = None
        self._damaged: tuple[Path, tuple, list[str]] | None = None  # folder, stamp, problems
        self._embedder = embedder

    def embedder(self):
        """The embedding model, shared by every generation (loaded on first use)."""
        if self._embedder is None:
            from indexer.embed.embedder import Embedder

            self._embedder = Embedder()
        return self._embedder

    def generation(self) -> Generation:
        """The live generation, reopened if a build switched CURRENT or its files changed.

        Raises IndexNotReady when there is no index, IndexDamaged when it is damaged.
        """
        live = generations.current_generation(self.index_dir)
        stamp = check.signature(live)
        current = self._generation
        if current is not None and current.folder == live and current.stamp == stamp:
            return current
        with self._lock:
            # Read CURRENT again: a request that read it just before a switch must not
            # reopen the generation that another thread has just replaced.
            live = generations.current_generation(self.index_dir)
            stamp = check.signature(live)
            current = self._generation
            if current is not None and current.folder == live and current.stamp == stamp:
                return current
            damaged = self._damaged
            if damaged is not None and damaged[:2] == (live, stamp):
                raise generations.IndexDamaged(damaged[2], self.index_dir)
            log.info("opening index generation %s", live.name)
            try:
                self._generation = open_generation(live, self.embedder, stamp)
            except generations.IndexDamaged as exc:
                log.error("index generation %s is damaged: %s", live.name,
                          "; ".join(exc.problems))
                self._generation, self._damaged = None, (live, stamp, exc.problems)
                raise
            self._damaged = None
            return self._generation

    def _damage_behind(self, generation: Generation, error: Exception) -> None:
        """Raise IndexDamaged if ``error`` came from files damaged since they were opened."""
        stamp = check.signature(generation.folder)
        if stamp == generation.stamp:
            return
        found = check.examine(generation.folder)
        if not found.problems:
            return
        log.error("index generation %s was damaged while open: %s", generation.folder.name,
                  "; ".join(found.problems))
        with self._lock:
            if self._generation is generation:
                self._generation = None
            self._damaged = (generation.folder, stamp, found.problems)
        raise generations.IndexDamaged(found.problems, self.index_dir) from error

    def search(self, query: str, mode: str = "keyword", k: int = 10, page: int = 1,
               filters: Filters | None = None,
               generation: Generation | None = None) -> SearchResult:
        """Rank passages for ``query`` in one of :data:`MODES`.

        ``generation`` (default: the live one) is the generation to search: a caller that
        reads the hits' passages passes the one whose catalog it reads them from, as a
        build may switch CURRENT in between.
        """
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        parsed = parse(query)
        generation = generation or self.generation()
        try:
            return self._search(generation, parsed, mode, k, page, filters)
        except (BadQuery, generations.IndexNotReady):
            raise
        except Exception as exc:  # a file damaged after it was opened: a 503, not a 500
            self._damage_behind(generation, exc)
            raise

    def _search(self, generation: Generation, parsed, mode: str, k: int, page: int,
                filters: Filters | None) -> SearchResult:
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

    def ask(self, question: str, mode: str | None = None,
            generation: Generation | None = None):
        """Answer a question from the live index: retrieve, extract (or generate), cite.

        Returns the answer and the mode its passages were ranked by: hybrid by default when
        the index has vectors, else keyword (searching the question's content words, any
        of them). ``generation`` is as for :meth:`search`; the answer's passages all come
        from it.
        """
        from indexer.answer.extract import answer, keyword_query
        from indexer.answer.generate import generate

        generation = generation or self.generation()
        mode = mode or ("hybrid" if generation.vector is not None else "keyword")
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        query = keyword_query(question) if mode == "keyword" else question
        hits = self.search(query, mode=mode, k=settings.get("answer_passages"),
                           generation=generation).hits
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

