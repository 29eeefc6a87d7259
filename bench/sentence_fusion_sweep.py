"""Choose how sentence vectors enter retrieval: the dense score's sentence weight and the
hybrid keyword weight, measured on training questions only.

Run: .venv/bin/python -m bench.sentence_fusion_sweep [--workdir DIR] [--cmrc 1000]

For every question the keyword side is ranked once and the dense side's passage and best
sentence cosines computed once; each setting pair is then replayed exactly as
``HybridRetriever`` (blend) and ``VectorRetriever`` combine them. Sets: the own-words
train split on the bundled reports, and a seeded sample of CMRC 2018 train questions on
a seeded sample of their paragraphs (with ``--traditional``, also of those paragraphs
converted to traditional script, as DRCD's simplified questions meet traditional text).
Prints recall@1/5 and MRR@10 per pair and set.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path

import numpy as np

from bench import answer_data

SENTENCE_WEIGHTS = (0.0, 0.3, 0.5, 0.6, 0.7, 0.8, 1.0)
KEYWORD_WEIGHTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6)
DEPTH = 50


def prepare(engine, examples: list) -> list[dict]:
    """Per question: keyword candidates, all passage cosines and best-sentence cosines."""
    from indexer.errors import NothingToSearch
    from indexer.retrieve.protocol import ranked_with_fallback
    from indexer.text.query import parse

    generation = engine.generation()
    keyword, dense = generation.retriever("keyword"), generation.retriever("semantic")
    rows = []
    for example in examples:
        parsed = parse(example.question)
        try:
            hits, _ = ranked_with_fallback(keyword, parsed, DEPTH)
        except NothingToSearch:
            hits = []
        vectors = dense.query_vectors(parsed)
        passage = vectors.cosines(dense.vectors)
        sentence = dense.sentences.best_all(vectors, len(dense.ids))
        gold_rows = [i for i, pid in enumerate(dense.ids)
                     if pid in example.gold or dense.catalog.passages[pid].doc_id in example.gold]
        rows.append({"keyword": [(dense.row_of(h.passage_id), h.score) for h in hits],
                     "passage": passage, "sentence": sentence, "gold": set(gold_rows),
                     "coverage": _coverage(example.question, hits, dense.catalog)})
    return rows


def _coverage(question: str, hits, catalog) -> float:
    """The IDF-weighted share of the question's words in the top keyword passage."""
    from indexer.answer.question import analyse
    from indexer.text.analysis import fold

    terms = analyse(question).terms
    if not hits or not terms:
        return 0.0
    text = fold(catalog.passages[hits[0].passage_id].text)
    return sum(w for t, w in terms.items() if t in text) / sum(terms.values())


def ranking(row: dict, sentence_weight: float, keyword_weight) -> list[int]:
    """Passage rows in hybrid order for one setting pair (as blend fusion does it); a
    keyword weight ``(low, high)`` moves from low to high with the question's coverage."""
    if isinstance(keyword_weight, tuple):
        low, high = keyword_weight
        keyword_weight = low + (high - low) * row["coverage"]
    passage, sentence = row["passage"], row["sentence"]
    dense = np.where(np.isnan(sentence), passage,
                     (1 - sentence_weight) * passage + sentence_weight * sentence)
    depth = min(DEPTH, len(dense) - 1)
    top = np.argpartition(-dense, depth)[:depth]
    keyword = dict(row["keyword"])
    union = list(dict.fromkeys([r for r, _ in row["keyword"]] + top.tolist()))
    k = np.array([keyword.get(r, 0.0) for r in union])
    v = dense[union]

    def norm(x):
        span = x.max() - x.min()
        return (x - x.min()) / span if span > 1e-9 else np.where(x > 0, 1.0, 0.0)

    fused = keyword_weight * norm(k) + (1 - keyword_weight) * norm(v)
    return [union[i] for i in np.argsort(-fused, kind="stable")]


def figures(rows: list[dict], sentence_weight: float, keyword_weight: float) -> dict:
    """recall@1, recall@5 and MRR@10 of one setting pair (by gold passage)."""
    r1 = r5 = mrr = 0.0
    for row in rows:
        order = ranking(row, sentence_weight, keyword_weight)
        rank = next((i for i, r in enumerate(order[:20], start=1) if r in row["gold"]), None)
        r1 += rank == 1
        r5 += rank is not None and rank <= 5
        mrr += 1 / rank if rank is not None and rank <= 10 else 0.0
    n = max(1, len(rows))
    return {"r1": round(r1 / n, 4), "r5": round(r5 / n, 4), "mrr": round(mrr / n, 4)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    answer_data.add_training_arguments(parser, cmrc=1000)
    parser.add_argument("--traditional", action="store_true",
                        help="also ask the CMRC questions of their paragraphs in traditional "
                             "script (the cross-script case)")
    parser.add_argument("--save", type=Path, help="pickle the prepared rows here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")
    from indexer.embed.embedder import Embedder
    from indexer.retrieve.engine import Engine

    embedder = Embedder()
    sets = {}
    engine = Engine(answer_data.corpus_index(args.workdir, embedder), embedder=embedder)
    own = [e for e in answer_data.ownwords(engine.generation().catalog) if e.answerable]
    sets["ownwords_train"] = prepare(engine, own)
    if args.cmrc:
        engine = Engine(answer_data.cmrc_train_index(args.workdir, embedder, args.paragraphs, 0),
                        embedder=embedder)
        questions = answer_data.cmrc_train(args.cmrc, 11, args.paragraphs)
        sets["cmrc_train"] = prepare(engine, questions)
        if args.traditional:
            engine = Engine(answer_data.cmrc_train_index(args.workdir, embedder, args.paragraphs,
                                                         0, traditional=True),
                            embedder=embedder)
            sets["cmrc_train_zht"] = prepare(engine, questions)
    report = {}
    adaptive = [(low, high) for low in (0.0, 0.1, 0.2) for high in (0.5, 0.7, 0.9)]
    for sw in SENTENCE_WEIGHTS:
        for kw in (*KEYWORD_WEIGHTS, *adaptive):
            report[f"sentence={sw} keyword={kw}"] = {
                name: figures(rows, sw, kw) for name, rows in sets.items()}
    if args.save:
        import pickle

        args.save.write_bytes(pickle.dumps(sets))
    print(json.dumps(report, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
