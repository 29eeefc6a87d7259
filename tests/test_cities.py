"""A city asked by name: by the name people call it (岛城 for 青岛), and not answered by the
report of one of its counties (句容's figures are not 镇江's)."""

from __future__ import annotations

import pytest

from indexer.answer.divisions import city_nicknames, place_names, places_in, spellings
from indexer.answer.places import (
    is_of_the_place_asked,
    names_another_place,
    names_the_places_asked,
    of_a_county_of_the_city_asked,
)
from indexer.answer.question import analyse, missing_specifics
from indexer.text.analysis import fold


def report(corpus, prefix: str) -> str:
    return next(fold(d.text) for d in corpus.documents if d.doc_id.startswith(prefix))


def test_a_nickname_names_its_city_in_either_script():
    assert analyse("岛城今年新开工了几所中小学?").specifics == {"青岛"}
    assert analyse("島城今年新開工了幾所中小學?").specifics == {"青岛"}
    assert analyse("泉城和羊城今年各招了多少名老师?").specifics == {"济南", "广州"}
    assert spellings("青岛") == ("青岛", "岛城")
    assert spellings("镇江") == ("镇江",)
    # A division's own name stays that division (姑苏 is 苏州's district, 姑苏区).
    assert place_names()["姑苏"] == "姑苏"
    # Every city the table names is a place the divisions table knows.
    assert set(city_nicknames().values()) <= set(place_names().values())


def test_the_report_of_a_nicknamed_city_is_of_the_place_asked(corpus):
    qingdao, jurong = report(corpus, "002"), report(corpus, "000")
    asked = analyse("岛城今年新开工了几所中小学?")
    # 002 masks its city (xx市) but names 平度, one of 青岛's counties; it says 岛城 once.
    assert "青岛" not in qingdao and "岛城" in qingdao
    assert missing_specifics(asked, "", lambda: qingdao) == 0.0
    assert is_of_the_place_asked(asked, lambda: qingdao)
    assert not names_another_place(asked, "", lambda: qingdao)
    # 句容's report is not 青岛's, under either name.
    assert missing_specifics(asked, "", lambda: jurong) == 1.0
    assert names_another_place(asked, "", lambda: jurong)
    assert not is_of_the_place_asked(asked, lambda: jurong)
    # A passage that writes the nickname names the city.
    assert names_the_places_asked(analyse("青岛的学校有几所?"), fold("島城的學校"))
    assert names_the_places_asked(asked, fold("青岛的学校"))


def test_a_county_name_far_more_common_as_another_word_is_no_place_alone():
    # 新建 is a district of 南昌, but jieba knows the word 250 times as often as 新建区:
    # "青岛今年新建了几所中小学?" was refused as naming another place.
    assert "新建" not in place_names() and "江南" not in place_names()
    assert places_in(fold("青岛今年新建了几所中小学?")) == {"青岛"}
    assert analyse("青岛今年新建了几所中小学?").specifics == {"青岛"}
    # Their full names still name them; names mostly read as places stay.
    assert place_names()["新建区"] == "新建"
    assert {"吴中", "句容", "姑苏", "金坛", "河北"} <= place_names().keys()


def test_a_zone_of_a_city_is_a_place_of_its_own():
    # The segmenter reads 苏州工业园区 as one word: it is not 苏州, nor 吴中.
    assert places_in(fold("苏州工业园区今年新增了多少个公办学位?")) == {"苏州工业园区"}
    assert places_in(fold("苏州高新区有几所学校?")) == {"苏州高新区"}
    assert places_in(fold("苏州今年新增了多少个公办学位?")) == {"苏州"}


def test_a_nicknamed_city_is_not_answered_from_another_places_report(model_engine):
    # 吴中's 1058人 and 50% answered "岛城的高考本二达线率是多少?" while 岛城 was no place.
    for question in ["岛城的高考本二达线率是多少?", "島城今年高考本二上線人數是多少?"]:
        answer, _ = model_engine.ask(question)
        assert not answer.answerable, (question, answer.text)
    # 002's own sentence still answers a question about 岛城.
    answer, _ = model_engine.ask("岛城的职校学生在全国技能大赛拿的一等奖比上一年多吗?")
    assert answer.answerable and "比上年增加" in answer.text


@pytest.mark.parametrize("question, doc, context, county", [
    # 句容's report names 句容 13 times and 镇江 6: it is of 镇江's county, not of 镇江.
    ("镇江今年高考本二达线率是多少?", "000", "本二以上达线率56.9%", True),
    # A passage that names 镇江 as the level of a title still counts 句容's towns.
    ("镇江今年要创建几个教育现代化镇?", "000", "有6个镇、28所学校要创建镇江市教育现代化镇", True),
    ("镇江上半年在大报上发了多少篇稿?", "000", "上半年,在镇江市级以上主流媒体发稿、报道40余篇",
     True),
    # A question for no figure may be answered by a passage that names the city.
    ("镇江的教育现代化镇要怎么创建?", "000", "有6个镇、28所学校要创建镇江市教育现代化镇", False),
    ("镇江的教育现代化镇要怎么创建?", "000", "有6个镇、28所学校要创建教育现代化镇", True),
    # 吴中's report speaks of itself as a district (全区); 003's as a county (我县), and
    # names 沧州 only as the giver of its prizes (荣获沧州市…奖).
    ("苏州今年新增了多少个公办小学学位?", "004", "", True),
    ("沧州今年本二上线多少人?", "003", "荣获沧州市*年普通高中教育教学质量特殊贡献奖", True),
    # The city's own report: 001 is 吉林's; 002 masks 青岛 and names 平度 only twice.
    ("吉林今年新建改扩建多少所公办幼儿园?", "001", "", False),
    ("青岛今年新开工了几所中小学?", "002", "", False),
    # The county asked by name or by its level; a place that is no city (句容, 吴中).
    ("镇江句容今年高考本二达线率是多少?", "000", "", False),
    ("沧州那个县今年本二上线多少人?", "003", "", False),
    ("句容今年高考本二达线率是多少?", "000", "", False),
    ("吴中今年新增了多少个公办小学学位?", "004", "", False),
])
def test_a_city_is_not_answered_by_the_report_of_one_of_its_counties(corpus, question, doc,
                                                                      context, county):
    text = report(corpus, doc)
    assert of_a_county_of_the_city_asked(analyse(question), fold(context),
                                         lambda: text) is county
