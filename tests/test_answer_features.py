"""The passage-local features of the answer model: what a sentence holds of the question
that the other sentences of its passage do not, and the re-ranking stage that leaves them
out (docs/evaluation.md, "What a sentence holds that its passage does not repeat")."""

from __future__ import annotations

import pytest

from indexer.answer.extract import score_sentences
from indexer.answer.features import LOCAL_FEATURES, locally_weighted
from indexer.answer.model import load_model
from indexer.answer.rerank import by_answer_score


def test_a_word_few_texts_hold_weighs_more():
    # 蓝线裸顶鲷 is in all three sentences, 为食 in one: the sentence with 为食 holds most.
    held = {"蓝线裸顶鲷": [True, True, True], "为食": [False, False, True]}
    shares = locally_weighted(held, {"蓝线裸顶鲷": 8.0, "为食": 4.0}, 3)
    assert shares[2] == pytest.approx(1.0)
    assert shares[0] == shares[1] < 0.6
    # Nothing held, or nothing to hold: every share is 0.
    assert locally_weighted({"为食": [False, False]}, {"为食": 1.0}, 2) == [0.0, 0.0]
    assert locally_weighted({}, {}, 2) == [0.0, 0.0]


def _scored(engine, question: str):
    generation = engine.generation()
    hits = engine.search(question, mode="hybrid", k=8, generation=generation).hits
    return score_sentences(question, hits, generation.catalog,
                           generation.retrievers["semantic"])


@pytest.mark.model
def test_the_sentence_with_the_words_its_passage_does_not_repeat_answers(model_engine):
    # The passage on teacher reform repeats 教师 and 改革; only one sentence says 承担.
    question = "句容试点老师归县里统一管、由学校来挑人,这是替哪一级承担的?"
    answering = "承担了镇江市“县管校聘”人事管理体制改革试点任务"
    scored = _scored(model_engine, question)
    target = next(s for s in scored if s.text.startswith(answering))
    siblings = [s for s in scored
                if s.passage.passage_id == target.passage.passage_id and s is not target]
    assert siblings and target.features["local_best"] == 1.0
    assert all(target.features["local_coverage"] > s.features["local_coverage"] + 0.2
               for s in siblings)
    result = model_engine.ask(question)[0]
    assert result.answerable and result.citations[0].quote.startswith(answering)


@pytest.mark.model
def test_the_places_a_question_names_single_out_no_sentence(model_engine):
    # A sentence that holds only the town asked about (白寨鎮, named once in its passage)
    # holds nothing of what is asked (网吧, 未成年人).
    scored = _scored(model_engine, "白寨鎮的網吧讓不讓未成年人進?")
    town = next(s for s in scored if "白寨鎮金鑫商店" in s.text)
    assert town.features["coverage"] > 0
    assert town.features["local_coverage"] == 0.0 and town.features["local_best"] == 0.0
    assert any(s.features["local_coverage"] > 0 for s in scored if "網吧" in s.text)


@pytest.mark.model
def test_passages_are_re_ranked_without_the_passage_local_features(model_engine):
    variant = load_model().variant(dense=True)
    assert set(LOCAL_FEATURES) <= set(variant.sentence.features)
    assert variant.rerank is not None
    assert not set(LOCAL_FEATURES) & set(variant.rerank.features)
    question = "句容试点老师归县里统一管、由学校来挑人,这是替哪一级承担的?"
    generation = model_engine.generation()
    hits = model_engine.search(question, mode="hybrid", k=8, generation=generation,
                               rerank=False).hits
    scored = score_sentences(question, hits, generation.catalog,
                             generation.retrievers["semantic"])
    assert any(s.rank_score != s.score for s in scored)  # the re-ranking stage's own score
    ordered = by_answer_score(list(hits), scored, 8)
    best = {}
    for sentence in scored:
        pid = sentence.passage.passage_id
        best[pid] = max(best.get(pid, 0.0), sentence.rank_score)
    ranked = [hit.passage_id for hit in ordered if hit.passage_id in best]
    assert ranked == sorted(ranked, key=lambda pid: -best[pid])
