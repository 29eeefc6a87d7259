"""Whether a question asks of a school by its name, and whether a sentence speaks of it.

Reports name schools (下蜀中学, 宝带实小幼儿园, 吉林第一中学) beside the figures of a whole
city. "句容下蜀中学有多少名学生?" is not answered by the city's 62人, nor "宝带实小幼儿园哪一年
开园?" by the date of 东山实小幼儿园 (:func:`of_another_school`).

A school is named when the policy dictionary tags its name as a body (``nt``: 下蜀中学,
木渎实验中学) or when its name reads as a school's own (:data:`SCHOOL_NAME`: two characters
before 实小, 三小, 第一中学 …). Names like 公办幼儿园 or 普通高中 are kinds of school.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from indexer.answer.features import Sentence
    from indexer.answer.question import Question

# The words a school's name ends in.
SCHOOL_KIND = re.compile(r"(?:幼儿园|小学|中学|高中|初中|中专|实小|大学|学院|学校)$")
# A name that only a school has: two characters (not 那所, 八届: 苏苑那所实验小学 names
# none), then a short form or an ordinal that no kind of school is called by (东山实小,
# 木渎三小, 吉林第一中学, 临湖实验中学; not 十八届三中全会), and the kindergarten of such a
# school (宝带实小幼儿园).
SCHOOL_NAME = re.compile(r"(?:(?![那这哪该其此每各所个家的在届])[\u4e00-\u9fff]){2}"
                         r"(?:实小|实验小学|实验中学|实验学校|高级中学|[一二三四五六七八九十]小"
                         r"|[一二三四五六七八九十]中(?![学心国华专考全央])"
                         r"|第[一二三四五六七八九十]+(?:中学|小学|高中|初中))(?:幼儿园)?")


# What asks which school (哪所学校成绩最好?, 是哪个学校的?, 哪几所?): its answer names one.
ASKS_WHICH_SCHOOL = re.compile(r"哪[一几]?所|哪[一几]?[个家]?(?:学校|大学|中学|小学|高中|初中"
                               r"|幼儿园|学院|高校|中专|职校)")
# Any word for a school (学校, 高校 and 职校 by their 校), read broadly: a sentence without
# one names none.
ANY_SCHOOL = re.compile(r"校|大学|学院|中学|小学|高中|初中|幼儿园|中专|实小|书院|学堂"
                        r"|[一二三四五六七八九十][中小](?![学心国华专考全央])")
# How one school's name is written in full and for short (苏苑高级中学 is 苏苑高中).
SHORT_FORMS = (("高级中学", "高中"), ("实验小学", "实小"))


@functools.cache
def dictionary_schools() -> tuple[str, ...]:
    """The schools the policy dictionary names (tagged ``nt``, ending in a kind of school:
    下蜀中学, 宝带实小), each also in its short form (苏苑高中), longest first."""
    from indexer.text.analysis import _segmenter

    names = {spelling for word, tag in _segmenter().tags.items()
             if tag == "nt" and SCHOOL_KIND.search(word) for spelling in written_forms(word)}
    return tuple(sorted(names, key=len, reverse=True))


def written_forms(name: str) -> frozenset[str]:
    """A school's name as written in full and for short (:data:`SHORT_FORMS`)."""
    forms = {name}
    for full, short in SHORT_FORMS:
        forms |= {form.replace(full, short) for form in forms}
        forms |= {form.replace(short, full) for form in forms}
    return frozenset(forms)


@functools.lru_cache(maxsize=4096)
def schools_in(folded: str) -> frozenset[str]:
    """The schools a folded text names by their own names: those of the policy dictionary
    (with 幼儿园 when it follows: 宝带实小幼儿园) and any name :data:`SCHOOL_NAME` reads."""
    found = {match.group() for match in SCHOOL_NAME.finditer(folded)}
    found |= {match.group() for name in dictionary_schools()
              for match in re.finditer(re.escape(name) + "(?:幼儿园)?", folded)}
    return frozenset(name for name in found
                     if not any(name != other and name in other for other in found))


def names_the_school_asked(question: Question, folded: str) -> bool:
    """Whether a sentence (folded) names a school the question asks of by its name, in
    full or for short (:func:`written_forms`)."""
    return any(form in folded for name in schools_in(question.folded)
               for form in written_forms(name))


def of_another_school(question: Question, folded: str, passage: str) -> bool:
    """Whether the question asks of a school by its name (:func:`schools_in`), and a
    sentence (folded) does not name it but names another school, or names none and
    neither does its ``passage`` (folded): the figures of a city or of another school do
    not answer what one school did."""
    if not schools_in(question.folded) or names_the_school_asked(question, folded):
        return False
    return bool(schools_in(folded)) or not names_the_school_asked(question, passage)


def of_the_school_asked(found: list[Sentence]) -> list[Sentence]:
    """When the best of the candidates (best first) may not speak of the school the
    question asks of (``school_miss``: :func:`of_another_school`), those that name it
    (``school_named``), else those that may speak of it, in their order; all of them when
    none may, or when the best one may. "苏苑高中的二本上线比例比前一年涨了多少?" is answered
    by the sentence on 苏苑高级中学, not by a city's rate that scores higher; a sentence of
    a passage on 吴中中专 may answer of it without naming it."""
    if not found or not found[0].features.get("school_miss"):
        return found
    named = [sentence for sentence in found if sentence.features.get("school_named")]
    return named or [sentence for sentence in found
                     if not sentence.features.get("school_miss")] or found


def lacks_the_school_asked(question: Question, folded: str) -> bool:
    """Whether a question asks which school (:data:`ASKS_WHICH_SCHOOL`) and a sentence
    (folded) has no word for a school at all: "句容今年哪所学校的高考成绩最好?" is not
    answered by "2016年全市高考稳中有升,文理类本一达线率13.5%"."""
    return bool(ASKS_WHICH_SCHOOL.search(question.folded)) and not ANY_SCHOOL.search(folded)
