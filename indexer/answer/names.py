"""Whether a question asks for a person's name, and whether a sentence gives one.

Reports name people as 薛亚春老师, 鲁云龙同学, 校长张洪鸣 or 江苏省外国语学校游文忠获评…: a
surname and one or two characters, beside a title or standing as words of their own.
A sentence that names nobody does not answer 局长叫什么名字? (:func:`lacks_a_name`).
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.answer.question import Question

# What asks for a name itself, in a question about a person (局长叫什么名字?, 那两个学生的
# 姓名?), or who holds an office (局长是谁?, 校长是哪位?). Not 谁 or 哪位 alone, which an
# office or a body may answer (谁出钱 → 市财政).
ASKS_NAME = re.compile(r"叫什么|名字|姓名|(?:[局校园市县区镇乡村院厅处科所站]长|主任|书记)"
                       r"是(?:谁|哪一?位)")
# The common surnames (simplified), one character each.
SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞"
    "左柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕"
    "屈饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧"
    "闵苟邬边卞姬师仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝")
# People's titles written right after a name (薛亚春老师) or right before it (校长张洪鸣).
TITLES = r"老师|教师|同学|校长|园长|局长|书记|主任|主席|院长|教授|院士|先生|女士|同志|代表"
_NAME = rf"([{''.join(sorted(SURNAMES))}][\u4e00-\u9fff]{{1,2}})"
TITLED = re.compile(rf"{_NAME}(?:{TITLES})|(?:{TITLES})[：:]?{_NAME}")
# A foreign name: parts joined by a middle dot (汤玛士·昃臣).
FOREIGN = re.compile(r"[\u4e00-\u9fff]+[·•・][\u4e00-\u9fff]+")


def asks_a_name(question: Question) -> bool:
    """Whether a question about a person asks for the person's name."""
    return question.kind == "person" and bool(ASKS_NAME.search(question.folded))


def lacks_a_name(question: Question, folded: str) -> bool:
    """Whether a question asks for a person's name (:func:`asks_a_name`) and a sentence
    (folded) names nobody (:func:`names_a_person`)."""
    return asks_a_name(question) and not names_a_person(folded)


@functools.lru_cache(maxsize=1024)
def names_a_person(folded: str) -> bool:
    """Whether a folded text names a person: a name beside a title that is no word of the
    dictionary (薛亚春老师, not 全市教师), a foreign name, or a surname that jieba reads as
    a word of its own followed by two characters that are words of their own too
    (施/明/振; not the 吴 of 吴中中专)."""
    from indexer.text.analysis import _segmenter

    if _titled_names(folded):
        return True
    if FOREIGN.search(folded):
        return True
    words = [word for word, _, _ in _segmenter().segment(folded)]
    return any(surname in SURNAMES and _single_han(first) and _single_han(second)
               for surname, first, second in zip(words, words[1:], words[2:], strict=False))


def without_people(folded: str) -> str:
    """A folded text with the names of people beside a title cut out (鲁云龙同学, 校长张洪鸣;
    not 全市教师, a dictionary word): a name is no place, though 云龙 is a district's too."""
    for match in reversed(_titled_names(folded)):
        folded = folded[:match.start()] + " " + folded[match.end():]
    return folded


def _titled_names(folded: str) -> list[re.Match[str]]:
    """The names beside a title in a folded text (:data:`TITLED`) that are no word of the
    dictionary (薛亚春老师, not 全市教师)."""
    from indexer.text.analysis import _segmenter

    segmenter = _segmenter()
    return [match for match in TITLED.finditer(folded)
            if not segmenter.freq.get(match.group(1) or match.group(2))]


def _single_han(word: str) -> bool:
    """Whether a word is one Chinese character (jieba read it as no longer word)."""
    return len(word) == 1 and "\u4e00" <= word <= "\u9fff"
