"""Sentence vectors: one vector per answerable sentence, beside the passage vectors.

Files in a generation folder: ``sentence_vectors.npy`` (M × dim, L2-normalised) and
``sentence_ids.json`` (``[passage_id, start, end]`` per row, document offsets), grouped
by passage in catalog order. Each sentence is embedded once, at build time, as
:func:`indexer.answer.spans.embedding_text` says (cached by text hash like passages), so
retrieval can score a passage by its best sentence and the answer step reads the cosine
of every candidate sentence instead of embedding them per question.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from indexer.errors import IndexDamaged, reason
from indexer.store.catalog import Catalog

if TYPE_CHECKING:
    from indexer.retrieve.dense import QueryVectors

SENTENCE_VECTORS_FILE = "sentence_vectors.npy"
SENTENCE_IDS_FILE = "sentence_ids.json"


def write(folder: Path, ids: list[list], matrix: np.ndarray, dimension: int) -> dict:
    """Save the sentence vectors and their ids; returns the info the manifest records."""
    from indexer.answer.spans import SENTENCES_VERSION

    matrix = np.ascontiguousarray(matrix, dtype=np.float32).reshape(len(ids), dimension)
    np.save(folder / SENTENCE_VECTORS_FILE, matrix)
    (folder / SENTENCE_IDS_FILE).write_text(json.dumps(ids, ensure_ascii=False),
                                            encoding="utf-8")
    return {"count": len(ids), "version": SENTENCES_VERSION}


def check_files(folder: Path, expected: dict, dimension, passage_ids) -> list[str]:
    """Problems of the sentence vector files: ids of known passages, one row each."""
    from indexer.retrieve.vectors import _check_matrix, _read_json

    problems: list[str] = []
    count = expected.get("count") if isinstance(expected, dict) else None
    rows = _read_json(folder / SENTENCE_IDS_FILE, list, problems)
    if rows is not None:
        known = set(passage_ids or [])
        bad = sum(1 for row in rows if not (isinstance(row, list) and len(row) == 3
                                            and (not known or row[0] in known)))
        if len(rows) != count or bad:
            problems.append(f"{folder.name}/{SENTENCE_IDS_FILE} holds {len(rows)} sentences "
                            f"({bad} not of an indexed passage), the manifest records {count}")
    return problems + _check_matrix(folder / SENTENCE_VECTORS_FILE, count, dimension)


def embed_sentences(catalog: Catalog, embedder, progress: Callable | None = None
                    ) -> tuple[list[list], np.ndarray]:
    """``[passage_id, start, end]`` and a vector for every readable answerable sentence
    (:func:`indexer.answer.spans.readable_sentences`), grouped by passage in catalog order
    (cached ones reused)."""
    from indexer.answer.spans import embedding_text, readable_sentences

    ids: list[list] = []
    texts: list[str] = []
    for passage in catalog.passage_list:
        document = catalog.documents.get(passage.doc_id)
        for start, end in readable_sentences(passage, document):
            ids.append([passage.passage_id, start, end])
            texts.append(embedding_text(document, passage, start, end))
    return ids, embedder.embed_passages(texts, progress=progress)


class SentenceVectors:
    """The sentence vectors of a generation, grouped by passage row."""

    def __init__(self, ids: list[list], vectors: np.ndarray, passage_rows: np.ndarray,
                 passages: int):
        self.ids = ids
        self.vectors = vectors
        self.passage_rows = passage_rows  # the passage row of each sentence, ascending
        rows = np.arange(passages)
        self.first = np.searchsorted(passage_rows, rows, side="left")
        self.last = np.searchsorted(passage_rows, rows, side="right")
        self._groups = np.flatnonzero(self.last > self.first)  # rows with sentences
        self._by_passage: dict[str, dict[tuple[int, int], int]] = {}

    @classmethod
    def open(cls, folder: Path, info: dict, row_of: dict[str, int]) -> SentenceVectors:
        """Read the sentence files next to the passage vectors (memory-mapped)."""
        expected = info["sentences"]["count"]
        try:
            ids = json.loads((folder / SENTENCE_IDS_FILE).read_text(encoding="utf-8"))
            vectors = np.load(folder / SENTENCE_VECTORS_FILE, mmap_mode="r")
            rows = np.array([row_of[row[0]] for row in ids], dtype=np.int64)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            raise IndexDamaged([f"the sentence vectors in {folder.name}/ cannot be opened "
                                f"({reason(exc)})"], folder.parent) from exc
        if vectors.shape != (expected, info["dimension"]) or len(ids) != expected or (
                len(rows) and np.any(np.diff(rows) < 0)):
            raise IndexDamaged([f"the sentence vectors in {folder.name}/ hold "
                                f"{vectors.shape} vectors and {len(ids)} ids, out of passage "
                                f"order or not the {expected} recorded"], folder.parent)
        return cls(ids, vectors, rows, len(row_of))

    def best_all(self, query: QueryVectors, passages: int) -> np.ndarray:
        """Each passage's best sentence cosine (NaN for a passage without sentences)."""
        best = np.full(passages, np.nan, dtype=np.float32)
        if len(self._groups):
            cosines = query.cosines(self.vectors)
            best[self._groups] = np.maximum.reduceat(cosines, self.first[self._groups])
        return best

    def rows_of(self, rows: np.ndarray) -> np.ndarray:
        """The sentence rows of the given passage rows, passage by passage."""
        spans = [np.arange(self.first[r], self.last[r]) for r in rows]
        return np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)

    def best_rows(self, query: QueryVectors, rows: np.ndarray) -> np.ndarray:
        """The best sentence cosine of each passage in ``rows`` (NaN: no sentences)."""
        best = np.full(len(rows), np.nan, dtype=np.float32)
        counts = self.last[rows] - self.first[rows]
        present = np.flatnonzero(counts)
        if len(present):
            cosines = self.cosines(query, self.rows_of(rows[present]))
            starts = np.concatenate([[0], np.cumsum(counts[present])[:-1]])
            best[present] = np.maximum.reduceat(cosines, starts)
        return best

    def cosines(self, query: QueryVectors, sentence_rows: np.ndarray) -> np.ndarray:
        """The cosine of the listed sentence rows to the query's vectors."""
        if not len(sentence_rows):
            return np.zeros(0, dtype=np.float32)
        order = np.argsort(sentence_rows, kind="stable")
        values = query.cosines(self.vectors[sentence_rows[order]])
        result = np.empty_like(values)
        result[order] = values
        return result

    def of_passages(self, query: QueryVectors, passage_rows: list[int]
                    ) -> dict[tuple[str, int], float]:
        """The cosine of every sentence of the listed passages, by (passage id, start)."""
        rows = self.rows_of(np.asarray(passage_rows, dtype=np.int64))
        values = self.cosines(query, rows)
        return {(self.ids[r][0], self.ids[r][1]): float(v)
                for r, v in zip(rows.tolist(), values.tolist(), strict=True)}
