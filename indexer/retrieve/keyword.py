"""The Whoosh keyword index: its schema, its builder and its retriever (one format, one module).

Passages are indexed with the policy analyzer (script folding + jieba). Only the passage
id is stored; results take their text from the generation's catalog. Ranking is BM25F
with the title and section path weighted above the body. The queries built here are
Whoosh queries, run over the index's posting lists as arrays (:mod:`.matching`).
"""

from __future__ import annotations

import heapq
import logging
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from whoosh import fields, index, scoring
from whoosh import query as q

from indexer import settings
from indexer.errors import NothingToSearch, reason
from indexer.records import Passage
from indexer.retrieve.columns import FacetColumns
from indexer.retrieve.hits import Filters, Hit
from indexer.retrieve.matching import QueryArrays
from indexer.retrieve.postings import Postings
from indexer.retrieve.protocol import (
    Matches,
    Retriever,
    allowed_docs,
    passage_years,
    wanted_years,
)
from indexer.store.catalog import Catalog
from indexer.text.analysis import fold, parts, policy_analyzer, tokens
from indexer.text.query import Item, ParsedQuery

if TYPE_CHECKING:
    from indexer.text.suggest import Vocabulary

log = logging.getLogger(__name__)

WHOOSH_DIR = "whoosh"
PARALLEL_FROM = 2000  # passages: fewer are not worth starting processes for
WARM_TERMS = 2000  # posting lists a warmed retriever may read ahead, the longest first
SEARCH_FIELDS = ("body", "title", "section")

def schema():
    """The Whoosh schema: id, filters and three analyzed text fields."""
    analyzer = policy_analyzer()
    return fields.Schema(
        passage_id=fields.ID(stored=True, unique=True),
        doc_id=fields.ID(sortable=True),
        year=fields.KEYWORD(lowercase=True, commas=False, sortable=True),
        region=fields.ID(sortable=True),
        kind=fields.ID(sortable=True),
        title=fields.TEXT(analyzer=analyzer, phrase=True),
        section=fields.TEXT(analyzer=analyzer, phrase=True),
        body=fields.TEXT(analyzer=analyzer, phrase=True),
    )


def _fields(passage: Passage, catalog: Catalog) -> dict[str, str]:
    document = catalog.documents[passage.doc_id]
    years = " ".join(passage_years(passage, document))
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "year": years,
        "region": fold(document.region or ""),
        "kind": fold(document.kind or ""),
        "title": document.own_title,
        "section": passage.section,
        "body": passage.text,
    }


def build(folder: Path, catalog: Catalog, passages: Iterable[Passage] | None = None,
          delete_docs: Iterable[str] = (), progress=None) -> int:
    """Create (or, if ``folder`` holds an index, update) the keyword index; return adds."""
    folder = Path(folder)
    if index.exists_in(str(folder)):
        ix = index.open_dir(str(folder))
    else:
        folder.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(folder), schema())
    items = catalog.passage_list if passages is None else passages
    writer = ix.writer(limitmb=settings.get("keyword_writer_mb"), **_parallel(len(items)))
    added = 0
    try:
        for doc_id in delete_docs:
            writer.delete_by_term("doc_id", doc_id)
        for passage in progress(items) if progress else items:
            writer.add_document(**_fields(passage, catalog))
            added += 1
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return added


def _parallel(passages: int) -> dict:
    """Writer options: with many passages, one process per core analyses a share and
    writes its own segment (Whoosh's multi-process writer); a few are written here."""
    procs = settings.get("keyword_writer_procs") or os.cpu_count() or 1
    if procs < 2 or passages < PARALLEL_FROM:
        return {}
    return {"procs": procs, "multisegment": True}


def check_files(folder: Path) -> tuple[int | None, list[str]]:
    """The passage count a keyword index records, and a sentence for each damaged file.

    Cheap: reads the table of contents, checks that every segment file it names exists,
    and opens (without searching) a reader, which fails on a truncated segment.
    """
    folder = Path(folder)
    name = f"{folder.parent.name}/{folder.name}"
    if not folder.is_dir():
        return None, [f"{name}/ is missing (the keyword index)"]
    try:
        ix = index.open_dir(str(folder))
        toc = index.TOC.read(ix.storage, ix.indexname)
    except index.EmptyIndexError:
        return None, [f"{name}/ has no table of contents (_MAIN_*.toc): the keyword index is gone"]
    except Exception as exc:  # any failure to read it is damage
        return None, [f"{name}/_MAIN_*.toc cannot be read ({reason(exc)})"]
    problems = []
    for segment in toc.segments:
        if segment.is_compound():
            files = [segment.make_filename(segment.COMPOUND_EXT)]
            missing = [f for f in files if not (folder / f).is_file()]
        else:
            missing = [] if segment.list_files(ix.storage) else [f"{segment.segment_id()}.*"]
        problems += [f"{name}/{f} is missing (a keyword index segment)" for f in missing]
    if not problems:
        try:
            ix.reader().close()
        except Exception as exc:  # a truncated or garbled segment
            problems.append(f"{name}/ cannot be opened as a keyword index ({reason(exc)})")
    return sum(segment.doc_count() for segment in toc.segments), problems


def _is_number(word: str) -> bool:
    return word.replace(".", "", 1).replace("%", "").isdigit()


class KeywordRetriever(Retriever):
    """BM25F over one generation's Whoosh index; thread-safe, one searcher per thread."""

    matches_words = True

    def __init__(self, folder: Path, catalog: Catalog):
        self.catalog = catalog
        self.index = index.open_dir(str(Path(folder)))
        self.weighting = scoring.BM25F(B=settings.get("keyword_bm25_b"),
                                       K1=settings.get("keyword_bm25_k1"))
        self.boosts = {"body": 1.0, "title": settings.get("keyword_title_boost"),
                       "section": settings.get("keyword_section_boost")}
        self.arrays = QueryArrays(Postings(settings.get("keyword_posting_cache_mb") << 20),
                                  self.weighting)
        self._local = threading.local()
        self._vocabulary = None
        self._vocabulary_lock = threading.Lock()
        self._facets = None
        self._order = None

    def _searcher(self):
        searcher = getattr(self._local, "searcher", None)
        if searcher is None:
            searcher = self._local.searcher = self.index.searcher(weighting=self.weighting)
        return searcher

    def close(self) -> None:
        searcher = getattr(self._local, "searcher", None)
        if searcher is not None:
            searcher.close()
        self.index.close()

    # -- query building ---------------------------------------------------------------
    def _item_query(self, item: Item, loose: bool = False, counting: bool = False):
        """One typed word or phrase; ``loose`` accepts any of a word's parts.

        ``counting`` leaves out the alternatives that only rank (a phrase inside the AND
        of its own words): the same passages match, found faster.
        """
        words = tokens(item.text)
        if not words:
            return None
        terms = [self._word_query(w, counting) for w in words]
        if len(words) == 1:
            return terms[0]
        phrase = q.Or([q.Phrase(f, words, boost=self.boosts[f]) for f in SEARCH_FIELDS])
        if loose and not item.phrase:
            return q.Or(terms) if counting else q.Or([*terms, phrase])
        # A number belongs to its unit (5所, 2016年, 34.5分): such a word is found as written.
        if item.phrase or any(_is_number(w) for w in words):
            return phrase
        # Other words typed together need all their parts; found together ranks higher.
        return q.And(terms) if counting else q.Or([q.And(terms), phrase])

    def _term(self, word: str, boost: float = 1.0):
        return q.Or([q.Term(f, word, boost=self.boosts[f] * boost) for f in SEARCH_FIELDS])

    def _word_query(self, word: str, counting: bool = False):
        """One word; a dictionary term also matches through its parts, all of them
        (校车安全 finds 校车 … 安全). A passage with the whole term matches both ways
        (the index holds a term's parts too), so it ranks first."""
        pieces = parts(word)
        if not pieces:
            return self._term(word)
        every_part = q.And([self._term(piece) for piece in pieces])
        return every_part if counting else q.Or([self._term(word), every_part])

    def build_query(self, parsed: ParsedQuery, counting: bool = False):
        """The Whoosh query: AND of the groups, or for a loose query any part of any, or
        a report word for an everyday word typed; ``counting`` for the same matches
        without what only ranks."""
        loose = parsed.loose
        groups = []
        for group in parsed.groups:
            parts = [p for p in (self._item_query(item, loose, counting) for item in group)
                     if p]
            if parts:
                groups.append(parts[0] if len(parts) == 1 else q.Or(parts))
        if not groups:
            if parsed.filters and not parsed.positive_items:
                positive = q.Every()
            else:
                raise NothingToSearch(
                    "nothing to search: the query has no words to look for "
                    "(only punctuation, operators or very common words)")
        elif len(groups) == 1:
            positive = groups[0]
        else:
            positive = q.Or(groups) if loose else q.And(groups)
        if groups and loose and parsed.report_words:
            boost = settings.get("keyword_synonym_boost")
            positive = q.Or([positive, *(self._term(word, boost)
                                         for word in parsed.report_words)])
        excluded = [x for x in (self._item_query(item) for item in parsed.excluded) if x]
        if excluded:
            # Whoosh's AndNot lets some excluded documents through; And + Not does not.
            positive = q.And([positive, q.Not(q.Or(excluded))])
        return positive

    # -- the Retriever protocol ---------------------------------------------------------
    def filter_query(self, filters: Filters | None):
        """The Whoosh query of the filters (documents, passage years), or None for all."""
        clauses = []
        allowed = allowed_docs(self.catalog, filters)
        if allowed is not None:
            clauses.append(q.Or([q.Term("doc_id", d) for d in sorted(allowed)]) if allowed
                           else q.NullQuery)
        years = wanted_years(filters)
        if years is not None:
            clauses.append(q.Or([q.Term("year", y) for y in sorted(years)]))
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else q.And(clauses)

    def ranked(self, query: ParsedQuery, k: int, filters: Filters | None = None) -> list[Hit]:
        """The top ``k`` passages by BM25F among those holding the query's words (every
        match is scored: the top is exact)."""
        searcher = self._searcher()
        best = self.arrays.best(searcher, self.build_query(query), k,
                                self._allowed(searcher, filters), self._passage_order(searcher))
        return [Hit(passage_id=searcher.stored_fields(docnum)["passage_id"], score=score,
                    rank=rank,
                    scores={"keyword_rank": rank, "keyword_score": round(score, 4)})
                for rank, (docnum, score) in enumerate(best, start=1)]

    def matched(self, query: ParsedQuery, filters: Filters | None = None) -> Matches:
        """Every matching passage, counted by document, year and region (exact, without
        scoring)."""
        searcher = self._searcher()
        ids = self.arrays.matches(searcher, self.build_query(query, counting=True))
        allowed = self._allowed(searcher, filters)
        if allowed is not None:
            ids = ids[np.isin(ids, allowed, assume_unique=True)]
        if self._facets is None:
            self._facets = FacetColumns(searcher.reader(), self.catalog)
        return self._facets.matches(ids)

    def _passage_order(self, searcher) -> np.ndarray:
        """Each document number's place in the catalog's passage order, which orders
        equal scores. It is the same however the index was written: a multi-process
        build numbers passages in the order its processes happen to finish, so two builds
        of one corpus broke ties apart (and trained two answer models apart). Made once,
        on first use or when the retriever is warmed (~40 ms for 20k passages)."""
        order = self._order
        if order is None:
            places = {passage.passage_id: n
                      for n, passage in enumerate(self.catalog.passage_list)}
            reader = searcher.reader()
            order = np.full(reader.doc_count_all(), len(places), dtype=np.int64)
            for docnum, stored in reader.iter_docs():
                order[docnum] = places.get(stored["passage_id"], len(places))
            self._order = order
        return order

    def _allowed(self, searcher, filters: Filters | None):
        """The passages (document numbers) within the filters, or None for all."""
        restriction = self.filter_query(filters)
        return None if restriction is None else self.arrays.matches(searcher, restriction)

    def warm(self) -> None:
        """Read the vocabulary and the longest posting lists (into the cache, up to half
        of it): the commonest words are the slowest to read on first use (a 100k-posting
        list takes ~20 ms)."""
        searcher = self._searcher()
        self._passage_order(searcher)
        frequencies = {field: self._frequencies(field) for field in SEARCH_FIELDS}
        self._read_vocabulary(frequencies["body"])
        longest = heapq.nlargest(WARM_TERMS, ((n, field, word)
                                              for field, words in frequencies.items()
                                              for word, n in words.items()))
        postings = self.arrays.postings
        for _, field, word in longest:
            if postings.cached_bytes >= postings.cache_bytes // 2:
                break
            postings.term(searcher, field, word)

    def vocabulary(self) -> Vocabulary:
        """Every word of the passage text with its document frequency, read once."""
        if self._vocabulary is not None:
            return self._vocabulary
        return self._read_vocabulary()

    def _read_vocabulary(self, body: dict[str, int] | None = None) -> Vocabulary:
        """Make the vocabulary once, however many threads ask at once, from the body
        field's word frequencies (``body``, when the caller has read them already)."""
        from indexer.text.suggest import vocabulary_of

        with self._vocabulary_lock:
            if self._vocabulary is None:
                words = body if body is not None else self._frequencies("body")
                self._vocabulary = vocabulary_of(words.items())
            return self._vocabulary

    def _frequencies(self, field: str) -> dict[str, int]:
        """Every word of ``field`` with the number of passages holding it."""
        words = {}
        for term, info in self._searcher().reader().iter_field(field):
            word = term.decode("utf-8") if isinstance(term, bytes) else term
            words[word] = info.doc_frequency()
        return words
