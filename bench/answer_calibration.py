"""Calibrate and check the answer threshold: false refusals and false answers.

Run: .venv/bin/python -m bench.answer_calibration [--index DIR] [--samples 200]

Three question sets:

- ``bench/answer_questions.jsonl``: questions written for the bundled corpus, some
  answered in it (``expect``: a string the cited sentence must contain), some not.
- CMRC 2018 and DRCD dev questions (``../shared/bench``; DRCD asked in simplified against
  traditional text), asked of an index of their own paragraphs: an answer counts as right
  when a cited sentence of a gold paragraph contains a gold answer.
- The same CMRC/DRCD questions asked of the bundled corpus, where none is answered: every
  answer there is a false answer.

Retrieval is the product's (``Engine.ask``: the top ``answer_passages`` hybrid hits), and
so is scoring (the answer model reads the build-time sentence vectors). Prints, per set
and answerability threshold, the share of questions answered right, answered wrong and
refused (``--json``: one JSON object); the model's calibrated threshold is marked. The
own-words figures by kind come from ``indexer eval`` (README, "Evaluation"). Whole-ask
latency is ``bench.ask_latency``'s.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import sys
import tempfile
from pathlib import Path

from bench.answer_data import read_jsonl
from bench.data import ROOT, shared_file

QUESTIONS = ROOT / "bench" / "answer_questions.jsonl"
SHARED_PASSAGES = ("cmrc2018/passages.jsonl", "drcd/passages.jsonl")
SHARED_QUESTIONS = ("cmrc2018/queries.jsonl", "drcd/queries_zhs.jsonl")
THRESHOLDS = [round(0.05 * i, 2) for i in range(1, 20)]


def judge(engine, question: str, expect: list[str] | None,
          gold_docs: set[str] | None) -> dict:
    """The scored sentences of one question, reduced to what each threshold would do."""
    from indexer import settings
    from indexer.answer.extract import answerability, choose, score_sentences
    from indexer.answer.model import load_model
    from indexer.text.analysis import fold

    generation = engine.generation()
    hits = engine.search(question, mode="hybrid", k=settings.get("answer_passages"),
                         generation=generation).hits
    scored = score_sentences(question, hits, generation.catalog,
                             generation.retrievers.get("semantic"))
    confidence = answerability(scored)
    follow = load_model().variant(dense=True).follow_threshold
    outcome = {"question": question, "best": round(confidence, 4), "right": {}}
    for threshold in THRESHOLDS:
        chosen = choose(scored, confidence, threshold, follow)
        right = False
        if chosen and expect:
            right = any(fold(e) in fold(s.text) for s in chosen for e in expect
                        if gold_docs is None or s.passage.doc_id in gold_docs)
        outcome["right"][threshold] = right
    outcome["top"] = scored[0].text[:60] if scored else ""
    return outcome


def rates(outcomes: list[dict], answerable: bool) -> dict:
    """Per threshold: answered right / answered wrong / refused, as shares."""
    table = {}
    for threshold in THRESHOLDS:
        answered = [o for o in outcomes if o["best"] >= threshold]
        right = sum(1 for o in answered if o["right"][threshold])
        n = len(outcomes) or 1
        if answerable:
            table[threshold] = {"right": round(right / n, 3),
                                "wrong": round((len(answered) - right) / n, 3),
                                "refused": round(1 - len(answered) / n, 3)}
        else:
            table[threshold] = {"false_answer": round(len(answered) / n, 3)}
    return table


def bench_index(workdir: Path) -> Path:
    """An index of the CMRC 2018 and DRCD dev paragraphs (one document per paragraph)."""
    from indexer.store.build import build

    corpus = workdir / "bench_corpus"
    corpus.mkdir()
    with (corpus / "paragraphs.jsonl").open("w", encoding="utf-8") as out:
        for relpath in SHARED_PASSAGES:
            for row in read_jsonl(shared_file(relpath)):
                out.write(json.dumps({"id": row["pid"], "title": row["title"],
                                      "text": row["text"]}, ensure_ascii=False) + "\n")
    index = workdir / "bench_index"
    build(corpus, index)
    return index


def bench_questions(samples: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    chosen = []
    for relpath in SHARED_QUESTIONS:
        rows = [row for row in read_jsonl(shared_file(relpath)) if row["question"].strip()]
        chosen.extend(rng.sample(rows, min(samples, len(rows))))
    return chosen


def table(report: dict) -> str:
    """The rates as a text table: one row per threshold, one column group per set."""
    sets = [name for name in report["sets"]]
    lines = ["threshold  " + "  ".join(f"{name} (n={report['sets'][name]['n']})"
                                       for name in sets)]
    for threshold in THRESHOLDS:
        cells = []
        for name in sets:
            row = report["sets"][name]["rates"][threshold]
            if "false_answer" in row:
                cells.append(f"false answer {row['false_answer']:.1%}")
            else:
                cells.append(f"right {row['right']:.1%} wrong {row['wrong']:.1%} "
                             f"refused {row['refused']:.1%}")
        mark = " <- calibrated" if abs(threshold - report["threshold"]) < 0.025 else ""
        lines.append(f"{threshold:<9}  " + " | ".join(cells) + mark)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="index of the bundled corpus (default: "
                        "built in a temporary folder)")
    parser.add_argument("--samples", type=int, default=150,
                        help="CMRC and DRCD questions each (0: skip those sets)")
    parser.add_argument("--show", action="store_true", help="print every written question")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    if args.samples:  # say now, not after the written questions, if the data is missing
        for relpath in (*SHARED_PASSAGES, *SHARED_QUESTIONS):
            shared_file(relpath)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")
    logging.basicConfig(level=logging.WARNING)

    from indexer.answer.model import load_model
    from indexer.retrieve.engine import Engine
    from indexer.store.build import build

    report: dict = {"threshold": load_model().variant(dense=True).answer_threshold,
                    "sets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        index = args.index
        if index is None:
            index = workdir / "index"
            build(ROOT / "corpus", index)
        engine = Engine(index)
        groups: dict[str, list[dict]] = {}
        for row in read_jsonl(QUESTIONS):
            outcome = judge(engine, row["question"], row.get("expect"), None)
            inside = "in" if row["in_corpus"] else "out"
            groups.setdefault(f"written_{row['set']}_{inside}", []).append(outcome)
            if args.show:
                print(f"{row['id']:8} {outcome['best']:.3f} {row['question']} → "
                      f"{outcome['top']}", file=sys.stderr)
        for name, outcomes in sorted(groups.items()):
            report["sets"][name] = {"n": len(outcomes),
                                    "rates": rates(outcomes, name.endswith("_in"))}
        if args.samples:
            questions = bench_questions(args.samples)
            own = Engine(bench_index(workdir), embedder=engine.embedder())
            inside = [judge(own, q["question"], q["answers"], set(q["gold_pids"]))
                      for q in questions]
            outside = [judge(engine, q["question"], None, None) for q in questions]
            report["sets"]["cmrc_drcd_in"] = {"n": len(inside), "rates": rates(inside, True)}
            report["sets"]["cmrc_drcd_asked_of_corpus"] = {"n": len(outside),
                                                           "rates": rates(outside, False)}
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
        return
    print(f"calibrated answerability threshold: {report['threshold']:.3f}")
    print(table(report))


if __name__ == "__main__":
    main()
