"""`indexer eval` on the bundled corpus: figures per question kind, the share of questions
the corpus cannot answer that are refused, and a split of the question files."""

from __future__ import annotations

import json

import pytest

from indexer.answer.extract import REFUSALS
from indexer.evaluate import evaluate
from tests.conftest import ROOT

OWNWORDS = ROOT / "bench" / "ownwords"


def _rows(name: str, *qids: str) -> list[dict]:
    with (OWNWORDS / f"{name}.jsonl").open(encoding="utf-8") as lines:
        rows = {row["qid"]: row for row in map(json.loads, lines)}
    return [rows[qid] for qid in qids]


@pytest.mark.model
def test_eval_reports_figures_by_kind_and_refusals_of_unanswerable(tmp_path, model_index_dir):
    answerable = _rows("questions", "ow-031", "ow-209")  # a "who" and a "number" question
    near_misses = _rows("near_miss", "nm-053", "nm-065", "nm-043")
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n"
                               for row in answerable + near_misses), encoding="utf-8")
    result = evaluate(queries, ["hybrid"], index=model_index_dir)
    assert (result["queries"], result["answerable"]) == (5, 2)
    hybrid = result["modes"]["hybrid"]
    assert hybrid["questions"] == 2 and hybrid["answer_hit"] == 1.0
    assert hybrid["unanswerable"] == {"questions": 3, "refused": 1.0}
    # Why each was refused: none of the answerable ones, all three near misses.
    reasons = hybrid["refused_because"]
    assert reasons["answerable"] == {} and sum(reasons["unanswerable"].values()) == 3
    assert set(reasons["unanswerable"]) <= set(REFUSALS)
    kinds = hybrid["by_kind"]
    assert set(kinds) == {row["kind"] for row in answerable + near_misses}
    for row in answerable:
        figures = kinds[row["kind"]]
        assert figures["questions"] >= 1 and figures["refused"] == 0.0
    assert sum(figures.get("unanswerable", {}).get("questions", 0)
               for figures in kinds.values()) == 3


@pytest.mark.model
def test_eval_counts_answers_by_certainty(tmp_path, model_index_dir):
    # Train questions: answered right and sure (ow-038), right but tentative (ow-140), and a
    # near miss answered with confidence (nm-071, the road of a park the report only names).
    rows = _rows("questions", "ow-038", "ow-140") + _rows("near_miss", "nm-071")
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                       encoding="utf-8")
    hybrid = evaluate(queries, ["hybrid"], index=model_index_dir)["modes"]["hybrid"]
    assert hybrid["answers_by_certainty"] == {
        "sure": {"answered": 2, "right": 1, "right_share": 0.5},
        "tentative": {"answered": 1, "right": 1, "right_share": 1.0}}


@pytest.mark.model
def test_eval_keeps_only_the_split_asked_for(tmp_path, model_index_dir):
    rows = _rows("questions", "ow-031", "ow-209")
    rows[1] = {**rows[1], "split": "heldout"}
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                       encoding="utf-8")
    result = evaluate(queries, ["keyword"], index=model_index_dir, split="heldout",
                      answers=False)
    assert result["queries"] == 1


@pytest.mark.model
def test_eval_on_milvus_builds_a_scratch_index_and_drops_it(tmp_path, monkeypatch):
    from indexer.milvus.client import connect
    from tests.conftest import CORPUS

    rows = _rows("questions", "ow-031", "ow-209")
    queries = tmp_path / "queries.jsonl"
    queries.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                       encoding="utf-8")
    local = evaluate(queries, ["keyword"], corpus=CORPUS, answers=False)
    monkeypatch.setenv("POLICYQA_INDEX_BACKEND", "milvus")
    monkeypatch.setenv("POLICYQA_MILVUS_COLLECTION", "eval_test")
    before = set(connect().list_collections())
    milvus = evaluate(queries, ["keyword"], corpus=CORPUS, answers=False)
    assert (milvus["passages"], milvus["queries"]) == (local["passages"], local["queries"])
    assert milvus["modes"]["keyword"]["recall@5"] == local["modes"]["keyword"]["recall@5"]
    assert set(connect().list_collections()) == before  # the scratch index is gone
