"""Whose figure a sentence gives: staff or pupils, a stage of schooling, a kind of
teacher, one sex (:mod:`indexer.answer.groups`)."""

from __future__ import annotations

import pytest

from indexer.answer.groups import (
    counts_another_kind_of_staff,
    counts_another_stage,
    counts_other_people,
    lacks_the_sex_asked,
)
from indexer.answer.question import analyse
from indexer.text.analysis import fold
from tests.test_measures import FUNDING

# 000's guards, 004's prize-winning pupils.
GUARDS = "目前,全市中小学、幼儿园配备专职保安241名,兼职保安21名,安装视频监控探头2000余个"
PUPILS = "吳中中專2名學生在省職業學校師生創新大賽中獲得中職一等獎"


@pytest.mark.parametrize("question, sentence, others", [
    ("句容的留守儿童有多少人?", GUARDS, True),
    ("吴中今年有多少名教师退休?", PUPILS, True),
    # The kind asked is counted; or the question names both kinds, or neither.
    ("句容幼儿园配了多少名保安?", GUARDS, False),  # 幼儿园 names no pupils
    ("吴中中专有几名学生拿了一等奖?", PUPILS, False),
    ("吴中有多少师生参加了创新大赛?", PUPILS, False),
    ("句容有多少名老师带学生参加比赛?", PUPILS, False),
    ("句容今年有多少人参加了培训?", GUARDS, False),
    # A clause that names neither kind counts those of the clause before (评选培养对象150名,
    # of 学科带头人).
    ("吉林今年有多少名学生参加了高考?",
     "加大“全市中青年学科带头人”培养和评选力度,评选培养对象150名", True),
    ("吉林今年有多少名学生参加了高考?", "全市高考报名学生2.1万人,评选培养对象150名", False),
    # A clause that counts both kinds may count either.
    ("句容有多少名教师?", "全市共有学生6745人、教师2300名", False),
])
def test_a_count_of_staff_does_not_answer_how_many_pupils(question, sentence, others):
    assert counts_other_people(analyse(question), fold(sentence)) is others


@pytest.mark.parametrize("question, sentence, other_stage", [
    # The probe's near miss: 幼儿园 asked, 小学 and 初中 given.
    ("吉林的幼儿园生均公用经费每年多少钱?", FUNDING, True),
    ("吉林高中生均公用经费一年多少钱?", FUNDING, True),
    ("吉林小学生均公用经费一年多少钱?", FUNDING, False),
    ("吉林初中生每年的公用经费是多少?", FUNDING, False),
    # 中小学 and 义务教育 span stages: either asks of several, so none in particular.
    ("吉林中小学生均公用经费一年多少钱?", FUNDING, False),
    # The stage asked is named elsewhere in the sentence (公办中职学校…3000元).
    ("吉林中职学生每年的公用经费是多少?", "公办普通高中按500元标准补助,公办中职学校生均公用经费"
     "标准提高到每生每年3000元", False),
    # A figure that names no stage; a question that asks no figure; an exam is no stage
    # (升高中那场考试 is 中考).
    ("吉林幼儿园今年投入了多少钱?", "全市计划投资1.7亿元", False),
    ("吉林的幼儿园有什么经费?", FUNDING, False),
    ("句容娃升高中那场考试,平均成绩比镇江城里低几分?",
     "2016年中考,我市中考均分与镇江市区比相差34.5分", False),
])
def test_a_figure_of_another_stage_of_schooling_does_not_answer(question, sentence,
                                                                other_stage):
    assert counts_another_stage(analyse(question), fold(sentence)) is other_stage


# 000's top scorers, counted by stream, not by sex.
TOP_SCORERS = "全市普高进入全省理科前1万名、文科前2500名的人数总数达到62人,其中理科45人,文科17人"


@pytest.mark.parametrize("question, sentence, lacking", [
    ("句容理科前1万名里男生有几个?", TOP_SCORERS, True),
    ("句容有多少名女教师?", "全市共有专任教师2300名", True),
    ("句容有多少名女教师?", "全市共有专任教师2300名,其中女教师1500名", False),
    # Both sexes asked, or none; or no figure asked (第几名).
    ("句容理科前1万名里男生女生各有几个?", TOP_SCORERS, False),
    ("句容理科前1万名有几个人?", TOP_SCORERS, False),
    ("外語學校那個學文的女孩,高考在江蘇排第幾名?", "游文忠获评文科第28名", False),
])
def test_a_count_of_one_sex_needs_that_sex_named(question, sentence, lacking):
    assert lacks_the_sex_asked(analyse(question), fold(sentence)) is lacking


MASTERS = "成立由14位名师领衔的教师工作室,以6个乡村骨干教师培育站为“圆心”"
FORM_TEACHERS = "适当调整市直属学校班主任津贴标准,人均每月400元,学校要根据考核情况合理分配"


@pytest.mark.parametrize("question, sentence, other_kind", [
    # The probe's near misses: a figure of another kind of teacher.
    ("句容的初中有多少个在编老师?", MASTERS, True),
    ("吉林的特岗教师每个月工资是多少?", FORM_TEACHERS, True),  # the clause before names 班主任
    # The kind asked is named; the figure is of teachers of no kind; or no kind is asked.
    ("句容有多少个在编老师?", "全市在编教师3200人,其中名师14位", False),
    ("句容有多少个在编老师?", "全市共有专任教师3200人", False),
    ("句容的初中有多少个老师?", MASTERS, False),
    # A question that names two kinds, or asks no figure, is left to the model.
    ("特岗教师里当班主任的有多少人?", MASTERS, False),
    ("特岗教师干满年限能转正式编制吗?", FORM_TEACHERS, False),
])
def test_a_figure_of_another_kind_of_teacher_does_not_answer(question, sentence, other_kind):
    assert counts_another_kind_of_staff(analyse(question), fold(sentence)) is other_kind
