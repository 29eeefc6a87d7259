"""What every searcher returns: ranked hits with their score parts, and the page around them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Filters:
    """Restrictions applied before ranking, identical for every search mode."""

    doc: list[str] = field(default_factory=list)
    year: list[str] = field(default_factory=list)
    region: list[str] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.doc or self.year or self.region or self.kind)

    def merged(self, other: Filters) -> Filters:
        return Filters(self.doc + other.doc, self.year + other.year,
                       self.region + other.region, self.kind + other.kind)


@dataclass
class Hit:
    """One ranked passage. ``scores`` keeps each part (keyword/vector rank and score, fused)."""

    passage_id: str
    score: float
    rank: int = 0
    scores: dict[str, Any] = field(default_factory=dict)
    highlight: str | None = None


@dataclass
class SearchResult:
    """A page of hits for a query, with the total, facets and any fallback used."""

    query: str
    mode: str
    hits: list[Hit]
    total: int
    total_exact: bool = True  # false: ``total`` is an estimate ("约 N 条")
    page: int = 1
    k: int = 10
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    fallback: str | None = None
    message: str | None = None
    suggestion: str | None = None  # a query with likely typos corrected that finds something
