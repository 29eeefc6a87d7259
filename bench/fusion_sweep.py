"""Tune hybrid fusion on a dev sample: retrieve once per side, fuse many ways.

Run: .venv/bin/python -m bench.fusion_sweep --corpus ../shared/bench/drcd/passages.jsonl \
         --queries ../shared/bench/drcd/queries.jsonl [--distractor-count 3000]

Builds a temporary index of the passages plus distractors from the scale file (the
embedding cache makes rebuilds cheap), takes each side's top 50 once per question, then
scores recall@1/5 by gold document for each fusion setting. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from bench.data import existing_file, shared_file
from indexer.evaluate import load_queries, prepare_corpus
from indexer.retrieve.engine import Engine
from indexer.retrieve.hybrid import HybridRetriever
from indexer.retrieve.protocol import ranked_with_fallback
from indexer.store.build import build
from indexer.text.query import parse

SETTINGS = [("rrf", w) for w in (0.5, 0.7)] + [("blend", w) for w in
                                                (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)]


def recall(ranked_docs: list[list[str]], golds: list[set[str]], n: int) -> float:
    return round(sum(bool(g & set(r[:n])) for r, g in zip(ranked_docs, golds, strict=True))
                 / len(golds), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--queries", type=Path, required=True)
    parser.add_argument("--distractor-count", type=int, default=3000)
    args = parser.parse_args()
    corpus, queries_file = existing_file(args.corpus), existing_file(args.queries)
    scale = shared_file("scale_passages.jsonl") if args.distractor_count else None
    queries, _ = load_queries(queries_file)
    work = Path(tempfile.mkdtemp(prefix="fusion-"))
    try:
        prepare_corpus(work / "corpus", corpus, scale, args.distractor_count)
        build(work / "corpus", work / "index")
        engine = Engine(work / "index")
        generation = engine.generation()
        catalog = generation.catalog
        sides = []
        for query in queries:
            parsed = parse(query["question"])
            keyword, _ = ranked_with_fallback(generation.retriever("keyword"), parsed, 50)
            vector = generation.retriever("semantic").ranked(parsed, 50)
            sides.append((parsed, keyword, vector))
        golds = [set(q["gold_pids"]) for q in queries]

        def docs(ranked) -> list[str]:
            seen: list[str] = []
            for pid in ranked:
                doc = catalog.passages[pid].doc_id
                if doc not in seen:
                    seen.append(doc)
            return seen

        result = {"queries": len(queries), "passages": len(catalog.documents)}
        for name, index in (("keyword", 0), ("semantic", 1)):
            ranked = [docs([hit.passage_id for hit in side[index + 1]]) for side in sides]
            result[name] = {"recall@1": recall(ranked, golds, 1),
                            "recall@5": recall(ranked, golds, 5)}
        for fusion, weight in SETTINGS:
            hybrid = HybridRetriever(generation.retriever("keyword"),
                                     generation.retriever("semantic"),
                                     {"hybrid_fusion": fusion, "hybrid_keyword_weight": weight})
            ranked = [docs([h.passage_id for h in hybrid.fuse(parsed, k, v, 20)])
                      for parsed, k, v in sides]
            result[f"{fusion} w={weight}"] = {"recall@1": recall(ranked, golds, 1),
                                              "recall@5": recall(ranked, golds, 5)}
        print(json.dumps(result, ensure_ascii=False, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
