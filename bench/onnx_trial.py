"""Trial: the converted e5 model under ONNX Runtime (fp32 and int8) against sentence-transformers.

Run: .venv/bin/python -m bench.onnx_trial [--passages 256] [--queries 100]

Needs ``onnxruntime``, ``onnx`` and ``onnxscript``, which the product does not depend on
(install them into a scratch folder and put it on ``PYTHONPATH``). Exports the model's
transformer to ONNX, runs it with ONNX Runtime on both cores (mean pooling and
normalisation in numpy, as the sentence-transformers pipeline does), quantises a copy to
int8 (dynamic, per channel) and prints one JSON object: passages/s at batch 32 on the
~140-token passages model_agreement times, single-query latency, and cosine to the fp32
sentence-transformers embeddings. Timings are wall clock: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.data import shared_file
from bench.model_agreement import cosine_stats, latency, read_jsonl

BATCH = 32


class OnnxEncoder:
    """Tokenise with the model's tokenizer, run the ONNX graph, mean-pool, normalise."""

    def __init__(self, path: Path, tokenizer, threads: int):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(str(path), options,
                                            providers=["CPUExecutionProvider"])
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = tokenizer

    def encode(self, texts: list[str], prefix: str, batch_size: int = BATCH) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        rows: dict[int, np.ndarray] = {}
        for first in range(0, len(order), batch_size):
            chosen = order[first:first + batch_size]
            batch = self.tokenizer([prefix + texts[i] for i in chosen], padding=True,
                                   truncation=True, max_length=512, return_tensors="np")
            feed = {k: v.astype(np.int64) for k, v in batch.items() if k in self.inputs}
            hidden = self.session.run(None, feed)[0]
            mask = batch["attention_mask"][..., None].astype(np.float32)
            pooled = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1e-9)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            rows.update(zip(chosen, pooled, strict=True))
        return np.stack([rows[i] for i in range(len(texts))])


def export(model, folder: Path) -> Path:
    """The transformer of a SentenceTransformer as an ONNX graph with dynamic batch and length."""
    import torch

    sample = model.tokenizer(["passage: 示例文本"], return_tensors="pt")
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]

    class Transformer(torch.nn.Module):  # keyword arguments in, last hidden state out
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *tensors):
            return self.inner(**dict(zip(names, tensors, strict=True))).last_hidden_state

    transformer = Transformer(model[0].auto_model).eval()
    path = folder / "model.onnx"
    dynamic = {n: {0: "batch", 1: "length"} for n in names}
    dynamic["last_hidden_state"] = {0: "batch", 1: "length"}
    with torch.no_grad():
        torch.onnx.export(transformer, tuple(sample[n] for n in names), str(path),
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes=dynamic, opset_version=17, dynamo=False)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=256)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args()
    scale_file = shared_file("scale_passages.jsonl")
    queries_file = shared_file("cmrc2018/queries.jsonl")
    logging.basicConfig(level=logging.WARNING)
    os.environ["HF_HUB_OFFLINE"] = "1"

    from onnxruntime.quantization import QuantType, quantize_dynamic
    from sentence_transformers import SentenceTransformer

    from indexer import settings
    from indexer.embed import convert as modelconv

    model_dir = modelconv.ensure_default_model(settings.get("models_dir"))
    model = SentenceTransformer(str(model_dir), device="cpu")
    scale = read_jsonl(scale_file, "text", 20000)
    sized = [t for t in scale
             if 120 <= len(model.tokenizer("passage: " + t)["input_ids"]) <= 160]
    passages = sized[:args.passages]
    queries = read_jsonl(queries_file, "question", args.queries)
    reference = {"passage": model.encode(passages, prompt_name="passage", batch_size=BATCH),
                 "query": model.encode(queries, prompt_name="query", batch_size=BATCH)}
    report: dict = {"passages": len(passages), "queries": len(queries)}
    with tempfile.TemporaryDirectory() as tmp:
        fp32_path = export(model, Path(tmp))
        int8_path = Path(tmp) / "model-int8.onnx"
        quantize_dynamic(str(fp32_path), str(int8_path), per_channel=True,
                         weight_type=QuantType.QInt8)
        for name, path in (("onnx_fp32", fp32_path), ("onnx_int8", int8_path)):
            encoder = OnnxEncoder(path, model.tokenizer, threads=os.cpu_count() or 1)
            encoder.encode(passages[:BATCH], "passage: ")
            started = time.perf_counter()
            vectors = encoder.encode(passages, "passage: ")
            seconds = time.perf_counter() - started
            report[name] = {
                "passages_per_s": round(len(passages) / seconds, 2),
                "query_latency": latency(lambda q, e=encoder: e.encode([q], "query: "), queries),
                "vs_st_fp32": {
                    "passage": cosine_stats(vectors, reference["passage"]),
                    "query": cosine_stats(encoder.encode(queries, "query: "),
                                          reference["query"])},
            }
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
