"""Retrieval and answer evaluation on question sets with gold passages.

Queries are JSON lines ``{"qid", "question", "gold_pids": [...], "answers": [...]}`` and may
carry a ``kind`` (figures are then also given per kind) and a ``split``. A question with
empty ``gold_pids`` is one the corpus does not answer: it counts for the share of such
questions refused and, when answered, as a wrong answer in ``answers_by_certainty`` (how
many answers were given sure or tentative, and how many of them were right). The corpus is
a ``.jsonl`` of passages whose ids are the gold ids (each line becomes one document, so
recall is counted by gold document), or a corpus folder (the bundled ``corpus/``), whose
gold ids are passage ids (recall is then counted by passage).
Distractor passages can be mixed in to make retrieval honest.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from tqdm import tqdm

from indexer import settings
from indexer.retrieve.engine import Engine

log = logging.getLogger(__name__)

CUTOFFS = (1, 5, 20)
MRR_DEPTH = 10


def load_queries(paths: Path | Iterable[Path], split: str | None = None
                 ) -> tuple[list[dict], list[str]]:
    """Read question files; lines without a question are skipped and named.

    ``split`` keeps only the questions whose ``split`` field has that value.
    """
    queries, skipped = [], []
    for path in [paths] if isinstance(paths, (str, Path)) else paths:
        with Path(path).open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    skipped.append(f"{path}:{number}: bad JSON ({exc.msg})")
                    continue
                if not isinstance(record, dict) or not str(record.get("question", "")).strip():
                    skipped.append(f"{path}:{number}: no question")
                    continue
                if split is not None and record.get("split") != split:
                    continue
                record["gold_pids"] = list(record.get("gold_pids") or [])
                queries.append(record)
    for reason in skipped:
        log.warning("skipped query %s", reason)
    return queries, skipped


def prepare_corpus(folder: Path, corpus: Path, distractors: Path | None,
                   distractor_count: int) -> None:
    """Lay out an evaluation corpus: the passages (a file or a whole corpus folder), plus
    the first N distractor lines."""
    corpus = Path(corpus)
    if corpus.is_dir():
        shutil.copytree(corpus, folder)
    else:
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(corpus, folder / "passages.jsonl")
    if distractors and distractor_count:
        with Path(distractors).open(encoding="utf-8") as source, \
                (folder / "distractors.jsonl").open("w", encoding="utf-8") as target:
            for number, line in enumerate(source):
                if number >= distractor_count:
                    break
                target.write(line)


def _unit(catalog, gold: set[str]):
    """How hits are matched to gold ids: by passage when the ids are passage ids, else by
    document (a ``.jsonl`` line is one document whose id is the gold id)."""
    if gold and all(pid in catalog.passages for pid in gold):
        return lambda passage_id: passage_id
    return lambda passage_id: catalog.passages[passage_id].doc_id


def ranked_units(engine: Engine, question: str, mode: str, depth: int, gold: set[str]
                 ) -> list[str]:
    """Distinct gold-comparable ids (passages or documents) in rank order, from the top
    ``depth`` passages."""
    generation = engine.generation()
    result = engine.search(question, mode=mode, k=depth, generation=generation)
    unit = _unit(generation.catalog, gold)
    seen: list[str] = []
    for hit in result.hits:
        key = unit(hit.passage_id)
        if key not in seen:
            seen.append(key)
    return seen


class Outcome(NamedTuple):
    """What one question's answer was: right (a gold answer string in the answer text,
    citing gold), given at all, marked tentative, and why it was refused (one of
    :data:`indexer.answer.extract.REFUSALS`)."""

    hit: bool
    answered: bool
    tentative: bool = False
    refused_because: str | None = None


def answer_outcome(engine: Engine, query: dict, mode: str) -> Outcome:
    """How the product answered ``query`` (:class:`Outcome`)."""
    from indexer.text.analysis import fold

    answer, _ = engine.ask(query["question"], mode=mode)
    if not answer.answerable:
        return Outcome(False, False, refused_because=answer.refused_because)
    gold = set(query["gold_pids"])
    text = fold(answer.text)
    cites_gold = any(c.doc_id in gold or c.passage_id in gold for c in answer.citations)
    found = any(fold(expected) in text for expected in query.get("answers", []) if expected)
    return Outcome(cites_gold and found, True, answer.tentative)


@dataclass
class Tally:
    """Running counts for one group of questions (a mode, or one kind within it)."""

    answerable: int = 0
    hits_at: dict[int, int] = field(default_factory=lambda: {n: 0 for n in CUTOFFS})
    reciprocal: float = 0.0
    answer_hits: int = 0
    answered: int = 0
    unanswerable: int = 0
    refused_unanswerable: int = 0
    # Every question answered (answerable or not), by certainty: answers given, right.
    by_certainty: dict[str, list[int]] = field(
        default_factory=lambda: {"sure": [0, 0], "tentative": [0, 0]})
    # Refusals by why (Answer.refused_because), of answerable and of unanswerable questions.
    refusals: dict[str, Counter] = field(
        default_factory=lambda: {"answerable": Counter(), "unanswerable": Counter()})

    def add(self, ranks: int | None, outcome: Outcome | None, answerable: bool) -> None:
        """Count one question: the rank of its first gold unit, and its answer outcome."""
        if outcome is not None and outcome.answered:
            counts = self.by_certainty["tentative" if outcome.tentative else "sure"]
            counts[0] += 1
            counts[1] += outcome.hit
        elif outcome is not None:
            side = "answerable" if answerable else "unanswerable"
            self.refusals[side][outcome.refused_because or "unknown"] += 1
        if not answerable:
            self.unanswerable += 1
            self.refused_unanswerable += bool(outcome is not None and not outcome.answered)
            return
        self.answerable += 1
        if ranks is not None:
            for n in CUTOFFS:
                self.hits_at[n] += ranks <= n
            if ranks <= MRR_DEPTH:
                self.reciprocal += 1 / ranks
        if outcome is not None:
            self.answer_hits += outcome.hit
            self.answered += outcome.answered

    def figures(self, answers: bool) -> dict:
        """Recall@n, MRR@10 and answer shares over the answerable questions; refusals of
        the unanswerable ones."""
        total = max(self.answerable, 1)
        scores: dict = {"questions": self.answerable}
        scores.update({f"recall@{n}": round(self.hits_at[n] / total, 4) for n in CUTOFFS})
        scores["mrr@10"] = round(self.reciprocal / total, 4)
        for name, value in (("answer_hit", self.answer_hits), ("answered", self.answered),
                            ("refused", self.answerable - self.answered),
                            ("answered_wrong", self.answered - self.answer_hits)):
            scores[name] = round(value / total, 4) if answers else None
        if self.unanswerable:
            scores["unanswerable"] = {
                "questions": self.unanswerable,
                "refused": round(self.refused_unanswerable / self.unanswerable, 4)
                if answers else None}
        if answers:
            scores["answers_by_certainty"] = {
                name: {"answered": given, "right": right,
                       "right_share": round(right / given, 4) if given else None}
                for name, (given, right) in self.by_certainty.items()}
            scores["refused_because"] = {side: dict(sorted(counts.items()))
                                         for side, counts in self.refusals.items()}
        return scores


def score_mode(engine: Engine, queries: list[dict], mode: str, answers: bool = True) -> dict:
    """recall@1/5/20, MRR@10 by gold unit, and the answer figures for one mode, overall and
    (``by_kind``) for each question kind."""
    depth = max(CUTOFFS) * 3  # several passages of one document may rank together
    overall, by_kind = Tally(), {}
    latencies = []
    for query in tqdm(queries, desc=f"eval {mode}", unit="q", leave=False,
                      disable=not settings.get("progress")):
        gold = set(query["gold_pids"])
        rank = None
        if gold:
            started = time.perf_counter()
            try:
                units = ranked_units(engine, query["question"], mode, depth, gold)
            except ValueError as exc:  # a query with nothing to search counts as a miss
                log.debug("query %s: %s", query.get("qid"), exc)
                units = []
            latencies.append(time.perf_counter() - started)
            rank = next((r for r, unit in enumerate(units, start=1) if unit in gold), None)
        outcome = None
        if answers:
            try:
                outcome = answer_outcome(engine, query, mode)
            except ValueError:  # nothing to search in this question
                outcome = Outcome(False, False, refused_because="no_passages")
        overall.add(rank, outcome, bool(gold))
        if query.get("kind"):
            by_kind.setdefault(str(query["kind"]), Tally()).add(rank, outcome, bool(gold))
    scores = overall.figures(answers)
    ordered = sorted(latencies)
    scores["search_p50_ms"] = round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None
    if by_kind:
        scores["by_kind"] = {kind: tally.figures(answers)
                             for kind, tally in sorted(by_kind.items())}
    return scores


def evaluate(queries_path: Path | Iterable[Path], modes: list[str], index: Path | None = None,
             corpus: Path | None = None, distractors: Path | None = None,
             distractor_count: int = 0, answers: bool = True,
             split: str | None = None) -> dict:
    """Run every question in every mode against ``index`` or a temporary index of ``corpus``
    (a passages ``.jsonl`` or a corpus folder)."""
    from indexer.store.build import build

    queries, skipped = load_queries(queries_path, split)
    with ExitStack() as scratch:
        if index is None:
            if corpus is None:
                raise ValueError("give --corpus PASSAGES.jsonl (or a corpus folder) or "
                                 "--index DIR")
            work = Path(tempfile.mkdtemp(prefix="policyqa-eval-"))
            scratch.callback(shutil.rmtree, work, ignore_errors=True)
            prepare_corpus(work / "corpus", Path(corpus), distractors, distractor_count)
            index = work / "index"
            if settings.get("index_backend") == "milvus":  # its own alias, dropped after
                from indexer.milvus.scratch import scratch_engine

                engine = scratch.enter_context(scratch_engine(work / "corpus"))
            else:
                build(work / "corpus", index)
                engine = Engine(index)
        else:
            engine = Engine(index)
        catalog = engine.generation().catalog
        result = {"passages": len(catalog.documents), "queries": len(queries),
                  "answerable": sum(1 for q in queries if q["gold_pids"]),
                  "skipped_queries": skipped, "modes": {}}
        for mode in modes:
            result["modes"][mode] = score_mode(engine, queries, mode, answers)
        return result
