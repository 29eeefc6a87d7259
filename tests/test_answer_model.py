"""The answer model file: it loads, scores with numpy alone, and the index records it."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from indexer.answer.features import DENSE_FEATURES, FEATURES
from indexer.answer.model import MODEL_FILE, QUESTION_FEATURES, load_model


def test_the_bundled_model_loads_with_both_variants():
    model = load_model(MODEL_FILE)
    assert model.version.startswith("answer-lr-")
    for name, dense in (("dense", True), ("lexical", False)):
        variant = model.variant(dense)
        assert variant is model.variants[name]
        assert set(variant.sentence.features) <= set(FEATURES)
        assert set(variant.answerable.features) <= set(QUESTION_FEATURES)
        assert dense or not set(variant.sentence.features) & set(DENSE_FEATURES)
        assert 0.0 < variant.answer_threshold < 1.0
        assert variant.answer_threshold <= variant.follow_threshold <= 1.0
        assert variant.answer_threshold <= variant.sure_threshold < 1.0
        rows = np.zeros((3, len(variant.sentence.features)))
        probabilities = variant.sentence.prob(rows)
        assert probabilities.shape == (3,) and np.all((0 < probabilities) & (probabilities < 1))


def test_serving_the_model_does_not_import_scikit_learn():
    code = ("import sys, numpy as np; from indexer.answer.model import load_model; "
            "v = load_model().variant(True); v.sentence.prob(np.zeros((1, "
            "len(v.sentence.features)))); print('sklearn' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"


def test_the_manifest_records_the_model_version(keyword_index_dir):
    from indexer.store import generations, manifest

    data = manifest.read(generations.current_generation(keyword_index_dir))
    assert data["answer_model"] == {"version": load_model().version,
                                    "file": MODEL_FILE.name}


def test_a_model_file_without_a_sure_threshold_marks_no_answer_tentative(tmp_path,
                                                                        monkeypatch):
    # Model files from before the threshold still load; none of their answers is marked.
    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    for part in data["variants"].values():
        del part["thresholds"]["sure"]
    older = tmp_path / "answer_model.json"
    older.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("POLICYQA_ANSWER_MODEL", str(older))
    assert all(v.sure_threshold is None for v in load_model().variants.values())


def test_a_damaged_model_file_is_a_clear_error(tmp_path, monkeypatch):
    from indexer.errors import ModelNotAvailable

    broken = tmp_path / "answer_model.json"
    broken.write_text(json.dumps({"version": "x"}), encoding="utf-8")
    monkeypatch.setenv("POLICYQA_ANSWER_MODEL", str(broken))
    with pytest.raises(ModelNotAvailable, match="bench.train_answer_model"):
        load_model()


def test_a_re_ranking_stage_reading_what_the_sentence_stage_lacks_is_refused(tmp_path,
                                                                              monkeypatch):
    from indexer.errors import ModelNotAvailable

    data = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
    data["variants"]["dense"]["rerank"]["features"][0] = "not_a_feature"
    odd = tmp_path / "answer_model.json"
    odd.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setenv("POLICYQA_ANSWER_MODEL", str(odd))
    with pytest.raises(ModelNotAvailable, match="re-ranking stage reads features"):
        load_model()


def _groups(seed: int):
    """Questions whose right candidate is the one with more overlap than its neighbours,
    while a question's overlap as a whole says nothing: the unanswerable variants (gold
    removed) have the most overlap of all."""
    from bench.answer_data import Example
    from bench.answer_features import Group

    rng = np.random.default_rng(seed)
    column = FEATURES.index("coverage")
    groups = []
    for number in range(60):
        base = float(rng.choice([0.0, 0.5]))
        rows = np.zeros((6, len(FEATURES)))
        rows[:, column] = base + rng.uniform(0.0, 0.1, 6)
        labels = np.zeros(6, dtype=np.int8)
        labels[0] = 1
        rows[0, column] = base + 0.2
        example = Example(f"q{number}", "?", "cmrc_train", gold={"p"}, answers=["x"])
        groups.append(Group(example, False, rows, labels, ["p"] * 6))
        removed = np.zeros((6, len(FEATURES)))
        removed[:, column] = 0.7 + rng.uniform(0.0, 0.1, 6)
        groups.append(Group(example, True, removed, np.zeros(6, dtype=np.int8), ["o"] * 6))
    return groups


def test_the_pairwise_sentence_stage_ranks_each_questions_answer_first():
    pytest.importorskip("sklearn")
    from bench.train_answer_model import fit_sentence

    names = ["coverage"]
    model = fit_sentence(_groups(1), names, stage="pairwise")
    for group in _groups(2):
        scores = model.prob(group.rows[:, [FEATURES.index("coverage")]])
        assert np.all((0 < scores) & (scores < 1))
        if group.answerable:
            assert int(np.argmax(scores)) == 0
    # Learnt per candidate, the same rows teach that overlap means a wrong answer.
    pointwise = fit_sentence(_groups(1), names)
    assert pointwise.coef[0] < 0 < model.coef[0]


def test_questions_on_laws_leave_the_other_questions_folds_as_they_were():
    # `bench.train_answer_model --laws` is measured against the model without them out of
    # fold: the same questions must be held out together either way.
    from dataclasses import replace

    from bench.train_answer_model import folds_of

    groups = _groups(1)
    on_laws = [replace(g, example=replace(g.example, qid=f"lw-{g.example.qid}",
                                          source="laws")) for g in _groups(2)]
    alone = folds_of(groups)
    assert len(set(alone.tolist())) > 1
    assert folds_of(groups + on_laws)[:len(groups)].tolist() == alone.tolist()


def test_out_of_fold_scores_average_draws_of_the_folds_without_seeing_their_question():
    # The thresholds are set on out-of-fold scores averaged over several draws of the
    # folds: a question's own labels must reach none of its averaged sentence scores, and
    # the average must differ from any one draw's (else the draws were all the same).
    pytest.importorskip("sklearn")
    from dataclasses import replace

    from bench.train_answer_model import train_variant

    groups = _groups(1)
    _, scored, _ = train_variant(groups, True, "pairwise", repeats=4)
    flipped = list(groups)
    flipped[0] = replace(groups[0], labels=groups[0].labels[::-1].copy())
    _, scored_flipped, _ = train_variant(flipped, True, "pairwise", repeats=4)
    assert np.allclose(np.sort(scored[0].probs), np.sort(scored_flipped[0].probs))
    others = [i for i, g in enumerate(groups) if g.example.qid != groups[0].example.qid]
    assert any(not np.allclose(scored[i].probs, scored_flipped[i].probs) for i in others)
    _, one_draw, _ = train_variant(groups, True, "pairwise", repeats=1)
    assert not np.allclose(scored[0].probs, one_draw[0].probs)


def test_the_trainer_refuses_no_draws_of_the_folds_before_it_reads_anything():
    result = subprocess.run([sys.executable, "-m", "bench.train_answer_model", "--repeats", "0"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "--repeats must be at least 1, not 0" in result.stderr
