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
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from indexer import settings
from indexer.engine import Engine

log = logging.getLogger(__name__)

CUTOFFS = (1, 5, 20)
MRR_DEPTH = 10


def load_queries(path: Path) -> list[dict]:
    """Read a question file; a line without a question or gold ids is an error."""
    queries = []
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            record = json.loads(line)
            if not record.get("question") or not record.get("gold_pids"):
                raise ValueError(f"{path}:{number}: a query needs a question and gold_pids")
            queries.append(record)
    return queries


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


def score_mode(engine: Engine, queries: list[dict], mode: str,
               answer_fn: Callable | None = None) -> dict:
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
        if answer_fn is not None:
            hit, was_answered = answer_fn(engine, query, mode)
            answer_hits += hit
            answered += was_answered
    total = max(len(queries), 1)
    scores = {f"recall@{n}": round(hits_at[n] / total, 4) for n in CUTOFFS}
    scores["mrr@10"] = round(reciprocal / total, 4)
    scores["answer_hit"] = round(answer_hits / total, 4) if answer_fn else None
    scores["answered"] = round(answered / total, 4) if answer_fn else None
    ordered = sorted(latencies)
    scores["search_p50_ms"] = round(ordered[len(ordered) // 2] * 1000, 1) if ordered else None
    return scores


def evaluate(queries_path: Path, modes: list[str], index: Path | None = None,
             corpus: Path | None = None, distractors: Path | None = None,
             distractor_count: int = 0, answer_fn: Callable | None = None) -> dict:
    """Run every question in every mode against ``index`` or a temporary index of ``corpus``."""
    from indexer.build import build

    queries = load_queries(queries_path)
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
        result = {"passages": len(catalog.documents), "queries": len(queries), "modes": {}}
        for mode in modes:
            result["modes"][mode] = score_mode(engine, queries, mode, answer_fn)
        return result
    finally:
        if work is not None:
            shutil.rmtree(work, ignore_errors=True)
