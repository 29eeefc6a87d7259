"""Vector search at scale: exact (numpy) vs approximate (HNSW), latency and recall@10.

Run: .venv/bin/python -m bench.vector_bench [--count 100000] [--queries 300]

Embedding 100k passages takes over an hour on two cores, so the 100k vectors are made
from the real passage embeddings already in the embedding cache (run an eval or a build
first), each perturbed with Gaussian noise and re-normalised: the same anisotropic
shape as real e5 vectors, with no exact duplicates. Queries are further perturbations.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.timing import percentiles


def cached_vectors(cache_dir: Path) -> np.ndarray:
    """Every vector of the largest embedding cache file."""
    files = sorted(cache_dir.glob("*.sqlite"), key=lambda p: p.stat().st_size)
    if not files:
        raise SystemExit(f"no embedding cache in {cache_dir}: build an index first")
    with sqlite3.connect(files[-1]) as db:
        rows = [np.frombuffer(blob, dtype=np.float32) for (blob,) in
                db.execute("SELECT vec FROM vectors")]
    return np.stack(rows)


def synthetic(base: np.ndarray, count: int, noise: float, rng) -> np.ndarray:
    picks = base[rng.integers(0, len(base), count)]
    vectors = picks + rng.normal(0, noise / np.sqrt(base.shape[1]), picks.shape)
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def main() -> None:
    from indexer import settings
    from indexer.retrieve import vectors

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.3)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    base = cached_vectors(settings.get("embedding_cache_dir"))
    matrix = synthetic(base, args.count, args.noise, rng)
    queries = synthetic(base, args.queries, args.noise, rng)

    def exact(query):
        scores = matrix @ query
        top = np.argpartition(-scores, 9)[:10]
        return top[np.argsort(-scores[top])]

    exact_times, truth = [], []
    for query in queries:
        started = time.perf_counter()
        truth.append(set(exact(query).tolist()))
        exact_times.append(time.perf_counter() - started)

    started = time.perf_counter()
    graph = vectors.build_hnsw(matrix)
    build_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        graph.save_index(str(Path(tmp) / "g.hnsw"))
        graph_mb = (Path(tmp) / "g.hnsw").stat().st_size / 2**20
    results = {"vectors": args.count, "dimension": int(matrix.shape[1]),
               "base_real_vectors": len(base), "exact": percentiles(exact_times),
               "hnsw_build_seconds": round(build_seconds, 1), "hnsw_mb": round(graph_mb, 1),
               "hnsw": {}}
    for ef in (50, 100, 200, 400):
        graph.set_ef(ef)
        times, recall = [], []
        for query, true_top in zip(queries, truth, strict=True):
            started = time.perf_counter()
            labels, _ = graph.knn_query(query, k=10)
            times.append(time.perf_counter() - started)
            recall.append(len(true_top & set(labels[0].tolist())) / 10)
        results["hnsw"][f"ef={ef}"] = {**percentiles(times),
                                       "recall@10": round(float(np.mean(recall)), 4)}
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
