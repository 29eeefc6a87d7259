"""Whether a question asks for a person's name, and whether a sentence gives one
(:mod:`indexer.answer.names`)."""

from __future__ import annotations

import pytest

from indexer.answer.names import asks_a_name, lacks_a_name, names_a_person, without_people
from indexer.answer.places import lacks_the_place_asked
from indexer.answer.question import analyse
from indexer.text.analysis import fold


@pytest.mark.parametrize("question, asks", [
    ("句容教育局局长叫什么名字?", True),
    ("吳中中專在省裡創新比賽拿一等獎的那兩個學生叫什麼名字?", True),
    ("苏苑那所实验小学的当家人叫什么名字?", True),
    # Who holds an office asks a name too.
    ("吉林市教育局的局长是谁?", True),
    ("白寨镇文化服务中心的主任是谁?", True),
    ("木渎高中的校长是哪位?", True),
    # 谁 and 哪位 may be answered by an office or a body (谁出钱 → 市财政).
    ("句容教育局是谁管的?", False),
    ("句容接送学生的校车是谁出钱?", False),
    ("吴中哪位老师评上了江苏省特级教师?", False),
    # A name that is no person's.
    ("吉林评优秀老师的那个名头叫什么?", False),
])
def test_a_question_asks_for_a_name(question, asks):
    assert asks_a_name(analyse(question)) is asks


@pytest.mark.parametrize("sentence, named", [
    # Sentences of the bundled reports: names beside a title, before one, or standing alone.
    ("蘇苑高級中學薛亞春老師、江蘇省吳中中等專業學校蔣俊祁老師獲得“江蘇省第十三批特級教師”稱號;",
     True),
    ("蘇苑實小高本大校長、區中小學生實踐學校校長張洪鳴被評為教授級高級教師;", True),
    ("江蘇省木瀆高級中學袁兵老師、江蘇省外國語學校游文忠獲評“江蘇省優秀教育工作者”;", True),
    ("名校自主招生取得新进展,鲁云龙同学分别取得清华和北大加分资格", True),
    ("昃臣道得名于香港银行家汤玛士·昃臣爵士", True),  # a foreign name
    # No one named: counts of people, titles alone, a surname inside a word (吴中, 全市).
    ("吳中中專2名學生在省職業學校師生創新大賽中獲得中職一等獎。", False),
    ("职教名师成长迅速,获选省职教正高级讲师1人、省职业教育领军人才1人", False),
    ("开展“名师讲堂”活动,聘请国内知名专家学者来吉讲学。", False),
    ("全市教师队伍建设进一步加强", False),
])
def test_a_sentence_names_a_person(sentence, named):
    assert names_a_person(fold(sentence)) is named


def test_a_name_asked_is_not_answered_by_a_sentence_that_names_nobody():
    asked = analyse("吳中中專在省裡創新比賽拿一等獎的那兩個學生叫什麼名字?")
    assert lacks_a_name(asked, fold("吳中中專2名學生在省職業學校師生創新大賽中獲得中職一等獎。"))
    assert not lacks_a_name(asked, fold("吳中中專學生陳蓉、李明在大賽中獲得一等獎。"))
    # A question that does not ask for a name never lacks one.
    assert not lacks_a_name(analyse("吳中中專有幾名學生獲得一等獎?"),
                            fold("吳中中專2名學生在省職業學校師生創新大賽中獲得中職一等獎。"))


# 000's top students: 云龙 is a district of 徐州, and here a student's given name.
STUDENTS = ("名校自主招生取得新进展,鲁云龙同学分别取得清华和北大加分资格,"
            "周子贤同学以全省前三名的优异成绩被中国科学院大学录取")


def test_a_persons_name_is_no_place():
    assert without_people(fold(STUDENTS)).count("云龙") == 0
    assert without_people("全市教师和校长张洪鸣") == "全市教师和 "  # 教师 is no name
    # ty-010 (明校 for 名校) was answered with this sentence, as if 云龙 were the city asked.
    asked = analyse("句容想借哪座大城市的明校力量?")
    assert lacks_the_place_asked(asked, fold(STUDENTS))
    assert not lacks_the_place_asked(asked, fold("主动引进和对接南京优质教育资源,助力宁句一体化"))
