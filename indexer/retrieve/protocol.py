"""What every retrieval backend implements, and the rules all of them share.

A :class:`Retriever` ranks passages for a parsed query under filters; that is the whole
contract the engine relies on. Paging, facets, highlights and the AND→OR fallback are
done once, by the engine, for every backend. Filters are resolved once, by
:func:`allowed_docs`, into the documents they allow; every backend restricts to those.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from indexer.retrieve.hits import Filters, Hit
from indexer.text.query import ParsedQuery

if TYPE_CHECKING:
    from indexer.records import Document, Passage
    from indexer.store.catalog import Catalog
    from indexer.text.suggest import Vocabulary


@dataclass
class Matches:
    """The passages a query matches, counted by document; ``total`` is an estimate when
    the counting stopped early (``exact`` false), and ``per_doc`` then counts those seen."""

    per_doc: Counter[str]
    total: int
    exact: bool = True
    per_year: Counter[str] | None = None  # by passage year (see passage_years)
    per_region: Counter[str] | None = None  # by report region; None: worked out from per_doc

    @classmethod
    def of_hits(cls, catalog: Catalog, hits: list[Hit]) -> Matches:
        """The counts of a ranked list (for retrievers that rank every passage)."""
        per_doc: Counter[str] = Counter()
        per_year: Counter[str] = Counter()
        for hit in hits:
            passage = catalog.passages[hit.passage_id]
            per_doc[passage.doc_id] += 1
            per_year.update(passage_years(passage, catalog.documents.get(passage.doc_id)))
        return cls(per_doc, len(hits), True, per_year)


class Retriever(ABC):
    """One way of ranking the passages of a generation.

    ``matches_words`` is true for a retriever that ranks only passages containing the
    query's words: the engine loosens its AND to OR when nothing matched.
    """

    matches_words = False

    @abstractmethod
    def ranked(self, query: ParsedQuery, k: int, filters: Filters | None = None) -> list[Hit]:
        """The top ``k`` passages, best first, each Hit with its score parts."""

    def scores(self, query: ParsedQuery, passage_ids: list[str]) -> list[float | None]:
        """This retriever's score of each listed passage (None where it has none)."""
        return [None] * len(passage_ids)

    def matched(self, query: ParsedQuery, filters: Filters | None = None) -> Matches | None:
        """How many passages of each document match, or None if the retriever ranks all."""
        return None

    def vocabulary(self) -> Vocabulary | None:
        """The words this retriever's index holds (for typo and pinyin help), if it knows."""
        return None

    def check(self) -> None:  # noqa: B027 (optional: most retrievers are always ready)
        """Raise a typed error if this retriever cannot answer (e.g. another model)."""

    def warm(self) -> None:  # noqa: B027 (optional: most retrievers have nothing to load)
        """Load now what the first queries would otherwise wait for (a server, before it
        serves)."""


def ranked_with_fallback(retriever: Retriever, query: ParsedQuery, k: int,
                         filters: Filters | None = None
                         ) -> tuple[list[Hit], ParsedQuery]:
    """Rank ``query``; if it needs every word and none matched, any word. Returns the
    hits and the query that found them (``.loose`` when the fallback was used)."""
    hits = retriever.ranked(query, k, filters)
    if not hits and retriever.matches_words and query.can_loosen:
        loose = query.loosened()
        return retriever.ranked(loose, k, filters), loose
    return hits, query


def expand_years(year: str | None) -> list[str]:
    """"2016-2017" → ["2016", "2017"]; a filter on either year finds the report."""
    if not year:
        return []
    parts = [p for p in year.replace("—", "-").split("-") if p.strip().isdigit()]
    if len(parts) == 2 and int(parts[1]) - int(parts[0]) < 50:
        return [str(y) for y in range(int(parts[0]), int(parts[1]) + 1)]
    return parts


UNKNOWN = "未知"  # the facet value, and filter value, of a passage with no year or region


def passage_years(passage: Passage, document: Document | None) -> list[str]:
    """The years a passage is about: its section's, else its report's ("未知" if none)."""
    year = passage.year or (document.year if document is not None else None)
    return expand_years(year) or [UNKNOWN]


def wanted_years(filters: Filters | None) -> set[str] | None:
    """The years a filter asks for ("2016年" is read as 2016), or None for any year."""
    if not filters or not filters.year:
        return None
    return {y.strip().removesuffix("年") for y in filters.year}


def allowed_docs(catalog: Catalog, filters: Filters | None) -> set[str] | None:
    """The documents the document-level filters allow, or None when they allow all.

    Document ids match exactly, and region and kind by containment after script folding
    (句容 finds 句容市); "未知" (:data:`UNKNOWN`, the facet value) matches a report with
    no region or kind. Years are a passage's (:func:`passage_years`): every backend
    applies :func:`wanted_years` to each passage, not here.
    """
    if not filters or not (filters.doc or filters.region or filters.kind):
        return None
    from indexer.text.analysis import fold

    def contains(value: str | None, wanted: list[str]) -> bool:
        if not value:
            return any(w.strip() == UNKNOWN for w in wanted)
        folded = fold(value)
        keys = [fold(w).strip() for w in wanted]
        return any(key and key in folded for key in keys)

    allowed = set()
    for doc_id, document in catalog.documents.items():
        if filters.doc and doc_id not in filters.doc:
            continue
        if filters.region and not contains(document.region, filters.region):
            continue
        if filters.kind and not contains(document.kind, filters.kind):
            continue
        allowed.add(doc_id)
    return allowed


def facet_counts(catalog: Catalog, matches: Matches, limit: int) -> dict[str, dict[str, int]]:
    """Passage counts by document, year and region, largest first, at most ``limit``
    values each (a common word matches thousands of reports); a report with no region
    counts under "未知", as a passage with no year does."""
    regions = matches.per_region
    if regions is None:
        regions = Counter()
        for doc_id, n in matches.per_doc.items():
            document = catalog.documents.get(doc_id)
            if document is not None:
                regions[document.region or UNKNOWN] += n
    counts = {"doc": matches.per_doc, "year": matches.per_year or {}, "region": regions}
    return {name: _largest(c, limit) for name, c in counts.items()}


def _largest(counts: dict[str, int], limit: int) -> dict[str, int]:
    """The ``limit`` largest counts, largest first, equal counts by name."""
    if len(counts) > limit:
        cut = sorted(counts.values(), reverse=True)[limit - 1]
        counts = {name: n for name, n in counts.items() if n >= cut}
    return dict(sorted(counts.items(), key=lambda pair: (-pair[1], pair[0]))[:limit])
