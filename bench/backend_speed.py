"""Build rate and search latency of both backends on the same passages, in one run.

Run: .venv/bin/python -m bench.backend_speed --passages 20000 [--queries 300]
     .venv/bin/python -m bench.backend_speed --passages 100000 --keyword-only --backends milvus

Indexes the first N passages of ../shared/bench/scale_passages.jsonl into the local
backend and into milvus-lite, then times ``Engine.search`` (k=10, with totals, facets
and highlights) for the same 1–4 word queries in each mode. The vectors come from a
hashed character-bigram stand-in of the real model's dimension (384), so the figures
are the engines' work, not the model's: embedding is measured by bench.runtime_bench.
milvus-lite runs Milvus's engine in Python, one process: it is not a speed reference
for a Milvus cluster. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import tempfile
import time
from pathlib import Path

from bench.backend_compare import overlap
from bench.data import scale_rows
from bench.keyword_bench import make_queries
from bench.timing import percentiles


def stand_in(cache: Path):
    """A 384-dimension hashed embedder with the real one's interface (see tests/fakes)."""
    from tests.fakes import FakeEmbedder

    class Hashed384(FakeEmbedder):
        dimension = 384
        name = fingerprint = "hashed-bigram-384"

    return Hashed384(cache)


def bench_backend(name: str, corpus: Path, work: Path, queries: list[str], modes: list[str],
                  embedder) -> tuple[dict, dict[str, list[list[str]]]]:
    from indexer.retrieve.engine import Engine
    from indexer.store.build import build

    os.environ["POLICYQA_INDEX_BACKEND"] = name
    started = time.perf_counter()
    report = build(corpus, work / f"index-{name}", embedder=embedder)
    seconds = time.perf_counter() - started
    engine = Engine(work / f"index-{name}", embedder=embedder)
    engine.generation()
    figures = {"build_seconds": round(seconds, 1),
               "build_passages_per_s": round(report.passages / seconds, 1)}
    tops = {}
    for mode in modes:
        for query in queries[:3]:  # warm caches
            engine.search(query, mode=mode, k=10)
        samples, tops[mode] = [], []
        for query in queries:
            started = time.perf_counter()
            hits = engine.search(query, mode=mode, k=10).hits
            samples.append(time.perf_counter() - started)
            tops[mode].append([hit.passage_id for hit in hits])
        figures[mode] = percentiles(samples)
    return figures, tops


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--backends", default="local,milvus")
    parser.add_argument("--keyword-only", action="store_true", help="no vectors")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ["POLICYQA_PROGRESS"] = "false"

    lines = scale_rows(args.passages)
    queries = make_queries([json.loads(line)["text"] for line in lines], args.queries)
    work = Path(tempfile.mkdtemp(prefix="backend-speed-"))
    os.environ["POLICYQA_MILVUS_URI"] = str(work / "milvus.db")
    if args.keyword_only:
        os.environ["POLICYQA_VECTORS_ENABLED"] = "false"
    modes = ["keyword"] if args.keyword_only else ["keyword", "semantic", "hybrid"]
    result: dict = {"passages": len(lines), "queries": len(queries), "backends": {}}
    try:
        corpus = work / "corpus"
        corpus.mkdir()
        (corpus / "scale.jsonl").write_text("".join(lines), encoding="utf-8")
        embedder = None if args.keyword_only else stand_in(work / "embeddings")
        tops = {}
        for name in args.backends.split(","):
            result["backends"][name], tops[name] = bench_backend(
                name, corpus, work, queries, modes, embedder)
        if len(tops) == 2:
            first, second = tops.values()
            result["agreement"] = {mode: overlap(first[mode], second[mode]) for mode in modes}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
