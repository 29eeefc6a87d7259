"""The question sets and indexes the answer model is trained and checked on.

- ``cmrc_train``: a seeded sample of CMRC 2018 **train** paragraphs
  (``../shared/bench/cmrc2018_train``), optionally with the first lines of
  ``scale_passages.jsonl`` as distractors, minus the CMRC train paragraphs among them (a
  duplicate would be a second gold passage), built once into ``WORKDIR``;
- ``corpus``: the bundled reports, with the own-words questions (``bench/ownwords``);
- ``laws``: the 17 laws and regulations of ``scale_passages.jsonl`` that
  ``bench/ownwords/laws`` asks about in a user's own words (each article one passage).

Own-words gold is located by the gold sentence's text in the current document (robust to
passage ids that move when cleaning changes), falling back to ``gold_pids``.
"""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from bench.data import ROOT, shared_file

OWNWORDS = ROOT / "bench" / "ownwords"
OWNWORDS_FILES = ("questions", "near_miss", "typos")
LAW_SET = OWNWORDS / "laws" / "questions.jsonl"
LAWS = "laws"  # the source name of the questions on laws
DISTRACTORS = 3000


def read_jsonl(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


@dataclass
class Example:
    """One question and how to tell a right answer: a sentence of ``gold`` (passage ids
    or document ids) holding one of ``answers`` and, for own-words, overlapping ``span``
    (document id, start, end). ``source`` names the set; no gold means not answerable."""

    qid: str
    question: str
    source: str
    gold: set[str] = field(default_factory=set)
    answers: list[str] = field(default_factory=list)
    span: tuple[str, int, int] | None = None
    kind: str | None = None
    split: str | None = None

    @property
    def answerable(self) -> bool:
        return bool(self.gold)


def ownwords(catalog, splits: tuple[str, ...] = ("train",)) -> list[Example]:
    """The own-words questions of the given splits, gold located in ``catalog``."""
    found = []
    for name in OWNWORDS_FILES:
        for row in read_jsonl(OWNWORDS / f"{name}.jsonl"):
            if row.get("split") not in splits:
                continue
            example = Example(row["qid"], row["question"], name, answers=row.get("answers", []),
                              kind=row.get("kind"), split=row.get("split"))
            sentence = row.get("gold_sentence")
            document = catalog.documents.get(row.get("doc"))
            if row.get("gold_pids") and sentence and document is not None:
                start = document.text.find(sentence)
                if start >= 0:
                    end = start + len(sentence)
                    example.span = (document.doc_id, start, end)
                    example.gold = {p.passage_id for p in catalog.passages_of(document.doc_id)
                                    if p.start < end and p.end > start}
            if row.get("gold_pids") and not example.gold:
                example.gold = {pid for pid in row["gold_pids"] if pid in catalog.passages}
            if row.get("gold_pids") and not example.gold:
                continue  # the corpus changed under this question: skip rather than guess
            found.append(example)
    return found


def laws(catalog) -> list[Example]:
    """The own-words questions on laws (``LAW_SET``), each article a document of
    ``catalog``; a question whose gold sentence is not in its article is left out."""
    found = []
    for row in read_jsonl(LAW_SET):
        document = catalog.documents.get(row["pid"])
        start = document.text.find(row["gold_sentence"]) if document is not None else -1
        if start < 0:
            continue
        span = (row["pid"], start, start + len(row["gold_sentence"]))
        found.append(Example(row["qid"], row["question"], LAWS, {row["pid"]}, row["answers"],
                             span, kind=row.get("kind"), split=row.get("split")))
    return found


def cmrc_paragraphs(count: int, seed: int = 11) -> list[dict]:
    """A seeded sample of ``count`` CMRC 2018 train paragraphs (all when 0)."""
    rows = read_jsonl(shared_file("cmrc2018_train/passages.jsonl"))
    if count and count < len(rows):
        rows = random.Random(seed).sample(rows, count)
    return rows


def cmrc_train(limit: int = 0, seed: int = 11, paragraphs: int = 0) -> list[Example]:
    """CMRC 2018 train questions on the sampled paragraphs (a seeded sample of ``limit``
    of them when given)."""
    allowed = {row["pid"] for row in cmrc_paragraphs(paragraphs, seed)}
    rows = [row for row in read_jsonl(shared_file("cmrc2018_train/queries.jsonl"))
            if row["question"].strip() and set(row["gold_pids"]) <= allowed]
    if limit and limit < len(rows):
        rows = random.Random(seed).sample(rows, limit)
    return [Example(row["qid"], row["question"], "cmrc_train", set(row["gold_pids"]),
                    row["answers"]) for row in rows]


def off_topic(limit: int, seed: int = 11) -> list[Example]:
    """CMRC 2018 train questions (encyclopaedia topics) as questions the bundled reports
    cannot answer: what a user asks that the corpus never covers. A seeded sample."""
    rows = [row for row in read_jsonl(shared_file("cmrc2018_train/queries.jsonl"))
            if row["question"].strip()]
    rows = random.Random(seed + 1).sample(rows, min(limit, len(rows)))
    return [Example(f"{row['qid']}:off", row["question"], "off_topic") for row in rows]


def built_once(index: Path, write, embedder=None) -> Path:
    """``index``, built once: unless it exists, ``write(corpus)`` fills a fresh corpus
    folder beside it, which is then indexed."""
    from indexer.store.build import build

    if (index / "CURRENT").exists():
        return index
    corpus = index.parent / "corpus"
    shutil.rmtree(corpus, ignore_errors=True)
    corpus.mkdir(parents=True)
    write(corpus)
    build(corpus, index, embedder=embedder)
    return index


def cmrc_train_index(workdir: Path, embedder=None, paragraphs: int = 0,
                     distractors: int = DISTRACTORS, traditional: bool = False) -> Path:
    """The index of (a sample of) the CMRC train paragraphs plus distractors, built once
    in ``workdir``. ``traditional`` converts the paragraphs to traditional script (OpenCC
    s2t) while the questions stay simplified: the cross-script case of DRCD's simplified
    questions, on training data."""
    script = "_zht" if traditional else ""
    index = workdir / f"cmrc_train_{paragraphs or 'all'}_{distractors}{script}" / "index"

    def write(corpus: Path) -> None:
        with (corpus / "passages.jsonl").open("w", encoding="utf-8") as out:
            convert = None
            if traditional:
                import opencc

                convert = opencc.OpenCC("s2t").convert
            for row in cmrc_paragraphs(paragraphs):
                if convert is not None:
                    row = {**row, "title": convert(row["title"]),
                           "text": convert(row["text"])}
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        with shared_file("scale_passages.jsonl").open(encoding="utf-8") as rows, \
                (corpus / "distractors.jsonl").open("w", encoding="utf-8") as out:
            for number, line in enumerate(rows):
                if number >= distractors:
                    break
                if json.loads(line).get("source", "").startswith("cmrc2018"):
                    continue
                out.write(line)

    return built_once(index, write, embedder)


def corpus_index(workdir: Path, embedder=None) -> Path:
    """The index of the bundled reports (built once in ``workdir``)."""
    from indexer.store.build import build

    index = workdir / "corpus" / "index"
    if not (index / "CURRENT").exists():
        build(ROOT / "corpus", index, embedder=embedder)
    return index


def law_articles() -> list[dict]:
    """Every article (a line of ``scale_passages.jsonl``) of the laws ``LAW_SET`` asks
    about."""
    docs = {row["doc"] for row in read_jsonl(LAW_SET)}
    return [row for row in read_jsonl(shared_file("scale_passages.jsonl"))
            if row.get("doc") in docs]


def law_index(workdir: Path, embedder=None) -> Path:
    """The index of every article of the laws ``LAW_SET`` asks about (built once in
    ``workdir``)."""

    def write(corpus: Path) -> None:
        with (corpus / "passages.jsonl").open("w", encoding="utf-8") as out:
            out.writelines(json.dumps(row, ensure_ascii=False) + "\n" for row in law_articles())

    return built_once(workdir / "laws" / "index", write, embedder)


def add_training_arguments(parser, cmrc: int) -> None:
    """The options every training-data command shares: its work folder and the CMRC 2018
    train sample (``cmrc`` questions by default)."""
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/policyqa-answer-work"))
    parser.add_argument("--cmrc", type=int, default=cmrc, help="CMRC train questions")
    parser.add_argument("--paragraphs", type=int, default=600,
                        help="CMRC train paragraphs indexed (0: all 2,403)")
