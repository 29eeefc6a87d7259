"""Does folding to simplified before embedding close the script gap of the dense model?

Run: .venv/bin/python -m bench.fold_embed [--distractor-count 3000]

DRCD passages (traditional) plus the first N passages of the scale file, asked with the
original traditional questions and with their simplified versions (``queries_zhs``).
Each side is embedded as written and folded (``analysis.fold``: traditional → simplified,
full-width → half-width, lowercase), and exact cosine search scores recall@1/5 by gold
passage for the four combinations. The embedding cache keeps re-runs cheap. Prints one
JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import numpy as np

from bench.data import shared_file


def read_jsonl(path: Path, limit: int | None = None) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if limit is not None and len(rows) >= limit:
                break
            rows.append(json.loads(line))
    return rows


def recall(query_vectors: np.ndarray, passage_vectors: np.ndarray, pids: list[str],
           gold: list[set[str]]) -> dict[str, float]:
    """recall@1 and @5 of exact cosine search by gold passage id."""
    scores = query_vectors @ passage_vectors.T
    top = np.argsort(-scores, axis=1)[:, :5]
    hits1 = sum(pids[row[0]] in wanted for row, wanted in zip(top, gold, strict=True))
    hits5 = sum(any(pids[i] in wanted for i in row) for row, wanted in zip(top, gold,
                                                                          strict=True))
    return {"recall@1": round(hits1 / len(gold), 4), "recall@5": round(hits5 / len(gold), 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--distractor-count", type=int, default=3000)
    args = parser.parse_args()
    drcd_passages = shared_file("drcd/passages.jsonl")
    scale_file = shared_file("scale_passages.jsonl")
    query_files = {name: shared_file(f"drcd/{name}.jsonl") for name in ("queries", "queries_zhs")}
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")

    from indexer.embed.embedder import Embedder
    from indexer.text.analysis import fold

    passages = (read_jsonl(drcd_passages)
                + read_jsonl(scale_file, args.distractor_count))
    pids = [p["pid"] for p in passages]
    texts = [p["text"] for p in passages]
    embedder = Embedder()
    passage_sides = {"as_written": embedder.embed_passages(texts),
                     "folded": embedder.embed_passages([fold(t) for t in texts])}
    report: dict = {"passages": len(passages), "results": {}}
    for name, path in query_files.items():
        queries = [q for q in read_jsonl(path) if q["question"]]
        gold = [set(q["gold_pids"]) for q in queries]
        questions = [q["question"] for q in queries]
        query_sides = {"as_written": embedder.embed_queries(questions),
                       "folded": embedder.embed_queries([fold(q) for q in questions])}
        for side in ("as_written", "folded"):
            report["results"][f"{name}/{side}"] = recall(
                query_sides[side], passage_sides[side], pids, gold)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
