"""The learned answer model: which sentence answers, and whether any does.

Two logistic regressions, stored as plain JSON (feature names, the scaling, coefficients)
in ``indexer/data/answer_model.json`` and evaluated with numpy, so serving never imports
scikit-learn. They are trained by ``python -m bench.train_answer_model`` (fixed seed) and
never at run time:

- ``sentence``: the probability that a candidate sentence answers the question, from its
  features (:mod:`indexer.answer.features`);
- ``answerable``: the probability that the best-scored sentence is a right answer at all,
  from what the first stage saw (its best and runner-up scores, the best sentence's
  cosine and overlap, the question's kind). Its threshold was calibrated for a stated
  false-answer rate.

Each comes in two variants: ``dense`` (an index with sentence vectors) and ``lexical``
(an index without vectors, or a backend that has none).
"""

from __future__ import annotations

import functools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from indexer import settings
from indexer.errors import ModelNotAvailable

if TYPE_CHECKING:
    from indexer.answer.features import Sentence

MODEL_FILE = Path(__file__).resolve().parent.parent / "data" / "answer_model.json"
# What the answerability stage reads of the scored candidates.
TOP_FEATURES = ("cos_s", "coverage", "bigram_overlap", "char_overlap", "kw_norm", "kw_in",
                "cue_ok", "cue_miss", "measure_ok", "measure_miss", "hit_rank", "best_cos",
                "margin", "specific_miss", "focus")
QUESTION_FEATURES = ("top_logit", "second_logit", "top_gap", "candidates",
                     *(f"top_{name}" for name in TOP_FEATURES))


@dataclass
class Logistic:
    """``sigmoid(((x - mean) / scale) · coef + intercept)`` over named features."""

    features: list[str]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict) -> Logistic:
        return cls(list(data["features"]), np.asarray(data["mean"], dtype=np.float64),
                   np.asarray(data["scale"], dtype=np.float64),
                   np.asarray(data["coef"], dtype=np.float64), float(data["intercept"]))

    def to_dict(self) -> dict:
        return {"features": self.features, "mean": _rounded(self.mean),
                "scale": _rounded(self.scale), "coef": _rounded(self.coef),
                "intercept": round(float(self.intercept), 6)}

    def prob(self, rows: np.ndarray) -> np.ndarray:
        """The probability of each row (rows hold :attr:`features`, in order)."""
        z = ((rows - self.mean) / self.scale) @ self.coef + self.intercept
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


def _rounded(values: np.ndarray) -> list[float]:
    return [round(float(v), 6) for v in values]


@dataclass
class Variant:
    """The two stages and their thresholds, for an index with or without vectors."""

    sentence: Logistic
    answerable: Logistic
    answer_threshold: float
    follow_threshold: float
    # What orders passages when hits are re-ranked: a sentence stage without the features
    # that tell a passage's sentences apart; None: the sentence stage.
    rerank: Logistic | None = None
    # The least answerability of an answer not marked tentative; None (an older model
    # file): no answer is.
    sure_threshold: float | None = None

    def __post_init__(self) -> None:
        # Re-ranking reads its columns from the sentence stage's feature matrix.
        if self.rerank is not None and not set(self.rerank.features) <= set(
                self.sentence.features):
            raise ValueError("the re-ranking stage reads features the sentence stage lacks")


@dataclass
class AnswerModel:
    """A loaded model file."""

    version: str
    path: Path
    variants: dict[str, Variant]
    data: dict

    def variant(self, dense: bool) -> Variant:
        return self.variants["dense" if dense else "lexical"]


def model_path() -> Path:
    """The configured model file (``answer_model``), else the bundled one."""
    configured = settings.get("answer_model")
    return Path(configured).expanduser() if configured else MODEL_FILE


def load_model(path: Path | None = None) -> AnswerModel:
    """The answer model in ``path`` (default: :func:`model_path`), read once per file.

    Raises ModelNotAvailable when the file is missing or not a model.
    """
    return _load(str(path or model_path()))


@functools.lru_cache(maxsize=4)
def _load(path: str) -> AnswerModel:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        variants = {name: Variant(Logistic.from_dict(part["sentence"]),
                                  Logistic.from_dict(part["answerable"]),
                                  float(part["thresholds"]["answer"]),
                                  float(part["thresholds"]["follow"]),
                                  Logistic.from_dict(part["rerank"]) if "rerank" in part
                                  else None,
                                  _optional(part["thresholds"].get("sure")))
                    for name, part in data["variants"].items()}
        return AnswerModel(str(data["version"]), Path(path), variants, data)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ModelNotAvailable(f"cannot read the answer model {path} ({exc.__class__.__name__}"
                                f": {exc}): run `python -m bench.train_answer_model`") from exc


def _optional(value) -> float | None:
    return None if value is None else float(value)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def question_features(scored: Sequence[Sentence]) -> dict[str, float]:
    """What the answerability stage reads: the best and runner-up sentence scores and the
    best sentence's own features (``scored`` best first, each with ``score``)."""
    top = scored[0]
    second = scored[1].score if len(scored) > 1 else 0.0
    values = {"top_logit": _logit(top.score), "second_logit": _logit(second),
              "top_gap": top.score - second, "candidates": math.log(len(scored))}
    for name in TOP_FEATURES:
        values[f"top_{name}"] = top.features.get(name, 0.0)
    return values


def row(values: dict[str, float], names: Sequence[str]) -> np.ndarray:
    """One feature row in the order ``names`` gives (absent features: 0)."""
    return np.array([[values.get(name, 0.0) for name in names]], dtype=np.float64)
