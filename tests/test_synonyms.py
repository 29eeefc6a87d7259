"""Everyday words read as the report's words (data/synonyms.txt): a question in a user's
own words finds, and is answered from, the sentence written in the report's words."""

from __future__ import annotations

import pytest

from indexer.answer.question import analyse, coverage
from indexer.text.analysis import fold
from indexer.text.query import parse
from indexer.text.synonyms import (
    SYNONYMS_PATH,
    everyday_words,
    readings,
    report_words,
    table,
)

# Own-words questions (bench/ownwords, train split) whose answer the report writes in its
# own words: 周末 → 双休日, 功课 → 作业; 公立/私立 → 公办/民办 and 技校 → 职业学校/职教
# (traditional reports).
WEEKEND = "句容会不会管一管周末给孩子布置的功课?"
WEEKEND_ANSWER = "加强晚自习、双休日作业的管理"
PUBLIC = "公立幼兒園是怎麼手把手帶私立園的?"
TRADE_SCHOOL = "那兩份推動中小學和技校改革的文件,是用誰的名義發的?"
TRADE_SCHOOL_ANSWER = "以市委、市政府名義印發"
# The independent set's train part (bench/ownwords/independent): 民工 → 外来务工/外来工,
# 规矩 → 标准; 扶持 → 支持, 村里 → 乡村, 教书先生 → 教师. Neither found its passage in
# the top 8 without them.
MIGRANT = "吴中的民工子女学校有没有要按统一的规矩来改造?"
MIGRANT_ANSWER = "全面啟動外來工子弟學校標準化建設"
RURAL = "吉林跟着中央那个扶持村里教书先生的计划走,那个计划覆盖哪几年?"
RURAL_ANSWER = "乡村教师支持计划(2015—2020年)"


def test_the_table_is_well_formed():
    everyday = []
    for line in SYNONYMS_PATH.read_text(encoding="utf-8").splitlines():
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        everyday.append(words[0])
        assert len(words) >= 2, line  # an everyday word and a report word at least
        assert words[0] not in words[1:], line
        assert all(fold(word) == word for word in words), line  # looked up folded
    assert len(everyday) == len(set(everyday)) == len(table()) > 100


def test_an_everyday_word_brings_the_report_words_for_it():
    assert {"双休日", "作业", "学生"} <= set(report_words(WEEKEND))
    # A traditional question is folded first; words it holds itself are not repeated.
    assert {"公办", "民办"} <= set(report_words(PUBLIC))
    assert "幼儿园" not in report_words("托儿所和幼儿园")
    assert report_words("校车 安全") == ()  # the report's words already: nothing to add
    assert report_words(WEEKEND) == parse(WEEKEND).report_words
    assert readings("托儿所和幼儿园") == []  # nothing added, nothing to say
    assert readings("技校 周末") == ["技校→职业学校/中职/职教", "周末→双休日"]


def test_a_one_character_word_counts_only_as_a_word_of_its_own():
    assert "盖" in everyday_words("明年政府掏钱盖几所学校?")
    assert "盖" not in everyday_words("宽带网络覆盖全部学校")


def test_synonyms_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")
    assert report_words(WEEKEND) == ()
    assert analyse(WEEKEND).synonyms == {}


def test_a_report_word_covers_the_everyday_word_it_stands_for(monkeypatch):
    sentence = fold("在落实减轻学生过重课业负担的基础上,加强晚自习、双休日作业的管理")
    question = analyse(WEEKEND)
    assert question.synonyms["周末"] == ("双休日",)
    with_synonyms = coverage(question, sentence, "", "", "")
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")
    without = coverage(analyse(WEEKEND), sentence, "", "", "")
    assert with_synonyms[0] > without[0] + 0.2 and with_synonyms[1] > without[1]


def test_keyword_search_for_everyday_words_finds_the_report_words(keyword_engine,
                                                                   monkeypatch):
    # No passage says 周末 or 功课: any of the words finds the one about 双休日作业.
    result = keyword_engine.search("周末 功课", mode="keyword")
    assert result.fallback == "or"
    passages = keyword_engine.generation().catalog.passages
    assert WEEKEND_ANSWER in passages[result.hits[0].passage_id].text
    assert "<mark>双休日作业</mark>" in result.hits[0].highlight  # what it was found by
    assert result.message.endswith("或报告中的说法（周末→双休日，功课→作业）。")
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")
    assert keyword_engine.search("周末 功课", mode="keyword").hits == []


def test_a_question_finds_the_report_words_on_the_keyword_side(keyword_engine,
                                                               monkeypatch):
    # 残疾孩子 → 特殊教育: the section plain BM25 misses (tests/test_vectors.py).
    passages = keyword_engine.generation().catalog.passages

    def first_page() -> list[str]:
        hits = keyword_engine.search("残疾孩子怎么上学", mode="keyword", k=10).hits
        return [passages[hit.passage_id].text for hit in hits]

    assert any(text.startswith("15.大力扶持特殊教育") for text in first_page())
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")
    assert not any(text.startswith("15.大力扶持特殊教育") for text in first_page())


@pytest.mark.model
@pytest.mark.parametrize("question, answer", [(WEEKEND, WEEKEND_ANSWER),
                                              (TRADE_SCHOOL, TRADE_SCHOOL_ANSWER),
                                              (MIGRANT, MIGRANT_ANSWER),
                                              (RURAL, RURAL_ANSWER)])
def test_a_question_in_everyday_words_is_answered_from_the_report_words(any_engine,
                                                                        question, answer):
    result = any_engine.ask(question)[0]
    assert result.answerable and answer in result.citations[0].quote


@pytest.mark.model
def test_without_synonyms_the_everyday_question_misses_its_sentence(model_engine,
                                                                    monkeypatch):
    monkeypatch.setenv("POLICYQA_QUERY_SYNONYMS", "false")
    result = model_engine.ask(WEEKEND)[0]
    assert not any(WEEKEND_ANSWER in citation.quote for citation in result.citations)
