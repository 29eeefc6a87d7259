"""The int8 ONNX export (:mod:`indexer.embed.onnx`) run by ONNX Runtime, behind the same
interface as the torch embedder. Needs only ``onnxruntime`` and ``tokenizers``: no torch."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from indexer import settings
from indexer.embed.embedder import CachedEmbedder, model_path
from indexer.embed.onnx import MODEL_FILE, OUTPUT, TOKENIZER_FILE, ensure_onnx_model, read_manifest
from indexer.embed.onnx import session as session_of
from indexer.errors import ModelNotAvailable

log = logging.getLogger(__name__)


class OnnxEmbedder(CachedEmbedder):
    """The int8 export run by ONNX Runtime, behind the same interface as the torch one."""

    runtime = "onnx"
    _counter = None

    def _load(self):
        source = model_path(self.model_name)
        folder = ensure_onnx_model(source)  # made here on first use if set-up did not
        try:
            from tokenizers import Tokenizer

            self._info = read_manifest(folder)
            session = session_of(folder / MODEL_FILE, settings.get("embedding_threads"))
            tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        except ImportError as exc:
            raise ModelNotAvailable(f"the onnx embedding runtime needs {exc.name}, which is "
                                    "not installed (see requirements.txt)") from exc
        except Exception as exc:
            raise ModelNotAvailable(
                f"cannot load the ONNX export {str(folder)!r} ({exc.__class__.__name__}: "
                f"{exc}); remove the folder and run `python -m indexer model`") from exc
        tokenizer.enable_truncation(max_length=self._info["max_seq_length"])
        self._tokenizer = tokenizer
        self._path = str(folder)
        log.info("loaded embedding model %s (int8 ONNX, dimension %d)", folder,
                 self._info["dimension"])
        return session

    @property
    def info(self) -> dict[str, Any]:
        """The export's manifest: prompts, pooling, dimension, checks, versions."""
        self.model  # noqa: B018 - reads the manifest
        return self._info

    def _identity(self, digest) -> None:
        info = self._info
        digest.update(f"runtime=onnx;sha256={info['model_sha256']};"
                      f"source={info['source_fingerprint']}".encode())

    @property
    def dimension(self) -> int:
        return int(self.info["dimension"])

    @property
    def max_seq_length(self) -> int:
        return int(self.info["max_seq_length"])

    def _token_count(self, text: str) -> int:
        if self._counter is None:  # the encoding tokenizer truncates; this one does not
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_file(str(Path(self.name) / TOKENIZER_FILE))
        return len(self._counter.encode(text).ids)

    def _encode(self, texts: list[str], kind: str) -> np.ndarray:
        # One text per run. Dynamic int8 scales each activation tensor by its range, so in
        # a padded batch a text's vector would depend on its batch-mates (cosine 0.996 to
        # itself alone); alone, it depends on the text only, whichever build embeds it, and
        # on two cores it is no slower (no padding). Tokenising is batched.
        session = self.model
        prompt = self.info["prompts"][kind]
        out = np.zeros((len(texts), self.info["dimension"]), dtype=np.float32)
        encodings = self._tokenizer.encode_batch([prompt + text for text in texts])
        for row, encoding in enumerate(encodings):
            feed = {"input_ids": np.array([encoding.ids], dtype=np.int64),
                    "attention_mask": np.array([encoding.attention_mask], dtype=np.int64)}
            out[row] = session.run([OUTPUT], feed)[0][0]
        return out
