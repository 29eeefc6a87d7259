"""The vector index: passage and sentence vectors, searched exactly or by HNSW.

Files in a generation folder: ``vectors.npy`` (N × dim, L2-normalised), ``vector_ids.json``
and ``vectors.json`` (model, dimension, normalised, count, and the sentence vectors'
count); ``sentence_vectors.npy`` (M × dim) and ``sentence_ids.json`` (``[passage_id,
start, end]`` per row, document offsets, grouped by passage in catalog order). No text
is stored here; the catalog has it. A passage's dense score is a mix of its own cosine
and its best sentence's (``vector_sentence_weight``): a question usually asks about one
sentence, and a long passage's vector averages it away. Search is exact (two matrix
products) unless the index holds more than ``vector_ann_threshold`` vectors and an HNSW
graph was built for it; the graph's candidates are then re-scored exactly.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np

from indexer import settings
from indexer.errors import IndexDamaged, reason
from indexer.retrieve import sentence_vectors
from indexer.retrieve.dense import DenseRetriever, QueryVectors
from indexer.retrieve.hits import Filters
from indexer.retrieve.protocol import allowed_docs, passage_years, wanted_years
from indexer.store.catalog import Catalog

log = logging.getLogger(__name__)

VECTORS_FILE = "vectors.npy"
IDS_FILE = "vector_ids.json"
INFO_FILE = "vectors.json"
HNSW_FILE = "vectors.hnsw"
# How many candidates per wanted hit the HNSW graph gives before exact re-scoring.
ANN_OVERFETCH = 4


def write(folder: Path, ids: list[str], vectors: np.ndarray, model: str, fingerprint: str,
          sentences: tuple[list[list], np.ndarray] | None = None) -> dict:
    """Save vectors and their ids (and the sentence vectors, ``(ids, matrix)``); build an
    HNSW graph when the index is large. Returns the info the manifest records."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if len(ids) != len(vectors):
        raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
    np.save(folder / VECTORS_FILE, vectors)
    (folder / IDS_FILE).write_text(json.dumps(ids, ensure_ascii=False), encoding="utf-8")
    info = {"model": model, "model_fingerprint": fingerprint,
            "dimension": int(vectors.shape[1]) if vectors.ndim == 2 else 0,
            "normalised": True, "count": len(ids), "approximate": False}
    if sentences is not None:
        info["sentences"] = sentence_vectors.write(folder, *sentences, info["dimension"])
    threshold = settings.get("vector_ann_threshold")
    if threshold and len(ids) > threshold:
        build_hnsw(vectors).save_index(str(folder / HNSW_FILE))
        info["approximate"] = True
    (folder / INFO_FILE).write_text(json.dumps(info, ensure_ascii=False, indent=1),
                                    encoding="utf-8")
    return info


def build_hnsw(vectors: np.ndarray):
    """An HNSW graph over inner product (cosine, as vectors are normalised)."""
    import hnswlib

    graph = hnswlib.Index(space="ip", dim=vectors.shape[1])
    graph.init_index(max_elements=len(vectors), ef_construction=200,
                     M=settings.get("vector_hnsw_m"))
    graph.add_items(vectors, np.arange(len(vectors)))
    graph.set_ef(settings.get("vector_hnsw_ef"))
    return graph


def check_files(folder: Path, expected: dict) -> tuple[list[str] | None, list[str]]:
    """The vector ids of a generation, and a sentence for each damaged vector file.

    Cheap: reads the small JSON files and the ``.npy`` header, and compares the file's
    size with count × dimension × 4 bytes; no vector is read. ``expected`` is the vector
    info the manifest recorded.
    """
    folder = Path(folder)
    where = folder.name
    problems: list[str] = []
    info = _read_json(folder / INFO_FILE, dict, problems)
    ids = _read_json(folder / IDS_FILE, list, problems)
    count, dimension = expected.get("count"), expected.get("dimension")
    if info is not None and (info.get("count"), info.get("dimension")) != (count, dimension):
        problems.append(f"{where}/{INFO_FILE} records {info.get('count')} × "
                        f"{info.get('dimension')} vectors, the manifest {count} × {dimension}")
    if ids is not None and (len(ids) != count or not all(isinstance(i, str) for i in ids)):
        problems.append(f"{where}/{IDS_FILE} holds {len(ids)} ids for {count} vectors")
        ids = None
    problems += _check_matrix(folder / VECTORS_FILE, count, dimension)
    sentences = expected.get("sentences")
    if sentences:
        problems += sentence_vectors.check_files(folder, sentences, dimension, ids)
    if expected.get("approximate"):
        hnsw = folder / HNSW_FILE
        if not hnsw.is_file() or hnsw.stat().st_size == 0:
            problems.append(f"{where}/{HNSW_FILE} is missing or empty, but the manifest "
                            "says the vectors have an HNSW graph")
    return ids, problems


def _read_json(path: Path, kind: type, problems: list[str]):
    """A JSON file of the expected kind, or None with a problem noted."""
    name = f"{path.parent.name}/{path.name}"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.append(f"{name} is missing")
        return None
    except (OSError, ValueError) as exc:
        problems.append(f"{name} cannot be read ({reason(exc)})")
        return None
    if not isinstance(data, kind):
        problems.append(f"{name} does not hold a JSON {kind.__name__}")
        return None
    return data


def _check_matrix(path: Path, count, dimension) -> list[str]:
    """Problems of a ``.npy`` file that should hold count × dimension float32 values."""
    name = f"{path.parent.name}/{path.name}"
    try:
        with path.open("rb") as handle:
            version = np.lib.format.read_magic(handle)
            if version == (1, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_1_0(handle)
            else:
                shape, _fortran, dtype = np.lib.format.read_array_header_2_0(handle)
            header = handle.tell()
        size = path.stat().st_size
    except FileNotFoundError:
        return [f"{name} is missing"]
    except (OSError, ValueError) as exc:  # not an .npy file, or cut inside its header
        return [f"{name} is damaged: its header cannot be read ({reason(exc)})"]
    if shape != (count, dimension) or dtype != np.float32:
        return [f"{name} holds {dtype} {shape}, the manifest says float32 "
                f"({count}, {dimension})"]
    wanted = header + count * dimension * 4
    if size != wanted:
        return [f"{name} is {'truncated' if size < wanted else 'too long'}: {size} bytes, "
                f"{wanted} expected for {count} × {dimension} float32 vectors"]
    return []


class VectorRetriever(DenseRetriever):
    """Dense search over a generation's vector files (exact, or HNSW when large)."""

    def __init__(self, folder: Path, catalog: Catalog, embedder):
        folder = Path(folder)
        try:
            info = json.loads((folder / INFO_FILE).read_text(encoding="utf-8"))
            self.ids: list[str] = json.loads((folder / IDS_FILE).read_text(encoding="utf-8"))
            self.vectors = np.load(folder / VECTORS_FILE, mmap_mode="r")
        except (OSError, ValueError) as exc:  # missing, truncated or garbled files
            raise IndexDamaged([f"the vector index in {folder.name}/ cannot be opened "
                                f"({reason(exc)})"], folder.parent) from exc
        if self.vectors.shape != (info["count"], info["dimension"]) or len(self.ids) != \
                info["count"]:
            raise IndexDamaged([f"the vector index in {folder.name}/ holds "
                                f"{self.vectors.shape} vectors and {len(self.ids)} ids, its "
                                f"info says {info['count']} × {info['dimension']}"],
                               folder.parent)
        super().__init__(info, embedder)
        self.catalog = catalog
        self.graph = None
        if info.get("approximate") and (folder / HNSW_FILE).exists():
            import hnswlib

            self.graph = hnswlib.Index(space="ip", dim=info["dimension"])
            try:
                self.graph.load_index(str(folder / HNSW_FILE), max_elements=info["count"])
            except (OSError, RuntimeError) as exc:  # hnswlib's error for a damaged file
                raise IndexDamaged([f"{folder.name}/{HNSW_FILE} cannot be loaded "
                                    f"({reason(exc)})"], folder.parent) from exc
            self.graph.set_ef(settings.get("vector_hnsw_ef"))
        self._row_doc = np.array([catalog.passages[pid].doc_id for pid in self.ids])
        self._row_years = [set(passage_years(catalog.passages[pid],
                                             catalog.documents.get(catalog.passages[pid].doc_id)))
                           for pid in self.ids]
        self._row = {pid: row for row, pid in enumerate(self.ids)}
        self.sentences = sentence_vectors.SentenceVectors.open(folder, info, self._row) \
            if info.get("sentences") else None

    def allowed_rows(self, filters: Filters | None) -> np.ndarray | None:
        """A boolean row mask for the filters, or None for every row."""
        if not filters:
            return None
        docs, years = allowed_docs(self.catalog, filters), wanted_years(filters)
        if docs is None and years is None:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if docs is not None:
            mask &= np.isin(self._row_doc, list(docs))
        if years is not None:
            mask &= np.array([bool(row & years) for row in self._row_years], dtype=bool)
        return mask

    def search_vector(self, query: QueryVectors, k: int, filters: Filters | None = None
                      ) -> list[tuple[str, float]]:
        """The ``k`` best (passage id, dense score) pairs for the query's vectors."""
        mask = self.allowed_rows(filters)
        count = len(self.ids) if mask is None else int(mask.sum())
        k = min(k, count)
        if k <= 0:
            return []
        if self.graph is not None and mask is None:
            wanted = min(count, k * ANN_OVERFETCH if self.sentences is not None else k)
            labels, _ = self.graph.knn_query(query.vectors, k=wanted)  # a row per form
            rows = np.unique(np.asarray(labels, dtype=np.int64))
            scores = self.row_scores(query, rows)
            top = np.argsort(-scores, kind="stable")[:k]
            return [(self.ids[int(rows[i])], float(scores[i])) for i in top]
        scores = self.all_scores(query)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[int(r)], float(scores[r])) for r in top]

    def all_scores(self, query: QueryVectors) -> np.ndarray:
        """The dense score of every passage, in row order."""
        passage = query.cosines(self.vectors)
        if self.sentences is None or not self.sentence_weight:
            return passage
        return self.mix(passage, self.sentences.best_all(query, len(self.ids)))

    def row_scores(self, query: QueryVectors, rows: np.ndarray) -> np.ndarray:
        """The dense score of the passages in ``rows``."""
        passage = query.cosines(self.vectors[np.sort(rows)])
        passage = passage[np.argsort(np.argsort(rows))]  # mmap reads in order, then back
        if self.sentences is None or not self.sentence_weight:
            return passage
        return self.mix(passage, self.sentences.best_rows(query, rows))

    def cosines(self, query: QueryVectors, passage_ids: list[str]) -> np.ndarray:
        """The exact dense score of each listed passage for the query's vectors."""
        return self.row_scores(query, np.array([self._row[pid] for pid in passage_ids],
                                               dtype=np.int64))

    def row_of(self, passage_id: str) -> int:
        """The row of a passage's vector."""
        return self._row[passage_id]

    def passage_cosines(self, query: QueryVectors, passage_ids: list[str]) -> np.ndarray:
        """The cosine of each listed passage's own vector (without its sentences)."""
        rows = [self._row[pid] for pid in passage_ids]
        return query.cosines(self.vectors[rows])

    def sentence_cosines(self, query: QueryVectors, passage_ids: list[str]
                         ) -> dict[tuple[str, int], float]:
        """The cosine of every sentence of the listed passages, by (passage id, start)."""
        if self.sentences is None:
            return {}
        return self.sentences.of_passages(query, [self._row[pid] for pid in passage_ids])


def embed_catalog(catalog: Catalog, embedder, progress: Callable | None = None) -> np.ndarray:
    """Vectors for every passage of a catalog, in catalog order (cached ones reused)."""
    texts = [passage.text for passage in catalog.passage_list]
    return embedder.embed_passages(texts, progress=progress)
