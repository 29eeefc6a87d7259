"""Keyword (BM25) and dense retrieval from one generation in Milvus.

Both implement the same protocol as the local retrievers, so the engine, hybrid fusion,
facets, highlights and answers are unchanged. Scores are the engine's to fuse in Python
(the local backend's fusion), never Milvus's ``WeightedRanker``, which squashes BM25.
milvus-lite reports BM25 as a negative distance and a server as a positive score: the
keyword score is its magnitude, and nothing thresholds on it.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter

import numpy as np

from indexer import settings
from indexer.milvus import blobs, query
from indexer.milvus.build import VOCABULARY
from indexer.milvus.client import Names, count, unreachable_as_error
from indexer.retrieve.dense import DenseRetriever, QueryVectors
from indexer.retrieve.hits import Filters, Hit
from indexer.retrieve.protocol import Matches, Retriever
from indexer.store.catalog import Catalog
from indexer.text.query import ParsedQuery

log = logging.getLogger(__name__)

# The most rows one Milvus query returns.
QUERY_WINDOW = 16384
# Sentences asked of the engine per wanted passage (a passage has several).
SENTENCE_OVERFETCH = 4
# Passages whose vectors a dense retriever keeps, for re-scoring and the answer step.
VECTOR_CACHE = 4096


def _in(field: str, values: list[str]) -> str:
    return f"{field} in {json.dumps(values, ensure_ascii=False)}"


class MilvusKeywordRetriever(Retriever):
    """BM25 over the generation's ``words`` field, among passages holding the words."""

    matches_words = True

    def __init__(self, client, generation: str, catalog: Catalog):
        self.client, self.generation, self.catalog = client, generation, catalog
        self._vocabulary = None

    def ranked(self, parsed: ParsedQuery, k: int, filters: Filters | None = None) -> list[Hit]:
        expression = query.both(query.matching(parsed), query.restriction(self.catalog,
                                                                          filters))
        text = query.ranking_text(parsed)
        with unreachable_as_error():
            if not text:  # filters only: every passage they allow, in reading order
                rows = self.client.query(self.generation, filter=expression or "ordinal >= 0",
                                         output_fields=["passage_id", "ordinal"], limit=k)
                found = [(row["passage_id"], 0.0) for row in
                         sorted(rows, key=lambda row: row["ordinal"])]
            else:
                result = self.client.search(
                    self.generation, data=[text], anns_field="bm25", limit=k,
                    filter=expression, output_fields=["passage_id"],
                    search_params={"metric_type": "BM25", "params": {}})
                found = [(hit["entity"]["passage_id"], abs(float(hit["distance"])))
                         for hit in result[0]]
        return [Hit(passage_id=pid, score=score, rank=rank,
                    scores={"keyword_rank": rank, "keyword_score": round(score, 4)})
                for rank, (pid, score) in enumerate(found, start=1)]

    def matched(self, parsed: ParsedQuery, filters: Filters | None = None) -> Matches:
        """Matching passages counted by document and year: the total exactly, the
        facets over the first ``keyword_exact_matches``."""
        expression = query.both(query.matching(parsed), query.restriction(self.catalog,
                                                                          filters))
        expression = expression or "ordinal >= 0"
        limit = settings.get("keyword_exact_matches")
        per_doc: Counter[str] = Counter()
        per_year: Counter[str] = Counter()
        window = min(limit, QUERY_WINDOW)
        with unreachable_as_error():
            rows = self.client.query(self.generation, filter=expression,
                                     output_fields=["doc_id", "years"], limit=window)
            total = len(rows) if len(rows) < window else count(self.client, self.generation,
                                                                expression)
        for row in rows:
            per_doc[row["doc_id"]] += 1
            per_year.update(row["years"])
        return Matches(per_doc, total, True, per_year)

    def vocabulary(self):
        if self._vocabulary is None:
            from indexer.text.suggest import Vocabulary

            with unreachable_as_error():
                words = blobs.get_json(self.client, Names.store(self.generation), VOCABULARY)
            self._vocabulary = Vocabulary(words or {})
        return self._vocabulary


class MilvusVectorRetriever(DenseRetriever):
    """Dense search in Milvus: the passage and sentence collections are both searched,
    and their candidates re-scored exactly (own cosine mixed with the best sentence's),
    as the local backend scores every passage."""

    def __init__(self, client, generation: str, catalog: Catalog, embedder, info: dict):
        super().__init__(info, embedder)
        self.client, self.generation, self.catalog = client, generation, catalog
        self._lock = threading.Lock()
        self._vectors: dict[str, tuple[np.ndarray, list[tuple[int, np.ndarray]]]] = {}

    def _search(self, collection: str, query: QueryVectors, k: int, expression: str
                ) -> list[str]:
        """The nearest passage ids to each of the query's vectors, form after form."""
        result = self.client.search(
            collection, data=query.vectors.tolist(), anns_field="vector", limit=k,
            filter=expression, output_fields=["passage_id"],
            search_params={"metric_type": "COSINE", "params": {"ef": max(64, k)}})
        return [hit["entity"]["passage_id"] for hits in result for hit in hits]

    def search_vector(self, vector: QueryVectors, k: int, filters: Filters | None = None
                      ) -> list[tuple[str, float]]:
        expression = query.restriction(self.catalog, filters)
        with unreachable_as_error():
            candidates = self._search(self.generation, vector, k, expression)
            if self.has_sentences and self.sentence_weight:
                candidates += self._search(Names.sentences(self.generation), vector,
                                           k * SENTENCE_OVERFETCH, expression)
        candidates = list(dict.fromkeys(candidates))
        if not candidates:
            return []
        scores = self.cosines(vector, candidates)
        order = np.argsort(-scores, kind="stable")[:k]
        return [(candidates[i], float(scores[i])) for i in order]

    def _fetch(self, passage_ids: list[str]
               ) -> dict[str, tuple[np.ndarray, list[tuple[int, np.ndarray]]]]:
        """Each passage's vector and its sentences' (start, vector), read once."""
        with self._lock:
            found = {pid: self._vectors[pid] for pid in passage_ids if pid in self._vectors}
        missing = [pid for pid in dict.fromkeys(passage_ids) if pid not in found]
        if missing:
            with unreachable_as_error():
                rows = self.client.get(self.generation, ids=missing,
                                       output_fields=["passage_id", "vector"])
                sentences: dict[str, list] = {pid: [] for pid in missing}
                if self.has_sentences:
                    for row in self.client.query(
                            Names.sentences(self.generation),
                            filter=_in("passage_id", missing),
                            output_fields=["passage_id", "start", "vector"],
                            limit=QUERY_WINDOW):
                        sentences[row["passage_id"]].append(
                            (int(row["start"]), np.asarray(row["vector"], dtype=np.float32)))
            fetched = {row["passage_id"]: (np.asarray(row["vector"], dtype=np.float32),
                                           sorted(sentences[row["passage_id"]],
                                                  key=lambda s: s[0]))
                       for row in rows}
            with self._lock:
                if len(self._vectors) > VECTOR_CACHE:
                    self._vectors.clear()
                self._vectors.update(fetched)
            found.update(fetched)
        return found

    def cosines(self, vector: QueryVectors, passage_ids: list[str]) -> np.ndarray:
        found = self._fetch(passage_ids)
        best = np.array([_best(vector, [v for _, v in found[pid][1]]) for pid in passage_ids],
                        dtype=np.float32)
        return self.mix(_own(vector, found, passage_ids), best)

    def passage_cosines(self, vector: QueryVectors, passage_ids: list[str]) -> np.ndarray:
        return _own(vector, self._fetch(passage_ids), passage_ids)

    def sentence_cosines(self, vector: QueryVectors, passage_ids: list[str]
                         ) -> dict[tuple[str, int], float]:
        found = self._fetch(passage_ids)
        keys = [(pid, start) for pid in passage_ids for start, _ in found[pid][1]]
        rows = [v for pid in passage_ids for _, v in found[pid][1]]
        if not rows:
            return {}
        return dict(zip(keys, vector.cosines(np.stack(rows)).tolist(), strict=True))


def _own(query: QueryVectors, found: dict, passage_ids: list[str]) -> np.ndarray:
    """The cosine of each listed passage's own vector, from :meth:`_fetch`'s result."""
    rows = [found[pid][0] for pid in passage_ids]
    return query.cosines(np.stack(rows)) if rows else np.zeros(0, dtype=np.float32)


def _best(query: QueryVectors, vectors: list[np.ndarray]) -> float:
    """The best cosine of a passage's sentence vectors (NaN: it has none)."""
    return float(query.cosines(np.stack(vectors)).max()) if vectors else float("nan")
