"""What every dense retriever shares: the model check, the query vectors, and the score.

A passage's dense score mixes its own cosine with its best sentence's
(``vector_sentence_weight``): a question usually asks about one sentence, and a long
passage's vector averages it away. A backend implements :meth:`DenseRetriever.
search_vector` and the cosine lookups; ranking, scoring and the answer step's inputs are
the same for all.

Retrieval embeds a query twice: as typed, and in the other Chinese script
(``vector_other_script``). The model scores a simplified question lower against
traditional text than against the same text in simplified, so each passage and sentence
takes the better of the two cosines, the other script's lowered by
``vector_other_script_handicap``: questions are mostly asked in the script of the report
they ask about, and without the handicap other-script passages crowd them (measured in
the README's Evaluation section).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

import numpy as np

from indexer import settings
from indexer.errors import IndexMismatch, NothingToSearch
from indexer.retrieve.hits import Filters, Hit
from indexer.retrieve.protocol import Retriever
from indexer.text.query import ParsedQuery


@dataclass(frozen=True)
class QueryVectors:
    """A query's vectors, one row per form (as typed first), each with the amount its
    cosines are lowered by."""

    vectors: np.ndarray  # (forms, dimension)
    handicaps: np.ndarray  # (forms,)

    @classmethod
    def single(cls, vector: np.ndarray) -> QueryVectors:
        """One vector, not lowered."""
        return cls(np.asarray(vector, dtype=np.float32).reshape(1, -1),
                   np.zeros(1, dtype=np.float32))

    def cosines(self, rows: np.ndarray) -> np.ndarray:
        """Each row's score: its best cosine over the forms, less that form's handicap
        (``rows``: (n, dimension) → (n,)). Form by form: one matrix-vector product each
        is faster than one product with a two-column matrix and a maximum across it."""
        best = None
        for vector, handicap in zip(self.vectors, self.handicaps, strict=True):
            scores = np.asarray(rows @ vector, dtype=np.float32)
            if handicap:
                scores = scores - handicap
            best = scores if best is None else np.maximum(best, scores, out=best)
        return best


class DenseRetriever(Retriever):
    """Nearest passages to the embedded query, with the same filters as keyword search.

    ``info`` is the vector info the manifest records (model, dimension, sentences).
    """

    def __init__(self, info: dict, embedder):
        self.info = info
        self.embedder = embedder
        self.sentence_weight = settings.get("vector_sentence_weight")
        self.other_script = settings.get("vector_other_script")
        self.other_script_handicap = settings.get("vector_other_script_handicap")

    @property
    def has_sentences(self) -> bool:
        """Whether the index holds sentence vectors (the answer step reads them)."""
        return bool(self.info.get("sentences"))

    def check(self) -> None:
        """Refuse to search vectors made by another model than the configured one."""
        built = self.info.get("model_fingerprint")
        if built != self.embedder.fingerprint:
            which = (f"another version of {self.embedder.name!r} (fingerprint {built}, now "
                     f"{self.embedder.fingerprint})"
                     if self.info.get("model") == self.embedder.name else
                     f"model {self.info.get('model')!r}, but {self.embedder.name!r} is "
                     "configured")
            raise IndexMismatch(f"the vector index was built with {which}: run `python -m "
                                "indexer update` (it embeds the passages again)")

    def embed(self, query: ParsedQuery) -> np.ndarray:
        """The query's vector as typed, read with the report's words for its everyday
        words (the embedder keeps recent ones, so asking twice is free)."""
        text = query.text.strip()
        if not any(ch.isalnum() for ch in text):
            raise NothingToSearch("nothing to search: the query has no words to look for "
                                  "(only punctuation or operators)")
        self.check()
        return self.embedder.embed_query(_with_report_words(text, query))

    def query_vectors(self, query: ParsedQuery) -> QueryVectors:
        """What retrieval and the answer step score with: the query as typed and, unless
        ``vector_other_script`` is off or converting changes nothing, in the other script
        with its handicap."""
        from indexer.text.scripts import in_other_script

        typed = self.embed(query)
        other = in_other_script(query.text.strip()) if self.other_script else None
        if other is None:
            return QueryVectors.single(typed)
        converted = self.embedder.embed_query(_with_report_words(other, query))
        return QueryVectors(np.stack([typed, converted]).astype(np.float32),
                            np.array([0.0, self.other_script_handicap], dtype=np.float32))

    def mix(self, passage: np.ndarray, sentence: np.ndarray) -> np.ndarray:
        """Dense scores from passage cosines and best-sentence cosines (NaN where a
        passage has no sentence: its own cosine alone)."""
        w = self.sentence_weight
        if not self.has_sentences or not w:
            return passage
        return np.where(np.isnan(sentence), passage, (1 - w) * passage + w * sentence)

    @abstractmethod
    def search_vector(self, query: QueryVectors, k: int, filters: Filters | None = None
                      ) -> list[tuple[str, float]]:
        """The ``k`` best (passage id, dense score) pairs for the query's vectors."""

    @abstractmethod
    def cosines(self, query: QueryVectors, passage_ids: list[str]) -> np.ndarray:
        """The exact dense score of each listed passage for the query's vectors."""

    @abstractmethod
    def passage_cosines(self, query: QueryVectors, passage_ids: list[str]) -> np.ndarray:
        """The cosine of each listed passage's own vector (without its sentences)."""

    @abstractmethod
    def sentence_cosines(self, query: QueryVectors, passage_ids: list[str]
                         ) -> dict[tuple[str, int], float]:
        """The cosine of every sentence of the listed passages, by (passage id, start)."""

    def ranked(self, query: ParsedQuery, k: int, filters: Filters | None = None) -> list[Hit]:
        """Rank passages by dense score (their own and their best sentence's cosine)."""
        ranked = self.search_vector(self.query_vectors(query), k, filters)
        return [Hit(passage_id=pid, score=score, rank=rank,
                    scores={"vector_rank": rank, "vector_score": round(score, 4)})
                for rank, (pid, score) in enumerate(ranked, start=1)]

    def scores(self, query: ParsedQuery, passage_ids: list[str]) -> list[float | None]:
        """The exact dense score of each listed passage for the query."""
        return [float(c) for c in self.cosines(self.query_vectors(query), passage_ids)]


def _with_report_words(text: str, query: ParsedQuery) -> str:
    """``text`` followed by the report's words for the query's everyday ones."""
    return " ".join((text, *query.report_words)) if query.report_words else text
