"""ONNX Runtime embeddings: an int8 copy of the sentence-transformers model, made at set-up.

:func:`ensure_onnx_model` exports a sentence-transformers directory on disk (the converted
e5-small by default) with ``torch.onnx`` (the torch.export-based exporter) as one graph:
the transformer, its pooling (mean or CLS, prompt tokens included) and L2 normalisation.
ONNX Runtime's dynamic quantiser then stores the embedding table and the MatMuls as int8
(weights per output channel; activations quantised per tensor at run time), all but each
layer's feed-forward output projection: its input is the GELU output, whose long tail one
per-tensor scale fits badly. Kept in fp32 (7 M of 118 M weights, +20 MB), it takes the
export's error to fp32 from 0.0028 to 0.0009 (1 - cosine, own-words questions and their
sentences) and own-words hybrid R@1 on the train split from 0.672 to 0.699, at 52 instead
of 66 passages/s (README, Performance). The int8 weights use 7 bits
(``reduce_range``): on a CPU without VNNI (AVX2 only, as on some of our machines) ONNX Runtime's
u8×s8 kernel adds pairs of products in 16 bits, which full 8-bit weights overflow, and the
same export then gave other vectors (own-words error 0.0020 instead of 0.0009, and other
rankings). With 7 bits the sums fit and every CPU computes the same integer sums; the
error is 0.0010-0.0012 (questions 0.0012, sentences 0.0010, on AVX2). With the question
adapter merged (:mod:`indexer.embed.adapter`) it is 0.0049 and 0.0040, without moving
own-words rankings against PyTorch (train split R@1 0.914 with either). Before the
result is kept, both graphs are checked against PyTorch on a padded batch. The folder is
written atomically beside the source, keyed by the source's fingerprint, and reused as is:
``python -m indexer model`` makes it, and the ONNX embedder makes it on first use when it
is missing. Nothing is downloaded.

The embedder (:mod:`indexer.embed.onnx_runtime`) needs only ``onnxruntime`` and
``tokenizers`` at run time (no torch):
the tokenizer is the source's ``tokenizer.json``, with the same prompts and truncation as
sentence-transformers. It runs one text at a time. It lives in
:mod:`indexer.embed.onnx_runtime`; this module makes and checks the export.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import logging
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from indexer import settings
from indexer.embed.convert import _lock
from indexer.errors import ModelNotAvailable

log = logging.getLogger(__name__)

# Bump when the export changes, so folders written by an older exporter are made again.
EXPORTER_VERSION = 4  # 4: 7-bit weights
MANIFEST = "export.json"
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
SUFFIX = "onnx-int8"
OPSET = 18
INPUTS = ("input_ids", "attention_mask")
OUTPUT = "sentence_embedding"
# The export is refused when its graph drifts this far from PyTorch on the check batch.
FP32_MIN_COSINE = 0.9999
INT8_MIN_COSINE = 0.98
CHECK_TEXTS = ("税收", "国务院关于进一步优化营商环境的意见",
               "2024年1-6月，全市GDP同比增长5.2%，高于全国0.2个百分点。",
               "臺灣的經濟發展與產業轉型", "The State Council issued new guidelines in 2021.",
               "各学校要把校园安全放在首位，认真落实安全责任制度，定期排查校舍、校车和食堂的"
               "安全隐患，确保师生平安。" * 3)
# A check batch: the graph's inputs, and the vectors PyTorch makes of them.
Reference = tuple[dict[str, np.ndarray], np.ndarray]


def onnx_model_dir(source: Path) -> Path:
    """Where the int8 export of ``source`` lives: ``models_dir/<source name>-onnx-int8``.

    A source outside ``models_dir`` gets a hash of its path in the name, so two models of
    the same folder name do not share an export.
    """
    source = Path(source).resolve()
    models = Path(settings.get("models_dir"))
    name = source.name
    if source.parent != models.resolve():
        name += "-" + hashlib.sha1(str(source).encode()).hexdigest()[:8]
    return models / f"{name}-{SUFFIX}"


def source_fingerprint(source: Path) -> str:
    """Identifies a sentence-transformers folder: its configs, tokenizer and weight sizes."""
    digest = hashlib.sha1()
    for path in sorted(Path(source).rglob("*")):
        if path.suffix == ".json":
            digest.update(path.relative_to(source).as_posix().encode())
            digest.update(path.read_bytes())
        elif path.suffix in {".safetensors", ".bin"}:
            digest.update(f"{path.name}:{path.stat().st_size}".encode())
    return digest.hexdigest()[:16]


def ensure_onnx_model(source: str | Path) -> Path:
    """The int8 ONNX export of the model folder ``source``, made unless already done.

    Raises:
        ModelNotAvailable: ``source`` is not a folder on disk, the export packages are not
            installed, or the model cannot be exported faithfully.
    """
    source = Path(source)
    if not source.is_dir():
        raise ModelNotAvailable(
            f"the onnx embedding runtime exports a model folder on disk, and {str(source)!r} "
            "is not one; set POLICYQA_EMBEDDING_MODEL to a local model directory")
    target = onnx_model_dir(source)
    expected = source_fingerprint(source)
    if _is_complete(target, expected):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target.parent / f".{target.name}.lock"):
        if _is_complete(target, expected):  # another process finished while we waited
            return target
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            log.info("removing leftovers of an interrupted export: %s", stale)
            shutil.rmtree(stale, ignore_errors=True)
        if target.exists():
            log.info("%s is incomplete or from another model or exporter; exporting again",
                     target)
            shutil.rmtree(target)
        export(source, target)
    return target


def export(source: Path, out_dir: Path) -> Path:
    """Export the sentence-transformers folder ``source`` into a new folder ``out_dir``."""
    source, out_dir = Path(source), Path(out_dir)
    started = time.monotonic()
    _require("onnx", "onnxscript", "onnxruntime")
    log.info("exporting %s to int8 ONNX (once; about a minute)", source)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        scratch = tmp / "fp32"
        scratch.mkdir()
        info, reference = _export_fp32(source, scratch / "model.onnx")
        info["check"]["fp32_min_cosine"] = _check(scratch / "model.onnx", reference,
                                                  FP32_MIN_COSINE)
        _quantize(scratch / "model.onnx", tmp / MODEL_FILE)
        info["check"]["int8_min_cosine"] = _check(tmp / MODEL_FILE, reference, INT8_MIN_COSINE)
        shutil.rmtree(scratch)
        shutil.copyfile(source / TOKENIZER_FILE, tmp / TOKENIZER_FILE)
        manifest = {"exporter_version": EXPORTER_VERSION, "source": str(source.resolve()),
                    "source_fingerprint": source_fingerprint(source), **info,
                    "model_sha256": _sha256(tmp / MODEL_FILE),
                    "versions": {name: importlib.metadata.version(name) for name in
                                 ("torch", "onnx", "onnxscript", "onnxruntime")},
                    "built": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        # Written last: its presence means the rest is complete.
        (tmp / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n",
                                    encoding="utf-8")
        for path in [tmp, *tmp.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("exported %s in %.1f s", out_dir, time.monotonic() - started)
    return out_dir


def read_manifest(folder: Path) -> dict[str, Any]:
    """The export's ``export.json`` (raises OSError or ValueError when unreadable)."""
    return json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))


def _is_complete(folder: Path, fingerprint: str) -> bool:
    try:
        manifest = read_manifest(folder)
    except (OSError, ValueError):
        return False
    return (manifest.get("exporter_version") == EXPORTER_VERSION
            and manifest.get("source_fingerprint") == fingerprint
            and (folder / MODEL_FILE).is_file() and (folder / TOKENIZER_FILE).is_file())


def _require(*packages: str) -> None:
    for package in packages:
        try:
            importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError as exc:
            raise ModelNotAvailable(f"the onnx embedding runtime needs {package}, which is not "
                                    "installed (see requirements.txt)") from exc


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the export ----------------------------------------------------------------------------


def _pipeline(source: Path) -> tuple[str, bool]:
    """The pooling mode and whether vectors are normalised, from the folder's modules.json."""
    modules = json.loads((source / "modules.json").read_text(encoding="utf-8"))
    kinds = [module["type"].rsplit(".", 1)[-1] for module in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
        raise ModelNotAvailable(f"cannot export {source} to ONNX: modules {kinds} are not "
                                "Transformer, Pooling and an optional Normalize")
    pooling = json.loads((source / modules[1]["path"] / "config.json")
                         .read_text(encoding="utf-8"))
    mode = pooling.get("pooling_mode")
    if mode is None:  # the older format: one flag per mode
        mode = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}.get(
            next((k for k, v in pooling.items() if k.startswith("pooling_mode_") and v), ""))
    if mode not in {"mean", "cls"} or not pooling.get("include_prompt", True):
        raise ModelNotAvailable(f"cannot export {source} to ONNX: pooling {pooling} is not "
                                "mean or CLS over all tokens")
    return mode, "Normalize" in kinds


def _prompts(model) -> dict[str, str]:
    """The prompts sentence-transformers' encode_query and encode_document use."""
    prompts = dict(model.prompts)
    default = prompts.get(model.default_prompt_name or "", "")
    passage = next((prompts[n] for n in ("document", "passage", "corpus") if n in prompts),
                   default)
    return {"query": prompts.get("query", default), "passage": passage}


def _export_fp32(source: Path, path: Path) -> tuple[dict[str, Any], Reference]:
    """Write the fp32 graph (tokens in, sentence embedding out).

    Returns its description for the manifest, and the check batch with PyTorch's vectors.
    """
    mode, normalize = _pipeline(source)  # before the heavy imports: an unfit model fails fast
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(source), device="cpu", local_files_only=True).eval()
    prompts = _prompts(model)

    class SentenceEmbedding(torch.nn.Module):
        """The transformer, pooling and normalisation as one module."""

        def __init__(self, encoder):
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask):
            hidden = self.encoder(input_ids=input_ids,
                                  attention_mask=attention_mask).last_hidden_state
            if mode == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1) if normalize else pooled

    graph = SentenceEmbedding(model[0].auto_model).eval()
    texts = [prompts["passage"] + text for text in CHECK_TEXTS]
    # A padded batch: the graph must honour the attention mask, not assume full rows.
    sample = model.tokenizer(texts[:2], padding=True, return_tensors="pt")
    batch = torch.export.Dim("batch")
    length = torch.export.Dim("length", max=model.max_seq_length)
    shapes = {"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}}
    check = model.tokenizer(texts, padding=True, return_tensors="np")
    with torch.no_grad(), _quiet():
        torch.onnx.export(graph, (sample["input_ids"], sample["attention_mask"]), str(path),
                          input_names=list(INPUTS), output_names=[OUTPUT],
                          dynamic_shapes=shapes, opset_version=OPSET, dynamo=True,
                          external_data=True, optimize=True, verbose=False)
        reference = graph(torch.from_numpy(check["input_ids"]),
                          torch.from_numpy(check["attention_mask"])).numpy()
    _strip_provenance(path)
    feed = {name: check[name].astype(np.int64) for name in INPUTS}
    info = {
        "format": "onnx", "dtype": "int8", "opset": OPSET, "inputs": list(INPUTS),
        "output": OUTPUT,
        "quantization": {"tool": "onnxruntime.quantization.quantize_dynamic",
                         "weights": "int8 holding 7 bits, per output channel (Gather, "
                                    "and MatMul but the feed-forward output projections, "
                                    "kept fp32)",
                         "activations": "uint8, per tensor, at run time"},
        "dimension": int(model.get_embedding_dimension()),
        "max_seq_length": int(model.max_seq_length),
        "pad_token": model.tokenizer.pad_token, "pad_id": int(model.tokenizer.pad_token_id),
        "prompts": prompts, "pooling": mode, "normalized": normalize,
        "check": {"texts": len(texts)},
    }
    return info, (feed, reference)


def _strip_provenance(path: Path) -> None:
    """Drop the exporter's per-node notes (Python stack traces with our file paths and line
    numbers), so the same weights and tools give the same bytes wherever the code lies."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)  # the weights stay where they are
    for node in [*model.graph.node, *(n for f in model.functions for n in f.node)]:
        del node.metadata_props[:]
        node.doc_string = ""
    onnx.save(model, str(path))


def _quantize(fp32: Path, int8: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with _quiet():
        quantize_dynamic(str(fp32), str(int8), per_channel=True, reduce_range=True,
                         weight_type=QuantType.QInt8,
                         nodes_to_exclude=feed_forward_outputs(fp32))


def feed_forward_outputs(path: Path) -> list[str]:
    """The MatMul nodes that project a feed-forward layer back to the hidden size: their
    constant weight has more rows than columns (intermediate × hidden)."""
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    shapes = {tensor.name: tuple(tensor.dims) for tensor in model.graph.initializer}
    found = []
    for node in model.graph.node:
        dims = next((shapes[name] for name in node.input if name in shapes), ())
        if node.op_type == "MatMul" and len(dims) == 2 and dims[0] > dims[1]:
            found.append(node.name)
    return found


class _ExporterChatter(logging.Filter):
    """Drops the quantiser's per-tensor notes, which it logs on the root logger."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.ERROR or "quantization" not in record.pathname


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the exporter's and quantiser's progress notes (hundreds of lines) for a while."""
    loggers = [logging.getLogger(name) for name in ("onnxscript", "onnx_ir", "torch.onnx")]
    levels = [logger.level for logger in loggers]
    chatter = _ExporterChatter()
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    logging.root.addFilter(chatter)
    try:
        with warnings.catch_warnings():
            # torch.export's own pytree deprecation, raised inside the exporter
            warnings.filterwarnings("ignore", category=FutureWarning, module="copyreg")
            yield
    finally:
        logging.root.removeFilter(chatter)
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _check(path: Path, reference: Reference, least: float) -> float:
    """Least cosine of the graph at ``path`` to PyTorch's vectors; raises below ``least``."""
    feed, expected = reference
    runner = session(path, threads=0)
    got = runner.run([OUTPUT], feed)[0]
    cosine = float(np.min(np.sum(got * expected, axis=1)
                          / np.linalg.norm(got, axis=1) / np.linalg.norm(expected, axis=1)))
    if cosine < least:
        raise ModelNotAvailable(f"the ONNX export {path.name} disagrees with PyTorch (least "
                                f"cosine {cosine:.4f} < {least}); it was not kept")
    return round(cosine, 6)


def session(path: Path, threads: int):
    """An ONNX Runtime session on the CPU for the graph at ``path``."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or os.cpu_count() or 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only: its warnings are about fusions it skipped
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
