"""Check the own-words question set against the corpus and measure its word overlap.

Run from the project root::

    .venv/bin/python -m bench.ownwords.check            # verify + print the figures
    .venv/bin/python -m bench.ownwords.check --json     # the same figures as JSON
    .venv/bin/python -m bench.ownwords.check --fix      # rewrite gold_pids from the corpus

The gold sentence is the source of truth: ``gold_pids`` are recomputed from the passages
the library cuts today (every passage whose ``[start, end)`` overlaps the sentence's span
in ``document.text``), so a change in cleaning or segmentation is repaired by ``--fix``.

Overlap of an answerable question = share of its content words (``jieba.lcut`` of the
folded question; words of 2+ characters; minus ``indexer/data/stopwords.txt`` and
punctuation) that occur in the folded gold sentence. Both sides are folded with
``indexer.text.analysis.fold`` (traditional → simplified, length-preserving) first.
The exit status is non-zero on any verification failure, or when the median overlap of
``questions.jsonl`` is above ``--max-overlap`` (0.2).
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import statistics
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FILES = {"questions": "questions.jsonl", "near_miss": "near_miss.jsonl", "typos": "typos.jsonl"}
PREFIX = {"questions": "ow", "near_miss": "nm", "typos": "ty"}
KINDS = {"number", "when", "where", "who", "yesno", "how", "what"}
SCRIPTS = {"zhs", "zht"}
SPLITS = {"train", "heldout"}
STOPWORDS_PATH = ROOT / "indexer" / "data" / "stopwords.txt"
# A gold sentence ends at one of these (the cleaner turns full-width ；！？ half-width),
# or at the end of its line.
TERMINATORS = "。！？!?；;"
PUNCT = re.compile(r"^[\W_]+$")


def split_for(qid: str) -> str:
    """The split rule: the number in the qid modulo 3 == 0 is held out."""
    return "heldout" if int(qid.rsplit("-", 1)[1]) % 3 == 0 else "train"


def read_jsonl(path: Path) -> list[dict]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: bad JSON ({exc.msg})") from exc
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


class Checker:
    def __init__(self, corpus_dir: Path) -> None:
        from indexer.ingest.corpus import load_corpus
        from indexer.text.analysis import fold

        self.fold = fold
        self.corpus = load_corpus(corpus_dir)
        self.docs = {d.doc_id: d for d in self.corpus.documents}
        self.errors: list[str] = []
        self.changed = 0
        import jieba

        jieba.setLogLevel(logging.WARNING)
        self.jieba = jieba
        self.stopwords = {line.strip() for line in STOPWORDS_PATH.read_text("utf-8").splitlines()
                          if line.strip() and not line.lstrip().startswith("#")}

    def error(self, qid: str, message: str) -> None:
        self.errors.append(f"{qid}: {message}")

    # -- gold sentences and passages ------------------------------------------------------

    def locate(self, qid: str, doc_id: str, sentence: str) -> tuple[int, int] | None:
        document = self.docs.get(doc_id)
        if document is None:
            where = [d.doc_id for d in self.corpus.documents if sentence and sentence in d.text]
            found = f" (sentence found in {where})" if where else ""
            self.error(qid, f"unknown doc {doc_id!r}{found}")
            return None
        text = document.text
        count = text.count(sentence) if sentence else 0
        if count == 0:
            self.error(qid, "gold_sentence is not a substring of the document text")
            return None
        if count > 1:
            self.error(qid, f"gold_sentence occurs {count} times in the document (ambiguous)")
            return None
        start = text.index(sentence)
        end = start + len(sentence)
        before = text[:start].rstrip(" \t\u3000")
        if before and before[-1] not in TERMINATORS + "\n":
            self.error(qid, f"gold_sentence does not start a sentence (preceded by {before[-1]!r})")
        after = text[end:end + 1]
        if sentence[-1] not in TERMINATORS and after not in ("", "\n", "\r"):
            self.error(qid, f"gold_sentence does not end a sentence (followed by {after!r})")
        return start, end

    def passages_for(self, qid: str, doc_id: str, span: tuple[int, int]) -> list[str]:
        start, end = span
        hits = [p for p in self.corpus.passages[doc_id] if p.start < end and p.end > start]
        if not hits:
            self.error(qid, "no passage holds the gold sentence (heading or dropped line?)")
            return []
        covered = set()
        for p in hits:
            covered.update(range(max(p.start, start), min(p.end, end)))
        if any(a < end and b > start for a, b in self.docs[doc_id].garbled_spans):
            self.error(qid, "the gold sentence holds garbled text (never quoted)")
        text = self.docs[doc_id].text
        missing = [i for i in range(start, end) if i not in covered and not text[i].isspace()]
        if missing:
            self.error(qid, f"{len(missing)} characters of the gold sentence are in no passage")
        return [p.passage_id for p in hits]

    def check_answerable(self, qid: str, row: dict) -> None:
        sentence = row.get("gold_sentence") or ""
        answers = row.get("answers") or []
        if not 1 <= len(answers) <= 3:
            self.error(qid, f"needs 1-3 answers, has {len(answers)}")
        for answer in answers:
            if not answer or answer not in sentence:
                self.error(qid, f"answer {answer!r} is not in the gold sentence")
        span = self.locate(qid, row.get("doc", ""), sentence)
        if span is None:
            return
        pids = self.passages_for(qid, row["doc"], span)
        if pids and pids != row.get("gold_pids"):
            self.error(qid, f"gold_pids {row.get('gold_pids')} should be {pids}")
            row["gold_pids"] = pids
            self.changed += 1

    # -- overlap --------------------------------------------------------------------------

    def content_words(self, question: str) -> list[str]:
        return [w for w in self.jieba.lcut(self.fold(question))
                if len(w) >= 2 and w not in self.stopwords and not PUNCT.match(w)]

    def overlap(self, question: str, sentence: str) -> float:
        words = self.content_words(question)
        if not words:
            return 0.0
        folded = self.fold(sentence)
        return sum(1 for w in words if w in folded) / len(words)

    # -- the files ------------------------------------------------------------------------

    def check_common(self, group: str, row: dict, seen: set[str]) -> str:
        qid = str(row.get("qid", "?"))
        if not re.fullmatch(rf"{PREFIX[group]}-\d{{3}}", qid):
            self.error(qid, f"qid should look like {PREFIX[group]}-001")
            return qid
        if qid in seen:
            self.error(qid, "duplicate qid")
        seen.add(qid)
        if not str(row.get("question", "")).strip():
            self.error(qid, "empty question")
        if row.get("kind") not in KINDS:
            self.error(qid, f"kind {row.get('kind')!r} not in {sorted(KINDS)}")
        if row.get("script") not in SCRIPTS:
            self.error(qid, f"script {row.get('script')!r} not in {sorted(SCRIPTS)}")
        else:
            question = row.get("question", "")
            traditional = self.fold(question) != question.translate(_HALF_WIDTH).lower()
            if traditional != (row["script"] == "zht"):
                self.error(qid, f"script {row['script']} does not match the question's characters")
        if row.get("split") != split_for(qid):
            self.error(qid, f"split should be {split_for(qid)} (qid number mod 3)")
        if row.get("doc") not in self.docs:
            self.error(qid, f"unknown doc {row.get('doc')!r}")
        return qid

    def run(self, rows: dict[str, list[dict]]) -> dict:
        seen: set[str] = set()
        overlaps: dict[str, list[float]] = {"train": [], "heldout": []}
        typo_overlaps: list[float] = []
        for row in rows["questions"]:
            qid = self.check_common("questions", row, seen)
            self.check_answerable(qid, row)
            if row.get("gold_sentence") and row.get("split") in overlaps:
                overlaps[row["split"]].append(self.overlap(row["question"], row["gold_sentence"]))
        for row in rows["near_miss"]:
            qid = self.check_common("near_miss", row, seen)
            if row.get("gold_pids") != [] or row.get("answers") != []:
                self.error(qid, "a near-miss question must have empty gold_pids and answers")
            if not str(row.get("why", "")).strip():
                self.error(qid, "a near-miss question needs a 'why'")
        typo_from_own = 0
        own = {r.get("qid"): r for r in rows["questions"]}
        for row in rows["typos"]:
            qid = self.check_common("typos", row, seen)
            typo, correct = row.get("typo", ""), row.get("typo_of", "")
            if not correct or not typo or typo not in row.get("question", ""):
                self.error(qid, "needs typo (in the question) and typo_of")
            elif len(typo) != len(correct) or sum(
                    a != b for a, b in zip(typo, correct, strict=True)) != 1:
                self.error(qid, f"{typo!r} is not a one-character typo of {correct!r}")
            if row.get("from_qid"):
                source = own.get(row["from_qid"])
                retyped = source and source["question"].replace(correct, typo, 1)
                if source is None or retyped != row["question"]:
                    self.error(qid, f"is not {row['from_qid']} with {correct}→{typo}")
                else:
                    typo_from_own += 1
            if row.get("answerable"):
                self.check_answerable(qid, row)
                if row.get("gold_sentence"):
                    typo_overlaps.append(self.overlap(row["question"], row["gold_sentence"]))
            else:
                if row.get("gold_pids") != [] or row.get("answers") != []:
                    self.error(qid, "an unanswerable typo must have empty gold_pids and answers")
                if not str(row.get("why", "")).strip():
                    self.error(qid, "an unanswerable typo needs a 'why'")
        return self.figures(rows, overlaps, typo_overlaps, typo_from_own)

    def figures(self, rows, overlaps, typo_overlaps, typo_from_own) -> dict:
        every = overlaps["train"] + overlaps["heldout"]

        def median(values):
            return round(statistics.median(values), 4) if values else None

        def counts(group):
            out = {}
            for field in ("kind", "script", "split"):
                out[field] = dict(sorted(Counter(r.get(field) for r in rows[group]).items()))
            out["doc"] = dict(sorted(Counter(r.get("doc") for r in rows[group]).items()))
            return out

        typos = rows["typos"]
        return {
            "questions": len(rows["questions"]),
            "near_miss": len(rows["near_miss"]),
            "typos": len(typos),
            "typos_answerable": sum(1 for r in typos if r.get("answerable")),
            "typos_from_own_words": typo_from_own,
            "traditional_questions": sum(1 for g in rows.values() for r in g
                                         if r.get("script") == "zht"),
            "overlap_median": {"overall": median(every), "train": median(overlaps["train"]),
                               "heldout": median(overlaps["heldout"]),
                               "typos_answerable": median(typo_overlaps)},
            "overlap_mean": round(statistics.fmean(every), 4) if every else None,
            "counts": {group: counts(group) for group in rows},
            "errors": self.errors,
        }


_HALF_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}


def print_figures(figures: dict, max_overlap: float) -> None:
    print(f"questions {figures['questions']}  near_miss {figures['near_miss']}  "
          f"typos {figures['typos']} ({figures['typos_answerable']} answerable, "
          f"{figures['typos_from_own_words']} from own-words questions)  "
          f"traditional-script {figures['traditional_questions']}")
    med = figures["overlap_median"]
    print(f"median content-word overlap with the gold sentence (questions.jsonl): "
          f"overall {med['overall']}  train {med['train']}  heldout {med['heldout']}  "
          f"(mean {figures['overlap_mean']}; limit {max_overlap}); "
          f"answerable typos {med['typos_answerable']}")
    for group, table in figures["counts"].items():
        print(f"\n{group}:")
        for field, values in table.items():
            print(f"  {field:7s} " + "  ".join(f"{k}={v}" for k, v in values.items()))
    if figures["errors"]:
        print(f"\n{len(figures['errors'])} problem(s):")
        for line in figures["errors"]:
            print("  " + line)
    else:
        print("\nall checks passed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--dir", type=Path, default=HERE, help="folder of the .jsonl files")
    parser.add_argument("--fix", action="store_true", help="rewrite gold_pids from the corpus")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--max-overlap", type=float, default=0.2)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    for name in ("jieba", "indexer"):
        logging.getLogger(name).setLevel(logging.ERROR)

    paths = {group: args.dir / name for group, name in FILES.items()}
    # The independent set has no typo file; the probe holds near misses alone.
    rows = {group: read_jsonl(path) if group == "near_miss" or path.exists() else []
            for group, path in paths.items()}
    checker = Checker(args.corpus)
    figures = checker.run(rows)
    if args.fix and checker.changed:
        for group, path in paths.items():
            if path.exists():
                write_jsonl(path, rows[group])
        stale = [e for e in checker.errors if "gold_pids" in e and "should be" in e]
        figures["errors"] = [e for e in checker.errors if e not in stale]
        figures["fixed_gold_pids"] = len(stale)
    overall = figures["overlap_median"]["overall"]
    if overall is not None and overall > args.max_overlap:
        figures["errors"].append(f"median overlap {overall} is above {args.max_overlap}: "
                                 "rewrite questions further from the report's wording")
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print_figures(figures, args.max_overlap)
        if figures.get("fixed_gold_pids"):
            print(f"rewrote gold_pids of {figures['fixed_gold_pids']} question(s)")
    return 1 if figures["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
