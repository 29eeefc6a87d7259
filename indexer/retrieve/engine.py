"""The query side in one place: search the live generation in any mode, and answer from it.

The engine knows no backend: it asks its backend for the live generation, takes that
generation's retriever for the mode, and does what every mode shares exactly once —
the AND→OR fallback, totals, facets, paging and highlights.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from indexer import settings
from indexer.errors import BadQuery, PolicyQAError
from indexer.retrieve.generation import MODES, Backend, Generation, open_backend
from indexer.retrieve.hits import Filters, Hit, SearchResult
from indexer.retrieve.protocol import Matches, facet_counts, ranked_with_fallback
from indexer.text.highlight import highlight
from indexer.text.query import ParsedQuery, parse
from indexer.text.suggest import did_you_mean, looks_mistyped, read_question, spell_pinyin
from indexer.text.synonyms import readings

log = logging.getLogger(__name__)

__all__ = ["MODES", "Engine", "Generation"]

LOOSENED_MESSAGE = "没有同时包含所有词的段落，以下结果包含其中部分词语。"
# Longer questions are not read for typos (each character may try a few corrections).
MAX_CORRECTED_QUESTION = 200


class Engine:
    """Search and read the live index.

    ``index_dir`` is where the local backend keeps its generations; ``backend`` (default:
    the one the ``index_backend`` setting names) is asked for the live generation before
    each use, so a new generation is served without a restart.
    """

    def __init__(self, index_dir: Path | None = None, embedder=None,
                 backend: Backend | None = None):
        self.index_dir = Path(index_dir or settings.get("index_dir"))
        self._embedder = embedder
        self.backend = backend or open_backend(settings.get("index_backend"), self.index_dir,
                                               self.embedder)

    def embedder(self):
        """The embedding model, shared by every generation (loaded on first use)."""
        if self._embedder is None:
            from indexer.embed import open_embedder

            self._embedder = open_embedder()
        return self._embedder

    def generation(self) -> Generation:
        """The live generation (raises IndexNotReady when there is none)."""
        return self.backend.live()

    def search(self, query: str, mode: str = "keyword", k: int = 10, page: int = 1,
               filters: Filters | None = None, generation: Generation | None = None,
               rerank: bool = True) -> SearchResult:
        """Rank passages for ``query`` in one of :data:`MODES`.

        ``generation`` (default: the live one) is the generation to search: a caller that
        reads the hits' passages passes the one whose catalog it reads them from, as a
        build may switch the live generation in between. ``rerank=False`` leaves semantic
        and hybrid hits in retrieval order (:mod:`indexer.answer.rerank`).
        """
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        for name, value in (("k", k), ("page", page)):
            if value < 1:  # an empty page would look like "nothing found"
                raise BadQuery(f"{name} must be a whole number from 1, not {value}")
        parsed = parse(query)
        generation = generation or self.generation()
        try:
            return self._help(generation, parsed, mode, k, page, filters, rerank)
        except PolicyQAError:
            raise
        except Exception as exc:  # e.g. a file damaged after it was opened: a 503, not a 500
            explain = getattr(self.backend, "explain", None)
            if explain is not None:
                explain(generation, exc)
            raise

    def _help(self, generation: Generation, parsed: ParsedQuery, mode: str, k: int,
              page: int, filters: Filters | None, rerank: bool) -> SearchResult:
        """Search, reading pinyin as the words it spells, and offer a corrected query when
        the words typed look mistyped or find nothing."""
        vocabulary = generation.retriever("keyword").vocabulary
        spelt = None
        if any(item.text.isascii() and item.text.isalpha() for item in parsed.positive_items):
            words = vocabulary()
            if words is not None:
                parsed, spelt = spell_pinyin(parsed, words)
        result = self._search(generation, parsed, mode, k, page, filters, rerank)
        if spelt:
            result.message = " ".join(filter(None, (spelt, result.message)))
        if result.total == 0 or result.fallback or looks_mistyped(parsed):
            words = vocabulary()
            corrected = did_you_mean(parsed, words) if words is not None else None
            if corrected and self._search(generation, parse(corrected), "keyword", 1, 1,
                                          filters).total:
                result.suggestion = corrected
        return result

    def _search(self, generation: Generation, parsed: ParsedQuery, mode: str, k: int,
                page: int, filters: Filters | None, rerank: bool = True) -> SearchResult:
        retriever = generation.retriever(mode)
        merged = parsed.filters.merged(filters) if filters else parsed.filters
        depth = _rerank_depth(generation, mode) if rerank else 0
        hits, used = ranked_with_fallback(retriever, parsed, max(k * page, depth), merged)
        if depth:
            from indexer.answer.rerank import rerank_hits

            hits = rerank_hits(used.text, hits, generation.catalog,
                               generation.retrievers["semantic"], depth)[:k * page]
        matches = retriever.matched(used, merged)
        if matches is None:  # a retriever that ranks every passage: facets of the ranking
            matches = Matches.of_hits(generation.catalog, hits)
        page_hits = hits[(page - 1) * k:]
        self._highlight(generation, page_hits, used)  # loose: what the fallback looked for
        loosened = used.loose
        return SearchResult(query=parsed.raw, mode=mode, hits=page_hits, total=matches.total,
                            total_exact=matches.exact, page=page, k=k,
                            facets=facet_counts(generation.catalog, matches,
                                                settings.get("facet_values")),
                            fallback="or" if loosened else None,
                            message=_loosened_message(used) if loosened and matches.total
                            else None)

    @staticmethod
    def _highlight(generation: Generation, hits: list[Hit], parsed: ParsedQuery) -> None:
        """Mark the query's words in each hit's original text."""
        for hit in hits:
            passage = generation.catalog.passages.get(hit.passage_id)
            if passage is not None:
                hit.highlight = highlight(passage.text, parsed)

    def ask(self, question: str, mode: str | None = None,
            generation: Generation | None = None, filters: Filters | None = None):
        """Answer a question from the live index: retrieve, extract (or generate), cite.

        Returns the answer and the mode its passages were ranked by: hybrid by default when
        the index has vectors, else keyword (searching the question's content words, any
        of them). ``generation`` is as for :meth:`search`; the answer's passages all come
        from it; ``filters`` restrict them as for :meth:`search`. The answer step reads
        the candidates' sentence vectors from the generation's dense retriever (made at
        build time), whatever the mode.
        """
        from indexer.answer.extract import answer, keyword_query
        from indexer.answer.generate import generate

        generation = generation or self.generation()
        mode = mode or ("hybrid" if generation.has_vectors else "keyword")
        if mode not in MODES:
            raise BadQuery(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
        read_as = self.read_question(question, generation)
        asked = read_as or question
        query = keyword_query(asked) if mode == "keyword" else asked
        # Retrieval order: the answer step scores these sentences anyway, and orders the
        # hits by them as search would (each sentence is scored once).
        hits = self.search(query, mode=mode, k=settings.get("answer_passages"),
                           filters=filters, generation=generation, rerank=False).hits
        dense = generation.retrievers.get("semantic")
        vectors = dense if getattr(dense, "has_sentences", False) else None
        extractive = answer(asked, hits, generation.catalog, vectors,
                            rerank=_rerank_depth(generation, mode))
        if read_as:
            extractive = replace(extractive, question=question, read_as=read_as,
                                 flags=[*extractive.flags, "typo_corrected"])
        return generate(asked, hits, generation.catalog, extractive), mode

    def read_question(self, question: str, generation: Generation | None = None) -> str | None:
        """The question with a mistyped word corrected from the index's vocabulary, or None
        (:func:`indexer.text.suggest.read_question`)."""
        generation = generation or self.generation()
        keyword = generation.retrievers.get("keyword")
        if keyword is None or len(question) > MAX_CORRECTED_QUESTION:
            return None

        def occurs(text: str) -> bool:
            matches = keyword.matched(parse(f'"{text}"'), None)
            return matches is None or matches.total > 0  # unknown: leave the question be

        return read_question(question, keyword.vocabulary(), occurs)


def _loosened_message(used: ParsedQuery) -> str:
    """What a search that fell back to any of its words tells the reader, with the report's
    words it also looked for (周末→双休日)."""
    read = readings(used.text)
    return LOOSENED_MESSAGE if not read else \
        f"{LOOSENED_MESSAGE[:-1]}，或报告中的说法（{'，'.join(read)}）。"


def _rerank_depth(generation: Generation, mode: str) -> int:
    """How many top hits the answer model re-ranks in ``mode``: semantic and hybrid, when
    the index has sentence vectors (``rerank_passages``); 0 for keyword search."""
    dense = generation.retrievers.get("semantic")
    if mode == "keyword" or not getattr(dense, "has_sentences", False):
        return 0
    return settings.get("rerank_passages")
