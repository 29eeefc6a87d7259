"""Embedding runtimes side by side: passages/s, query latency, peak memory, agreement.

Run: .venv/bin/python -m bench.runtime_bench [--runtimes torch,onnx] [--passages 256]
                                             [--queries 100]

Measures each runtime (the ``embedding_runtime`` setting's values) in a process of its
own, under ``/usr/bin/time -v`` when it is there, so one runtime's memory never counts
for the other. Prints one JSON object with, per runtime: seconds to load the model,
passages/s for ~140-token passages at batch 32 (the passages ``bench.model_agreement``
times), single-question latency percentiles (CMRC 2018 questions, the recent-question
memory bypassed) and peak RSS of the whole process; and the ONNX-to-torch cosine of
those passages and questions. The export is made first if set-up has not made it.
Timings are wall clock: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.data import ROOT, shared_file
from bench.model_agreement import cosine_stats, latency, read_jsonl

BATCH = 32


def sized_passages(n: int) -> list[str]:
    """The first ``n`` scale passages of 120-160 tokens with the passage prompt."""
    from tokenizers import Tokenizer

    from indexer.embed.embedder import model_path

    tokenizer = Tokenizer.from_file(str(Path(model_path()) / "tokenizer.json"))
    texts = read_jsonl(shared_file("scale_passages.jsonl"), "text", 20000)
    counts = [len(e.ids) for e in tokenizer.encode_batch(["passage: " + t for t in texts])]
    return [t for t, c in zip(texts, counts, strict=True) if 120 <= c <= 160][:n]


def measure(runtime: str, texts_file: Path, vectors_file: Path) -> dict:
    """One runtime, in this process: load, passages/s, query latency, own peak RSS."""
    from indexer.embed import open_embedder

    data = json.loads(texts_file.read_text(encoding="utf-8"))
    passages, queries = data["passages"], data["queries"]
    started = time.perf_counter()
    embedder = open_embedder(runtime, batch_size=BATCH)
    embedder.embed_queries(["预热"])  # loads the model
    report = {"load_s": round(time.perf_counter() - started, 2), "model": embedder.name}
    embedder._encode(passages[:BATCH], "passage")  # warm-up batch
    started = time.perf_counter()
    vectors = embedder._encode(passages, "passage")
    report["passages_per_s"] = round(len(passages) / (time.perf_counter() - started), 2)
    report["query_latency"] = latency(lambda q: embedder.embed_queries([q]), queries)
    np.save(vectors_file, np.concatenate([vectors, embedder.embed_queries(queries)]))
    report["ru_maxrss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    report["torch_imported"] = "torch" in sys.modules
    return report


def run_child(runtime: str, texts_file: Path, vectors_file: Path) -> dict:
    """:func:`measure` in a new process; adds ``/usr/bin/time -v``'s maximum RSS."""
    command = [sys.executable, "-m", "bench.runtime_bench", "--child", runtime,
               "--texts-file", str(texts_file), "--vectors-file", str(vectors_file)]
    timer = shutil.which("time", path="/usr/bin")
    timing = vectors_file.with_suffix(".time")
    if timer:
        command = [timer, "-v", "-o", str(timing), *command]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"{runtime} failed:\n{done.stderr[-3000:]}")
    report = json.loads(done.stdout)
    if timer:
        found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", timing.read_text())
        if found:
            report["peak_rss_mb"] = round(int(found.group(1)) / 1024)
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runtimes", default="torch,onnx")
    parser.add_argument("--passages", type=int, default=256, help="~140-token passages to time")
    parser.add_argument("--queries", type=int, default=100, help="single questions to time")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--texts-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--vectors-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("POLICYQA_PROGRESS", "false")
    if args.child:
        print(json.dumps(measure(args.child, args.texts_file, args.vectors_file)))
        return

    from indexer.embed import runtime_name
    from indexer.embed.embedder import resolve_model

    runtimes = [runtime_name(r) for r in args.runtimes.split(",") if r.strip()]
    queries_file = shared_file("cmrc2018/queries.jsonl")
    resolve_model()  # convert and export first, so no child times it
    passages = sized_passages(args.passages)
    queries = [q for q in read_jsonl(queries_file, "question", args.queries + 5) if q]
    report: dict = {"cpus": os.cpu_count(), "passages": len(passages),
                    "queries": len(queries[:args.queries]), "batch": BATCH}
    with tempfile.TemporaryDirectory(prefix="runtime-bench-") as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps({"passages": passages,
                                          "queries": queries[:args.queries]},
                                         ensure_ascii=False), encoding="utf-8")
        vectors = {}
        for runtime in runtimes:
            vectors_file = Path(tmp) / f"{runtime}.npy"
            report[runtime] = run_child(runtime, texts_file, vectors_file)
            vectors[runtime] = np.load(vectors_file)
    if {"torch", "onnx"} <= set(vectors):
        split = len(passages)
        report["onnx_vs_torch"] = {
            "passage": cosine_stats(vectors["onnx"][:split], vectors["torch"][:split]),
            "query": cosine_stats(vectors["onnx"][split:], vectors["torch"][split:])}
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
