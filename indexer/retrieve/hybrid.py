"""Hybrid retrieval: two retrievers composed through the protocol, never re-implemented.

Both sides rank their own candidates under the same filters; the union is re-scored
with every part kept (keyword rank and score, vector rank and score, fused score), so a
user can see why a passage ranked where it did. Two fusion methods, chosen by the
``hybrid_fusion`` setting:

- ``blend`` (default): a weighted sum of the two scores, each min–max normalised over the
  candidates. A keyword candidate gets its exact cosine from the stored vectors; a
  vector-only candidate scored no BM25 in the keyword top list and counts as 0 there.
- ``rrf``: weighted reciprocal-rank fusion, ``w / (k + rank)`` per side.
"""

from __future__ import annotations

import logging

from indexer import settings
from indexer.errors import NothingToSearch
from indexer.retrieve.hits import Filters, Hit
from indexer.retrieve.protocol import Retriever, ranked_with_fallback
from indexer.text.query import ParsedQuery

log = logging.getLogger(__name__)

FUSIONS = ("blend", "rrf")


class HybridRetriever(Retriever):
    """Fuse a words-matching retriever and a dense one over the same catalog."""

    def __init__(self, keyword: Retriever, dense: Retriever,
                 overrides: dict | None = None):
        self.keyword = keyword
        self.dense = dense
        self.fusion = settings.get("hybrid_fusion", overrides)
        if self.fusion not in FUSIONS:
            raise ValueError(f"hybrid_fusion must be one of {', '.join(FUSIONS)}")
        self.keyword_weight = settings.get("hybrid_keyword_weight", overrides)
        self.candidates = settings.get("hybrid_candidates", overrides)
        self.rrf_k = settings.get("hybrid_rrf_k", overrides)

    def check(self) -> None:
        self.keyword.check()
        self.dense.check()

    def ranked(self, query: ParsedQuery, k: int, filters: Filters | None = None) -> list[Hit]:
        """The top ``k`` passages by fused score, each with its score parts."""
        depth = max(self.candidates, k)
        try:
            keyword_hits, _ = ranked_with_fallback(self.keyword, query, depth, filters)
        except NothingToSearch:
            keyword_hits = []  # e.g. only stop words: the dense side still understands it
        dense_hits = self.dense.ranked(query, depth, filters)
        return self.fuse(query, keyword_hits, dense_hits, k)

    def fuse(self, query: ParsedQuery, keyword_hits: list[Hit], dense_hits: list[Hit],
             k: int) -> list[Hit]:
        """Combine two ranked lists into hits carrying every score part.

        Every candidate gets the dense side's exact score, so a keyword-only candidate
        is blended on its real cosine, not on a missing one.
        """
        parts: dict[str, dict] = {}
        for hit in keyword_hits:
            parts.setdefault(hit.passage_id, {}).update(
                keyword_rank=hit.rank, keyword_score=round(hit.score, 4))
        for hit in dense_hits:
            parts.setdefault(hit.passage_id, {}).update(
                vector_rank=hit.rank, vector_score=round(hit.score, 4))
        if not parts:
            return []
        pids = list(parts)
        for pid, score in zip(pids, self.dense.scores(query, pids), strict=True):
            if score is not None:
                parts[pid]["vector_score"] = round(float(score), 4)
        if self.fusion == "rrf":
            fused = {pid: self._rrf(p) for pid, p in parts.items()}
        else:
            fused = self._blend(parts)
        order = sorted(pids, key=lambda pid: (-fused[pid], pid))[:k]
        hits = []
        for rank, pid in enumerate(order, start=1):
            scores = {**parts[pid], "fused_score": round(fused[pid], 6), "fusion": self.fusion}
            hits.append(Hit(passage_id=pid, score=fused[pid], rank=rank, scores=scores))
        return hits

    def _rrf(self, part: dict) -> float:
        score = 0.0
        if "keyword_rank" in part:
            score += self.keyword_weight / (self.rrf_k + part["keyword_rank"])
        if "vector_rank" in part:
            score += (1 - self.keyword_weight) / (self.rrf_k + part["vector_rank"])
        return score

    def _blend(self, parts: dict[str, dict]) -> dict[str, float]:
        keyword = {pid: p.get("keyword_score", 0.0) for pid, p in parts.items()}
        vector = {pid: p.get("vector_score", 0.0) for pid, p in parts.items()}
        k_norm, v_norm = _min_max(keyword), _min_max(vector)
        w = self.keyword_weight
        return {pid: w * k_norm[pid] + (1 - w) * v_norm[pid] for pid in parts}


def _min_max(scores: dict[str, float]) -> dict[str, float]:
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-9:
        return {pid: (1.0 if high > 0 else 0.0) for pid in scores}
    return {pid: (s - low) / (high - low) for pid, s in scores.items()}
