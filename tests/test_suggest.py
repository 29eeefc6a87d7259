"""Typos and pinyin: suggestions and spellings come from the index's own words, and a
suggestion always finds something."""

from __future__ import annotations

import json
import random

import pytest

from indexer.serialize import answer_dict
from indexer.text.analysis import USERDICT_PATH, _data_lines, fold
from indexer.text.suggest import Vocabulary, read_question
from tests.conftest import ROOT


def _ids(engine, query):
    return {h.passage_id for h in engine.search(query, k=100).hits}


@pytest.mark.parametrize("typed, meant", [("送教上们", "送教上门"),  # sounds the same
                                          ("县管校骋", "县管校聘"),  # looks alike
                                          ("縣管校騁", "县管校聘")])  # traditional script
def test_a_mistyped_word_gets_the_indexed_word_it_was_meant_to_be(keyword_engine, typed,
                                                                   meant):
    result = keyword_engine.search(typed)
    assert result.suggestion == meant
    assert keyword_engine.search(result.suggestion).total > 0


def test_the_suggestion_keeps_the_rest_of_the_query(keyword_engine):
    result = keyword_engine.search("送教上们 year:2016")
    assert result.suggestion == "送教上门 year:2016"


@pytest.mark.parametrize("query", ["送教上门", "校车 安全", "學校建設", "教育"])
def test_a_well_typed_query_gets_no_suggestion(keyword_engine, query):
    assert keyword_engine.search(query).suggestion is None


@pytest.mark.parametrize("letters, words", [("xiaoche anquan", "校车 安全"),
                                            ("xianguanxiaopin", "县管校聘"),
                                            ("XiaoChe", "校车")])
def test_pinyin_finds_what_the_words_it_spells_find(keyword_engine, letters, words):
    result = keyword_engine.search(letters)
    assert _ids(keyword_engine, letters) == _ids(keyword_engine, words) != set()
    assert result.message.startswith("已按拼音查找：")


def test_english_finds_nothing_and_suggests_nothing(keyword_engine):
    result = keyword_engine.search("school bus")
    assert result.total == 0 and result.suggestion is None


def test_a_suggestion_never_finds_nothing(keyword_engine):
    """One-character typos of dictionary terms: any suggestion offered finds passages."""
    terms = [line.split()[0] for line in _data_lines(USERDICT_PATH)]
    alphabet = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动"
    rng = random.Random(7)
    offered = 0
    for term in rng.sample(terms, 60):
        at = rng.randrange(len(term))
        typed = term[:at] + rng.choice(alphabet) + term[at + 1:]
        suggestion = keyword_engine.search(typed).suggestion
        if suggestion is not None:
            offered += 1
            assert keyword_engine.search(suggestion).total > 0, (typed, suggestion)
    assert offered >= 10


def test_vocabulary_prefers_a_same_sounding_word_then_a_frequent_one():
    vocabulary = Vocabulary({"上门": 1, "上们": 0, "送教上门": 2, "送教上阵": 9, "学校": 5})
    assert vocabulary.correction("送教上们") == "送教上门"  # 们/门 sound alike
    assert vocabulary.correction("学枚") == "学校"
    assert vocabulary.correction("学校") is None  # indexed already
    assert vocabulary.from_pinyin("xuexiao") == ["学校"]
    assert vocabulary.from_pinyin("shangmen") == ["上门"]
    assert vocabulary.from_pinyin("school") is None


def test_a_warmed_server_has_its_vocabulary_ready(keyword_index_dir):
    """``--warm`` builds the typo and pinyin tables before the first request: at 100k
    passages the first mistyped query would otherwise wait seconds for them."""
    from webapp import create_app
    from webapp.services import EXTENSION

    app = create_app({"TESTING": True, "INDEX_DIR": keyword_index_dir, "WEB_ASK_RATE": 0})
    service = app.extensions[EXTENSION]
    service.warm()
    vocabulary = service.generation().retriever("keyword").vocabulary()
    assert vocabulary.ready
    assert vocabulary.correction("送教上们") == "送教上门"


def test_a_warmed_server_warms_each_new_generation_in_the_background(corpus_copy, tmp_path):
    """After an update, the first questions must not wait for the new generation's
    vocabulary (every question is read for typos): it is read in the background."""
    from tests.conftest import build_keyword_index
    from webapp import create_app
    from webapp.services import EXTENSION

    index = build_keyword_index(corpus_copy, tmp_path / "index")
    app = create_app({"TESTING": True, "INDEX_DIR": index, "WEB_ASK_RATE": 0})
    service = app.extensions[EXTENSION]
    service.warm()
    first = service.generation()
    assert service.generation() is first and service._warm_thread is None  # nothing new
    (corpus_copy / "900_new.txt").write_text("新增报告：送教上门工作全面推开。", encoding="utf-8")
    build_keyword_index(corpus_copy, index)
    second = service.generation()
    assert second is not first
    service._warm_thread.join(timeout=60)
    keyword = second.retriever("keyword")
    assert keyword._vocabulary is not None and keyword._vocabulary.ready
    assert keyword.arrays.postings.cached_bytes > 0  # the longest posting lists were read


# --- questions with a mistyped word ---------------------------------------------------


@pytest.mark.parametrize("question, meant", [
    ("句容有没有建立送教上们制度?", "送教上门"),  # a word fallen apart: 送 教 上 们
    ("吉林有没有搞校园一卡同试点?", "一卡通"),
    ("白寨鎮的村民多久能看一回不要錢的電景?", "電影"),  # traditional, kept so
    ("青岛推行县管校骋改革了吗?", "县管校聘"),  # 骋/聘 only look alike
    ("縣管校騁示范區是哪個部門確定的?", "縣管校聘"),  # not 县管校用 (as likely, rarer)
    ("責任督學掛牌督道是怎麼回事?", "督導"),  # the question is traditional, 督道 is both
])
def test_a_question_is_read_with_its_mistyped_word_corrected(keyword_engine, question,
                                                             meant):
    read_as = keyword_engine.read_question(question)
    assert read_as is not None and meant in read_as
    assert len(read_as) == len(question)  # one word replaced in place, nothing else


@pytest.mark.parametrize("question, meant", [
    ("句容那個被國科大錄走的尖子生叫伸麼?", "什麼"),  # words of everyday speech the
    ("新的盲校什麼式候能蓋好?", "時候"),  # index does not hold (stop words, or
    ("句容全市一共有跺少所中小学?", "多少"),  # words no report uses): jieba's common
    ("吉林那些临时拼凑接孩子的车,啥史候要换掉?", "啥时候"),  # words stand in
])
def test_a_mistyped_everyday_word_is_read_too(keyword_engine, question, meant):
    vocabulary = keyword_engine.generation().retriever("keyword").vocabulary()
    assert not vocabulary.indexed(fold(meant))
    read_as = keyword_engine.read_question(question)
    assert read_as is not None and meant in read_as and len(read_as) == len(question)


def test_an_everyday_word_needs_a_likelier_reading_than_an_indexed_one():
    # 挪个 → 那个 reads 9.2 likelier, enough for a word of the reports (7) but not for an
    # everyday word (10): the user meant to move the school.
    question = "吉林电大是不是要挪个地方重新盖?"
    assert read_question(question, Vocabulary({}), occurs=lambda text: False) is None
    assert read_question(question, Vocabulary({"那个": 3}), occurs=lambda text: False) \
        == "吉林电大是不是要那个地方重新盖?"


def test_no_well_typed_own_words_question_is_changed(keyword_engine):
    # The own-words set's train questions and near misses: casual wording, many words
    # the reports never use, and not one is a typo.
    rows = [json.loads(line) for name in ("questions.jsonl", "near_miss.jsonl")
            for line in (ROOT / "bench/ownwords" / name).read_text(encoding="utf-8")
            .splitlines()]
    changed = [(r["question"], keyword_engine.read_question(r["question"])) for r in rows
               if r["split"] == "train"]
    assert [pair for pair in changed if pair[1]] == []


def test_a_character_that_only_looks_alike_needs_a_far_likelier_reading():
    # 骨千 → 骨干 reads 18.5 likelier (a same-sounding character would do with 7): short
    # of the bar that keeps well-typed questions as typed (名校帶弱校 ↛ 名校薄弱校, 19.0).
    vocabulary = Vocabulary({"骨干": 6})
    assert read_question("吉林培养了多少骨千教师?", vocabulary, occurs=lambda text: False) \
        is None


def test_a_name_in_the_corpus_is_not_corrected_into_a_word():
    # 汗国 falls apart into single characters as a typo would, and 韩国 sounds the same;
    # but a corpus that holds 蓝帐汗国 says the user typed what they meant.
    vocabulary = Vocabulary({"韩国": 50, "蓝帐": 3})
    question = "蓝帐汗国形成于什么时候?"
    assert read_question(question, vocabulary, occurs=lambda text: True) is None
    assert read_question(question, vocabulary, occurs=lambda text: False) \
        == "蓝帐韩国形成于什么时候?"


@pytest.mark.model
def test_a_mistyped_question_is_answered_as_read(any_engine):
    answer, _ = any_engine.ask("句容有没有建立送教上们制度?")
    assert answer.read_as == "句容有没有建立送教上门制度?"
    assert answer.question == "句容有没有建立送教上们制度?"  # what the user asked, kept
    assert "typo_corrected" in answer.flags
    assert answer.answerable and "建立了送教上门制度" in answer.citations[0].quote
    catalog = any_engine.generation().catalog
    assert answer_dict(answer, catalog)["read_as"] == answer.read_as
    well_typed, _ = any_engine.ask("句容有没有建立送教上门制度?")
    assert well_typed.read_as is None and "typo_corrected" not in well_typed.flags


def test_the_typo_bench_counts_typos_read_right_and_questions_changed(keyword_engine):
    from bench.typo_reading import measure

    typos = [{"question": "句容有没有建立送教上们制度?", "typo_of": "送教上门", "split": "train"},
             {"question": "縣管校騁示范區是哪個部門確定的?", "typo_of": "縣管校聘",
              "split": "train"},
             {"question": "句容娃升高中那场考试,平均成级比镇江城里低几分?", "typo_of": "成绩",
              "split": "heldout"}]  # 成级 → 成绩 reads only 6.8 likelier: left as typed
    well_typed = [{"question": "句容有没有建立送教上门制度?"}]
    report = measure(keyword_engine, typos, well_typed)
    assert report["typos"] == {"heldout": {"questions": 1, "read_right": 0},
                               "train": {"questions": 2, "read_right": 2}}
    assert report["well_typed"]["changed"] == 0


def test_the_synthetic_typo_bench_swaps_one_same_sounding_character(keyword_engine):
    from pypinyin import lazy_pinyin

    from bench.typo_synthetic import measure, mistype, same_sounding

    by_sound, rng = same_sounding(), random.Random(1)
    for question in ("句容有没有建立送教上门制度?", "白寨鎮的村民多久能看一回不要錢的電影?"):
        typed, meant = mistype(question, by_sound, rng)
        swapped = [(a, b) for a, b in zip(question, typed, strict=True) if a != b]
        assert len(swapped) == 1 and lazy_pinyin(swapped[0][0]) == lazy_pinyin(swapped[0][1])
        assert len(meant) >= 2 and fold(swapped[0][0]) in meant  # a content word
    rows = [{"question": "句容有没有建立送教上门制度?", "gold_pids": [], "answers": []}]
    report = measure(keyword_engine, rows, seed=5)
    assert report["questions"] == 1 and sum(report["reading"].values()) == 1
    assert sum(report["outcomes"]["unanswerable"]["mistyped"].values()) == 1
