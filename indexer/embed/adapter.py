"""The question adapter: a low-rank change to the bundled model's upper layers.

multilingual-e5-small matches a question to a sentence well when they share words, and
poorly when a user asks in their own words (吃饭过日子的钱 for 生活费). The adapter is
trained by ``python -m bench.train_embedder`` on questions paired with the sentence that
answers them (CMRC 2018 train and the own-words train questions), as LoRA factors: for
each adapted linear layer ``W``, two small matrices ``A`` (rank × in) and ``B``
(out × rank), so that the adapted weight is ``W + scale · B @ A``.

It ships as ``data/embedding_adapter.npz`` and is merged into the weights when the bundled
model is converted (:mod:`indexer.embed.convert`), so nothing changes at run time: the
converted model, its ONNX copy and the embedding cache are keyed by the adapter's
version, and an index built with another model version is reported as such.
``embedding_adapter`` turns it off.

File layout: ``<weight name>.A`` and ``<weight name>.B`` for every adapted weight (a
name of the converted model's state dict, ``encoder.layer.11.attention.self.query.weight``),
``scale`` (a 0-d array) and ``meta`` (a JSON string: how it was trained, with figures).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from indexer.errors import ModelConversionError

ADAPTER_PATH = Path(__file__).resolve().parent.parent / "data" / "embedding_adapter.npz"


@dataclass
class Adapter:
    """Low-rank factors by weight name, their scale, and where they come from."""

    factors: dict[str, tuple[np.ndarray, np.ndarray]]
    scale: float
    version: str
    meta: dict[str, Any] = field(default_factory=dict)

    def apply(self, tensors: dict[str, np.ndarray]) -> None:
        """Add ``scale · B @ A`` to each adapted weight of ``tensors`` (in place; nothing
        changes unless every weight fits).

        Raises:
            ModelConversionError: a weight the adapter names is missing or of another shape.
        """
        for name, (a, b) in self.factors.items():
            weight = tensors.get(name)
            if weight is None or weight.shape != (b.shape[0], a.shape[1]):
                raise ModelConversionError(
                    f"the embedding adapter {self.version} does not fit this model: {name} is "
                    f"{'missing' if weight is None else weight.shape}, the adapter expects "
                    f"{(b.shape[0], a.shape[1])}")
        for name, (a, b) in self.factors.items():
            tensors[name] = (tensors[name] + self.scale * (b @ a)).astype(np.float32)


def load(path: Path = ADAPTER_PATH) -> Adapter:
    """Read an adapter file; its version is a digest of what it holds (a zip's own bytes
    carry the time it was written).

    Raises:
        ModelConversionError: the file is missing, unreadable or not an adapter.
    """
    try:
        with np.load(path, allow_pickle=False) as arrays:
            contents = {name: arrays[name] for name in arrays.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ModelConversionError(f"cannot read the embedding adapter {path}: {exc}") from exc
    names = sorted(name[:-2] for name in contents if name.endswith(".A"))
    if "scale" not in contents or not names or any(f"{n}.B" not in contents for n in names):
        raise ModelConversionError(f"{path} is not an embedding adapter (no factors or scale)")
    meta = json.loads(str(contents["meta"])) if "meta" in contents else {}
    digest = hashlib.sha256()
    for name in sorted(contents):
        digest.update(name.encode() + np.ascontiguousarray(contents[name]).tobytes())
    return Adapter({name: (contents[f"{name}.A"].astype(np.float32),
                           contents[f"{name}.B"].astype(np.float32)) for name in names},
                   float(contents["scale"]), digest.hexdigest()[:10], meta)


def save(path: Path, factors: dict[str, tuple[np.ndarray, np.ndarray]], scale: float,
         meta: dict[str, Any]) -> str:
    """Write an adapter file (float16 factors); returns its version."""
    arrays: dict[str, np.ndarray] = {"scale": np.array(scale, dtype=np.float32),
                                     "meta": np.array(json.dumps(meta, ensure_ascii=False,
                                                                 sort_keys=True))}
    for name, (a, b) in sorted(factors.items()):
        arrays[f"{name}.A"] = np.asarray(a, dtype=np.float16)
        arrays[f"{name}.B"] = np.asarray(b, dtype=np.float16)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return load(path).version
