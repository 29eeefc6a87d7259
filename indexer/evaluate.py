"""Retrieval and answer evaluation on question sets with gold passages.

Queries are JSON lines ``{"qid", "question", "gold_pids": [...], "answers": [...]}``; the
corpus is a ``.jsonl`` of passages whose ids are the gold ids (each line becomes one
document, so recall is counted by gold document). Distractor passages can be mixed in
to make retrieval honest.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from pathlib import Path

from tqdm import tqdm

from indexer import settings
from indexer.retrieve.engine import Engine

log = logging.getLogger(__name__)

CUTOFFS = (1, 5, 20)
MRR_DEPTH = 10


def load_queries(path: Path) -> tuple[list[dict], list[str]]:
    """Read a question file; lines without a question or gold ids are skipped and named."""
    queries, skipped = [], []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                skipped.append(f"{path}:{number}: bad JSON ({exc.msg})")
                continue
            if not str(record.get("question", "")).strip() or not record.get("gold_pids"):
                skipped.append(f"{path}:{number}: no question or no gold_pids")
                continue
            queries.append(record)
    for reason in skipped:
        log.warning("skipped query %s", reason)
    return queries, skipped


def prepare_corpus(folder: Path, corpus: Path, distractors: Path | None,
                   distractor_count: int) -> None:
    """Lay out an evaluation corpus: the passages, plus the first N distractor lines."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(corpus, folder / "passages.jsonl")
    if distractors and distractor_count:
        with Path(distractors).open(encoding="utf-8") as source, \
                (folder / "distractors.jsonl").open("w", encoding="utf-8") as target:
            for number, line in enumerate(source):
                if number >= distractor_count:
                    break
                target.write(line)


def ranked_documents(engine: Engine, question: str, mode: str, depth: int) -> list[str]:
    """Distinct document ids in rank order, from the top ``depth`` passages."""
    result = engine.search(question, mode=mode, k=depth)
    catalog = engine.generation().catalog
    seen: list[str] = []
    for hit in result.hits:
        doc_id = catalog.passages[hit.passage_id].doc_id
        if doc_id not in seen:
            seen.append(doc_id)
    return seen


def answer_outcome(engine: Engine, query: dict, mode: str) -> tuple[bool, bool]:
    """(hit, answered): a hit is a gold answer string in the answer text, citing gold."""
    from indexer.text.analysis import fold

    answer, _ = engine.ask(query["question"], mode=mode)
    if not answer.answerable:
        return False, False
    gold = set(query["gold_pids"])
    text = fold(answer.text)
    cites_gold = any(citation.doc_id in gold for citation in answer.citations)
    found = any(fold(expected) in text for expected in query.get("answers", []) if expected)
    return cites_gold and found, True


def score_mode(engine: Engine, queries: list[dict], mode: str, answers: bool = True) -> dict:
    """recall@1/5/20, MRR@10 by gold document, and the answer hit rate for one mode."""
    depth = max(CUTOFFS) * 3  # several passages of one document may rank together
    hits_at = {n: 0 for n in CUTOFFS}
    reciprocal = 0.0
    answer_hits = answered = 0
    latencies = []
    for query in tqdm(queries, desc=f"eval {mode}", unit="q", leave=False,
                      disable=not settings.get("progress")):
        gold = set(query["gold_pids"])
        started = time.perf_counter()
        try:
            docs = ranked_documents(engine, query["question"], mode, depth)
        except ValueError as exc:  # a query with nothing to search counts as a miss
            log.debug("query %s: %s", query.get("qid"), exc)
            docs = []
        latencies.append(time.perf_counter() - started)
        for n in CUTOFFS:
            hits_at[n] += bool(gold & set(docs[:n]))
        for rank, doc_id in enumerate(docs[:MRR_DEPTH], start=1):
            if doc_id in gold:
                reciprocal += 1 / rank
                break
        if answers:
            try:
                hit, was_answered = answer_outcome(engine, query, mode)
            except ValueError:  # nothing to search in this question
                hit = was_answered = False
            answer_hits += hit
            answered += was_answered
    total = max(len(queries), 1)
    scores = {f"recall@{n}": round(hits_at[n] / total, 4) for n in CUTOFFS}
    scores["mrr@10"] = round(reciprocal / total, 4)
    scores["answer_hit"] = round(answer_hits / total, 4) if answers else None
    scores["answered"] = round(answered / total, 4) if answers else None
    ordered = sorted(latencies)
    scores["search_p50_ms"] = round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None
    return scores


def evaluate(queries_path: Path, modes: list[str], index: Path | None = None,
             corpus: Path | None = None, distractors: Path | None = None,
             distractor_count: int = 0, answers: bool = True) -> dict:
    """Run every question in every mode against ``index`` or a temporary index of ``corpus``."""
    from indexer.store.build import build

    queries, skipped = load_queries(queries_path)
    work = None
    try:
        if index is None:
            if corpus is None:
                raise ValueError("give --corpus PASSAGES.jsonl or --index DIR")
            work = Path(tempfile.mkdtemp(prefix="policyqa-eval-"))
            prepare_corpus(work / "corpus", Path(corpus), distractors, distractor_count)
            index = work / "index"
            build(work / "corpus", index)
        engine = Engine(index)
        catalog = engine.generation().catalog
        result = {"passages": len(catalog.documents), "queries": len(queries),
                  "skipped_queries": skipped, "modes": {}}
        for mode in modes:
            result["modes"][mode] = score_mode(engine, queries, mode, answers)
        return result
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
