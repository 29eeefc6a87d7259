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

from indexer.evaluate import load_queries, prepare_corpus
from indexer.retrieve.engine import Engine
from indexer.retrieve.hybrid import HybridSearcher
from indexer.store.build import build
from indexer.text.query import parse

ROOT = Path(__file__).resolve().parent.parent
SCALE = ROOT.parent / "shared" / "bench" / "scale_passages.jsonl"
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
    queries, _ = load_queries(args.queries)
    work = Path(tempfile.mkdtemp(prefix="fusion-"))
    try:
        prepare_corpus(work / "corpus", args.corpus, SCALE, args.distractor_count)
        build(work / "corpus", work / "index")
        engine = Engine(work / "index")
        generation = engine.generation()
        catalog = generation.catalog
        sides = []
        for query in queries:
            parsed = parse(query["question"])
            keyword = generation.keyword.ranked_ids(parsed, 50)
            vector_query = generation.vector.embedder.embed_query(parsed.text)
            vector = generation.vector.search_vector(vector_query, 50)
            sides.append((keyword, vector, vector_query))
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
            ranked = [docs([pid for pid, _ in side[index]]) for side in sides]
            result[name] = {"recall@1": recall(ranked, golds, 1),
                            "recall@5": recall(ranked, golds, 5)}
        for fusion, weight in SETTINGS:
            hybrid = HybridSearcher(generation.keyword, generation.vector,
                                    {"hybrid_fusion": fusion, "hybrid_keyword_weight": weight})
            ranked = [docs([h.passage_id for h in hybrid.fuse(k, v, qv, 20)])
                      for k, v, qv in sides]
            result[f"{fusion} w={weight}"] = {"recall@1": recall(ranked, golds, 1),
                                              "recall@5": recall(ranked, golds, 5)}
        print(json.dumps(result, ensure_ascii=False, indent=1))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
