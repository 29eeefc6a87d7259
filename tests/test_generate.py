"""Generated answers: off by default, citations checked, failures fall back, key kept secret."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import replace

import pytest

from indexer.answer.extract import NO_ANSWER, answer
from indexer.answer.generate import check_citations, generate
from indexer.ingest.segment import split_passages
from indexer.records import Document
from indexer.retrieve.hits import Hit
from indexer.serialize import answer_dict
from indexer.store.catalog import Catalog
from tests.fake_llm import FakeLLM

KEY_ENV = "POLICYQA_TEST_LLM_KEY"
SECRET = "sk-test-DO-NOT-SHOW-4242"
QUESTION = "2016年句容中考均分与镇江市区差多少分?"
JURONG = Document(
    doc_id="jurong", source="jurong.txt", title="句容市教育局2016年工作总结",
    text="2016年中考,我市中考均分与镇江市区比相差34.5分,较2015年的49.7分缩小了15.2分;"
         "与丹阳比相差6.7分。全年开通接送学生线路257条,投入车辆148辆,集中接送学生6745人。")
JILIN = Document(
    doc_id="jilin", source="jilin.txt", title="吉林市教育局2016年工作要点",
    text="适当调整市直属学校班主任津贴标准,人均每月400元,学校要根据考核情况合理分配。"
         "全市计划投资5000万元,配备学生储物柜、标准课桌椅,建设实验室和卫生室。")


@pytest.fixture(scope="module")
def catalog():
    passages = [p for d in (JILIN, JURONG) for p in split_passages(d)]
    return Catalog([JILIN, JURONG], passages)


@pytest.fixture(scope="module")
def hits(catalog):
    """Jilin's passage first, so the Jurong passage is [2] in what the model is given."""
    return [Hit(passage_id=p.passage_id, score=1.0, rank=i)
            for i, p in enumerate(catalog.passage_list, start=1)]


@pytest.fixture(scope="module")
def extractive(catalog, hits):
    result = answer(QUESTION, hits, catalog)
    assert result.answerable and "34.5分" in result.citations[0].quote
    return result


@pytest.fixture
def llm_settings(monkeypatch):
    monkeypatch.setenv(KEY_ENV, SECRET)

    def make(llm: FakeLLM, **more) -> dict:
        return {"answer_llm_base_url": llm.base_url, "answer_llm_model": "fake-model",
                "answer_llm_api_key_env": KEY_ENV, "answer_llm_timeout": 5.0, **more}

    return make


def test_generation_is_off_without_an_endpoint(catalog, hits, extractive):
    assert generate(QUESTION, hits, catalog, extractive) is extractive


def test_a_valid_generated_answer_is_served_with_checked_citations(
        catalog, hits, extractive, llm_settings):
    reply = "2016年中考，句容中考均分与镇江市区相差34.5分[2]。与丹阳相差6.7分[2]。"
    with FakeLLM(reply) as llm:
        result = generate(QUESTION, hits, catalog, extractive, overrides=llm_settings(llm))
        (request,) = llm.requests
    assert result.generated and result.answerable and result.flags == []
    # Renumbered by first appearance: the model's [2] is the first passage shown.
    assert result.text == "2016年中考，句容中考均分与镇江市区相差34.5分[1]。与丹阳相差6.7分[1]。"
    # One number per passage; each generated sentence quotes the sentence it rests on.
    assert [c.n for c in result.citations] == [1, 1]
    for citation in result.citations:
        assert citation.doc_id == "jurong"
        assert JURONG.text[citation.start:citation.end] == citation.quote
    assert [c.quote for c in result.citations] == [
        "2016年中考,我市中考均分与镇江市区比相差34.5分,较2015年的49.7分缩小了15.2分;",
        "与丹阳比相差6.7分。"]
    # What the model was sent: the model name, the passages numbered, the key as a header.
    assert request["path"] == "/v1/chat/completions"
    assert request["body"]["model"] == "fake-model"
    user = request["body"]["messages"][-1]["content"]
    assert "[1] 《吉林市教育局2016年工作要点》" in user
    assert "[2] 《句容市教育局2016年工作总结》" in user
    assert QUESTION in user
    assert request["headers"]["Authorization"] == f"Bearer {SECRET}"


def test_a_generated_answer_keeps_how_the_question_was_read(catalog, hits, extractive,
                                                              llm_settings):
    # A mistyped question answered as corrected still says so, with its certainty.
    typed = replace(extractive, question="2016年句容中考均分与镇江市区差多少份?",
                    read_as=QUESTION, flags=["typo_corrected"], tentative=True)
    with FakeLLM("2016年中考，句容中考均分与镇江市区相差34.5分[2]。") as llm:
        result = generate(QUESTION, hits, catalog, typed, overrides=llm_settings(llm))
    assert result.generated and result.text.endswith("34.5分[1]。")
    assert (result.question, result.read_as) == (typed.question, QUESTION)
    assert result.flags == ["typo_corrected"] and result.tentative
    assert result.confidence == extractive.confidence


def test_an_invented_citation_is_removed_and_flagged(catalog, hits, extractive, llm_settings):
    with FakeLLM("句容中考均分与镇江市区相差34.5分[2][7]。") as llm:
        result = generate(QUESTION, hits, catalog, extractive, overrides=llm_settings(llm))
    assert result.generated
    assert result.text == "句容中考均分与镇江市区相差34.5分[1]。"
    assert result.flags == ["citation_removed"]


def test_a_citation_on_an_unrelated_sentence_is_removed(catalog, hits, extractive,
                                                        llm_settings):
    reply = "句容中考均分与镇江市区相差34.5分[2]。明天北京有雨，最高气温十五度[1]。"
    with FakeLLM(reply) as llm:
        result = generate(QUESTION, hits, catalog, extractive, overrides=llm_settings(llm))
    assert result.text == "句容中考均分与镇江市区相差34.5分[1]。明天北京有雨，最高气温十五度。"
    assert result.flags == ["citation_removed"]
    assert [c.doc_id for c in result.citations] == ["jurong"]


def test_a_reply_with_no_valid_citation_serves_the_extractive_answer(
        catalog, hits, extractive, llm_settings):
    with FakeLLM("句容的中考成绩非常好[1]。") as llm:
        result = generate(QUESTION, hits, catalog, extractive, overrides=llm_settings(llm))
    assert not result.generated
    assert result.text == extractive.text
    assert result.flags == ["citation_removed", "generation_unsupported"]


def test_a_slow_model_times_out_and_the_extractive_answer_is_served(
        catalog, hits, extractive, llm_settings):
    with FakeLLM("句容中考均分与镇江市区相差34.5分[2]。", delay=3.0) as llm:
        started = time.perf_counter()
        result = generate(QUESTION, hits, catalog, extractive,
                          overrides=llm_settings(llm, answer_llm_timeout=0.3))
        elapsed = time.perf_counter() - started
    assert elapsed < 2.0
    assert not result.generated
    assert result.text == extractive.text and result.citations == extractive.citations
    assert result.flags == ["generation_failed"]


@pytest.mark.parametrize("server", [{"status": 500}, {"raw": b"not json"},
                                    {"raw": b'{"choices": []}'}])
def test_errors_fall_back_and_never_show_the_key(catalog, hits, extractive, llm_settings,
                                                 caplog, server):
    caplog.set_level(logging.DEBUG)
    with FakeLLM(**server) as llm:
        result = generate(QUESTION, hits, catalog, extractive, overrides=llm_settings(llm))
    assert result.flags == ["generation_failed"] and not result.generated
    assert "answer generation failed" in caplog.text
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps(answer_dict(result, catalog), ensure_ascii=False)


def test_an_unreachable_endpoint_falls_back(catalog, hits, extractive, llm_settings):
    with FakeLLM() as llm:
        overrides = llm_settings(llm)
    # The server is gone: the connection is refused at once.
    result = generate(QUESTION, hits, catalog, extractive, overrides=overrides)
    assert result.flags == ["generation_failed"]


def test_no_generation_when_there_is_no_answer(catalog, hits, llm_settings):
    refused = answer("医保报销比例是多少?", hits, catalog)
    assert not refused.answerable and refused.text == NO_ANSWER
    with FakeLLM("医保报销比例为70%[1]。") as llm:
        result = generate("医保报销比例是多少?", hits, catalog, refused,
                          overrides=llm_settings(llm))
        assert llm.requests == []
    assert result is refused


def test_check_citations_keeps_markers_before_the_full_stop(catalog):
    passages = list(catalog.passage_list)
    text, citations, removed = check_citations(
        "班主任津贴标准为人均每月400元[1]，全市计划投资5000万元配备课桌椅[1]。", passages,
        catalog, 0.4)
    assert text == "班主任津贴标准为人均每月400元[1]，全市计划投资5000万元配备课桌椅[1]。"
    assert removed == 0
    assert {c.quote[:4] for c in citations} <= {"适当调整", "全市计划"}
