"""The Whoosh keyword index: its schema, its builder and its searcher (one format, one module).

Passages are indexed with the policy analyzer (script folding + jieba). Only the passage
id is stored; results take their text from the generation's catalog. Ranking is BM25F
with the title and section path weighted above the body.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from whoosh import collectors, fields, index, scoring
from whoosh import query as q

from indexer import settings
from indexer.records import Passage
from indexer.retrieve.hits import Filters, Hit, SearchResult
from indexer.store.catalog import Catalog
from indexer.store.generations import reason
from indexer.text.analysis import fold, policy_analyzer, tokens
from indexer.text.highlight import highlight
from indexer.text.query import Item, NothingToSearch, ParsedQuery, parse

log = logging.getLogger(__name__)

WHOOSH_DIR = "whoosh"
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
    years = " ".join(expand_years(document.year))
    return {
        "passage_id": passage.passage_id,
        "doc_id": passage.doc_id,
        "year": years,
        "region": fold(document.region or ""),
        "kind": fold(document.kind or ""),
        "title": document.title or "",
        "section": passage.section,
        "body": passage.text,
    }


def expand_years(year: str | None) -> list[str]:
    """"2016-2017" → ["2016", "2017"]; a filter on either year finds the report."""
    if not year:
        return []
    parts = [p for p in year.replace("—", "-").split("-") if p.strip().isdigit()]
    if len(parts) == 2 and int(parts[1]) - int(parts[0]) < 50:
        return [str(y) for y in range(int(parts[0]), int(parts[1]) + 1)]
    return parts


def build(folder: Path, catalog: Catalog, passages: Iterable[Passage] | None = None,
          delete_docs: Iterable[str] = (), progress=None) -> int:
    """Create (or, if ``folder`` holds an index, update) the keyword index; return adds."""
    folder = Path(folder)
    if index.exists_in(str(folder)):
        ix = index.open_dir(str(folder))
    else:
        folder.mkdir(parents=True, exist_ok=True)
        ix = index.create_in(str(folder), schema())
    writer = ix.writer(limitmb=settings.get("keyword_writer_mb"))
    added = 0
    try:
        for doc_id in delete_docs:
            writer.delete_by_term("doc_id", doc_id)
        items = catalog.passage_list if passages is None else passages
        for passage in progress(items) if progress else items:
            writer.add_document(**_fields(passage, catalog))
            added += 1
        writer.commit()
    except BaseException:
        writer.cancel()
        raise
    return added


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


def _can_loosen(parsed: ParsedQuery) -> bool:
    """Whether an OR of the query's parts could find more than its AND did."""
    items = parsed.positive_items
    return len(items) > 1 or any(not item.phrase and len(item.text) > 1 for item in items)


def _is_number(word: str) -> bool:
    return word.replace(".", "", 1).replace("%", "").isdigit()


class KeywordSearcher:
    """BM25F search over one generation's Whoosh index; thread-safe, one searcher per thread."""

    def __init__(self, folder: Path, catalog: Catalog):
        self.catalog = catalog
        self.index = index.open_dir(str(Path(folder)))
        self.weighting = scoring.BM25F(B=settings.get("keyword_bm25_b"),
                                       K1=settings.get("keyword_bm25_k1"))
        self.boosts = {"body": 1.0, "title": settings.get("keyword_title_boost"),
                       "section": settings.get("keyword_section_boost")}
        self._local = threading.local()

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
    def _item_query(self, item: Item, loose: bool = False):
        """One typed word or phrase; ``loose`` accepts any of a word's parts."""
        words = tokens(item.text)
        if not words:
            return None
        terms = [q.Or([q.Term(f, w, boost=self.boosts[f]) for f in SEARCH_FIELDS])
                 for w in words]
        if len(words) == 1:
            return terms[0]
        phrase = q.Or([q.Phrase(f, words, boost=self.boosts[f]) for f in SEARCH_FIELDS])
        if loose and not item.phrase:
            return q.Or([*terms, phrase])
        # A number belongs to its unit (5所, 2016年, 34.5分): such a word is found as written.
        if item.phrase or any(_is_number(w) for w in words):
            return phrase
        # Other words typed together need all their parts; found together ranks higher.
        return q.Or([q.And(terms), phrase])

    def build_query(self, parsed: ParsedQuery, loose: bool = False):
        """The Whoosh query: AND of the groups, or with ``loose`` any part of any of them."""
        groups = []
        for group in parsed.groups:
            parts = [p for p in (self._item_query(item, loose) for item in group) if p]
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
        excluded = [x for x in (self._item_query(item) for item in parsed.excluded) if x]
        if excluded:
            # Whoosh's AndNot lets some excluded documents through; And + Not does not.
            positive = q.And([positive, q.Not(q.Or(excluded))])
        return positive

    def filter_query(self, filters: Filters):
        """A Whoosh filter for document, year, region and kind restrictions, or None."""
        if not filters:
            return None
        reader = self._searcher().reader()
        clauses = []
        if filters.doc:
            clauses.append(q.Or([q.Term("doc_id", d) for d in filters.doc]))
        if filters.year:
            clauses.append(q.Or([q.Term("year", y.strip().removesuffix("年"))
                                 for y in filters.year]))
        for name, wanted in (("region", filters.region), ("kind", filters.kind)):
            if not wanted:
                continue
            # A filter value matches every indexed value containing it: 句容 → 句容市.
            values = [v.decode("utf-8") if isinstance(v, bytes) else v
                      for v in reader.lexicon(name)]
            keys = [fold(w).strip() for w in wanted]
            chosen = [v for v in values if any(key and key in v for key in keys)]
            clauses.append(q.Or([q.Term(name, v) for v in chosen]) if chosen else q.NullQuery)
        return clauses[0] if len(clauses) == 1 else q.And(clauses)

    # -- search -----------------------------------------------------------------------
    def search(self, query: str | ParsedQuery, k: int = 10, filters: Filters | None = None,
               page: int = 1, facets: bool = True) -> SearchResult:
        """Rank passages for a query; an AND query with no hits falls back to OR."""
        parsed = parse(query) if isinstance(query, str) else query
        all_filters = parsed.filters.merged(filters) if filters else parsed.filters
        whoosh_filter = self.filter_query(all_filters)
        fallback = None
        results = self._run(self.build_query(parsed), whoosh_filter, k, page, facets)
        if results.total == 0 and _can_loosen(parsed):
            results = self._run(self.build_query(parsed, loose=True), whoosh_filter, k,
                                page, facets)
            fallback = "or"
        hits = [
            Hit(passage_id=pid, score=score, rank=rank,
                scores={"keyword_rank": rank, "keyword_score": round(score, 4)})
            for rank, (pid, score) in enumerate(results.items, start=(page - 1) * k + 1)
        ]
        self.add_highlights(hits, parsed)
        message = None
        if fallback and results.total:
            message = "没有同时包含所有词的段落，以下结果包含其中部分词语。"
        return SearchResult(query=parsed.raw, mode="keyword", hits=hits, total=results.total,
                            page=page, k=k, facets=results.facets, fallback=fallback,
                            message=message)

    def ranked_ids(self, parsed: ParsedQuery, k: int, filters: Filters | None = None
                   ) -> list[tuple[str, float]]:
        """The top ``k`` (passage id, score) pairs, AND falling back to OR, no extras."""
        whoosh_filter = self.filter_query(parsed.filters.merged(filters) if filters
                                          else parsed.filters)
        results = self._run(self.build_query(parsed), whoosh_filter, k, 1, False)
        if results.total == 0 and _can_loosen(parsed):
            results = self._run(self.build_query(parsed, loose=True), whoosh_filter, k, 1,
                                False)
        return results.items

    def add_highlights(self, hits: list[Hit], parsed: ParsedQuery) -> None:
        """Mark the query's words in each hit's original text."""
        for hit in hits:
            passage = self.catalog.passages.get(hit.passage_id)
            if passage is not None:
                hit.highlight = highlight(passage.text, parsed)

    def _doc_ids(self, searcher) -> list[str]:
        """doc_id by document number, read once per searcher (for facet counts)."""
        cached = getattr(self._local, "doc_ids", None)
        if cached is None or self._local.doc_ids_for is not searcher:
            column = searcher.reader().column_reader("doc_id")
            cached = self._local.doc_ids = [
                v.decode("utf-8") if isinstance(v, bytes) else v for v in column]
            self._local.doc_ids_for = searcher
        return cached

    def _run(self, whoosh_query, whoosh_filter, k: int, page: int, facets: bool):
        searcher = self._searcher()
        limit = k * page
        start = (page - 1) * k
        if not facets:
            results = searcher.search(whoosh_query, limit=limit, filter=whoosh_filter,
                                      terms=False)
            items = [(hit["passage_id"], float(hit.score)) for hit in results[start:limit]]
            return _Page(items, 0 if results.is_empty() else results.estimated_length(), {})
        # Facets and the exact total need every match: score them all in one pass (no
        # block skipping) and note each document number on the way.
        recorder = _MatchRecorder(collectors.TopCollector(limit, usequality=False, replace=0))
        collector = (collectors.FilterCollector(recorder, allow=whoosh_filter)
                     if whoosh_filter is not None else recorder)
        searcher.search_with_collector(whoosh_query, collector)
        results = collector.results()
        items = [(hit["passage_id"], float(hit.score)) for hit in results[start:limit]]
        doc_ids = self._doc_ids(searcher)
        per_doc = Counter(doc_ids[d] for d in recorder.docnums)
        return _Page(items, len(recorder.docnums), self._facets(per_doc))

    def _facets(self, per_doc: Counter) -> dict[str, dict[str, int]]:
        """Counts by document, year and region, largest first."""
        counts: dict[str, Counter] = {"doc": Counter(), "year": Counter(), "region": Counter()}
        for doc_id, n in per_doc.items():
            document = self.catalog.documents.get(doc_id)
            counts["doc"][doc_id] += n
            if document is None:
                continue
            for year in expand_years(document.year):
                counts["year"][year] += n
            if document.region:
                counts["region"][document.region] += n
        return {name: dict(sorted(c.items(), key=lambda pair: (-pair[1], pair[0])))
                for name, c in counts.items()}


class _MatchRecorder(collectors.WrappingCollector):
    """Passes every match to the wrapped collector and remembers its document number."""

    def prepare(self, top_searcher, q, context):
        super().prepare(top_searcher, q, context)
        self.docnums: list[int] = []

    def collect(self, sub_docnum):
        self.docnums.append(self.offset + sub_docnum)
        return self.child.collect(sub_docnum)


class _Page:
    """One page of raw results from Whoosh."""

    def __init__(self, items: list[tuple[str, float]], total: int, facets: dict):
        self.items = items
        self.total = total
        self.facets = facets
