"""A school asked by its name: the figures of a whole city or of another school do not
answer what it did (:mod:`indexer.answer.schools`)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from indexer.answer.divisions import place_names
from indexer.answer.question import analyse
from indexer.answer.schools import (
    dictionary_schools,
    lacks_the_school_asked,
    of_another_school,
    of_the_school_asked,
    schools_in,
)
from indexer.text.analysis import fold

# 004's kindergartens: two named schools open at the end of the year.
OPENING = ("计划新改扩建的8所公办幼儿园,6所已于今年9月1日投入使用,"
           "东山实小幼儿园、木渎三小幼儿园将于年底启用")
# 000's city-wide results, which name no school.
CITY = "全市普高进入全省理科前1万名、文科前2500名的人数总数达到62人,其中理科45人,文科17人"


@pytest.mark.parametrize("text, schools", [
    # The policy dictionary's names (nt), with the kindergarten that follows.
    ("句容下蜀中学有多少名学生?", {"下蜀中学"}),
    ("宝带实小幼儿园哪一年开园?", {"宝带实小幼儿园"}),
    # A name read by its form, and one written for short (苏苑高级中学).
    ("新建的吳中實小幼兒園哪一年開園?", {"吴中实小幼儿园"}),
    ("吉林第一中学今年高考本一达线率是多少?", {"吉林第一中学"}),
    ("苏苑高中的二本上线比例比前一年涨了多少?", {"苏苑高中"}),
    (OPENING, {"东山实小幼儿园", "木渎三小幼儿园"}),
    # Kinds of school, and a school pointed at rather than named.
    ("吉林公办幼儿园有多少所?", set()),
    ("吉林普通高中和中职学校各有多少所?", set()),
    ("苏苑那所实验小学的当家人叫什么名字?", set()),
    ("深入学习党的十八届三中、四中、五中全会精神", set()),
    (CITY, set()),
])
def test_a_school_is_named_by_its_own_name(text, schools):
    assert schools_in(fold(text)) == schools


def test_the_dictionarys_schools_are_the_bodies_it_tags_that_are_schools():
    schools = dictionary_schools()
    assert {"下蜀中学", "宝带实小", "苏苑高级中学", "苏苑高中"} <= set(schools)
    assert "句容市教育局" not in schools and "公办幼儿园" not in schools  # a body; a kind


def test_the_dictionarys_tags_outlive_a_part_of_speech_tagger():
    # jieba's POSTokenizer empties its tokenizer's record of the user dictionary's tags
    # when it first cuts a text; read after that, the schools (and towns) were lost.
    from indexer.answer.places import _tagger

    assert ("下蜀中学", "nt") in {tuple(pair) for pair in _tagger().lcut("下蜀中学")}
    assert "下蜀中学" in dictionary_schools.__wrapped__()
    assert place_names.__wrapped__()["白寨镇"] == "白寨"


@pytest.mark.parametrize("question, sentence, passage, other", [
    # The near misses: another school's date; a city's figure in a passage on no school.
    ("宝带实小幼儿园哪一年开园?", OPENING, OPENING, True),
    ("句容下蜀中学今年高考本二上线多少人?", CITY, CITY, True),
    # The school asked is named, in full or for short.
    ("木渎高中的本二达线率是多少?", "木渎高级中学本二达线率超90%", "", False),
    # A sentence of a passage on the school may answer without naming it.
    ("吳中中專學太陽能發電的那個練手場地,省裡來看過過關了沒?", "光伏技术及应用实训基地通过省级视导",
     "吴中中专获评省职业教育先进单位…光伏技术及应用实训基地通过省级视导", False),
    # A question that names no school.
    ("吉林公办幼儿园有多少所?", OPENING, OPENING, False),
])
def test_another_school_or_a_passage_on_none_does_not_answer(question, sentence, passage,
                                                             other):
    assert of_another_school(analyse(question), fold(sentence), fold(passage)) is other


def candidate(name: str, **features: float) -> SimpleNamespace:
    return SimpleNamespace(text=name, features=features)


@pytest.mark.parametrize("question, sentence, lacks", [
    # Which school: the probe's near miss, answered from a city's rate.
    ("句容今年哪所学校的高考成绩最好?", "2016年全市高考稳中有升,文理类本一达线率13.5%", True),
    ("吴中今年的高考状元是哪个学校的?", "全区本二达线率50%", True),
    # Any word for a school will do; and a question that asks no school is left alone.
    ("句容今年哪所学校的高考成绩最好?", "木渎高级中学本二达线率超90%", False),
    ("吉林的智慧校园试点学校是哪几所?", "升级改造学校校园网络基础设施", False),
    ("句容今年高考成绩怎么样?", "2016年全市高考稳中有升,文理类本一达线率13.5%", False),
])
def test_which_school_is_answered_by_a_sentence_with_a_school(question, sentence, lacks):
    assert lacks_the_school_asked(analyse(question), fold(sentence)) is lacks


def test_an_answer_is_taken_from_a_sentence_on_the_school_asked():
    city = candidate("city", school_miss=1.0)
    passage = candidate("passage")
    named = candidate("named", school_named=1.0)
    assert of_the_school_asked([city, passage, named]) == [named]
    assert of_the_school_asked([city, passage]) == [passage]
    assert of_the_school_asked([city]) == [city]  # refused for it
    # The best sentence may speak of the school: the order stands.
    assert of_the_school_asked([passage, city, named]) == [passage, city, named]


@pytest.mark.model
def test_a_school_asked_by_name_is_not_answered_from_other_figures(model_engine):
    # Before: 句容's 62人 and 东山实小幼儿园's opening answered these.
    for question in ["句容下蜀中学今年高考本二上线多少人?", "宝带实小幼儿园哪一年开园?",
                     "文昌路幼儿园哪天能开园收孩子?"]:
        answer, _ = model_engine.ask(question)
        assert not answer.answerable, (question, answer.text)
    answer, _ = model_engine.ask("句容下蜀中学今年高考本二上线多少人?")
    assert answer.refused_because == "other_school"
    # A question on a named school is still answered by the sentence that names it.
    answer, _ = model_engine.ask("木渎高中的本二达线率是多少?")
    assert answer.answerable and "90%" in answer.text
    # 句容's 56.9% answered this one before; its own school's points answer it (stop 51).
    answer, _ = model_engine.ask("苏苑高中的二本上线比例比前一年涨了多少?")
    assert answer.answerable and "23個百分點" in answer.text
