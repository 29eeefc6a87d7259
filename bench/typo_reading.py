"""How often reading a question's typo (``Engine.read_question``) helps, and how often it harms.

Run: .venv/bin/python -m bench.typo_reading [--index DIR] [--queries FILE ...]

Over the own-words typo questions (``bench/ownwords/typos.jsonl``), by split: how many
are read with the word the writer meant (``typo_of`` in the question as read). Over
questions typed without a typo (the other own-words files and ``bench/answer_questions.jsonl``
by default; with ``--queries``, those files instead, e.g. a dev sample's questions with its
``--index``): how many are read as something else. Without ``--index`` the bundled corpus
is indexed in a temporary folder first. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
from collections import Counter
from pathlib import Path

from bench.answer_data import corpus_index, read_jsonl
from bench.data import ROOT

TYPOS = ROOT / "bench" / "ownwords" / "typos.jsonl"
WELL_TYPED = [ROOT / "bench" / "ownwords" / "questions.jsonl",
              ROOT / "bench" / "ownwords" / "near_miss.jsonl",
              ROOT / "bench" / "answer_questions.jsonl"]


def rows(path: Path) -> list[dict]:
    """The questions of a .jsonl file (empty ones skipped)."""
    return [row for row in read_jsonl(path) if row.get("question", "").strip()]


def measure(engine, typos: list[dict], well_typed: list[dict]) -> dict:
    """Typos read right, by split, and well-typed questions read as something else."""
    from indexer.text.analysis import fold

    generation = engine.generation()
    corrected, total = Counter(), Counter()
    for row in typos:
        split = row.get("split") or "all"
        total[split] += 1
        read = engine.read_question(row["question"], generation)
        corrected[split] += read is not None and fold(row["typo_of"]) in fold(read)
    changed = []
    for row in well_typed:
        read = engine.read_question(row["question"], generation)
        if read is not None:
            changed.append({"question": row["question"], "read_as": read})
    return {"typos": {split: {"questions": total[split], "read_right": corrected[split]}
                      for split in sorted(total)},
            "well_typed": {"questions": len(well_typed), "changed": len(changed),
                           "examples": changed[:20]}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an existing index (default: build corpus/)")
    parser.add_argument("--queries", type=Path, nargs="+",
                        help="well-typed question files (default: the own-words ones)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")

    from indexer.retrieve.engine import Engine

    typos = [] if args.queries else rows(TYPOS)
    well_typed = [row for path in (args.queries or WELL_TYPED) for row in rows(path)]
    with tempfile.TemporaryDirectory() as tmp:
        index = args.index or corpus_index(Path(tmp))
        report = measure(Engine(index), typos, well_typed)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
