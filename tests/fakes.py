"""A deterministic stand-in for the embedding model, for plumbing tests only.

It embeds character bigrams into a hashed bag (so similar texts get similar vectors)
and keeps the real Embedder's interface and cache. The real model runs in the tests
marked ``model``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from indexer.embed.embedder import EmbeddingCache, _text_key


class FakeEmbedder:
    dimension = 64
    name = "fake-bigram-64"
    fingerprint = "fake-bigram-64"

    def __init__(self, cache_dir: Path):
        self.cache = EmbeddingCache(cache_dir, self.fingerprint)
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        for a, b in zip(text, text[1:], strict=False):
            bucket = int(hashlib.md5((a + b).encode()).hexdigest()[:8], 16) % self.dimension
            vector[bucket] += 1.0
        norm = np.linalg.norm(vector)
        return vector / norm if norm else vector

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)

    def embed_passages(self, texts, progress=None) -> np.ndarray:
        keys = [_text_key(t) for t in texts]
        cached = self.cache.get_many(keys)
        fresh = {k: self._vector(t) for k, t in zip(keys, texts, strict=True)
                 if k not in cached}
        self.cache.misses += len(fresh)
        self.cache.hits += len(texts) - len(fresh)
        self.calls += len(fresh)
        self.cache.put_many(fresh)
        cached.update(fresh)
        if progress:
            progress(len(texts))
        return np.stack([cached[k] for k in keys]) if texts else np.zeros((0, self.dimension))
