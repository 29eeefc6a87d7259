"""Train the answer model and calibrate its refusal: ``indexer/data/answer_model.json``.

Run: .venv/bin/python -m bench.train_answer_model [--workdir DIR] [--cmrc 1500]
     [--paragraphs 600] [--distractors 3000] [--false-refusal-rate 0.15]
     [--sentence-stage pointwise] [--repeats 20] [--laws] [--reuse]

Learns from CMRC 2018 train questions (a seeded sample, asked of a seeded sample of their
paragraphs: embedding every train sentence takes hours on a 2-core machine; some also of
those paragraphs in traditional script, the cross-script case) and the **train** split of
the own-words set (asked of the bundled reports); held-out own-words questions and the
CMRC/DRCD dev sets are never read. With ``--laws`` (not by default: measured at stop 42
and not adopted, docs/evaluation.md) it also learns from the own-words questions on laws
(``bench/ownwords/laws``), asked of an index of those laws and weighted ``LAW_WEIGHT``;
the refusal and sure thresholds are still set on the bundled reports' questions alone.
Every answerable question is also asked with its gold passages removed, which makes it
unanswerable. Three logistic regressions (scikit-learn, fixed seed), each in a ``dense``
and a ``lexical`` variant:

1. ``sentence``: does this candidate sentence answer the question? Learnt per candidate
   (``pointwise``, the shipped model), or with ``--sentence-stage pairwise`` as a ranker
   of each question's candidates, then scaled to a probability (:func:`fit_ranked`; its
   trade-off is measured in docs/evaluation.md, "The sentence stage as a ranker").
2. ``answerable``: is the best-scored sentence a right answer? Trained on out-of-fold
   sentence scores, so it learns how far the first stage can be trusted.
3. ``rerank``: the sentence stage without the features that tell a passage's sentences
   apart (``LOCAL_FEATURES``), by which search orders passages: with them, a passage that
   repeats the question's words in every sentence ranks below one that names them once.

The refusal threshold is the highest answerability at which at most
``--false-refusal-rate`` of the answerable own-words train questions would be refused,
measured out of fold; the calibration report gives the false-answer rate that this costs
on the unanswerable ones (near misses, unanswerable typos, gold removed). It is stated as
a false-refusal rate because a false-answer rate could not be bought at an acceptable price:
near misses (another year, city or figure on a topic the corpus covers) score like
answerable questions, and refusing 90 % of them refused about 70 % of the real questions
(the first model's calibration, kept in the model file's history in git). A second or
third sentence joins an answer when its own sentence score reaches the follow threshold,
set where at least ``FOLLOW_PRECISION`` of such sentences are right answers (out of fold).
An answer below the sure threshold is marked tentative: from it up, at least
``SURE_PRECISION`` of the answered own-words train questions are right (out of fold, near
misses answered counting as wrong).
Out of fold, every threshold and the calibration report read each question's scores
averaged over ``--repeats`` draws of the folds (the seeds ``SEED`` on): from one draw the
answer threshold moved between 0.089 and 0.113 and the follow threshold between 0.65 and
0.85 with the seed alone. The stages themselves are fitted on every question.
The questions are read without the synonym table (``query_synonyms`` off, unless the
environment says otherwise): the table was written from the train questions' misses, and a
model trained with it learns how well it covers them (held out: R@1 0.806 → 0.763).
Feature rows are cached in ``WORKDIR/answer_features.pkl`` (``--reuse`` fits again
without asking again). Writes the model file and prints the calibration report.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import pickle
from pathlib import Path

import numpy as np

from bench import answer_data
from bench.answer_features import Group, collect, law_groups
from bench.data import ROOT

SEED = 11
FOLDS = 3
REPEATS = 20  # draws of the folds whose out-of-fold scores are averaged (docstring)
C = 1.0
OWNWORDS_WEIGHT = 10.0  # one own-words question counts as this many CMRC ones
LAW_WEIGHT = 3.0  # and one own-words question on a law (--laws) this many
FOLLOW_PRECISION = 0.8
SURE_PRECISION = 0.8  # of the answers at or above the sure threshold, this share is right
PAIR_NEGATIVES = 30  # wrong candidates each right one is set against (--sentence-stage pairwise)
MODEL_FILE = ROOT / "indexer" / "data" / "answer_model.json"
FORMAT = "answer-lr-1"


def cached(path: Path, reuse: bool, make) -> list[Group]:
    """The feature groups ``make()`` returns, pickled at ``path`` (read back with
    ``reuse``)."""
    if reuse and path.exists():
        return pickle.loads(path.read_bytes())
    groups = make()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(groups))
    return groups


def fit(rows: np.ndarray, labels: np.ndarray, weights: np.ndarray, names: list[str]):
    """A scaled logistic regression (as :class:`indexer.answer.model.Logistic`)."""
    from sklearn.linear_model import LogisticRegression

    from indexer.answer.model import Logistic

    mean, scale = standardisation(rows)
    model = LogisticRegression(C=C, max_iter=2000, random_state=SEED)
    model.fit((rows - mean) / scale, labels, sample_weight=weights)
    return Logistic(names, mean, scale, model.coef_[0], float(model.intercept_[0]))


def standardisation(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and scale (a constant column keeps scale 1)."""
    scale = rows.std(axis=0)
    scale[scale < 1e-9] = 1.0
    return rows.mean(axis=0), scale


def columns(names: list[str]) -> list[int]:
    from indexer.answer.features import FEATURES

    return [FEATURES.index(name) for name in names]


def group_weight(group: Group) -> float:
    if own(group):
        return OWNWORDS_WEIGHT
    return LAW_WEIGHT if on_laws(group) else 1.0


def own(group: Group) -> bool:
    """Whether a group is an own-words question (asked of the bundled reports)."""
    return group.example.source in answer_data.OWNWORDS_FILES


def on_laws(group: Group) -> bool:
    """Whether a group is an own-words question on a law (``--laws``)."""
    return group.example.source == answer_data.LAWS


def fit_sentence(groups: list[Group], names: list[str], stage: str = "pointwise"):
    """The sentence stage: each candidate's probability of being a right answer."""
    cols = columns(names)
    rows = np.concatenate([g.rows[:, cols] for g in groups])
    labels = np.concatenate([g.labels for g in groups])
    weights = np.concatenate([np.full(len(g.labels), group_weight(g)) for g in groups])
    if stage == "pairwise":
        return fit_ranked(groups, cols, rows, labels, weights, names)
    return fit(rows, labels, weights, names)


def fit_ranked(groups: list[Group], cols: list[int], rows: np.ndarray, labels: np.ndarray,
               weights: np.ndarray, names: list[str]):
    """The sentence stage learned as a ranker, then scaled to a probability.

    A logistic regression without intercept on the differences between each right
    candidate of an answerable question and up to ``PAIR_NEGATIVES`` wrong ones of the
    same question (both signs): it learns what sets the answer apart from the sentences
    around it, not what makes a question easy. Every question weighs the same however
    many candidates it has (an own-words one ``OWNWORDS_WEIGHT`` times more). Its score
    is then made a probability by a one-feature logistic regression over the candidates
    of answerable questions (Platt scaling), which keeps the order; whether a question
    has an answer at all is the second stage's to say."""
    from sklearn.linear_model import LogisticRegression

    from indexer.answer.model import Logistic

    mean, scale = standardisation(rows)
    rng = np.random.default_rng(SEED)
    diffs, sides, pair_weights = [], [], []
    for group in groups:
        right, wrong = np.flatnonzero(group.labels), np.flatnonzero(group.labels == 0)
        if not group.answerable or not len(right) or not len(wrong):
            continue
        if len(wrong) > PAIR_NEGATIVES:
            wrong = rng.choice(wrong, PAIR_NEGATIVES, replace=False)
        scaled = (group.rows[:, cols] - mean) / scale
        for i in right:
            diff = scaled[i] - scaled[wrong]
            diffs += [diff, -diff]
            sides += [np.ones(len(diff)), np.zeros(len(diff))]
            pair_weights.append(np.full(2 * len(diff),
                                        group_weight(group) / (len(right) * len(wrong))))
    ranker = LogisticRegression(C=C, max_iter=2000, random_state=SEED, fit_intercept=False)
    ranker.fit(np.concatenate(diffs), np.concatenate(sides),
               sample_weight=np.concatenate(pair_weights))
    direction = ranker.coef_[0]
    answerable = np.concatenate([np.full(len(g.labels), g.answerable) for g in groups])
    platt = LogisticRegression(C=C, max_iter=2000, random_state=SEED)
    platt.fit((((rows[answerable] - mean) / scale) @ direction)[:, None], labels[answerable],
              sample_weight=weights[answerable])
    slope = float(platt.coef_[0][0])
    if slope <= 0:
        raise ValueError("the pairwise sentence stage does not tell right answers from wrong")
    return Logistic(names, mean, scale, direction * slope, float(platt.intercept_[0]))


class Scored:
    """A group's candidates as the first stage scores them, best first."""

    def __init__(self, group: Group, names: list[str], probs: np.ndarray):
        from indexer.answer.features import FEATURES

        order = np.argsort(-probs, kind="stable")
        self.group = group
        self.probs = probs[order]
        self.labels = group.labels[order]
        self.features = [dict(zip(FEATURES, group.rows[i].tolist(), strict=True))
                         for i in order]

    def question_row(self, names: list[str]) -> np.ndarray:
        from indexer.answer.model import question_features, row

        class _S:  # what question_features reads of a scored sentence
            def __init__(self, score, features):
                self.score, self.features = score, features

        scored = [_S(float(p), f) for p, f in zip(self.probs, self.features, strict=True)]
        return row(question_features(scored), names)[0]


def folds_of(groups: list[Group], seed: int = SEED) -> np.ndarray:
    """A fold per group, drawn with ``seed``; both variants of one question share their
    fold. Questions on laws draw theirs last, so the others keep the folds they have
    without them."""
    rng = np.random.default_rng(seed)
    last = {g.example.qid for g in groups if on_laws(g)}
    qids = sorted({g.example.qid for g in groups} - last) + sorted(last)
    fold = dict(zip(qids, rng.integers(0, FOLDS, len(qids)).tolist(), strict=True))
    return np.array([fold[g.example.qid] for g in groups])


def held_out(groups: list[Group], repeats: int):
    """Each fold of each of ``repeats`` draws (seeds ``SEED`` on), as a mask of the groups
    it holds out."""
    for r in range(repeats):
        fold = folds_of(groups, SEED + r)
        for k in range(FOLDS):
            yield fold == k


def train_variant(groups: list[Group], dense: bool, stage: str = "pointwise",
                  repeats: int = REPEATS) -> tuple[dict, list[Scored], np.ndarray]:
    """The stages of one variant, and its out-of-fold sentence scores and
    answerabilities, each the mean over ``repeats`` draws of the folds."""
    from indexer.answer.extract import lacks_what_is_asked
    from indexer.answer.features import DENSE_FEATURES, FEATURES, LOCAL_FEATURES
    from indexer.answer.model import QUESTION_FEATURES

    names = [f for f in FEATURES if dense or f not in DENSE_FEATURES]
    qnames = [f for f in QUESTION_FEATURES
              if dense or f.removeprefix("top_") not in DENSE_FEATURES]
    cols = columns(names)
    oof_probs = [np.zeros(len(g.labels)) for g in groups]
    for out in held_out(groups, repeats):
        model = fit_sentence([g for g, o in zip(groups, out, strict=True) if not o], names,
                             stage)
        for i in np.flatnonzero(out):
            oof_probs[i] += model.prob(groups[i].rows[:, cols]) / repeats
    oof_scored = [Scored(g, names, p) for g, p in zip(groups, oof_probs, strict=True)]
    q_rows = np.stack([s.question_row(qnames) for s in oof_scored])
    q_labels = np.array([int(s.labels[0]) for s in oof_scored])
    q_weights = np.array([group_weight(g) for g in groups])
    oof_answerable = np.zeros(len(groups))
    for out in held_out(groups, repeats):
        stage2 = fit(q_rows[~out], q_labels[~out], q_weights[~out], qnames)
        oof_answerable[out] += stage2.prob(q_rows[out]) / repeats
    # What `ask` refuses whatever its answerability, before the threshold is chosen.
    oof_answerable[np.array([lacks_what_is_asked(s.features[0]) for s in oof_scored])] = 0.0
    sentence = fit_sentence(groups, names, stage)
    answerable = fit(q_rows, q_labels, q_weights, qnames)
    rerank = fit_sentence(groups, [f for f in names if f not in LOCAL_FEATURES], stage)
    return ({"sentence": sentence, "answerable": answerable, "rerank": rerank}, oof_scored,
            oof_answerable)


def answer_threshold(groups, oof_answerable, rate: float) -> float:
    """The highest answerability that refuses at most ``rate`` of the answerable own-words
    train questions."""
    values = np.sort([p for g, p in zip(groups, oof_answerable, strict=True)
                      if own(g) and g.answerable])
    allowed = int(np.floor(rate * len(values)))
    if allowed == 0:
        return float(values[0]) - 1e-6 if len(values) else 0.0
    return float(values[allowed - 1]) + 1e-6


def lowest_with_precision(probs, right, precision: float) -> float:
    """The lowest of ``probs`` from which at least ``precision`` of the items at or above
    it are ``right`` (1.0 when no such point exists)."""
    probs, right = np.asarray(probs, dtype=float), np.asarray(right, dtype=float)
    order = np.argsort(-probs, kind="stable")
    share = np.cumsum(right[order]) / np.arange(1, len(order) + 1)
    good = np.flatnonzero(share >= precision)
    return float(probs[order][good[-1]]) if len(good) else 1.0


def follow_threshold(scored: list[Scored]) -> float:
    """The lowest sentence score at which at least FOLLOW_PRECISION of the non-best
    candidates of answerable questions are right answers."""
    return lowest_with_precision(
        np.concatenate([s.probs[1:] for s in scored if s.group.answerable]),
        np.concatenate([s.labels[1:] for s in scored if s.group.answerable]),
        FOLLOW_PRECISION)


def sure_threshold(groups, scored: list[Scored], oof_answerable, threshold: float) -> float:
    """The lowest answerability from which at least SURE_PRECISION of the answered own-words
    train questions, as asked (near misses and unanswerable typos count as wrong answers;
    removal variants are left out), are right, out of fold. Answers below it are marked
    tentative."""
    answered = [(p, g.answerable and bool(s.labels[0]))
                for g, s, p in zip(groups, scored, oof_answerable, strict=True)
                if own(g) and not g.removed and p >= threshold]
    if not answered:
        return threshold
    probs, right = zip(*answered, strict=True)
    return max(threshold, lowest_with_precision(probs, right, SURE_PRECISION))


def calibration(groups, scored: list[Scored], oof_answerable, threshold: float) -> dict:
    """Out-of-fold outcomes on the own-words train questions, by kind and overall:
    answered right, answered wrong, refused (answerable); answered (unanswerable)."""
    table: dict[str, dict] = {}
    for group, s, p in zip(groups, scored, oof_answerable, strict=True):
        if group.example.source == "cmrc_train":
            continue
        keys = ("all", group.example.kind or "other") if own(group) else (
            group.example.source,)
        for key in keys:
            cell = table.setdefault(key, {"answerable": 0, "right": 0, "wrong": 0,
                                          "refused": 0, "unanswerable": 0, "false_answer": 0})
            answered = bool(p >= threshold)
            if group.answerable:
                cell["answerable"] += 1
                cell["refused"] += not answered
                cell["right"] += answered and bool(s.labels[0])
                cell["wrong"] += answered and not bool(s.labels[0])
            else:
                cell["unanswerable"] += 1
                cell["false_answer"] += answered
    for cell in table.values():
        n, u = max(1, cell["answerable"]), max(1, cell["unanswerable"])
        cell.update(false_refusal_rate=round(cell["refused"] / n, 3),
                    wrong_rate=round(cell["wrong"] / n, 3),
                    false_answer_rate=round(cell["false_answer"] / u, 3))
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    answer_data.add_training_arguments(parser, cmrc=1500)
    parser.add_argument("--distractors", type=int, default=3000,
                        help="scale passages mixed into the CMRC train index (as the dev "
                             "samples are evaluated: re-ranking learns from such neighbours)")
    parser.add_argument("--traditional", type=int, default=500,
                        help="CMRC questions also asked of their paragraphs in traditional "
                             "script (simplified question, traditional text, as in DRCD)")
    parser.add_argument("--off-topic", type=int, default=400,
                        help="CMRC questions also asked of the bundled reports, which cannot "
                             "answer them")
    parser.add_argument("--false-refusal-rate", type=float, default=0.15)
    parser.add_argument("--sentence-stage", choices=("pointwise", "pairwise"),
                        default="pointwise",
                        help="learn the sentence stage per candidate, or as a ranker of each "
                             "question's candidates (docs/evaluation.md)")
    parser.add_argument("--laws", action="store_true",
                        help="also learn from the own-words questions on laws "
                             "(bench/ownwords/laws), asked of an index of those laws")
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help="draws of the folds whose out-of-fold scores are averaged")
    parser.add_argument("--reuse", action="store_true", help="reuse the cached feature rows")
    parser.add_argument("--output", type=Path, default=MODEL_FILE)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error(f"--repeats must be at least 1, not {args.repeats}")
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("POLICYQA_PROGRESS", "false")
    os.environ.setdefault("POLICYQA_QUERY_SYNONYMS", "false")  # see the module's docstring
    import sklearn

    from indexer.embed.embedder import Embedder

    embedder = Embedder()  # loads its model on first use: not at all when both caches serve
    groups = cached(args.workdir / "answer_features.pkl", args.reuse,
                    lambda: collect(args.workdir, embedder, args.cmrc, args.paragraphs,
                                    args.distractors, args.traditional, args.off_topic, SEED))
    if args.laws:
        groups += cached(args.workdir / "answer_features_laws.pkl", args.reuse,
                         lambda: law_groups(args.workdir, embedder))
    variants, report = {}, {}
    for name, dense in (("dense", True), ("lexical", False)):
        stages, scored, oof = train_variant(groups, dense, args.sentence_stage, args.repeats)
        threshold = answer_threshold(groups, oof, args.false_refusal_rate)
        follow = max(follow_threshold(scored), threshold)
        sure = sure_threshold(groups, scored, oof, threshold)
        variants[name] = {"sentence": stages["sentence"].to_dict(),
                          "answerable": stages["answerable"].to_dict(),
                          "rerank": stages["rerank"].to_dict(),
                          "thresholds": {"answer": round(threshold, 6),
                                         "follow": round(follow, 6),
                                         "sure": round(sure, 6)}}
        report[name] = calibration(groups, scored, oof, threshold)
    body = json.dumps(variants, sort_keys=True)
    counts = {"questions": len({g.example.qid for g in groups}), "groups": len(groups),
              "candidates": int(sum(len(g.labels) for g in groups)),
              "by_source": {s: sum(1 for g in groups if g.example.source == s)
                            for s in sorted({g.example.source for g in groups})}}
    model = {"version": f"{FORMAT}-{hashlib.sha1(body.encode()).hexdigest()[:10]}",
             "variants": variants,
             "training": {"seed": SEED, "folds": FOLDS, "repeats": args.repeats, "C": C,
                          "cmrc_questions": args.cmrc,
                          "cmrc_paragraphs": args.paragraphs,
                          "cmrc_distractors": args.distractors,
                          "cmrc_traditional": args.traditional,
                          "sentence_stage": args.sentence_stage,
                          "ownwords_weight": OWNWORDS_WEIGHT, "sklearn": sklearn.__version__,
                          **({"law_weight": LAW_WEIGHT} if args.laws else {}),
                          "false_refusal_rate": args.false_refusal_rate,
                          "follow_precision": FOLLOW_PRECISION,
                          "sure_precision": SURE_PRECISION, **counts},
             "calibration": report}
    args.output.write_text(json.dumps(model, ensure_ascii=False, indent=1) + "\n",
                           encoding="utf-8")
    print(json.dumps({"version": model["version"], "training": model["training"],
                      "thresholds": {k: v["thresholds"] for k, v in variants.items()},
                      "calibration": report}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
