"""Hybrid retrieval: the keyword and vector searchers composed, never re-implemented.

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

import numpy as np

from indexer import settings
from indexer.retrieve.hits import Filters, Hit
from indexer.text.query import NothingToSearch, ParsedQuery

log = logging.getLogger(__name__)

FUSIONS = ("blend", "rrf")


class HybridSearcher:
    """Fuse a KeywordSearcher and a VectorSearcher over the same catalog."""

    def __init__(self, keyword, vector, overrides: dict | None = None):
        self.keyword = keyword
        self.vector = vector
        self.fusion = settings.get("hybrid_fusion", overrides)
        if self.fusion not in FUSIONS:
            raise ValueError(f"hybrid_fusion must be one of {', '.join(FUSIONS)}")
        self.keyword_weight = settings.get("hybrid_keyword_weight", overrides)
        self.candidates = settings.get("hybrid_candidates", overrides)
        self.rrf_k = settings.get("hybrid_rrf_k", overrides)

    def search(self, parsed: ParsedQuery, k: int = 10, filters: Filters | None = None
               ) -> list[Hit]:
        """The top ``k`` passages by fused score, each with its score parts."""
        all_filters = parsed.filters.merged(filters) if filters else parsed.filters
        depth = max(self.candidates, k)
        try:
            keyword_ranked = self.keyword.ranked_ids(parsed, depth, filters)
        except NothingToSearch:
            keyword_ranked = []  # e.g. only stop words: the vector side still understands it
        text = parsed.text.strip()
        if not text:
            raise NothingToSearch("nothing to search: the query has no words to look for")
        self.vector.check_model()
        query_vector = self.vector.embedder.embed_query(text)
        vector_ranked = self.vector.search_vector(query_vector, depth, all_filters)
        return self.fuse(keyword_ranked, vector_ranked, query_vector, k)

    def fuse(self, keyword_ranked: list[tuple[str, float]],
             vector_ranked: list[tuple[str, float]], query_vector: np.ndarray,
             k: int) -> list[Hit]:
        """Combine two ranked lists into hits carrying every score part."""
        parts: dict[str, dict] = {}
        for rank, (pid, score) in enumerate(keyword_ranked, start=1):
            parts.setdefault(pid, {})
            parts[pid].update(keyword_rank=rank, keyword_score=round(score, 4))
        for rank, (pid, score) in enumerate(vector_ranked, start=1):
            parts.setdefault(pid, {})
            parts[pid].update(vector_rank=rank, vector_score=round(score, 4))
        if not parts:
            return []
        pids = list(parts)
        cosines = self.vector.cosines(query_vector, pids)
        for pid, cosine in zip(pids, cosines, strict=True):
            parts[pid]["vector_score"] = round(float(cosine), 4)
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
        vector = {pid: p["vector_score"] for pid, p in parts.items()}
        k_norm, v_norm = _min_max(keyword), _min_max(vector)
        w = self.keyword_weight
        return {pid: w * k_norm[pid] + (1 - w) * v_norm[pid] for pid in parts}


def _min_max(scores: dict[str, float]) -> dict[str, float]:
    low, high = min(scores.values()), max(scores.values())
    if high - low < 1e-9:
        return {pid: (1.0 if high > 0 else 0.0) for pid in scores}
    return {pid: (s - low) / (high - low) for pid, s in scores.items()}
