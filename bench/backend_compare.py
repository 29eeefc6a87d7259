"""The Milvus backend against the local one: the same questions, the same passages.

Run: .venv/bin/python -m bench.backend_compare --sample cmrc2018 [--queries-file queries.jsonl]

Indexes a dev sample plus 3,000 distractor passages into both backends (the local files
and milvus-lite under a scratch alias), then, in every mode, measures recall@1/5 and
MRR@10 on each (counted as ``indexer eval`` counts them) and the top-10 overlap between
them: the share of one backend's first ten results the other also ranks in its first
ten. ``--limit`` takes a seeded sample of the questions (milvus-lite is slow). Prints
one JSON object. The embedding cache makes the second build free of model time.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.data import shared_file

MODES = ("keyword", "semantic", "hybrid")
DEPTH = 30  # passages read per question (several may come from one gold document)


def rankings(engine, queries: list[dict], mode: str) -> list[list[str]]:
    """The gold-comparable units (passages or documents) each question ranks, in order."""
    from indexer.evaluate import ranked_units

    found = []
    for query in queries:
        try:
            found.append(ranked_units(engine, query["question"], mode, DEPTH,
                                      set(query["gold_pids"])))
        except ValueError:  # nothing to search in this question: a miss
            found.append([])
    return found


def figures(queries: list[dict], ranked: list[list[str]]) -> dict:
    """recall@1, recall@5 and MRR@10 as ``indexer eval`` counts them."""
    ranks = [next((r for r, unit in enumerate(units, start=1) if unit in q["gold_pids"]),
                  None) for q, units in zip(queries, ranked, strict=True)]
    total = len(ranks)
    return {"recall@1": round(sum(r == 1 for r in ranks) / total, 4),
            "recall@5": round(sum(r is not None and r <= 5 for r in ranks) / total, 4),
            "mrr@10": round(sum(1 / r for r in ranks if r and r <= 10) / total, 4)}


def overlap(first: list[list[str]], second: list[list[str]]) -> dict:
    """How far two backends agree: the shared share of their top 10, and the same first."""
    pairs = list(zip(first, second, strict=True))
    shares = [len(set(a[:10]) & set(b[:10])) / max(1, len(a[:10]), len(b[:10]))
              for a, b in pairs]
    return {"top10_overlap": round(sum(shares) / len(shares), 3),
            "same_first": round(sum(bool(a) and bool(b) and a[0] == b[0]
                                    for a, b in pairs) / len(pairs), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", default="cmrc2018", help="cmrc2018 or drcd")
    parser.add_argument("--queries-file", default="queries.jsonl")
    parser.add_argument("--distractors", type=int, default=3000)
    parser.add_argument("--limit", type=int, default=0,
                        help="a seeded sample of this many answerable questions (0: all)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    from indexer.embed import open_embedder
    from indexer.evaluate import load_queries, prepare_corpus
    from indexer.milvus.scratch import scratch_engine
    from indexer.retrieve.engine import Engine
    from indexer.store.build import build_local

    work = Path(tempfile.mkdtemp(prefix="backend-compare-"))
    os.environ.setdefault("POLICYQA_MILVUS_URI", str(work / "milvus.db"))
    queries, _ = load_queries(shared_file(f"{args.sample}/{args.queries_file}"), None)
    queries = [q for q in queries if q["gold_pids"]]
    if args.limit and args.limit < len(queries):
        queries = random.Random(7).sample(queries, args.limit)
    result: dict = {"sample": args.sample, "queries_file": args.queries_file,
                    "queries": len(queries), "distractors": args.distractors,
                    "backends": {}, "agreement": {}}
    try:
        prepare_corpus(work / "corpus", shared_file(f"{args.sample}/passages.jsonl"),
                       shared_file("scale_passages.jsonl"), args.distractors)
        embedder = open_embedder()
        started = time.perf_counter()
        build_local(work / "corpus", work / "index", embedder=embedder)
        built = {"local": time.perf_counter() - started}
        local = Engine(work / "index", embedder=embedder)
        started = time.perf_counter()
        with scratch_engine(work / "corpus") as milvus:
            built["milvus"] = time.perf_counter() - started
            ranked: dict[str, dict[str, list]] = {mode: {} for mode in MODES}
            for name, engine in (("local", local), ("milvus", milvus)):
                result["backends"][name] = {"build_seconds": round(built[name], 1)}
                for mode in MODES:
                    started = time.perf_counter()
                    ranked[mode][name] = rankings(engine, queries, mode)
                    result["backends"][name][mode] = {
                        **figures(queries, ranked[mode][name]),
                        "mean_ms": round((time.perf_counter() - started) * 1000
                                         / len(queries), 1)}
            for mode in MODES:
                result["agreement"][mode] = overlap(ranked[mode]["local"],
                                                    ranked[mode]["milvus"])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
