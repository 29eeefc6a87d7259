"""Ask latency: whole ``Engine.ask`` calls (retrieval + extractive answer), the model warm.

Run: .venv/bin/python -m bench.ask_latency [--scale 20000] [--index DIR] [--rounds 2]

Builds (or reuses, with ``--index``) an index of the bundled corpus plus, with ``--scale N``,
the first N passages of ``../shared/bench/scale_passages.jsonl``, then asks the written
questions of ``bench/answer_questions.jsonl`` in the default mode (hybrid). The first
round runs with an empty sentence-embedding cache; later rounds repeat the questions, as
a server sees popular questions again. Prints one JSON object of p50/p95 per round.
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

from bench.data import ROOT, scale_rows
from bench.timing import percentiles

QUESTIONS = ROOT / "bench" / "answer_questions.jsonl"


def make_index(index: Path, scale: int) -> None:
    """Build ``index`` from corpus/ plus the first ``scale`` scale passages."""
    from indexer.store.build import build

    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        shutil.copytree(ROOT / "corpus", corpus)
        if scale:
            (corpus / "scale.jsonl").write_text("".join(scale_rows(scale)), encoding="utf-8")
        build(corpus, index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=0, help="scale passages to add")
    parser.add_argument("--index", type=Path, help="index folder: built if it has no index")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")

    from indexer.embed.embedder import Embedder
    from indexer.retrieve.engine import Engine

    questions = [json.loads(line)["question"]
                 for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line]
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or Path(tmp) / "index"
        if not (index / "CURRENT").exists():
            make_index(index, args.scale)
        # Sentences of answers are embedded through the cache: start it empty.
        os.environ["POLICYQA_EMBEDDING_CACHE_DIR"] = str(Path(tmp) / "cache")
        engine = Engine(index, embedder=Embedder())
        engine.ask("热身")  # load the model and open the index
        generation = engine.generation()
        report: dict = {"passages": len(generation.catalog.passage_list),
                        "questions": len(questions), "mode": "hybrid", "rounds": {}}
        for number in range(1, args.rounds + 1):
            times = []
            for question in questions:
                started = time.perf_counter()
                engine.ask(question)
                times.append(time.perf_counter() - started)
            report["rounds"][f"round{number}"] = percentiles(times)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
