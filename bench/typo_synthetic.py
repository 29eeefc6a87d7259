"""Typos made on purpose: how the product reads and answers a question with one wrong character.

Run: .venv/bin/python -m bench.typo_synthetic [--index DIR] [--seed 5] [--limit 0]

Each own-words **train** question (both sets' answerable questions and near misses;
held-out questions are never read) gets one typo: a character of one of its content words
(jieba, two characters or more, stop words left out) swapped for a common character that
sounds the same (toneless pinyin; "common" is among the 3,500 characters most used by
jieba's dictionary words), as a pinyin input method slips. Both the question as written and
the mistyped one are asked (hybrid mode when the index has vectors). Prints one JSON object:
how many typos were read back to the word meant, read as something else, or left as typed,
and the answer outcomes of the clean and the mistyped questions side by side (answerable:
right, wrong, refused; unanswerable: refused, answered). Without ``--index`` the bundled
corpus is indexed in a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import re
import tempfile
from collections import Counter
from pathlib import Path

from bench.answer_data import OWNWORDS, corpus_index, read_jsonl

SETS = [OWNWORDS / "questions.jsonl", OWNWORDS / "near_miss.jsonl",
        OWNWORDS / "independent" / "questions.jsonl",
        OWNWORDS / "independent" / "near_miss.jsonl"]
COMMON_CHARACTERS = 3500
_HAN_WORD = re.compile(r"[\u4e00-\u9fff]{2,}")


def same_sounding() -> dict[str, list[str]]:
    """Common characters by toneless pinyin, most used first."""
    from pypinyin import lazy_pinyin

    from indexer.text.analysis import _segmenter

    used: Counter = Counter()
    for word, count in _segmenter().jieba.FREQ.items():
        if count and _HAN_WORD.fullmatch(word):
            for char in word:
                used[char] += count
    by_sound: dict[str, list[str]] = {}
    for char, _ in used.most_common(COMMON_CHARACTERS):
        by_sound.setdefault(lazy_pinyin(char)[0], []).append(char)
    return by_sound


def mistype(question: str, by_sound: dict[str, list[str]], rng: random.Random
            ) -> tuple[str, str] | None:
    """``question`` with one character of a content word swapped for a same-sounding one,
    and the word as meant (folded); None when no content word has such a character."""
    from pypinyin import lazy_pinyin

    from indexer.text.analysis import _segmenter, fold

    folded, segmenter = fold(question), _segmenter()
    if len(folded) != len(question):  # offsets must carry over to the typed text
        return None
    words = [(word, start) for word, start, _ in segmenter.segment(folded)
             if _HAN_WORD.fullmatch(word) and word not in segmenter.stopwords]
    rng.shuffle(words)
    for word, start in words:
        at = rng.randrange(len(word))
        typed = question[start + at]
        others = [c for c in by_sound.get(lazy_pinyin(typed)[0], []) if fold(c) != word[at]]
        if others:
            swapped = rng.choice(others[:12])
            return question[:start + at] + swapped + question[start + at + 1:], word
    return None


def outcome(engine, row: dict) -> str:
    from indexer.evaluate import answer_outcome

    mode = "hybrid" if engine.generation().has_vectors else "keyword"
    found = answer_outcome(engine, {**row, "gold_pids": row.get("gold_pids") or []}, mode)
    if not row.get("gold_pids"):
        return "answered" if found.answered else "refused"
    return "right" if found.hit else ("wrong" if found.answered else "refused")


def measure(engine, rows: list[dict], seed: int) -> dict:
    """Typos read back and answer outcomes, clean against mistyped (module docstring)."""
    from indexer.text.analysis import fold

    by_sound, rng = same_sounding(), random.Random(seed)
    reading: Counter = Counter()
    outcomes: dict[str, dict[str, Counter]] = {}
    for row in rows:
        made = mistype(row["question"], by_sound, rng)
        if made is None:
            continue
        typed, meant = made
        read_as = engine.read_question(typed)
        reading["read back" if read_as and meant in fold(read_as)
                else "read otherwise" if read_as else "left as typed"] += 1
        side = "answerable" if row.get("gold_pids") else "unanswerable"
        for version, question in (("clean", row["question"]), ("mistyped", typed)):
            outcomes.setdefault(side, {}).setdefault(version, Counter())[
                outcome(engine, {**row, "question": question})] += 1
    return {"questions": sum(reading.values()), "reading": dict(reading),
            "outcomes": {side: {version: dict(counts) for version, counts in sides.items()}
                         for side, sides in outcomes.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an index (default: the bundled corpus)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0, help="first N train questions only")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")
    from indexer.embed import open_embedder
    from indexer.retrieve.engine import Engine

    rows = [row for path in SETS for row in read_jsonl(path) if row.get("split") == "train"]
    rows = rows[:args.limit] if args.limit else rows
    with tempfile.TemporaryDirectory(prefix="policyqa-typos-") as scratch:
        embedder = open_embedder()
        index = args.index or corpus_index(Path(scratch), embedder)
        report = measure(Engine(index, embedder=embedder), rows, args.seed)
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
