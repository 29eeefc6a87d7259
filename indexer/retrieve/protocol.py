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
    from indexer.store.catalog import Catalog
    from indexer.text.suggest import Vocabulary


@dataclass
class Matches:
    """The passages a query matches, counted by document; ``total`` is an estimate when
    the counting stopped early (``exact`` false), and ``per_doc`` then counts those seen."""

    per_doc: Counter[str]
    total: int
    exact: bool = True


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


def allowed_docs(catalog: Catalog, filters: Filters | None) -> set[str] | None:
    """The documents a filter allows, or None when nothing is filtered.

    Document ids match exactly, years through :func:`expand_years` ("2016" finds a
    2016-2017 report; "2016年" is read as 2016), and region and kind by containment after
    script folding (句容 finds 句容市).
    """
    if not filters:
        return None
    from indexer.text.analysis import fold

    def contains(value: str | None, wanted: list[str]) -> bool:
        folded = fold(value or "")
        keys = [fold(w).strip() for w in wanted]
        return any(key and key in folded for key in keys)

    years = {y.strip().removesuffix("年") for y in filters.year}
    allowed = set()
    for doc_id, document in catalog.documents.items():
        if filters.doc and doc_id not in filters.doc:
            continue
        if years and not years & set(expand_years(document.year)):
            continue
        if filters.region and not contains(document.region, filters.region):
            continue
        if filters.kind and not contains(document.kind, filters.kind):
            continue
        allowed.add(doc_id)
    return allowed


def facet_counts(catalog: Catalog, per_doc: Counter[str]) -> dict[str, dict[str, int]]:
    """Passage counts by document, year and region, largest first."""
    counts: dict[str, Counter] = {"doc": Counter(), "year": Counter(), "region": Counter()}
    for doc_id, n in per_doc.items():
        counts["doc"][doc_id] += n
        document = catalog.documents.get(doc_id)
        if document is None:
            continue
        for year in expand_years(document.year):
            counts["year"][year] += n
        if document.region:
            counts["region"][document.region] += n
    return {name: dict(sorted(c.items(), key=lambda pair: (-pair[1], pair[0])))
            for name, c in counts.items()}
