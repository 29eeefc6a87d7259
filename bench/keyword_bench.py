"""Keyword search benchmark: our Whoosh index vs a plain bm25s + jieba baseline.

Run: .venv/bin/python -m bench.keyword_bench --passages 20000 [--queries 300] [--profile]

Both sides index the same first N passages of ../shared/bench/scale_passages.jsonl and
answer the same 1–4 word queries drawn from random passages. Prints one JSON object:
build throughput, index size and query latency percentiles for each side; for ours also
the same queries sent one at a time to ``/api/search?mode=keyword`` of ``python -m
webapp`` over the index, and how often our top 10 is the top 10 of an exhaustive Whoosh
search (every match scored by Whoosh's own matchers, then sorted).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import logging
import os
import pstats
import random
import shutil
import tempfile
import time
from pathlib import Path

from bench.data import scale_rows
from bench.timing import percentiles


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def make_queries(texts: list[str], count: int, seed: int = 13) -> list[str]:
    """1–4 consecutive content words of random passages, as a user would type them."""
    from indexer.text.analysis import tokens

    rng = random.Random(seed)
    queries = []
    while len(queries) < count:
        words = [w for w in tokens(rng.choice(texts)) if len(w) >= 2 and not w.isdigit()]
        if not words:
            continue
        size = rng.randint(1, 4)
        start = rng.randrange(max(1, len(words) - size + 1))
        queries.append(" ".join(words[start:start + size]))
    return queries


def time_queries(run, queries: list[str]) -> list[float]:
    for query in queries[:20]:  # warm caches
        run(query)
    samples = []
    for query in queries:
        started = time.perf_counter()
        run(query)
        samples.append(time.perf_counter() - started)
    return samples


def exhaustive_agreement(retriever, queries: list[str]) -> float:
    """Share of queries whose top 10 (as passage ids, in order) is that of Whoosh's own
    matchers scoring every match (``limit=None``), sorted by score then document."""
    from indexer.text.query import parse

    searcher = retriever._searcher()
    same = 0
    for query in queries:
        parsed = parse(query)
        results = searcher.search(retriever.build_query(parsed), limit=None, optimize=False)
        best = sorted((-hit.score, hit.docnum, hit["passage_id"]) for hit in results)[:10]
        ours = [hit.passage_id for hit in retriever.ranked(parsed, 10)]
        same += ours == [passage_id for _, _, passage_id in best]
    return round(same / max(1, len(queries)), 4)


def time_api(index: Path, queries: list[str]) -> dict:
    """The queries sent one at a time to /api/search?mode=keyword of ``python -m webapp``
    (one process) over ``index``."""
    import http.client
    from urllib.parse import urlencode

    from bench.web_load import get, start_server, stop_server

    process, host, port = start_server(index, threads=1, workers=1, warm=True)
    try:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        statuses = []

        def run(query: str) -> None:
            status, _ = get(connection, "/api/search?" + urlencode({"q": query,
                                                                     "mode": "keyword"}))
            statuses.append(status)

        samples = time_queries(run, queries)
        connection.close()
    finally:
        stop_server(process)
    return {**percentiles(samples), "errors": sum(status != 200 for status in statuses)}


def bench_ours(corpus_dir: Path, work: Path, queries: list[str], profile: bool) -> dict:
    from indexer.retrieve.engine import Engine
    from indexer.store.build import build
    from indexer.store.generations import current_generation
    from indexer.text.query import parse

    index = work / "index"
    started = time.perf_counter()
    report = build(corpus_dir, index)
    seconds = time.perf_counter() - started
    engine = Engine(index)
    searcher = engine.generation().retriever("keyword")
    whoosh_dir = current_generation(index) / "whoosh"
    full = time_queries(lambda q: engine.search(q, k=10), queries)
    ranking = time_queries(lambda q: searcher.ranked(parse(q), 10), queries)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for query in queries:
            engine.search(query, k=10)
        profiler.disable()
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(25)
    agreement = exhaustive_agreement(searcher, queries)
    return {
        "passages": report.passages,
        "build_seconds": round(seconds, 1),
        "build_passages_per_s": round(report.passages / seconds, 1),
        "index_mb": round(folder_size(whoosh_dir) / 2**20, 1),
        "search_with_facets_and_highlights": percentiles(full),
        "ranking_only": percentiles(ranking),
        "top10_same_as_exhaustive": agreement,
        "api_search_keyword": time_api(index, queries),
    }


def bench_bm25s(texts: list[str], queries: list[str]) -> dict:
    import bm25s
    import jieba

    jieba.setLogLevel(logging.WARNING)
    jieba.initialize()
    started = time.perf_counter()
    corpus_tokens = [jieba.lcut(text) for text in texts]
    retriever = bm25s.BM25()
    retriever.index(corpus_tokens, show_progress=False)
    seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as tmp:
        retriever.save(tmp)
        size = folder_size(Path(tmp))

    def run(query: str):
        words = [w for w in jieba.lcut(query) if w.strip()]
        return retriever.retrieve([words], k=10, show_progress=False)

    return {
        "build_seconds": round(seconds, 1),
        "build_passages_per_s": round(len(texts) / seconds, 1),
        "index_mb": round(size / 2**20, 1),
        "search": percentiles(time_queries(run, queries)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of searches")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    # Keyword side only: the vector index is measured by bench.vector_bench.
    os.environ["POLICYQA_VECTORS_ENABLED"] = "false"

    lines = scale_rows(args.passages)
    texts = [json.loads(line)["text"] for line in lines]
    queries = make_queries(texts, args.queries)
    work = Path(tempfile.mkdtemp(prefix="kwbench-"))
    try:
        corpus_dir = work / "corpus"
        corpus_dir.mkdir()
        (corpus_dir / "scale.jsonl").write_text("".join(lines), encoding="utf-8")
        result = {"passages_in": len(texts), "queries": len(queries),
                  "ours": bench_ours(corpus_dir, work, queries, args.profile),
                  "bm25s_jieba": bench_bm25s(texts, queries)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ours, base = result["ours"], result["bm25s_jieba"]
    result["ratios"] = {
        "p50_ours_over_bm25s": round(ours["search_with_facets_and_highlights"]["p50_ms"]
                                     / max(base["search"]["p50_ms"], 0.01), 1),
        "p99_ours_over_bm25s": round(ours["search_with_facets_and_highlights"]["p99_ms"]
                                     / max(base["search"]["p99_ms"], 0.01), 1),
        "build_ours_over_bm25s": round(ours["build_seconds"] / max(base["build_seconds"], 0.1),
                                       1),
    }
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
