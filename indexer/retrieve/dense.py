"""What every dense retriever shares: the model check, the query vector, and the score.

A passage's dense score mixes its own cosine with its best sentence's
(``vector_sentence_weight``): a question usually asks about one sentence, and a long
passage's vector averages it away. A backend implements :meth:`DenseRetriever.
search_vector` and the cosine lookups; ranking, scoring and the answer step's inputs are
the same for all.
"""

from __future__ import annotations

from abc import abstractmethod

import numpy as np

from indexer import settings
from indexer.errors import IndexMismatch, NothingToSearch
from indexer.retrieve.hits import Filters, Hit
from indexer.retrieve.protocol import Retriever
from indexer.text.query import ParsedQuery


class DenseRetriever(Retriever):
    """Nearest passages to the embedded query, with the same filters as keyword search.

    ``info`` is the vector info the manifest records (model, dimension, sentences).
    """

    def __init__(self, info: dict, embedder):
        self.info = info
        self.embedder = embedder
        self.sentence_weight = settings.get("vector_sentence_weight")

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
        """The query's vector, read with the report's words for its everyday words (the
        embedder keeps recent ones, so asking twice is free)."""
        text = query.text.strip()
        if not any(ch.isalnum() for ch in text):
            raise NothingToSearch("nothing to search: the query has no words to look for "
                                  "(only punctuation or operators)")
        self.check()
        if query.report_words:  # the report's words for its everyday ones, after them
            text = " ".join((text, *query.report_words))
        return self.embedder.embed_query(text)

    def mix(self, passage: np.ndarray, sentence: np.ndarray) -> np.ndarray:
        """Dense scores from passage cosines and best-sentence cosines (NaN where a
        passage has no sentence: its own cosine alone)."""
        w = self.sentence_weight
        if not self.has_sentences or not w:
            return passage
        return np.where(np.isnan(sentence), passage, (1 - w) * passage + w * sentence)

    @abstractmethod
    def search_vector(self, query: np.ndarray, k: int, filters: Filters | None = None
                      ) -> list[tuple[str, float]]:
        """The ``k`` best (passage id, dense score) pairs for a query vector."""

    @abstractmethod
    def cosines(self, query: np.ndarray, passage_ids: list[str]) -> np.ndarray:
        """The exact dense score of each listed passage for a query vector."""

    @abstractmethod
    def passage_cosines(self, query: np.ndarray, passage_ids: list[str]) -> np.ndarray:
        """The cosine of each listed passage's own vector (without its sentences)."""

    @abstractmethod
    def sentence_cosines(self, query: np.ndarray, passage_ids: list[str]
                         ) -> dict[tuple[str, int], float]:
        """The cosine of every sentence of the listed passages, by (passage id, start)."""

    def ranked(self, query: ParsedQuery, k: int, filters: Filters | None = None) -> list[Hit]:
        """Rank passages by dense score (their own and their best sentence's cosine)."""
        ranked = self.search_vector(self.embed(query), k, filters)
        return [Hit(passage_id=pid, score=score, rank=rank,
                    scores={"vector_rank": rank, "vector_score": round(score, 4)})
                for rank, (pid, score) in enumerate(ranked, start=1)]

    def scores(self, query: ParsedQuery, passage_ids: list[str]) -> list[float | None]:
        """The exact dense score of each listed passage for the query."""
        return [float(c) for c in self.cosines(self.embed(query), passage_ids)]
