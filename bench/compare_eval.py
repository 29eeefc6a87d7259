"""Measure the comparison (one answer per report) on cross-report questions.

Run: .venv/bin/python -m bench.compare_eval [--index DIR] [--mode hybrid] [--json]

``bench/compare/questions.jsonl`` holds questions written for the five bundled reports.
For each question, ``gold`` names the reports that address it, with the sentences that
answer (substrings of the report text); ``optional`` the reports whose sentences answer
loosely (citing them is right, refusing there is not a miss); ``absent`` the reports that
do not address it. Each (question, report) pair is one group:

- precision: of the groups answered, the share whose cited sentence answers (a citation
  overlapping a gold or optional sentence); ``strict`` counts a group only when every
  citation does;
- recall: of the groups that address the question, the share answered with such a
  citation;
- false answers: groups answered although the report does not address the question.

Both thresholds of the decision (``compare_min_overlap``, ``compare_min_coverage``) were
chosen on these questions, so the figures above are in-sample. ``--cv`` also reports them
leave-one-question-out: for each question, the thresholds are chosen on the other 24 (the
grid point with the best lower of precision and recall) and applied to it.

Without ``--index``, the bundled corpus is indexed in a temporary folder first (the
embedding cache answers for unchanged passages).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

from bench.data import ROOT

QUESTIONS = ROOT / "bench" / "compare" / "questions.jsonl"


def read_questions(path: Path = QUESTIONS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def spans(text: str, snippets: list[str]) -> list[tuple[int, int]]:
    """Where each snippet sits in ``text``; a snippet not found is an error in the set."""
    found = []
    for snippet in snippets:
        start = text.find(snippet)
        if start < 0:
            raise SystemExit(f"bench.compare_eval: gold text not in the report: {snippet!r}")
        found.append((start, start + len(snippet)))
    return found


def answers(citation: dict, allowed: list[tuple[int, int]]) -> bool:
    """True if the cited span overlaps one of the allowed sentences."""
    return any(citation["start"] < end and start < citation["end"] for start, end in allowed)


def evaluate(engine, questions: list[dict], mode: str | None) -> dict:
    """Precision, recall and false answers over every (question, report) group."""
    from indexer.answer.compare import compare
    from indexer.serialize import comparison_dict

    generation = engine.generation()
    catalog = generation.catalog
    counts = {"answered": 0, "right": 0, "strict": 0, "addressed": 0, "found": 0,
              "not_addressed": 0, "false_answers": 0}
    rows = []
    for question in questions:
        data = comparison_dict(compare(engine, question["question"], "doc", mode,
                                       generation), catalog, references=False)
        for group in data["groups"]:
            doc_id = group["key"]
            text = catalog.documents[doc_id].text
            gold = spans(text, question["gold"].get(doc_id, []))
            allowed = gold + spans(text, question["optional"].get(doc_id, []))
            cited = group["citations"]
            right = bool(cited) and any(answers(c, allowed) for c in cited)
            if group["answerable"]:
                counts["answered"] += 1
                counts["right"] += right
                counts["strict"] += bool(cited) and all(answers(c, allowed) for c in cited)
            if gold:
                counts["addressed"] += 1
                counts["found"] += group["answerable"] and right
            if doc_id in question["absent"]:
                counts["not_addressed"] += 1
                counts["false_answers"] += group["answerable"]
            verdict = ("right" if right else "wrong") if group["answerable"] else (
                "missed" if gold else "refused")
            rows.append({"id": question["id"], "doc": doc_id[:3], "verdict": verdict,
                         "quote": cited[0]["quote"][:60] if cited else None})

    def share(part: int, whole: int) -> float | None:
        return round(part / whole, 3) if whole else None

    return {
        "questions": len(questions), "groups": len(rows), "mode": data["mode"] if rows else mode,
        "precision": share(counts["right"], counts["answered"]),
        "precision_strict": share(counts["strict"], counts["answered"]),
        "recall": share(counts["found"], counts["addressed"]),
        "false_answer_rate": share(counts["false_answers"], counts["not_addressed"]),
        **counts, "rows": rows,
    }


OVERLAPS = [round(0.1 + 0.02 * i, 2) for i in range(30)]
COVERAGES = [round(0.05 * i, 2) for i in range(16)]


def cross_validate(engine, questions: list[dict], mode: str | None) -> dict:
    """Precision and recall with thresholds chosen leave-one-question-out (see above)."""
    from indexer.answer.compare import addresses, best_sentence, groups

    generation = engine.generation()
    catalog = generation.catalog
    mode = mode or ("hybrid" if generation.has_vectors else "keyword")
    cases: dict[str, list[tuple[dict, bool, bool, bool]]] = {}
    for question in questions:
        for group in groups(catalog, "doc"):
            best, _ = best_sentence(engine, generation, question["question"], mode,
                                    group.filters)
            text = catalog.documents[group.key].text
            gold = spans(text, question["gold"].get(group.key, []))
            allowed = gold + spans(text, question["optional"].get(group.key, []))
            right = best is not None and answers({"start": best.start, "end": best.end},
                                                 allowed)
            cases.setdefault(question["id"], []).append(
                (best.features if best else {}, right, bool(gold),
                 group.key in question["absent"]))

    def counts(rows, overlap, coverage):
        answered = right = addressed = found = 0
        for features, is_right, is_gold, _ in rows:
            yes = bool(features) and addresses(features, overlap, coverage)
            answered += yes
            right += yes and is_right
            addressed += is_gold
            found += yes and is_right and is_gold
        return answered, right, addressed, found

    def quality(total):
        answered, right, addressed, found = total
        precision = right / answered if answered else 0.0
        recall = found / addressed if addressed else 0.0
        return min(precision, recall), precision + recall

    total = [0, 0, 0, 0]
    for held_out in cases:
        train = [row for q, rows in cases.items() if q != held_out for row in rows]
        overlap, coverage = max(((o, c) for o in OVERLAPS for c in COVERAGES),
                                key=lambda pair: quality(counts(train, *pair)))
        total = [a + b for a, b in zip(total, counts(cases[held_out], overlap, coverage),
                                       strict=True)]
    answered, right, addressed, found = total
    return {"cv_precision": round(right / answered, 3) if answered else None,
            "cv_recall": round(found / addressed, 3) if addressed else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare_eval", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, help="an index of corpus/ (default: build one)")
    parser.add_argument("--mode", choices=("keyword", "semantic", "hybrid"), default=None,
                        help="how passages are ranked (default: as the product asks)")
    parser.add_argument("--questions", type=Path, default=QUESTIONS)
    parser.add_argument("--cv", action="store_true",
                        help="also leave-one-question-out figures for the thresholds")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")

    from indexer.retrieve.engine import Engine
    from indexer.store.build import build

    questions = read_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="compare-eval-") as folder:
        index = args.index
        if index is None:
            index = Path(folder) / "index"
            build(ROOT / "corpus", index)
        engine = Engine(index)
        result = evaluate(engine, questions, args.mode)
        if args.cv:
            result.update(cross_validate(engine, questions, args.mode))
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1))
        return 0
    for row in result.pop("rows"):
        if row["verdict"] in ("wrong", "missed"):
            print(f"{row['id']} {row['doc']} {row['verdict']:>7}  {row['quote'] or ''}")
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
